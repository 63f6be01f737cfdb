"""The relevance check's decisions (with a stub judge), "did you mean", the asker's script and the
entry's twin, checks of written answers, and the end-to-end evaluation's scoring."""

import json

import pytest

from core.kb.ingest import IngestError
from core.kb.store import Hit
from core.llm import GenerationOptions
from core.support.evaluate import Case, evaluate, read_cases, score
from core.support.policy import answer, from_suggestion, twin_ids
from core.support.prompts import rewrite_for_search
from core.support.relevance import JudgeCache, Thresholds, decide, judge, judge_prompt, warm_judge
from core.support.reply import SupportAnswer, answer_problem, in_script
from core.text.language import is_traditional

T = Thresholds(fast=0.95, weight=0.0, tier1=0.7, tier2=0.5, keep=0.3, suggest=0.15)  # the judgement alone


def hit(id, kind="faq", confidence=0.6, text="a question", answer="an answer", faq_id=None, language="en"):
    return Hit(
        id,
        text,
        confidence,
        confidence,
        "faq.csv" if kind == "faq" else "doc.md",
        kind,
        language,
        answer,
        faq_id or (id if kind == "faq" else ""),
    )


# -- decisions ------------------------------------------------------------------------------------
def test_a_near_verbatim_faq_question_is_answered_without_a_judgement():
    d = decide([hit("en-1", confidence=0.97), hit("en-2")], None, T)
    assert d.tier == 1 and d.chosen[0].id == "en-1" and not d.judged


def test_the_judge_picks_the_entry_that_answers_not_the_closest_one():
    hits = [hit("en-14", confidence=0.8), hit("en-13", confidence=0.6), hit("doc", kind="doc")]
    d = decide(hits, [0.1, 0.92, 0.4], T)
    assert d.tier == 1 and d.chosen[0].id == "en-13" and d.judged == {"en-14": 0.1, "en-13": 0.92, "doc": 0.4}


def test_passages_judged_relevant_become_tier_2_sources_best_first():
    hits = [hit("en-1", confidence=0.8), hit("d1", kind="doc"), hit("d2", kind="doc"), hit("en-2")]
    d = decide(hits, [0.2, 0.55, 0.8, 0.25], T)
    assert d.tier == 2 and [h.id for h in d.chosen] == ["d2", "d1"]
    assert [h.id for h in d.suggestions] == ["en-2", "en-1"]  # FAQ questions worth offering, best first


def test_nothing_judged_relevant_hands_over_with_suggestions():
    d = decide([hit("en-1"), hit("en-2"), hit("en-3")], [0.2, 0.05, 0.16], T)
    assert d.tier == 3 and [h.id for h in d.suggestions] == ["en-1", "en-3"]
    assert decide([hit("en-1")], [0.01], T).suggestions == []


def test_without_judgements_retrieval_confidence_decides_as_before():
    hits = [hit("en-1", confidence=0.75), hit("d", kind="doc", confidence=0.7)]
    assert decide(hits, [None, None], T, fallback=(0.7, 0.4)).tier == 1
    assert decide(hits, [], T, fallback=(0.8, 0.4)).tier == 2
    assert decide(hits, None, T, fallback=(0.8, 0.76)).tier == 3


class StubJudge:
    """Judges by keyword; counts calls. Writes nothing (tier 2 is not wanted here)."""

    info = type("Info", (), {"model": "stub"})()

    def __init__(self, yes_if: str):
        self.yes_if, self.calls = yes_if, 0

    def judge(self, prompts):
        self.calls += 1
        return [0.95 if self.yes_if in p[-1]["content"].split("Customer question:")[0] else 0.02 for p in prompts]


def test_judgements_are_cached_per_question_and_passage():
    cache, stub = JudgeCache(), StubJudge("Norway")
    hits = [hit("a", answer="We ship to Norway."), hit("b", answer="Returns in 30 days.")]
    assert judge(stub, "Norway?", hits, cache) == [0.95, 0.02]
    assert judge(stub, "  norway? ", hits, cache) == [0.95, 0.02] and stub.calls == 1


class KeepsPrompts(StubJudge):
    keeps_prompts = True

    def __init__(self):
        super().__init__("-")
        self.prompts = []

    def judge(self, prompts):
        self.prompts += prompts
        return super().judge(prompts)


