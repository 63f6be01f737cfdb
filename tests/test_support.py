"""The three-tier answer policy, tickets, feedback and the unanswered list."""

import json

import pytest

from core.kb.store import KnowledgeBase
from core.support.log import SupportLog
from core.support.policy import answer
from core.support.prompts import NO_ANSWER


@pytest.fixture
def kb(seeded_kb_dir):
    return KnowledgeBase(seeded_kb_dir, "default")


@pytest.fixture
def log(settings):
    return SupportLog(settings.db_path)


def run(result):
    text = "".join(result.stream())
    return result.finish(text)


def test_tier1_returns_the_curated_answer_verbatim(kb, llm, settings):
    r = run(answer("How much does shipping in Europe cost?", kb, llm, thresholds=settings.thresholds))
    assert r.tier == 1 and r.sources[0].faq_id == "en-002"
    assert r.text == r.sources[0].answer and r.generation is None


def test_tier1_in_chinese_including_traditional(kb, llm, settings):
    r = run(answer("寄到歐洲運費多少？", kb, llm, thresholds=settings.thresholds))
    assert r.tier == 1 and r.sources[0].language == "zh"


def test_greeting_and_off_topic_are_handed_over(kb, llm, settings):
    for q in ("hello!", "你好", "What's a good stock to buy this week?", "帮我写一个Python排序函数"):
        r = run(answer(q, kb, llm, thresholds=settings.thresholds))
        assert r.tier == 3, q
        assert not r.sources


def test_tier2_generates_from_passages_with_sources(kb, llm, settings):
    # A document-only question, with a tier-1 threshold nothing reaches: grounded generation.
    r = answer("What happens if my parcel arrives damaged?", kb, llm, thresholds=lambda lang: (1.01, 0.0))
    assert r.tier == 2 and r.generation is not None and 1 <= len(r.sources) <= 4
    prompt = r.generation.prompt.messages
    assert "[1]" in prompt[-1]["content"] and "ONLY" in prompt[0]["content"]
    run(r)
    assert r.tier in (2, 3) and r.latency_ms > 0


class ScriptedLLM:
    """Stands in for the model where its exact words matter (the NO_ANSWER contract)."""

    def __init__(self, text):
        self.text = text

    def stream(self, messages, options=None):
        outer = self

        class Gen:
            text = outer.text

            def __iter__(self):
                yield from [outer.text[:4], outer.text[4:]]

        return Gen()


def test_model_saying_no_answer_becomes_a_hand_over(kb, settings):
    r = answer(
        "What happens if my parcel arrives damaged?", kb, ScriptedLLM(NO_ANSWER), thresholds=lambda lang: (1.01, 0.0)
    )
    streamed = "".join(r.stream())
    assert streamed == ""  # the marker never reaches the customer
    r.finish(streamed)
    assert r.tier == 3 and "couldn't find" in r.text


def test_an_engine_failing_mid_answer_becomes_a_hand_over(kb, settings):
    from core.llm import EngineError

    class Failing(ScriptedLLM):
        def stream(self, messages, options=None):
            class Gen:
                text = "Damaged parcels"

                def __iter__(self):
                    yield "Damaged parcels"
                    raise EngineError("The model engine stopped in the middle of the answer")

            return Gen()

    r = answer("What happens if my parcel arrives damaged?", kb, Failing(""), thresholds=lambda lang: (1.01, 0.0))
    streamed = "".join(r.stream())
    r.finish(streamed)
    assert r.tier == 3 and "couldn't find" in r.text and r.reason.startswith("the model failed")


def test_empty_question_is_refused(kb, llm):
    with pytest.raises(ValueError):
        answer("   ", kb, llm)


def test_follow_up_is_rewritten_for_retrieval(kb, settings):
    class Rewriter(ScriptedLLM):
        def complete(self, messages, options=None):
            assert "Last message: and to Taiwan?" in messages[-1]["content"]
            return "How much is shipping to Taiwan?", None

    history = [
        {"role": "user", "content": "How much is shipping to Hong Kong?"},
        {"role": "assistant", "content": "HK$..."},
    ]
    r = answer("and to Taiwan?", kb, Rewriter(""), history, thresholds=settings.thresholds)
    assert r.search_query == "How much is shipping to Taiwan?"


def test_log_feedback_unanswered_and_tickets(log):
    a = log.record("default", "Do you ship to Mars?", "en", 3, "handover", [], 0.1, 12.0)
    b = log.record("default", "Shipping cost?", "en", 1, "5 EUR", [{"n": 1}], 0.9, 8.0)
    assert [q["id"] for q in log.unanswered()] == [a]
    log.set_feedback(b, 0)
    assert {q["id"] for q in log.unanswered()} == {a, b}
    log.resolve(a)
    assert [q["id"] for q in log.unanswered()] == [b]
    tid = log.open_ticket("Ann", "ann@example.com", "Do you ship to Mars?", a)
    assert log.tickets("open")[0]["id"] == tid
    log.close_ticket(tid)
    assert log.tickets("open") == []
    with pytest.raises(ValueError):
        log.open_ticket("", "x", "y")


def test_unanswered_question_becomes_a_faq_entry(kb, settings):
    kb.add_faq_entry("Do you ship to Mars?", "Not yet: we ship to Europe and Asia.")
    r = run(answer("Can you ship to Mars?", kb, None, thresholds=settings.thresholds))
    assert r.tier == 1 and r.text == "Not yet: we ship to Europe and Asia."


def test_ask_cli_json(seeded_kb_dir, capsys):
    from core.cli.main import main

    assert main(["ask", "How much does shipping in Europe cost?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tier"] == 1 and out["sources"][0]["faq_id"] == "en-002" and out["latency_ms"] > 0


def test_kb_search_cli_json(seeded_kb_dir, capsys):
    from core.cli.main import main

    assert main(["kb", "search", "退货", "--k", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert len(results) == 3 and {"id", "text", "score", "source"} <= set(results[0])


def test_traditional_question_gets_traditional_fixed_reply(kb, llm, settings):
    r = answer("明天台北會下雨嗎？", kb, llm, thresholds=settings.thresholds)
    run(r)
    assert r.tier == 3 and "幫助中心" in r.text
