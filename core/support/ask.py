"""One customer question from its arrival to its stored end, the same for every door: the Customer
service page, the HTTP API and the website widget.

`ask(...)` is a generator of events:

- `("start", turn)`: the question is stored (status 'answering'), before any work on it;
- `("queue", ahead)`: every half second while its written answer waits for a slot of the model;
- `("delta", text)`: a piece of the answer (one piece for a curated answer or a hand-over);
- `("checking", None)`: a written answer has been streamed and is being checked (it may be written
  again, or handed over);
- `("final", turn)`: the answer is complete and stored (status 'answered'); `turn.result` is it.

Closing the generator before "final" (the customer closed the tab: the HTTP stream ends, Streamlit
stops the script) cancels the model's generation and stores the question as 'abandoned', with what
was shown so far. A process that dies mid-answer leaves the row 'answering'; the next opening of
the log marks it abandoned (core/support/log.py).

Customers' written answers are PUBLIC generations (core/llm/base.py): staff requests go first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

from core.kb.store import KnowledgeBase
from core.llm.base import AtPriority
from core.llm.slots import PUBLIC
from core.storage.company import Company
from core.support.log import SupportLog
from core.support.policy import answer
from core.support.reply import NEUTRAL, SupportAnswer
from core.text.language import question_language


class Turn:
    """One question and its answer, stored on arrival and once at the end (answered or abandoned)."""

    def __init__(
        self,
        log: SupportLog,
        kb: KnowledgeBase,
        question: str,
        *,
        channel: str = "page",
        api_key: str | None = None,
        token: str | None = None,
    ):
        self.log, self.kb, self.question = log, kb, question
        self.token = token
        self.started = time.perf_counter()
        self.question_id = log.arrive(kb.name, question, question_language(question), channel, api_key, token)
        self.result: SupportAnswer | None = None
        self.shown = ""  # the answer's text streamed so far
        self.ended = False

    def decide(
        self, llm, history: list[dict] | None = None, *, thresholds=None, company: Company = NEUTRAL, public=True
    ) -> SupportAnswer:
        """The tier, and for a written answer its generation (queued, not read yet)."""
        engine = AtPriority(llm, PUBLIC) if public and llm is not None else llm
        self.result = answer(self.question, self.kb, engine, history, thresholds=thresholds, company=company)
        return self.result

    def chunks(self) -> Generator[str, None, None]:
        assert self.result is not None
        for chunk in self.result.stream():
            self.shown += chunk
            yield chunk

    @property
    def sources(self) -> list[dict]:
        assert self.result is not None
        return self.result.sources_as_dicts() if self.result.tier != 3 else []

    @property
    def suggestions(self) -> list[dict]:
        assert self.result is not None
        return self.result.suggestions_as_dicts() if self.result.tier != 1 else []

    def finish(self, present: Callable[[str], str] | None = None) -> SupportAnswer:
        """Check the streamed answer (a written one may be written again or handed over), store it.
        `present`: the text as the customer sees it (another script), which is what is stored."""
        assert self.result is not None
        result = self.result.finish(self.shown)
        if present is not None:
            result.text = present(result.text)
        self.log.complete(
            self.question_id,
            result.language,
            result.tier,
            result.text,
            self.sources,
            result.confidence,
            result.latency_ms,
            offered=len(result.suggestions) if result.tier != 1 else 0,
        )
        self.ended = True
        return result

    def abandon(self) -> None:
        """Cut short: stop the model, store the question as abandoned with what was shown. Idempotent."""
        if self.ended:
            return
        self.ended = True
        result = self.result
        if result is not None and result.generation is not None:
            result.generation.cancel()
        self.log.abandon(
            self.question_id,
            tier=result.tier if result is not None else None,
            answer=self.shown or None,
            latency_ms=(time.perf_counter() - self.started) * 1000,
            language=result.language if result is not None else None,
        )

    def __enter__(self) -> Turn:
        return self

    def __exit__(self, *exc) -> None:
        self.abandon()  # nothing once finished; else (an error, GeneratorExit) abandoned


def ask(
    log: SupportLog,
    kb: KnowledgeBase,
    question: str,
    llm,
    history: list[dict] | None = None,
    *,
    thresholds=None,
    company: Company = NEUTRAL,
    channel: str = "page",
    api_key: str | None = None,
    token: str | None = None,
    public: bool = True,
    present: Callable[[str], str] | None = None,
) -> Generator[tuple[str, Any], None, None]:
    """The events of one question (module docstring). `llm` may be None (FAQ answers and hand-overs
    only) or a callable that returns the engine (loaded after the question is stored)."""
    with Turn(log, kb, question, channel=channel, api_key=api_key, token=token) as turn:
        yield "start", turn
        engine = llm() if callable(llm) and not hasattr(llm, "stream") else llm
        result = turn.decide(engine, history, thresholds=thresholds, company=company, public=public)
        gen = result.generation
        while gen is not None and gen.queued and not gen.wait_started(0.5):
            yield "queue", gen.waiting_ahead
        for chunk in turn.chunks():
            yield "delta", chunk
        if gen is not None:
            yield "checking", None
        turn.finish(present)
        yield "final", turn
