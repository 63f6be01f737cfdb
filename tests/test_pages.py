"""AppTest: every page rendered and driven as a user would, with the tiny model."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.config import load_settings
from core.storage.conversations import ConversationStore

TIMEOUT = 60
ROOT = Path(__file__).resolve().parent.parent
APP, CHAT = str(ROOT / "app.py"), str(ROOT / "pages" / "chat.py")


def chat_app() -> AppTest:
    at = AppTest.from_file(CHAT, default_timeout=TIMEOUT)
    return at.run()


def store() -> ConversationStore:
    return ConversationStore(load_settings().db_path)


def test_app_shell_renders_navigation_and_status():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "AI Business Studio"
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert "tiny" in caption and "cpu" in caption and "float32" in caption


def test_language_switch_translates_the_shell():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.sidebar.selectbox[0].set_value("简体中文").run()
    assert at.title[0].value == "AI 商业工作室"
    at.sidebar.selectbox[0].set_value("繁體中文").run()
    assert at.title[0].value == "AI 商業工作室"


def test_chat_sends_streams_and_saves():
    at = chat_app()
    assert not at.exception
    at.chat_input[0].set_value("Hello there").run()
    assert not at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].markdown[0].value == "Hello there"
    assert "tokens/s" in at.chat_message[1].caption[0].value
    saved = store().list()
    assert len(saved) == 1 and saved[0].title == "Hello there"
    conv = store().get(saved[0].id)
    assert [m.role for m in conv.messages] == ["user", "assistant"]
    assert conv.messages[1].stats["new_tokens"] > 0


def test_empty_message_is_ignored():
    at = chat_app()
    at.chat_input[0].set_value("   ").run()
    assert not at.exception and not at.chat_message and store().list() == []


def test_regenerate_replaces_the_last_answer():
    at = chat_app()
    at.chat_input[0].set_value("Hi").run()
    first = store().get(store().list()[0].id).messages[1].id
    regenerate = next(b for b in at.button if b.label == "Regenerate")
    regenerate.click().run()
    assert not at.exception
    msgs = store().get(store().list()[0].id).messages
    assert [m.role for m in msgs] == ["user", "assistant"] and msgs[1].id != first


def test_rename_and_delete_conversation():
    at = chat_app()
    at.chat_input[0].set_value("Pricing question").run()
    cid = store().list()[0].id
    at.sidebar.text_input[0].set_value("Pricing for ACME")
    save = next(b for b in at.sidebar.button if b.label == "Save")  # the rename form's submit
    save.click().run()
    assert store().get(cid).title == "Pricing for ACME"
    confirm = next(b for b in at.sidebar.button if b.key == "confirm-delete")
    confirm.click().run()
    assert not at.exception
    assert store().list() == []


def test_resume_after_restart():
    s = store()
    cid = s.create("Earlier chat")
    s.add_message(cid, "user", "What did we say?")
    s.add_message(cid, "assistant", "We said hello.", {"new_tokens": 4, "seconds": 0.5, "decode_tok_s": 8.0})
    at = chat_app()
    at.sidebar.radio[0].set_value(cid).run()
    assert [m.markdown[0].value for m in at.chat_message] == ["What did we say?", "We said hello."]


def test_chat_page_in_chinese():
    at = AppTest.from_file(CHAT, default_timeout=TIMEOUT)
    at.session_state["language"] = "简体中文"
    at.run()
    assert at.title[0].value == "对话"
    at.chat_input[0].set_value("你好").run()
    assert not at.exception and len(at.chat_message) == 2


def test_long_message_gets_a_visible_notice():
    at = chat_app()
    at.chat_input[0].set_value("长" * 100_000).run()
    assert not at.exception
    assert any("too long" in w.value for w in at.warning)


def test_missing_model_packages_say_how_to_fix(monkeypatch):
    from dataclasses import replace

    import core.llm.models as models

    monkeypatch.setenv("APP_MODEL", "default")
    broken = replace(models.PACKAGED[models.DEFAULT_KEY], dist="definitely-not-installed-pkg")
    monkeypatch.setitem(models.PACKAGED, models.DEFAULT_KEY, broken)
    at = chat_app()
    at.chat_input[0].set_value("Hello").run()
    text = " ".join(e.value for e in at.error)
    assert "not installed" in text
    assert any("make run" in c.value for c in at.code)
