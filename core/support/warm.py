"""Reading the knowledge base ahead for the relevance check, so that customers' first questions get
quick answers: llama.cpp keeps each passage's prompt (`--cache-ram`), and a judgement of a passage
it already read costs only the question's tokens (0.35-0.45 s instead of 1-2 s on 2 cores).

`make run` (serve.py) does it in the background once the knowledge base has entries;
`python -m core support warm` does it on demand; `support eval` does it before it times answers.
"""

from __future__ import annotations

import threading
import time

from core.config import Settings
from core.kb.store import KnowledgeBase
from core.llm.loader import choose_engine, load_llm
from core.llm.models import choose_model
from core.support.relevance import warm_judge


def read_ahead(kb: KnowledgeBase, llm, stop: threading.Event | None = None) -> dict:
    """Every passage of `kb` read once (twice: see warm_judge) by `llm`'s relevance check."""
    start = time.perf_counter()
    passages = kb.passages()
    prompts = warm_judge(llm, passages, stop)
    return {"passages": len(passages) if prompts else 0, "prompts": prompts, "s": round(time.perf_counter() - start, 1)}


def engine_keeps_prompts(settings: Settings) -> bool:
    """Whether the configured engine is llama.cpp (the one that keeps prompts), decided without
    loading a model: elsewhere reading ahead would load a second copy of it for nothing."""
    if settings.engine == "openai" or settings.llm_backend == "openai":
        return False
    try:
        return choose_engine(settings, choose_model(settings))[0] == "llamacpp"
    except Exception:  # no model or engine yet: the app says so where it is used
        return False


def warm_up_when_ready(
    settings: Settings, stop: threading.Event | None = None, wait_s: float = 900, poll_s: float = 10
) -> dict | None:
    """At start: wait (up to wait_s) for the knowledge base to have entries (a first run loads the
    sample company when the support page first opens), then read it ahead. None if there was
    nothing to do."""
    if settings.support_warm != "on" or not engine_keeps_prompts(settings):
        return None
    kb = KnowledgeBase(settings.kb_dir, settings.kb_name)
    deadline = time.monotonic() + wait_s
    stop = stop or threading.Event()
    while not kb.count():
        if time.monotonic() > deadline or stop.wait(poll_s):
            return None
    return read_ahead(kb, load_llm(settings, log=lambda *_: None), stop)


def read_source_ahead(settings: Settings, kb: KnowledgeBase, source: str) -> threading.Thread | None:
    """After an import (the Knowledge base page): the new source's passages read ahead in the
    background, as the whole knowledge base is at start. None where there is nothing to gain."""
    if settings.support_warm != "on" or not engine_keeps_prompts(settings):
        return None

    def run() -> None:
        try:
            warm_judge(load_llm(settings, log=lambda *_: None), [p for p in kb.passages() if p.source == source])
        except Exception:  # only a head start: the first question about it reads it then
            pass

    thread = threading.Thread(target=run, name=f"read-ahead {source}", daemon=True)
    thread.start()
    return thread
