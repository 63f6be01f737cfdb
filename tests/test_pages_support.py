"""AppTest for the customer-service and knowledge-base pages (tiny model, seeded knowledge base)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import load_settings
from core.support.log import SupportLog

ROOT = Path(__file__).resolve().parent.parent
SUPPORT, KNOWLEDGE = str(ROOT / "pages" / "support.py"), str(ROOT / "pages" / "knowledge.py")


@pytest.fixture(autouse=True)
def _seeded(seeded_kb_dir):
    return seeded_kb_dir


def log() -> SupportLog:
    return SupportLog(load_settings().db_path)


def test_faq_question_gets_curated_answer_with_source():
    at = AppTest.from_file(SUPPORT, default_timeout=60).run()
    assert not at.exception
    at.chat_input[0].set_value("How much does shipping in Europe cost?").run()
    assert not at.exception
    reply = at.chat_message[1]
    assert "€4.95" in reply.markdown[0].value
    assert any("FAQ" in c.value for c in reply.caption)
    assert log().questions()[0]["tier"] == 1


def test_unrelated_question_gets_hand_over_form_and_ticket():
    at = AppTest.from_file(SUPPORT, default_timeout=60).run()
    at.chat_input[0].set_value("What's the best stock to buy this week?").run()
    assert "couldn't find" in at.chat_message[1].markdown[0].value
    at.text_input[0].set_value("Ann")
    at.text_input[1].set_value("ann@example.com")
    at.button[0].click().run()  # the form's submit
    assert not at.exception
    assert any("Ticket #1" in s.value for s in at.success)
    assert log().tickets()[0]["contact"] == "ann@example.com"
    assert len(log().unanswered()) == 1


def test_feedback_widget_saves_thumbs_down():
    at = AppTest.from_file(SUPPORT, default_timeout=60).run()
    at.chat_input[0].set_value("How much does shipping in Europe cost?").run()
    qid = log().questions()[0]["id"]
    thumbs = at.get("feedback")[0]
    assert thumbs.key == f"fb-{qid}"
    thumbs.set_value(0).run()
    assert not at.exception
    assert log().questions()[0]["feedback"] == 0
    assert log().unanswered()[0]["id"] == qid


def test_knowledge_page_lists_documents_and_hit_test():
    at = AppTest.from_file(KNOWLEDGE, default_timeout=60).run()
    assert not at.exception
    assert "faq.csv" in at.dataframe[0].value["source"].tolist()
    at.text_input(key="kb-query").set_value("退货").run()
    assert not at.exception
    hits = at.dataframe[-1].value
    assert len(hits) == 5 and "score" in hits.columns


def test_unanswered_question_turns_into_faq_in_one_click():
    qid = log().record("default", "Do you ship to Mars?", "en", 3, "handover", [], 0.1, 5.0)
    at = AppTest.from_file(KNOWLEDGE, default_timeout=60).run()
    at.text_area(key=f"ans-{qid}").set_value("Not yet: Europe and Asia only.").run()
    at.button(key=f"add-{qid}").click().run()
    assert not at.exception
    assert log().unanswered() == []
    sources = at.dataframe[0].value["source"].tolist()
    assert "staff-answers" in sources


def test_knowledge_page_in_chinese_with_analytics():
    log().record("default", "运费多少", "zh", 1, "12 元", [], 0.9, 5.0)
    at = AppTest.from_file(KNOWLEDGE, default_timeout=60)
    at.session_state["language"] = "简体中文"
    at.run()
    assert not at.exception
    assert at.title[0].value == "知识库"
    assert any(m.label == "提问数" for m in at.metric)


def test_unsure_answers_offer_suggestions_and_a_click_answers_from_the_faq(monkeypatch):
    # Nothing reaches a curated answer on retrieval alone (the tiny model cannot judge): the
    # closest FAQ questions come as "did you mean" buttons.
    monkeypatch.setenv("APP_TIER1_EN", "0.99")
    at = AppTest.from_file(SUPPORT, default_timeout=60).run()
    at.chat_input[0].set_value("shipping to europe price?").run()
    assert not at.exception
    asked = log().questions()[0]
    assert asked["tier"] in (2, 3) and asked["offered"] > 0
    buttons = [b for b in at.button if b.key and b.key.startswith(f"suggest-{asked['id']}-")]
    assert buttons and any("Did you mean" in c.value for c in at.chat_message[1].caption)
    label = buttons[0].label
    buttons[0].click().run()
    assert not at.exception
    assert at.chat_message[2].markdown[0].value == label  # the suggestion, asked
    taken = log().questions()[0]
    assert taken["tier"] == 1 and taken["suggested_from"] == asked["id"] and taken["question"] == label
    at = AppTest.from_file(KNOWLEDGE, default_timeout=60).run()
    assert any(m.value == "1 / 1" for m in at.metric)  # analytics: suggestions taken / offered


def test_knowledge_page_evaluates_a_labelled_file_and_refuses_a_bad_one():
    at = AppTest.from_file(KNOWLEDGE, default_timeout=60).run()
    labelled = "query,faq_id\nHow much does shipping in Europe cost?,en-002\nWhat is your return policy?,en-008\n"
    uploader = next(u for u in at.file_uploader if "Labelled" in u.label)
    uploader.set_value(("labelled.csv", labelled.encode(), "text/csv"))
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert not at.exception and not at.error
    right = next(m for m in at.metric if m.label == "Right")
    assert right.value == "100%"
    uploader = next(u for u in at.file_uploader if "Labelled" in u.label)
    uploader.set_value(("bad.csv", b"query,faq_id\nhello,en-999\n", "text/csv"))
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert not at.exception and "en-999" in at.error[0].value


def test_api_keys_are_made_shown_once_listed_and_revoked_on_the_admin_page():
    from core.api.keys import KeyStore

    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=60).run()
    name = next(w for w in at.text_input if w.label == "Name")
    name.set_value("website")
    next(w for w in at.text_area if w.label.startswith("Websites allowed")).set_value("https://shop.example.com")
    next(b for b in at.button if b.label == "Create key").click().run()
    assert not at.exception and not at.error
    secret = next(c.value for c in at.code if c.value.startswith("sk-studio-"))
    assert any(f'data-key="{secret}"' in c.value for c in at.code)  # the embed line
    store = KeyStore(load_settings().db_path)
    assert store.verify(secret).origins == ["https://shop.example.com"]
    at.run()
    assert not any(c.value.startswith("sk-studio-") for c in at.code)  # shown once
    next(b for b in at.button if b.label == "Revoke").click().run()
    assert store.verify(secret) is None and not store.list()[0].active


def test_a_question_is_stored_the_moment_it_is_asked_and_completed_once(monkeypatch):
    import core.support.ask as flow

    seen = []
    real = flow.answer

    def spy(question, *args, **kwargs):  # the answer policy starts: the question must be stored already
        seen.append([(q["question"], q["status"]) for q in log().questions()])
        return real(question, *args, **kwargs)

    monkeypatch.setattr(flow, "answer", spy)
    at = AppTest.from_file(SUPPORT, default_timeout=60).run()
    at.chat_input[0].set_value("What's the best stock to buy this week?").run()
    assert not at.exception
    assert seen == [[("What's the best stock to buy this week?", "answering")]]
    [row] = log().questions()
    assert (row["status"], row["tier"], row["owner"]) == ("answered", 3, None) and row["answer"]
    assert at.get("feedback")[0].key == f"fb-{row['id']}"
