"""One customer-service reply (`SupportAnswer`): streamed through the output guard, then finished.

A tier-2 answer is checked when it ends (`answer_problem`): a NO_ANSWER, an answer that only
repeats the question, takes nothing from its sources or answers another question is written once
more (or tried once more without the NO_ANSWER way out), then handed over. Tiers 1 and 3 are fixed
texts in the asker's language and script (`in_script`).
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field

from core.kb.records import Hit
from core.llm import Engine, EngineError, Generation, GenerationOptions, ModelUnavailable
from core.storage.company import Company
from core.support.citations import attach_citations, words
from core.support.guard import OutputGuard, strip_markup
from core.support.prompts import CHECK_SYSTEM, NO_ANSWER, NO_ANSWER_LIKE, RETRY_NOTE, RULE_PHRASES
from core.text.language import has_cjk, is_traditional, stream_in_script, to_simplified, to_traditional

NEUTRAL = Company("our company")  # where no company is given (tests, a bare call)
# The judged P(yes) of the best source above which a NO_ANSWER gets a second try (SECOND_TRY).
SECOND_TRY_JUDGED = 0.4
ENGINE_FAILED = "the model failed"  # a hand-over's reason when the engine died mid-answer


@dataclass
class SupportAnswer:
    tier: int
    language: str
    question: str
    search_query: str
    text: str = ""
    sources: list[Hit] = field(default_factory=list)
    confidence: float | None = None
    generation: Generation | None = None  # tier 2: stream it, then call finish()
    started: float = field(default_factory=time.perf_counter)
    latency_ms: float = 0.0
    reason: str = ""
    guard: OutputGuard | None = None  # tier 2: filters the model's output (support_guard.py)
    failure: str = ""  # tier 2: why the model stopped answering (its engine died, say)
    suggestions: list[Hit] = field(default_factory=list)  # "did you mean": FAQ entries to offer
    judged: dict[str, float] = field(default_factory=dict)  # hit id -> the relevance check's P(yes)
    llm: Engine | None = None  # tier 2: the engine, for checking the written answer (and one retry)
    messages: list[dict] = field(default_factory=list)  # tier 2: the prompt, for the retry
    second_try: list[dict] = field(default_factory=list)  # tier 2: the prompt without NO_ANSWER (SECOND_TRY)
    source_text: str = ""  # tier 2: the numbered sources as the model saw them
    retried: bool = False
    second_tried: bool = False  # the retry was SECOND_TRY: its answer is checked more strictly
    withheld: str = ""  # a written answer handed over instead of shown (for staff and evaluations)
    handover: dict[str, str] = field(default_factory=lambda: NEUTRAL.handover_texts())  # the company's

    def stream(self):
        """Text chunks of the answer: one chunk for tiers 1 and 3, the model's stream for tier 2
        (in 繁體 characters when the question was asked in 繁體)."""
        if self.generation is None:
            yield self.text
            return
        traditional = self.language == "zh" and to_simplified(self.question) != self.question
        yield from stream_in_script(self._model_chunks(), "zh-Hant" if traditional else self.language)

    def _model_chunks(self):
        for chunk in self._marker_free_chunks():
            shown = self.guard.feed(chunk) if self.guard else chunk
            if self.guard and self.guard.blocked or NO_ANSWER_LIKE.search(self.generation.text or ""):
                cancel = getattr(self.generation, "cancel", None)
                if cancel:
                    cancel()
                return
            if shown:
                yield shown
        if self.guard and (rest := self.guard.end()):
            yield rest

    def _marker_free_chunks(self):
        held = ""
        for chunk in self._engine_chunks():
            held += chunk
            # Hold back output that may still turn into the NO_ANSWER marker.
            if NO_ANSWER.startswith(held.strip()) and len(held.strip()) < len(NO_ANSWER):
                continue
            if NO_ANSWER in held:
                break
            yield held
            held = ""
        if held and NO_ANSWER not in held and not NO_ANSWER.startswith(held.strip()):
            yield held

    def _engine_chunks(self):
        """The model's text; an engine that fails mid-answer ends it (finish() hands over)."""
        try:
            yield from self.generation
        except (EngineError, ModelUnavailable) as exc:
            self.failure = str(exc)

    def fixed(self, texts: dict, reason: str) -> SupportAnswer:
        """A fixed reply (greeting, hand-over) in the asker's language, 繁體 for a 繁體 question."""
        text = texts[self.language]
        if self.language == "zh" and to_simplified(self.question) != self.question:
            text = to_traditional(text)
        self.text, self.reason = text, reason
        return self.finish(text)

    def finish(self, streamed_text: str) -> SupportAnswer:
        """After streaming: the model saying it has no answer turns the reply into a hand-over."""
        self.latency_ms = (time.perf_counter() - self.started) * 1000
        if self.generation is not None:
            if self.failure:
                self.tier, self.generation = 3, None
                return self.fixed(self.handover, f"{ENGINE_FAILED}: {self.failure[:200]}")
            text = streamed_text.strip()
            blocked = (self.guard.blocked or self.guard.problem(text)) if self.guard else ""
            if blocked:
                self.tier, self.generation, self.withheld = 3, None, text
                return self.fixed(self.handover, f"answer withheld: {blocked}")
            said = self.generation.text or ""
            if not text or NO_ANSWER in said or NO_ANSWER_LIKE.search(said) or NO_ANSWER_LIKE.search(text):
                if self._second_try_may_answer():
                    return self._retry("", second_try=True)
                self.tier, self.generation = 3, None
                again = " (nor on a second try)" if self.second_tried else ""
                return self.fixed(self.handover, f"model found no answer in the sources{again}")
            problem = answer_problem(self.question, text, self.sources, self.llm, strict=self.second_tried)
            if problem and not self.retried:
                return self._retry(problem)
            if problem:
                self.tier, self.generation, self.withheld = 3, None, text
                return self.fixed(self.handover, f"the written answer did not answer: {problem}")
            # The small model often cites nothing: mark each sentence with the source it came from.
            self.text = attach_citations(
                strip_markup(text), [f"{h.text} {h.answer}" for h in self.sources], self.language
            )
        return self

    def _second_try_may_answer(self) -> bool:
        """Where the relevance check judged a source to answer, a NO_ANSWER gets one SECOND_TRY."""
        best = max(self.judged.values(), default=0.0)
        return bool(self.second_try) and not self.retried and best >= SECOND_TRY_JUDGED

    def _retry(self, problem: str, second_try: bool = False) -> SupportAnswer:
        """Write the answer once more (not streamed): told what was wrong, or (second_try) with the
        SECOND_TRY prompt; then check it again."""
        assert self.llm is not None  # a written (tier-2) answer carries its engine
        self.retried = True
        self.second_tried = second_try
        if second_try:
            # The base model, where the engine switches adapters per request: the fine-tuned adapter was
            # trained to say NO_ANSWER and copies a source verbatim more often (README, fine-tuning).
            base = bool(getattr(getattr(self.llm, "info", None), "adapter", None)) and getattr(
                self.llm, "adapter_per_request", False
            )
            self.reason += "; a second try" + (" by the base model" if base else "")
            messages = self.second_try
            options = GenerationOptions(max_new_tokens=300, temperature=0, repetition_penalty=1.05, adapter=not base)
        else:
            self.reason += f"; written again ({problem})"
            messages = [
                *self.messages,
                {"role": "assistant", "content": (self.generation.text if self.generation else "") or ""},
                {"role": "user", "content": RETRY_NOTE.format(no_answer=NO_ANSWER)},
            ]
            options = GenerationOptions(max_new_tokens=300, temperature=0.3, seed=1, repetition_penalty=1.05)
        try:
            self.generation = self.llm.stream(messages, options)
            self.guard = OutputGuard(messages[0]["content"], self.source_text, RULE_PHRASES)
            text = "".join(self._model_chunks())
        except (EngineError, ModelUnavailable) as exc:
            self.failure, text = str(exc), ""
        if self.language == "zh" and to_simplified(self.question) != self.question:
            text = to_traditional(text)
        return self.finish(text)

    def sources_as_dicts(self) -> list[dict]:
        return [
            {
                "n": i + 1,
                "id": h.id,
                "source": h.source,
                "kind": h.kind,
                "faq_id": h.faq_id,
                "text": h.text,
                "answer": h.answer,
                "confidence": h.confidence,
                "judged": self.judged.get(h.id),
            }
            for i, h in enumerate(self.sources)
        ]

    def suggestions_as_dicts(self) -> list[dict]:
        """ "Did you mean": the FAQ questions to offer (in the asker's script), with their entries."""
        return [
            {
                "id": h.id,
                "faq_id": h.faq_id,
                "question": in_script(h.text, self.question, h.language),
                "source": h.source,
                "judged": self.judged.get(h.id),
            }
            for h in self.suggestions
        ]


