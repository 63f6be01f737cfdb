"""Getting the service ready at start, and keeping the knowledge base read ahead while it runs.

`start_warm_up` is the one warm-up both doors run: `make run` (serve.py: the app and the API) and
`python -m core serve` (the API alone). In the background, while the server already answers
/api/v1/health, it loads the knowledge base's models (embeddings, Chroma, the keyword index) and
the chat model, so that the first customer waits no longer than the next one; then it freezes what
is loaded out of the garbage collector and keeps the knowledge base read ahead (`keep_read_ahead`:
the job itself, `ReadAhead`, is in core/support/read_ahead.py), again after each restart of the
model server. `read_source_ahead` reads a newly imported source ahead the same way.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from collections.abc import Callable

from core.config import Settings
from core.kb.store import KnowledgeBase
from core.kb.store import warm_up as load_kb_models
from core.llm.base import Engine
from core.llm.loader import choose_engine
from core.llm.models import choose_model
from core.storage.locking import atomic_write_text
from core.storage.private import secure_data_dir
from core.support.read_ahead import ReadAhead, record_path, server_identity, stderr_log

WATCH_S = 30.0  # once done: how often to look whether the model server was restarted


def freeze_what_is_loaded() -> None:
    """Collect once, then move every object alive (the loaded models, indexes and libraries, half a
    million objects) to the permanent generation, which later collections skip. Why: Python's full
    collection walks every object while holding the interpreter lock; with the knowledge base loaded
    it took 250 ms (3 runs, 2-core machine), and a flood of requests set one off: every request in
    flight stalled that long (seen as 0.13 s refusals in bench/hostile_api.py). After this it takes
    under 1 ms; what later requests make is still collected as usual."""
    gc.collect()
    gc.freeze()


def engine_keeps_prompts(settings: Settings) -> bool:
    """Whether the configured engine is llama.cpp (the one that keeps prompts), decided without
    loading a model: elsewhere reading ahead would load a second copy of it for nothing."""
    if settings.engine == "openai" or settings.llm_backend == "openai":
        return False
    try:
        return choose_engine(settings, choose_model(settings))[0] == "llamacpp"
    except Exception:  # no model or engine yet: the app says so where it is used
        return False


def _wait_for_entries(kb: KnowledgeBase, stop: threading.Event, wait_s: float, poll_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while not kb.count():
        if time.monotonic() > deadline or stop.wait(poll_s):
            return False
    return True


def warm_up_when_ready(
    settings: Settings,
    open_kb: Callable[[], KnowledgeBase],
    open_llm: Callable[[], Engine],
    stop: threading.Event | None = None,
    wait_s: float = 900,
    poll_s: float = 10,
    log: Callable[[str], None] = stderr_log,
) -> dict | None:
    """Wait (up to wait_s) for the knowledge base to have entries (a first run loads the sample
    company when the support page first opens), then read it ahead. None if there was nothing to do."""
    if settings.support_warm != "on" or not engine_keeps_prompts(settings):
        return None
    stop = stop or threading.Event()
    kb = open_kb()
    if not _wait_for_entries(kb, stop, wait_s, poll_s):
        return None
    llm = open_llm()
    return ReadAhead(kb, llm, record=record_path(kb.root, kb.name), stop=stop, log=log).run()


def keep_read_ahead(
    settings: Settings,
    stop: threading.Event,
    open_kb: Callable[[], KnowledgeBase],
    open_llm: Callable[[], Engine],
    log: Callable[[str], None] = stderr_log,
    watch_s: float = WATCH_S,
) -> None:
    """The app's read-ahead for as long as it runs: read the knowledge base ahead, then every watch_s
    look whether the model server was restarted (a crash, another adapter) and read it again."""
    kb = open_kb()
    path = record_path(kb.root, kb.name)
    if settings.support_warm != "on" or not engine_keeps_prompts(settings):
        return
    if not kb.count():
        atomic_write_text(path, json.dumps({"state": "waiting", "pid": os.getpid(), "done": 0, "total": 0}))
        log("waiting for the knowledge base to have entries")
    done_for = None  # the model server that holds everything read
    while not stop.is_set():
        if not _wait_for_entries(kb, stop, float("inf"), watch_s):
            return
        try:
            llm = open_llm()
        except Exception as exc:  # no model yet (being prepared): try again later
            log(f"no model to read with yet ({exc}); trying again in {watch_s:.0f} s")
            stop.wait(watch_s)
            continue
        if done_for is not None and server_identity(llm) == done_for:
            stop.wait(watch_s)
            continue
        if done_for is not None:
            log("the model server restarted (a crash, another adapter): reading the knowledge base again")
        if ReadAhead(kb, llm, record=path, stop=stop, log=log).run()["state"] == "done":
            done_for = server_identity(llm)


def start_warm_up(
    settings: Settings,
    open_kb: Callable[[], KnowledgeBase],
    open_llm: Callable[[], Engine],
    stop: threading.Event | None = None,
    log: Callable[[str], None] | None = None,
) -> threading.Thread:
    """At start, in the background (the server answers /api/v1/health meanwhile): the data folder
    made private, the knowledge base's models and the chat model loaded, then the read-ahead kept
    going (`keep_read_ahead`). `open_kb`/`open_llm` give the application's own knowledge base and
    engine (core/application.py), so what is loaded here is what its first request uses."""
    say = log or (lambda m: print(f"{time.strftime('%H:%M:%S')} warm-up: {m}", file=sys.stderr, flush=True))
    stop = stop or threading.Event()

    def run() -> None:
        start = time.perf_counter()
        try:
            secure_data_dir(settings.data_dir)
        except OSError as exc:
            say(f"could not make the data folder private: {exc}")
        try:
            load_kb_models()
            knowledge = open_kb()
            if knowledge.count():
                knowledge.search("How can I track my order?")  # the keyword index and Chroma's first query
            kb_s = time.perf_counter() - start
        except Exception as exc:  # the Chroma server down, say: the first question says so
            say(f"the knowledge base did not load ({type(exc).__name__}: {exc}); questions load it")
            kb_s = time.perf_counter() - start
        model_s = time.perf_counter()
        try:
            engine = open_llm()
            engine.warm_up()  # starts the model server and runs two tokens
            say(
                f"ready in {time.perf_counter() - start:.1f} s (knowledge base {kb_s:.1f} s, "
                f"model {engine.info.model} {time.perf_counter() - model_s:.1f} s)"
            )
            secure_data_dir(settings.data_dir)  # the model server's log, made meanwhile
        except Exception as exc:  # no model yet: the pages say what to do
            say(f"the model did not load ({type(exc).__name__}: {exc}); the first question loads it")
        freeze_what_is_loaded()
        try:
            keep_read_ahead(settings, stop, open_kb, open_llm, log=log or stderr_log)
        except Exception as exc:  # only a head start, but never silently gone
            say(f"the read-ahead stopped: {type(exc).__name__}: {exc}")

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread


def read_source_ahead(
    settings: Settings, kb: KnowledgeBase, source: str, open_llm: Callable[[], Engine]
) -> threading.Thread | None:
    """After an import (the Knowledge base page): the new source's passages read ahead in the
    background, in the engine's gaps, as the whole knowledge base is at start. None where there is
    nothing to gain."""
    if settings.support_warm != "on" or not engine_keeps_prompts(settings):
        return None

    def run() -> None:
        try:
            llm = open_llm()
            passages = [p for p in kb.passages() if p.source == source]
            ReadAhead(kb, llm, passages=passages, log=stderr_log).run()
        except Exception as exc:  # only a head start: the first question about it reads it then
            stderr_log(f"{source} was not read ahead: {type(exc).__name__}: {exc}")

    thread = threading.Thread(target=run, name=f"read-ahead {source}", daemon=True)
    thread.start()
    return thread
