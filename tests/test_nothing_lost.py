"""Nothing asked is lost: a question is stored when it arrives, completed when its answer ends, and
marked abandoned when the stream is cut (the customer left) or the process dies (kill -9) — in the
core flow (core/support/ask.py), through a real HTTP server, and for a database made before.

`SlowEngine` (a stand-in model that writes slowly) and `serve` are used by tests/test_api_abuse.py
too; `python -m tests.test_nothing_lost PORT` serves the API with it (the kill -9 test's server)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager

import httpx
import pytest

from core.config import load_settings
from core.llm.base import Engine, ModelInfo
from core.llm.slots import SlotQueue
from core.support.log import SupportLog
from tests.servers import free_port, spawn, wait_until_up

TIER2 = "shipping to europe price?"  # not word for word: retrieval alone, thresholds below, make it tier 2


class SlowEngine(Engine):
    """A stand-in model: answers with a sentence from the sample FAQ, one word every `delay` seconds;
    cannot judge relevance (retrieval confidence decides)."""

    def __init__(self, delay: float = 0.05, slots: int = 1, reserved: int = 1, words: int = 60):
        self.info = ModelInfo(
            model="slow", source="test", adapter=None, device="cpu", dtype="-", engine="stub", parallel=slots
        )
        self.info.context_tokens = 32768
        self.queue = SlotQueue(slots, reserved)
        self.delay, self.words = delay, words
        self.started = 0  # generations that got a slot

    def count_tokens(self, messages, prefill=""):
        return sum(len(m["content"]) for m in messages) // 4 + 1

    def judge(self, prompts):
        return [None] * len(prompts)

    def _produce(self, gen):
        self.started += 1
        words = ("Shipping within Europe costs €4.95 and is free over €49 [1]. " * 20).split()
        first = time.perf_counter()
        for n, word in enumerate(words[: min(self.words, gen.options.max_new_tokens)]):
            if gen.cancelled:
                break
            time.sleep(self.delay)
            gen.emit(word + " ")
            gen.stats.new_tokens = n + 1
        gen.stats.ttft_ms = (time.perf_counter() - first) * 1000


def tier2_env(monkeypatch):
    monkeypatch.setenv("APP_TIER1_EN", "0.99")
    monkeypatch.setenv("APP_TIER2_EN", "0.0")


@contextmanager
def serve(app):
    """The app on a real uvicorn in a thread, on 127.0.0.1 (what a browser or the widget talks to)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    return predicate()


def sse_events(lines):
    """(event, data) pairs from an SSE line iterator."""
    name = None
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            yield name, json.loads(line[6:])
            name = None


# -- the core flow ---------------------------------------------------------------------------------
@pytest.fixture
def kb(seeded_kb_dir):
    from core.kb.store import KnowledgeBase

    return KnowledgeBase(seeded_kb_dir, "default")


def test_a_question_is_stored_on_arrival_and_completed_once(kb, settings):
    from core.support.ask import ask

    log = SupportLog(settings.db_path)
    flow = ask(log, kb, "How much does shipping in Europe cost?", None, channel="api", api_key="k", token="t0k")
    kind, turn = next(flow)
    assert kind == "start" and log.status(turn.question_id) == "answering"
    assert log.unanswered() == []  # a question being answered is not unanswered
    events = [kind for kind, _ in flow]
    assert events == ["delta", "final"]
    [row] = log.questions()
    assert (row["status"], row["tier"], row["channel"], row["owner"]) == ("answered", 1, "api", None)
    assert "€4.95" in row["answer"] and log.question_for("t0k", "k") == row["id"]
    assert log.question_for("t0k", "other key") is None and log.question_for("guess", "k") is None


def test_a_stream_closed_mid_answer_is_abandoned_and_its_generation_stopped(kb, settings, monkeypatch):
    from core.support.ask import ask

    tier2_env(monkeypatch)
    engine = SlowEngine(delay=0.05)
    log = SupportLog(settings.db_path)
    flow = ask(log, kb, TIER2, engine, thresholds=load_settings().thresholds)
    _, turn = next(flow)
    kind, _ = next(flow)
    while kind != "delta":
        kind, _ = next(flow)
    flow.close()  # what the HTTP stream or Streamlit does when the customer leaves
    row = log.questions()[0]
    assert row["status"] == "abandoned" and row["tier"] == 2 and row["answer"]  # what was shown is kept
    assert turn.result.generation.wait(5) and engine.queue.active == 0
    assert [r["id"] for r in log.unanswered()] == [row["id"]]


def test_an_error_mid_answer_leaves_it_abandoned_not_answering(kb, settings):
    from core.support.ask import ask

    class Broken:
        def __call__(self):
            raise RuntimeError("the engine fell over")

    log = SupportLog(settings.db_path)
    flow = ask(log, kb, "Can I return a gift?", Broken())
    next(flow)
    with pytest.raises(RuntimeError):
        next(flow)
    assert log.questions()[0]["status"] == "abandoned"


