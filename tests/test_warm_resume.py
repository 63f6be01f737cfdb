"""The read-ahead (core/support/warm.py): customers first, reading in the gaps; never given up on
"busy" or a failure (retried with a back-off, and logged); read again after the model server or the
app restarts; its progress recorded and shown (`support warm --status`). On stub engines: the real
model's behaviour is measured by hand (README)."""

import gc
import json
import threading
import time
from types import SimpleNamespace

import pytest

from core.kb.store import Hit
from core.llm import EngineError
from core.storage.locking import FairLock
from core.support import read_ahead as job
from core.support import warm
from core.support.read_ahead import ReadAhead, read_ahead_status, record_path
from core.support.relevance import engine_idle, judge_prompt, passage_key
from core.support.warm import keep_read_ahead


def hit(i: int, kind: str = "faq") -> Hit:
    return Hit(f"id{i}", f"Question {i}: how does thing {i} work?", 0.0, 0.5, "faq.csv", kind, "en", f"Answer {i}.")


class Server:
    def __init__(self):
        self.pid, self.generation = 4242, 1
        self.judge_queue = FairLock(1)


class Engine:
    """Keeps prompts like llama.cpp: one judging slot (a FairLock), generation slots, a server that
    can restart. `fail` raises for the first n readings (as the judging slot says when it is busy)."""

    keeps_prompts = True

    def __init__(self, fail: int = 0, read_s: float = 0.0):
        self.server = Server()
        self.queue = FairLock(2)
        self.info = SimpleNamespace(model="stub", adapter=None, engine="llamacpp")
        self.read, self.fail, self.read_s = [], fail, read_s
        self.customer_active = False

    def judge(self, prompts):
        if self.fail:
            self.fail -= 1
            raise EngineError("The relevance check is busy (waited 4 s for its turn)")
        queue = self.server.judge_queue
        ticket = queue.take_ticket()
        queue.acquire(ticket)
        try:
            time.sleep(self.read_s)
            self.read += prompts
        finally:
            queue.release(ticket)
        return [0.5] * len(prompts)


class KB:
    def __init__(self, root, passages):
        self.root, self.name, self._passages = root, "default", passages

    def passages(self):
        return list(self._passages)

    def count(self):
        return len(self._passages)


def fast(**kw):
    return {"quiet_s": 0.05, "poll_s": 0.01, "backoff_s": (0.01, 0.04), **kw}


def test_the_read_ahead_gives_way_to_a_customer_and_goes_on_after(tmp_path):
    engine = Engine(read_s=0.02)
    passages = [hit(i) for i in range(30)]
    lines = []
    job = ReadAhead(KB(tmp_path, passages), engine, record=tmp_path / "r.json", log=lines.append, **fast())
    thread = threading.Thread(target=job.run)
    thread.start()
    while len(engine.read) < 5:
        time.sleep(0.005)
    # A customer's judgements: they hold the judging slot, and the read-ahead waits for the gap.
    queue = engine.server.judge_queue
    ticket = queue.take_ticket()
    queue.acquire(ticket)
    engine.customer_active = True
    before = len(engine.read)
    time.sleep(0.3)
    assert len(engine.read) == before  # nothing read while the customer is served
    assert job.state["state"] == "yielding"
    engine.customer_active = False
    queue.release(ticket)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert engine.read == [judge_prompt("", h) for h in passages] * 2  # all of it, twice, in order
    status = job.status()
    assert status["state"] == "done" and status["done"] == status["total"] == 60
    assert status["yields"] >= 1 and status["yielded_s"] > 0
    assert any("gave way to customers" in line for line in lines)


def test_engine_idle_sees_answers_and_judgements_running_or_waiting():
    engine = Engine()
    assert engine_idle(engine)
    ticket = engine.queue.take_ticket()
    assert not engine_idle(engine)  # a customer's answer waits for a slot
    engine.queue.acquire(ticket)
    assert not engine_idle(engine)  # … and runs
    engine.queue.release(ticket)
    assert engine_idle(engine)
    judge_queue = engine.server.judge_queue
    first, second = judge_queue.take_ticket(), judge_queue.take_ticket()
    judge_queue.acquire(first)
    assert judge_queue.waiting() == 1 and not engine_idle(engine)
    judge_queue.release(first)
    judge_queue.acquire(second)
    judge_queue.release(second)
    assert judge_queue.waiting() == 0 and engine_idle(engine)


