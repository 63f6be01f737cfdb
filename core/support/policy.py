"""The customer-service answer policy, in three tiers.

1. A FAQ entry answers the question → its curated answer, verbatim, no generation (in the asker's
   script; an English question matched to a Chinese entry gets its English twin, and back).
2. Relevant passages found → the model answers only from them, citing [1], [2]… An answer that
   only repeats the question, holds nothing from its sources or answers another question is
   written once more, then handed over.
3. Nothing relevant, a greeting or off-topic → a fixed polite answer and a hand-over to a person,
   with the closest FAQ questions offered as "did you mean" when there are any.
Which tier is decided after a second look (core/support_relevance.py): the chat model judges
whether the best passages answer the question; retrieval confidence alone decides only where
there is no model to judge.
Hostile text is handled in code (core/support_guard.py): questions that instruct the assistant are
handed over, passages are cleaned of instructions before the model sees them, and the model's
output is filtered as it streams (markup, system-prompt leaks, contact details not in the sources).
Prompts hold only knowledge-base passages and this session's own question: never tickets, other
customers' questions or saved conversations.
The retrieval-only thresholds are per-language settings (APP_TIER1_EN, APP_TIER2_ZH, ...): e5
and MiniLM confidences sit on different scales. Thresholds were measured with
bench/support_thresholds.py on the labelled and off-topic question sets in data/kb/eval/.
What the model is told is in core/support/prompts.py; the reply being streamed, checked and
finished (`SupportAnswer`) in core/support/reply.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

from core.config import Settings
from core.kb.store import Hit, KnowledgeBase
from core.llm import EngineError, GenerationOptions, ModelUnavailable
from core.storage.company import Company
from core.support.guard import (
    SOURCE_INJECTION,
    OutputGuard,
    clean_passage,
    has_content,
    injection_in_question,
    strip_markup,
)
from core.support.prompts import (
    GROUNDED,
    NO_ANSWER,
    RULE_PHRASES,
    SECOND_TRY,
    chat_messages,
    rewrite_follow_up,
    rewrite_for_search,
)
from core.support.relevance import THRESHOLDS, Decision, decide, fast_match, judge_in_order
from core.support.reply import NEUTRAL, SupportAnswer, in_script
from core.text.language import question_language

SMALLTALK = re.compile(
    r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening)|thanks?( you)?( very much)?|thank you|ok(ay)?|bye|"
    r"你好|您好|嗨|哈[喽囉]|在吗|在嗎|谢谢|謝謝|多谢|多謝|再见|再見|早上好|晚上好|好的)[\s!！.。~～?？,，]*$",
    re.IGNORECASE,
)


def as_data(hits: list[Hit]) -> list[Hit]:
    """Passages as data: lines that instruct the assistant are cut, markup reduced to text. A FAQ entry
    with such lines is dropped whole (its answer would be given verbatim); so is a passage left empty."""
    out = []
    for h in hits:
        if h.kind == "faq":
            if SOURCE_INJECTION.search(h.text) or SOURCE_INJECTION.search(h.answer):
                continue
            out.append(replace(h, text=strip_markup(h.text), answer=strip_markup(h.answer)))
        elif has_content(text := clean_passage(h.text)):
            out.append(replace(h, text=text))
    return out


TWIN_ID = re.compile(r"^(en|zh|cn|tw)([-_].+)$", re.I)


def twin_ids(faq_id: str) -> list[str]:
    """Ids the same entry may have in the other language: en-001 <-> zh-001 (and the id itself,
    for tables that give both language rows one id)."""
    m = TWIN_ID.match(faq_id or "")
    if not m:
        return [faq_id] if faq_id else []
    return [faq_id] + [f"{prefix}{m.group(2)}" for prefix in ("en", "zh") if prefix != m.group(1).lower()]


def in_language(kb: KnowledgeBase, hit: Hit, lang: str) -> Hit:
    """The entry's twin in the asker's language when there is one, else the entry itself."""
    if hit.language == lang or not hit.faq_id:
        return hit
    for twin in kb.faq_entries(twin_ids(hit.faq_id)):
        if twin.language == lang and twin.source == hit.source:
            return replace(twin, score=hit.score, confidence=hit.confidence)
    return hit


def answer(
    question: str,
    kb: KnowledgeBase,
    llm=None,
    history: list[dict] | None = None,
    *,
    thresholds=None,
    company: Company = NEUTRAL,
    max_sources: int = 4,
    use_judge: bool = True,
) -> SupportAnswer:
    """thresholds: lang -> (tier1, tier2) retrieval confidences, used where no judgement is made
    (defaults from Settings). use_judge=False skips the relevance check (the Model page's
    base-vs-adapter comparison forces an answer from the sources)."""
    question = (question or "").strip()
    if not question:
        raise ValueError("The question is empty")
    question = question[:2000]
    lang = question_language(question)
    fallback = (thresholds or Settings().thresholds)(lang)
    result = SupportAnswer(
        tier=3, language=lang, question=question, search_query=question, handover=company.handover_texts()
    )
    if SMALLTALK.match(question):
        return result.fixed(company.greeting_texts(), "greeting or small talk")
    if injected := injection_in_question(question):
        # Policy in code: a question that talks to the assistant (or asks for others' data) goes to a person.
        return result.fixed(result.handover, f"the question gives the assistant instructions ({injected[:40]!r})")
    if history and llm is not None:
        result.search_query = rewrite_follow_up(llm, question, history)
    found = kb.search(result.search_query, k=8)
    hits = as_data(found)
    if not hits:
        return result.fixed(result.handover, "knowledge base is empty" if not found else "no passage usable as data")
    result.confidence = hits[0].confidence
    policy = THRESHOLDS[lang]
    scores = []
    if use_judge and hasattr(llm, "judge") and fast_match(hits, policy) is None:
        try:
            scores = judge_in_order(llm, result.search_query, hits, policy)
        except (EngineError, ModelUnavailable):
            scores = []  # no judge right now: retrieval confidence decides, as before
    decision: Decision = decide(hits, scores, policy, fallback, max_sources)
    if decision.tier == 3 and any(p is not None for p in scores) and hasattr(llm, "complete"):
        decision = search_again(kb, llm, result, decision, policy, fallback, max_sources)
    result.suggestions, result.judged, result.reason = decision.suggestions, decision.judged, decision.reason
    if decision.tier == 1:
        entry = in_language(kb, decision.chosen[0], lang)
        result.tier, result.sources = 1, [entry]
        result.text = in_script(entry.answer, question, entry.language)
        return result.finish(result.text)
    if decision.tier == 3 or llm is None:
        return result.fixed(result.handover, "no model available" if decision.tier == 2 else decision.reason)
    relevant = decision.chosen
    sources = "\n\n".join(
        f"[{i + 1}] ({h.source}) " + (f"Q: {h.text}\nA: {h.answer}" if h.kind == "faq" else h.text)
        for i, h in enumerate(relevant)
    )
    values = {
        "company": company.name,
        "no_answer": NO_ANSWER,
        "sources": sources,
        "question": question,
        "language": "Chinese" if lang == "zh" else "English",
    }
    messages = chat_messages(GROUNDED.invoke(values))
    result.second_try = chat_messages(SECOND_TRY.invoke(values))
    result.guard = OutputGuard(messages[0]["content"], sources, RULE_PHRASES)
    result.tier, result.sources, result.llm, result.messages, result.source_text = 2, relevant, llm, messages, sources
    result.generation = llm.stream(
        messages, GenerationOptions(max_new_tokens=300, temperature=0, repetition_penalty=1.05)
    )
    return result


def search_again(kb, llm, result, decision: Decision, policy, fallback, max_sources) -> Decision:
    """Before a hand-over the relevance check has decided: search once more with the question
    spelled out (rewrite_for_search). The rewrite only widens the search: the new candidates are
    judged against the customer's own words (a small model's rewrite sometimes changes the question:
    "do you sell my data" -> "can you provide me with your data?"), and never on the fast path. The
    first decision stands where this finds nothing better, or the model fails."""
    asked = result.search_query
    try:
        rewritten = rewrite_for_search(llm, asked)
        if rewritten == asked:
            return decision
        hits = as_data(kb.search(rewritten, k=8))
        strict = replace(policy, fast=1.01)
        again = decide(hits, judge_in_order(llm, asked, hits, strict), strict, fallback, max_sources)
    except (EngineError, ModelUnavailable):
        return decision
    if again.tier == 3:
        return decision
    again.reason += f"; found by searching for {rewritten!r}"
    return again


def from_suggestion(kb: KnowledgeBase, faq_id: str, asked: str) -> SupportAnswer:
    """The curated answer of a "did you mean" entry the customer clicked, in the language and
    script of what they had asked."""
    lang = question_language(asked)
    entries = [h for h in kb.faq_entries([faq_id]) if h.faq_id == faq_id]
    if not entries:
        raise ValueError(f"No FAQ entry {faq_id!r} in the knowledge base (it may have been removed)")
    entry = in_language(kb, next((h for h in entries if h.language == lang), entries[0]), lang)
    result = SupportAnswer(
        tier=1,
        language=lang,
        question=in_script(entry.text, asked, entry.language),
        search_query=entry.text,
        sources=[entry],
        reason="suggestion taken",
    )
    result.text = in_script(entry.answer, asked, entry.language)
    return result.finish(result.text)
