import json

import pytest

from core.config import load_settings
from core.i18n.translate import LANGUAGES, STRINGS, t
from core.personas import CUSTOM, load_personas, system_prompt
from core.storage.conversations import ConversationStore, to_json, to_markdown


@pytest.fixture
def store(tmp_path):
    return ConversationStore(tmp_path / "app.db")


def test_conversation_lifecycle(store, tmp_path):
    cid = store.create("  What   are your\nopening hours? ", persona="support")
    store.add_message(cid, "user", "What are your opening hours?")
    store.add_message(cid, "assistant", "9 to 5.", {"new_tokens": 4})
    conv = store.get(cid)
    assert conv.title == "What are your opening hours?" and conv.persona == "support"
    assert [(m.role, m.content) for m in conv.messages] == [
        ("user", "What are your opening hours?"),
        ("assistant", "9 to 5."),
    ]
    assert conv.messages[1].stats == {"new_tokens": 4}
    store.rename(cid, "Hours")
    assert ConversationStore(tmp_path / "app.db").get(cid).title == "Hours"  # survives a restart
    store.delete(cid)
    assert store.get(cid) is None and store.list() == []


def test_list_orders_by_last_activity_and_titles_are_capped(store):
    a = store.create("a" * 500)
    b = store.create("b")
    store.add_message(a, "user", "newer")
    assert [c.id for c in store.list()] == [a, b]
    assert len(store.get(a).title) == 80


def test_rename_refuses_empty_title(store):
    cid = store.create("x")
    with pytest.raises(ValueError):
        store.rename(cid, "   ")


def test_exports(store):
    cid = store.create("导出测试")
    store.add_message(cid, "user", "你好")
    store.add_message(cid, "assistant", "您好！")
    conv = store.get(cid)
    md = to_markdown(conv)
    assert md.startswith("# 导出测试") and "## You" in md and "您好！" in md
    data = json.loads(to_json(conv))
    assert data["title"] == "导出测试" and [m["role"] for m in data["messages"]] == ["user", "assistant"]


def test_settings_precedence(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('threads = 1\nmodel = "from-secrets"\n')
    s = load_settings(env={"APP_MODEL": "from-env"}, secrets_path=secrets)
    assert s.model == "from-env" and s.threads == 1
    assert load_settings(env={}, secrets_path=tmp_path / "missing.toml").threads == 2


def test_bad_settings_are_clear(tmp_path):
    with pytest.raises(ValueError, match="APP_THREADS"):
        load_settings(env={"APP_THREADS": "two"}, secrets_path=tmp_path / "none.toml")
    broken = tmp_path / "secrets.toml"
    broken.write_text("threads = [")
    with pytest.raises(ValueError, match="secrets.toml"):
        load_settings(env={}, secrets_path=broken)


def test_every_ui_string_has_both_languages_and_traditional_is_derived():
    for key, (en, zh) in STRINGS.items():
        assert en and zh, key
    assert t("chat.title", "zh-Hans") == "对话"
    assert t("chat.title", "zh-Hant") == "對話"
    assert set(LANGUAGES) == {"en", "zh-Hans", "zh-Hant"}


def test_traditional_readers_get_traditional_characters():
    from core.text.language import stream_in_script

    assert "".join(stream_in_script(["乌龙茶是", "中国著名的茶"], "zh-Hant")) == "烏龍茶是中國著名的茶"
    assert list(stream_in_script(["乌龙茶"], "zh-Hans")) == ["乌龙茶"]


def test_personas():
    personas = load_personas()
    assert {"assistant", "support", "copywriter", "analyst"} <= set(personas)
    assert "customer" in system_prompt("support", "en")
    assert "客服" in system_prompt("support", "zh-Hans")
    assert "客服" in system_prompt("support", "zh-Hant") and "問題" in system_prompt("support", "zh-Hant")
    assert system_prompt(CUSTOM, "en", "Talk like a pirate.") == "Talk like a pirate."
    with pytest.raises(ValueError):
        system_prompt(CUSTOM, "en", "  ")
    with pytest.raises(ValueError, match="Unknown persona"):
        system_prompt("nope", "en")