def test_busy_and_failures_are_logged_and_retried_never_skipped(tmp_path):
    engine = Engine(fail=3)
    passages = [hit(i) for i in range(4)]
    lines = []
    result = ReadAhead(KB(tmp_path, passages), engine, log=lines.append, **fast()).run()
    assert result["state"] == "done" and result["prompts"] == 8 and result["retries"] == 3
    assert engine.read == [judge_prompt("", h) for h in passages] * 2
    retries = [line for line in lines if "could not read a passage" in line]
    assert len(retries) == 3 and "relevance check is busy" in retries[0] and "trying again in" in retries[0]


def test_a_restart_of_the_model_server_midway_reads_everything_again(tmp_path):
    engine = Engine()
    passages = [hit(i) for i in range(5)]
    judge = engine.judge

    def restarting(prompts):
        if len(engine.read) == 3:
            engine.server.pid, engine.server.generation = 4343, 2  # crashed and started again
        return judge(prompts)

    engine.judge = restarting
    lines = []
    result = ReadAhead(KB(tmp_path, passages), engine, log=lines.append, **fast()).run()
    assert result["state"] == "done" and result["done"] == result["total"] == 10
    assert engine.read[4:] == [judge_prompt("", h) for h in passages] * 2  # after the restart: all of it
    assert any("restarted" in line for line in lines)