def test_reading_ahead_reads_documents_first_and_faq_entries_last_twice():
    faq, doc = hit("f", text="How long is delivery?"), hit("d", kind="doc", text="Delivery: 2-4 days.")
    stub = KeepsPrompts()
    assert warm_judge(stub, [faq, doc]) == 4
    assert stub.prompts == [judge_prompt("", doc), judge_prompt("", faq)] * 2
    assert warm_judge(StubJudge("-"), [faq, doc]) == 0  # an engine that keeps no prompts: nothing to gain


def test_a_question_shares_the_passage_part_of_the_prompt_read_ahead():
    a, b = hit("a", text="How do I return a teapot?"), hit("b", text="How do I return tea?")
    ahead, asked = judge_prompt("", a)[-1]["content"], judge_prompt("can I send it back", a)[-1]["content"]
    shared = ahead.index("Customer question:") + len("Customer question:")
    assert asked[:shared] == ahead[:shared] and judge_prompt("", a)[0] == judge_prompt("x", b)[0]
    # Passages that begin alike differ from their first word on (their tags): see passage_tag.
    other = judge_prompt("", b)[-1]["content"]
    assert ahead.split(":")[0] != other.split(":")[0] and ahead.startswith("Passage ")


def test_passages_are_each_entry_once_as_search_shows_them(kb):
    passages = kb.passages()
    faq = sum(p.kind == "faq" for p in passages)
    assert len({p.id for p in passages}) == len(passages)
    assert kb.count() == len(passages) + faq  # a FAQ entry has two records
    by_id = {p.id: p for p in passages}
    for found in kb.search("How long does delivery take?", k=5) + kb.search("退货政策", k=5):
        known = by_id[found.id]
        assert (known.text, known.answer, known.kind) == (found.text, found.answer, found.kind)