def in_script(text: str, question: str, language: str) -> str:
    """Chinese text in the script the question was asked in (繁體 or 简体); other text as it is."""
    if language != "zh" or not has_cjk(question):
        return text
    return to_traditional(text) if is_traditional(question) else to_simplified(text)


def answer_problem(question: str, text: str, sources: list[Hit], llm=None, strict: bool = False) -> str:
    """Why a written answer is not an answer ("" if it is one): it only repeats the question,
    takes nothing from its sources, or (judged by the model) answers another question. strict (a
    second try, which had no NO_ANSWER way out): at least half of what it adds to the question must
    come from its sources; its made-up answers ("the branch manager is Zhang San") add few words,
    none from the sources, where its right ones took 0.73 or more."""
    plain = re.sub(r"\[\d+\]", "", text).strip()
    if not re.search(r"\w", plain):
        return "it holds only citation marks"  # seen: "[2] [3]" as the whole reply
    q = to_simplified(question.lower().strip(" ?？!！。."))
    a = to_simplified(plain.lower().strip(" ?？!！。."))
    if a and (a in q or difflib.SequenceMatcher(None, q, a).ratio() >= 0.8):
        return "it repeats the question"
    tokens = re.findall(r"\w+", a)
    if len(tokens) >= 20 and len(set(tokens)) / len(tokens) < 0.25:
        return "it repeats itself"
    mine = words(a) - words(q)
    theirs = set().union(*(words(to_simplified(f"{h.text} {h.answer}")) for h in sources)) if sources else set()
    if len(mine) >= 3 and len(mine & theirs) / len(mine) < 0.2:
        return "it holds nothing from its sources"
    if strict and mine and len(mine & theirs) / len(mine) < 0.5:
        return "it holds too little from its sources"
    if llm is not None and hasattr(llm, "judge"):
        check = [
            {"role": "system", "content": CHECK_SYSTEM},
            {
                "role": "user",
                "content": f"Reply:\n{plain[:900]}\n\nCustomer question: {question}\n\n"
                "Does the reply answer this question? Answer yes or no.",
            },
        ]
        try:
            [p] = llm.judge([check])
        except (EngineError, ModelUnavailable):
            p = None
        if p is not None and p < 0.15:
            return f"it answers another question (judged {p:.2f})"
    return ""