def test_an_interrupted_run_is_reported_and_the_next_start_reads_again(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("APP_SUPPORT_WARM", "on")
    passages = [hit(i) for i in range(4)]
    path = record_path(settings.kb_dir, settings.kb_name)
    path.parent.mkdir(parents=True)
    # The app stopped (killed) halfway: its record says "reading" for a process that is gone.
    path.write_text(json.dumps({"state": "reading", "pid": 2**22 + 7, "done": 3, "total": 8, "server": "x"}))
    assert read_ahead_status(settings)["state"] == "interrupted"
    engine, lines = Engine(), []
    result = ReadAhead(KB(settings.kb_dir, passages), engine, record=path, log=lines.append, **fast()).run()
    assert "stopped at 3/8 (the app restarted" in lines[0]
    assert result["done"] == 8 and len(engine.read) == 8
    status = read_ahead_status(settings)
    assert (status["state"], status["done"], status["total"]) == ("done", 8, 8)
    saved = json.loads(path.read_text())
    assert set(saved["read"]) == {passage_key(h) for h in passages} and saved["engine"] == "stub|base"


def test_the_same_server_resumes_where_it_stopped(tmp_path):
    engine = Engine()
    passages = [hit(i) for i in range(6)]
    stop = threading.Event()
    path = tmp_path / "r.json"
    judge = engine.judge

    def stopping(prompts):
        if len(engine.read) == 4:
            stop.set()
        return judge(prompts)

    engine.judge = stopping
    first = ReadAhead(KB(tmp_path, passages), engine, record=path, stop=stop, log=lambda m: None, **fast()).run()
    assert first["state"] == "stopped" and first["done"] == 5
    engine.judge = judge
    second = ReadAhead(KB(tmp_path, passages), engine, record=path, log=lambda m: None, **fast()).run()
    assert second["state"] == "done" and second["done"] == 12
    assert len(engine.read) == 12  # the five read before were not read again


def test_the_app_reads_again_when_the_server_restarts_later(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("APP_SUPPORT_WARM", "on")
    monkeypatch.setattr(warm, "engine_keeps_prompts", lambda settings: True)
    monkeypatch.setattr(job, "QUIET_S", 0.0)
    engine = Engine()
    passages = [hit(i) for i in range(3)]
    stop = threading.Event()
    from core.config import load_settings

    args = (load_settings(), stop, lambda: KB(tmp_path, passages), lambda: engine)
    thread = threading.Thread(target=keep_read_ahead, args=args, kwargs={"log": lambda m: None, "watch_s": 0.05})
    thread.start()
    deadline = time.monotonic() + 30
    while len(engine.read) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(engine.read) == 6  # done, and not read again while the same server runs
    engine.server.pid, engine.server.generation = 5000, 2  # another adapter: the server restarted
    while len(engine.read) < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(timeout=10)
    assert len(engine.read) == 12


def test_support_warm_status_shows_the_progress(settings, monkeypatch, capsys):
    from core.cli.main import main

    monkeypatch.setenv("APP_SUPPORT_WARM", "on")
    assert main(["support", "warm", "--status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "not started"
    path = record_path(settings.kb_dir, settings.kb_name)
    path.parent.mkdir(parents=True)
    import os

    path.write_text(json.dumps({"state": "retrying", "pid": os.getpid(), "done": 5, "total": 20, "error": "busy"}))
    assert main(["support", "warm", "--status"]) == 0
    assert "retrying, 5/20 read (last error: busy)" in capsys.readouterr().out


def test_start_warm_up_loads_the_models_before_the_first_question(kb, settings, monkeypatch):
    """Both doors (serve.py, `python -m core serve`) run this: the knowledge base's models and the
    chat model are loaded in the background, then the read-ahead goes on."""
    monkeypatch.setattr(warm, "engine_keeps_prompts", lambda settings: True)
    monkeypatch.setattr(job, "QUIET_S", 0.0)
    engine = Engine()
    engine.warm_up = lambda: engine.read.append("warm-up")
    loaded = []
    monkeypatch.setattr(warm, "load_kb_models", lambda: loaded.append("kb models"))
    monkeypatch.setattr(warm, "freeze_what_is_loaded", lambda: loaded.append("frozen"))
    from core.config import load_settings

    monkeypatch.setenv("APP_SUPPORT_WARM", "on")
    stop = threading.Event()
    lines = []
    thread = warm.start_warm_up(
        load_settings(), open_kb=lambda: kb, open_llm=lambda: engine, stop=stop, log=lines.append
    )
    deadline = time.monotonic() + 60
    while len(engine.read) < 1 + 2 * len(kb.passages()) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    assert loaded == ["kb models", "frozen"] and engine.read[0] == "warm-up"
    assert len(engine.read) == 1 + 2 * len(kb.passages())
    assert any(line.startswith("ready in") for line in lines)


def test_what_is_loaded_is_left_out_of_later_full_collections():
    kept = [[i] for i in range(100_000)]  # loaded models and indexes: many long-lived objects
    try:
        warm.freeze_what_is_loaded()
        assert gc.get_freeze_count() >= len(kept)
        started = time.perf_counter()
        gc.collect()
        assert time.perf_counter() - started < 0.05
    finally:
        gc.unfreeze()


@pytest.fixture
def kb(seeded_kb_dir):
    from core.kb.store import KnowledgeBase

    return KnowledgeBase(seeded_kb_dir.parent / "kb", "default", chroma_host="")


@pytest.fixture(autouse=True)
def _no_stderr_noise(monkeypatch):
    monkeypatch.setattr(warm, "stderr_log", lambda message: None)
    monkeypatch.setattr(job, "stderr_log", lambda message: None)


def test_a_customer_who_came_during_a_reading_gets_a_quiet_gap_after_it(tmp_path):
    """A reading cannot be stopped once sent: a customer who asked meanwhile waited for it, so the
    next reading waits until their next steps are done too (the quiet gap)."""
    engine = Engine(read_s=0.05)
    judge = engine.judge
    times = []

    def customer_meanwhile(prompts):
        times.append(time.monotonic())
        if len(engine.read) == 1:  # during the second reading a customer asks (and gives up waiting)
            queue, gave_up = engine.server.judge_queue, threading.Event()
            gave_up.set()
            queue.acquire(queue.take_ticket(), gave_up)
        return judge(prompts)

    engine.judge = customer_meanwhile
    job = ReadAhead(KB(tmp_path, [hit(i) for i in range(3)]), engine, passes=1, log=lambda m: None, **fast(quiet_s=0.4))
    assert job.run()["met"] == 1
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] < 0.3 and gaps[1] >= 0.4  # after the customer: the quiet gap