def test_support_warm_reads_the_knowledge_base_ahead_where_the_engine_keeps_prompts(kb, capsys, monkeypatch, settings):
    from core.cli.main import main

    stub = KeepsPrompts()
    stub.info = type("Info", (), {"model": "stub", "engine": "llamacpp"})()
    monkeypatch.setattr("core.cli.support.engine", lambda *a, **k: stub)
    assert main(["support", "warm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["passages"] == len(kb.passages()) > 0 and out["prompts"] == 2 * out["passages"]
    stub.keeps_prompts = False
    assert main(["support", "warm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prompts"] == 0 and "keeps no prompts" in out["note"]


def test_the_app_reads_ahead_only_with_llama_cpp_and_when_asked(kb, monkeypatch):
    from core.config import load_settings
    from core.support.warm import warm_up_when_ready

    read = []

    class Job:  # the read-ahead itself: tests/test_warm_resume.py
        def __init__(self, kb, llm, **options):
            read.append(kb)

        def run(self):
            return {"passages": 1}

    monkeypatch.setattr("core.support.warm.ReadAhead", Job)
    monkeypatch.setattr("core.support.warm.engine_keeps_prompts", lambda settings: True)
    monkeypatch.setenv("APP_SUPPORT_WARM", "off")
    opened = {"open_kb": lambda: kb, "open_llm": KeepsPrompts}
    assert warm_up_when_ready(load_settings(), **opened) is None and not read
    monkeypatch.setenv("APP_SUPPORT_WARM", "on")
    assert warm_up_when_ready(load_settings(), **opened) == {"passages": 1} and read[0] is kb
    monkeypatch.setattr("core.support.warm.engine_keeps_prompts", lambda settings: False)
    assert warm_up_when_ready(load_settings(), **opened) is None and len(read) == 1


def test_an_imported_source_is_read_ahead_in_the_background(kb, monkeypatch, settings):
    from core.support.warm import read_source_ahead

    stub = KeepsPrompts()
    monkeypatch.setattr("core.support.warm.engine_keeps_prompts", lambda settings: True)
    source = next(p.source for p in kb.passages() if p.kind == "doc")
    read_source_ahead(settings, kb, source, open_llm=lambda: stub).join(timeout=60)
    assert stub.prompts == [judge_prompt("", p) for p in kb.passages() if p.source == source] * 2
    monkeypatch.setattr("core.support.warm.engine_keeps_prompts", lambda settings: False)
    assert read_source_ahead(settings, kb, source, open_llm=lambda: stub) is None


def test_the_app_waits_for_a_knowledge_base_with_entries(settings, monkeypatch):
    import threading

    from core.application import open_knowledge_base
    from core.support.warm import warm_up_when_ready

    monkeypatch.setattr("core.support.warm.engine_keeps_prompts", lambda settings: True)
    stop = threading.Event()
    stop.set()  # the server is stopping: give up waiting at once
    empty = open_knowledge_base(settings)
    assert warm_up_when_ready(settings, open_kb=lambda: empty, open_llm=KeepsPrompts, stop=stop) is None


# -- the policy on a real (small) knowledge base ---------------------------------------------------
@pytest.fixture(autouse=True)
def judgement_alone(monkeypatch):
    """The stub's verdicts decide on their own here (the calibrated thresholds also weigh retrieval)."""
    monkeypatch.setattr("core.support.policy.THRESHOLDS", {"en": T, "zh": T})


@pytest.fixture
def kb(seeded_kb_dir, settings):
    from core.kb.store import KnowledgeBase

    return KnowledgeBase(seeded_kb_dir.parent / "kb", "default", chroma_host="")


def test_a_keyword_question_gets_the_entry_the_judge_confirms(kb, settings):
    r = answer("singapore??", kb, StubJudge("Singapore"), thresholds=settings.thresholds)
    assert r.tier == 1 and r.sources[0].faq_id == "en-001" and "Singapore" in r.text
    assert r.judged[r.sources[0].id] == 0.95


def test_traditional_question_gets_the_curated_answer_in_traditional(kb, settings):
    r = answer("請問有寄到新加坡嗎", kb, StubJudge("新加坡"), thresholds=settings.thresholds)
    assert r.tier == 1 and r.sources[0].faq_id == "zh-001"
    assert is_traditional(r.text) and "新加坡" in r.text and "從杭州倉發貨" in r.text
    simplified = answer("请问有寄到新加坡吗", kb, StubJudge("新加坡"), thresholds=settings.thresholds)
    assert simplified.tier == 1 and not is_traditional(simplified.text)


def test_an_entry_in_the_other_language_is_given_as_its_twin(kb):
    from core.support.policy import in_language

    [zh] = kb.faq_entries(["zh-001"])
    twin = in_language(kb, zh, "en")
    assert twin.faq_id == "en-001" and "Singapore" in twin.answer
    assert in_language(kb, twin, "zh").faq_id == "zh-001"
    lonely = Hit("x", "Q?", 0.5, 0.5, "other.csv", "faq", "zh", "只有中文", "zh-999")
    assert in_language(kb, lonely, "en") is lonely  # no twin: the entry itself


def test_unsure_gives_suggestions_and_a_click_gives_the_curated_answer(kb, settings):
    class Unsure(StubJudge):
        def judge(self, prompts):
            return [0.2 for _ in prompts]

    r = answer("my parcel is weird", kb, Unsure(""), thresholds=settings.thresholds)
    assert r.tier == 3 and r.suggestions
    offered = r.suggestions_as_dicts()
    assert {"faq_id", "question", "source", "id"} <= set(offered[0])
    taken = from_suggestion(kb, offered[0]["faq_id"], "my parcel is weird")
    assert taken.tier == 1 and taken.text == taken.sources[0].answer and taken.reason == "suggestion taken"
    zh = from_suggestion(kb, "zh-001", "包裹寄到台灣要多久？")
    assert is_traditional(zh.text) and is_traditional(zh.question)
    with pytest.raises(ValueError, match="No FAQ entry"):
        from_suggestion(kb, "nope-999", "x")


class SpellsOut(StubJudge):
    """Judges yes to passages about Singapore; rewrites what it is asked as a question about it."""

    def __init__(self, rewrite="Do you deliver to Singapore, and how much does it cost?"):
        super().__init__("Singapore")
        self.rewrite, self.rewrites, self.judged_for = rewrite, 0, set()

    def judge(self, prompts):
        self.judged_for |= {p[-1]["content"].split("Customer question:")[1].split("\n")[0].strip() for p in prompts}
        return super().judge(prompts)

    def complete(self, messages, options=None):
        self.rewrites += 1
        assert options.adapter is False  # the base model: adapters are tuned to answer, not to rewrite
        return self.rewrite, None


def test_a_short_question_is_spelled_out_and_searched_again_before_a_hand_over(kb, settings):
    llm = SpellsOut()
    r = answer("zq?", kb, llm, thresholds=settings.thresholds)
    assert r.tier == 1 and "Singapore" in r.text and "found by searching for 'Do you deliver to Singapore" in r.reason
    assert r.reason.startswith("FAQ entry answers it (judged")  # judged, never the word-for-word fast path
    assert llm.judged_for == {"zq?"}  # the rewrite widens the search; the customer's words are judged


def test_a_spelled_out_question_that_finds_nothing_better_still_hands_over(kb, settings):
    llm = SpellsOut(rewrite="Can I zq?")
    llm.yes_if = "nothing in this knowledge base"
    r = answer("zq?", kb, llm, thresholds=settings.thresholds)
    assert r.tier == 3 and "searching for" not in r.reason and llm.rewrites == 1
    for slip in ("能寄到新加坡吗？", "", "x" * 500):  # another language, nothing, a ramble: the question stands
        assert rewrite_for_search(SpellsOut(rewrite=slip), "zq?") == "zq?"
    assert rewrite_for_search(SpellsOut(rewrite="What is the price of a white牡丹?"), "白牡丹多少钱") == "白牡丹多少钱"
    assert rewrite_for_search(SpellsOut(rewrite="白牡丹茶多少钱？"), "白牡丹多少钱") == "白牡丹茶多少钱？"


def test_twin_ids_and_scripts():
    assert twin_ids("en-001") == ["en-001", "zh-001"] and twin_ids("zh_7") == ["zh_7", "en_7"]
    assert twin_ids("sf123") == ["sf123"] and twin_ids("") == []
    assert in_script("运费为 €4.95，满 €49 包邮。", "運費多少？", "zh") == "運費為 €4.95，滿 €49 包郵。"
    assert in_script("Shipping costs €4.95.", "運費多少？", "en") == "Shipping costs €4.95."


# -- written answers --------------------------------------------------------------------------------
def test_answers_that_do_not_answer_are_caught():
    sources = [hit("d", kind="doc", text="Damaged parcels: email a photo within 7 days and we send a replacement.")]
    q = "What if my parcel arrives damaged?"
    assert "repeats" in answer_problem(q, "What if my parcel arrives damaged? [1]", sources)
    assert "nothing from its sources" in answer_problem(
        q, "Our cafe serves excellent croissants every morning.", sources
    )
    assert "repeats itself" in answer_problem(q, "Email a photo " + "you " * 40, sources)
    assert "only citation marks" in answer_problem(q, "[2] [3]", sources)
    assert answer_problem(q, "Email a photo within 7 days and we send a replacement [1].", sources) == ""

    class Off:
        def judge(self, prompts):
            return [0.03]

    assert "another question" in answer_problem(
        q, "Email a photo within 7 days and we send a replacement.", sources, Off()
    )


class FakeGeneration:
    def __init__(self, text):
        self.text = text

    def __iter__(self):
        yield self.text


class AdapterThatHandsOver:
    """The fine-tuned adapter says NO_ANSWER; the base model (adapter=False) answers."""

    info = type("Info", (), {"model": "stub", "adapter": "data/adapters/default"})()
    adapter_per_request = True

    def __init__(self):
        self.asked = []

    def stream(self, messages, options):
        self.asked.append(options.adapter)
        return FakeGeneration("NO_ANSWER" if options.adapter else "Email a photo within 7 days [1].")

    def judge(self, prompts):
        return [0.9 for _ in prompts]


class RefusesWhenAllowed(AdapterThatHandsOver):
    """One model, no adapter: NO_ANSWER whenever the prompt offers it (the small model's habit)."""

    info = type("Info", (), {"model": "stub", "adapter": None})()
    adapter_per_request = False

    def stream(self, messages, options):
        self.asked.append(messages[0]["content"])
        offered = "NO_ANSWER" in messages[0]["content"]
        return FakeGeneration("NO_ANSWER" if offered else "Email a photo within 7 days [1].")


def damaged_parcel_answer(llm, judged):
    sources = [hit("d", kind="doc", text="Damaged parcels: email a photo within 7 days and we send a replacement.")]
    messages = [{"role": "system", "content": "rules, or NO_ANSWER"}, {"role": "user", "content": "damaged?"}]
    r = SupportAnswer(tier=2, language="en", question="What if my parcel arrives damaged?", search_query="")
    r.sources, r.llm, r.messages, r.judged = sources, llm, messages, {"d": judged}
    r.second_try = [{"role": "system", "content": "answer from the sources"}, messages[1]]
    r.generation = llm.stream(messages, GenerationOptions())
    return r.finish("".join(r.stream()))


@pytest.mark.parametrize("judged, tier", [(0.8, 2), (0.3, 3)])
def test_the_base_model_takes_a_second_try_where_the_adapter_hands_over_a_source_judged_to_answer(judged, tier):
    llm = AdapterThatHandsOver()
    r = damaged_parcel_answer(llm, judged)
    assert r.tier == tier
    if tier == 2:
        assert "7 days" in r.text and "second try by the base model" in r.reason and llm.asked == [True, False]
    else:  # the judge was not sure: no second try, a person takes over
        assert llm.asked == [True] and r.reason == "model found no answer in the sources"


def test_a_second_try_without_the_no_answer_option_where_the_engine_has_no_adapter():
    """ "Do you deliver to Canada?" beside "we don't deliver to the Americas": NO_ANSWER at first."""
    llm = RefusesWhenAllowed()
    r = damaged_parcel_answer(llm, 0.6)
    assert r.tier == 2 and "7 days" in r.text and r.reason.endswith("; a second try")
    assert llm.asked == ["rules, or NO_ANSWER", "answer from the sources"]


def test_a_second_try_that_makes_something_up_is_handed_over():
    """Seen on a bank's FAQ: "信義分行的經理是誰？" -> "信義分行的經理是張三" (two words added, both made up)."""
    llm = AdapterThatHandsOver()
    llm.stream = lambda messages, options: FakeGeneration("NO_ANSWER" if options.adapter else "Zhang San [1].")
    r = damaged_parcel_answer(llm, 0.9)
    assert r.tier == 3 and "too little from its sources" in r.reason and r.withheld == "Zhang San [1]."
    # the same words written at the first try pass the (looser) first check
    q, sources = "What if my parcel arrives damaged?", r.sources
    assert answer_problem(q, "Zhang San [1].", sources) == ""


def test_a_second_try_that_still_finds_nothing_hands_over():
    llm = AdapterThatHandsOver()
    llm.stream = lambda messages, options: FakeGeneration("NO_ANSWER")
    r = damaged_parcel_answer(llm, 0.9)
    assert r.tier == 3 and r.reason.endswith("model found no answer in the sources (nor on a second try)")


# -- the evaluation ------------------------------------------------------------------------------
class Result:
    def __init__(self, tier, text="", faq_ids=()):
        self.tier, self.text = tier, text
        self.sources = [hit(f, faq_id=f) for f in faq_ids]


@pytest.mark.parametrize(
    "case, result, outcome",
    [
        (Case("q", gold="en-001"), Result(1, "x", ["en-001"]), "right"),
        (Case("q", gold="en-001"), Result(1, "x", ["zh-001"]), "right"),  # the twin is the same entry
        (Case("q", gold="en-001"), Result(1, "x", ["en-002"]), "wrong"),
        (Case("q", gold="en-001"), Result(2, "We ship…", ["en-009", "en-001"]), "right"),
        (Case("q", gold="en-001"), Result(2, "We ship…", ["en-009"]), "wrong"),
        (Case("q", gold="en-001"), Result(3, "sorry"), "handed"),
        (Case("q", expect=("4.95", "四点九五")), Result(2, "It costs € 4.95 [1]."), "right"),
        (Case("q", expect=("運費",)), Result(1, "运费为 €4.95"), "right"),  # script-insensitive
        (Case("q", expect=("1,400",)), Result(2, "grown at 1400 m"), "right"),  # spaces and commas ignored
        (Case("q", expect=("4.95",)), Result(2, "It costs €12.95"), "wrong"),
        (Case("q", handover=True), Result(3, "sorry"), "right"),
        (Case("q", handover=True), Result(1, "an answer"), "wrong"),
    ],
)
def test_scoring(case, result, outcome):
    assert score(case, result) == outcome


def test_labelled_files_are_read_or_refused_clearly():
    assert [c.gold for c in read_cases("q.csv", b"query,faq_id\nhello?,en-001\n")] == ["en-001"]
    cases = read_cases("q.csv", "question,expect_any\nship?,4.95|€4.95\nstock tips?,HANDOVER\n".encode())
    assert cases[0].expect == ("4.95", "€4.95") and cases[1].handover
    for data, message in [
        (b"", "empty"),
        (b"question,answer\nx,y\n", "missing: expect_any"),
        (b"q,a\nx,y\n", "needs the columns query, faq_id .* or question, expect_any"),
        (b"query,faq_id\n", "no rows"),
        (b"query,faq_id\nhi,\n", "needs a faq_id"),
        (b"question,expect_any\nhi,\n", "no expect_any"),
    ]:
        with pytest.raises(IngestError, match=message):
            read_cases("q.csv", data)


def test_evaluate_scores_a_small_set_end_to_end(kb, settings):
    cases = read_cases("q.csv", b"query,faq_id\nsingapore??,en-001\nDo you ship to Singapore?,en-002\n")
    report = evaluate(cases, kb, StubJudge("Singapore"), thresholds=settings.thresholds)
    assert (report["n"], report["right"], report["wrong"]) == (2, 1, 1)
    assert report["tiers"]["1"] == 2 and report["p50_ms"] > 0 and report["by_language"]["en"]["n"] == 2
    assert report["failures"][0]["expected"] == "en-002"
    with pytest.raises(IngestError, match="faq_id not in the knowledge base: en-999"):
        evaluate(read_cases("q.csv", b"query,faq_id\nx?,en-999\n"), kb, None)


def test_support_eval_cli_builds_a_throw_away_knowledge_base(tmp_path, capsys, settings):
    from core.cli.main import main

    faq = tmp_path / "faq.csv"
    faq.write_text(
        "id,question,answer\nf1,How long is delivery?,Two to four days.\n"
        "f2,Can I pay with PayPal?,Yes: PayPal, Visa and Mastercard.\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.csv"
    queries.write_text("query,faq_id\nHow long is delivery?,f1\nCan I pay with PayPal?,f2\n", encoding="utf-8")
    code = main(["support", "eval", "--faq", str(faq), "--queries", str(queries), "--no-model", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["n"] == 2 and out["right"] == 2 and out["knowledge_base"].startswith("throw-away")
    assert {"right_rate", "handed_rate", "wrong_rate", "tiers", "p50_ms", "p95_ms"} <= set(out)
    assert not (settings.kb_dir).exists()  # nothing written into the user's knowledge base
    code = main(["support", "eval", "--queries", str(queries), "--json"])
    assert code == 2 and "--faq" in json.loads(capsys.readouterr().out)["error"]
    bad = tmp_path / "bad.csv"
    bad.write_text("query,faq_id\nx,nope\n", encoding="utf-8")
    code = main(["support", "eval", "--faq", str(faq), "--queries", str(bad), "--no-model", "--json"])
    assert code == 2 and "faq_id not in the knowledge base: nope" in json.loads(capsys.readouterr().out)["error"]


def test_the_judgement_and_retrieval_confidence_decide_together():
    both = Thresholds(fast=0.95, weight=1.0, tier1=1.4, tier2=1.0, keep=0.3, suggest=0.8)
    close = [hit("en-1", confidence=0.85), hit("en-2", confidence=0.5)]
    assert decide(close, [0.6, 0.9], both).chosen[0].id == "en-1"  # 1.45: a close match the judge half likes
    assert decide(close, [0.5, 0.85], both).tier == 2  # 1.35 each: not enough for a curated answer
    far = [hit("en-1", confidence=0.05)]
    assert decide(far, [0.9], both).tier == 3 and decide(far, [0.9], both).suggestions  # 0.95: offered only