# -- an old database --------------------------------------------------------------------------------
OLD_SCHEMA = """
CREATE TABLE support_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at REAL NOT NULL,
    kb TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    tier INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    answer TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',
    confidence REAL,
    latency_ms REAL,
    feedback INTEGER,
    resolved INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    question_id INTEGER REFERENCES support_questions(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    question TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))
);
"""


def test_a_database_made_by_the_first_schema_keeps_its_rows_and_works(settings, kb):
    from core.support.ask import ask

    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(settings.db_path)
    conn.executescript(OLD_SCHEMA)
    conn.execute(
        "INSERT INTO support_questions (asked_at, kb, question, language, tier, answer, feedback)"
        " VALUES (1.0, 'default', 'Old question?', 'en', 3, 'A person will reply.', NULL)"
    )
    conn.execute(
        "INSERT INTO support_questions (asked_at, kb, question, language, tier, answer, feedback)"
        " VALUES (2.0, 'default', 'Old and liked', 'en', 1, 'Yes.', 1)"
    )
    conn.execute(
        "INSERT INTO tickets (created_at, question_id, name, contact, question) VALUES (3.0, 1, 'A', 'a@x', 'q')"
    )
    conn.commit()
    conn.close()
    log = SupportLog(settings.db_path)
    rows = {r["question"]: r for r in log.questions()}
    assert set(rows) == {"Old question?", "Old and liked"}
    assert {r["status"] for r in rows.values()} == {"answered"} and rows["Old and liked"]["feedback"] == 1
    assert [r["question"] for r in log.unanswered()] == ["Old question?"]
    assert log.tickets()[0]["question_id"] == rows["Old question?"]["id"]
    for _ in ask(log, kb, "How much does shipping in Europe cost?", None):  # the new flow on the old table
        pass
    assert log.questions()[0]["status"] == "answered" and len(log.questions()) == 3
    SupportLog(settings.db_path)  # opening it again changes nothing
    assert len(log.questions()) == 3


# -- through HTTP: the customer leaves, the process dies ---------------------------------------------
def make_key(settings, **options) -> str:
    from core.api.keys import KeyStore

    return KeyStore(settings.db_path).add(options.pop("name", "shop"), **options)[1]


def ask_tier2(base: str, key: str):
    """The TIER2 question over HTTP, streamed (the model writes its answer)."""
    return httpx.stream(
        "POST",
        f"{base}/api/v1/support/ask",
        json={"question": TIER2},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_a_customer_who_leaves_mid_answer_leaves_the_question_abandoned(kb, settings, monkeypatch):
    from core.api.app import create_app

    tier2_env(monkeypatch)
    engine = SlowEngine(delay=0.05)
    app = create_app(load_settings(), llm=engine, kb=kb)
    key = make_key(settings)
    with serve(app) as base:
        with ask_tier2(base, key) as r:
            for name, _ in sse_events(r.iter_lines()):
                if name == "delta":
                    break  # the tab is closed mid-answer
        log = SupportLog(settings.db_path)
        assert wait_for(lambda: log.questions()[0]["status"] == "abandoned"), log.questions()[0]
        assert wait_for(lambda: engine.queue.active == 0)  # the model stopped writing for nobody
        assert app.state.services.in_flight.total == 0  # and the question no longer counts as in progress
        row = log.questions()[0]
        assert row["tier"] == 2 and row["question"] == TIER2 and row in log.unanswered()


def run_stub_server(port: int) -> None:
    """The API with SlowEngine, for the kill -9 test (a separate process)."""
    import uvicorn

    from core.api.app import create_app
    from core.kb.store import KnowledgeBase

    settings = load_settings()
    app = create_app(settings, llm=SlowEngine(delay=0.2), kb=KnowledgeBase(settings.kb_dir, settings.kb_name))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def test_kill_9_mid_answer_leaves_the_question_abandoned_at_the_next_start(seeded_kb_dir, settings, tmp_path):
    key = make_key(settings)
    port = free_port()
    env = dict(os.environ, APP_DATA_DIR=str(settings.data_dir), APP_TIER1_EN="0.99", APP_TIER2_EN="0.0")
    proc = spawn([sys.executable, "-m", "tests.test_nothing_lost", str(port)], tmp_path / "server.log", env)
    try:
        base = f"http://127.0.0.1:{port}"
        up = wait_until_up(f"{base}/api/v1/health", 90, proc=proc)
        assert up, (tmp_path / "server.log").read_text()
        with ask_tier2(base, key) as r:
            for name, _ in sse_events(r.iter_lines()):
                if name == "delta":
                    assert SupportLog(settings.db_path).questions()[0]["status"] == "answering"  # its process lives
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(10)
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    log = SupportLog(settings.db_path)  # the next start opens the log
    [row] = log.questions()
    assert row["question"] == TIER2 and row["status"] == "abandoned" and row["owner"] is None
    assert [r["id"] for r in log.unanswered()] == [row["id"]]


if __name__ == "__main__":
    run_stub_server(int(sys.argv[1]))
