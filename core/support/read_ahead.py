"""Reading the knowledge base ahead for the relevance check, in the model's idle gaps.

llama.cpp keeps each passage's prompt (`--cache-ram`), and a judgement of a passage it already read
costs only the question's tokens (0.35-0.45 s instead of 1-2 s on 2 cores). The read-ahead
(`ReadAhead`) is a background job that
- puts customers first: it reads only in the engine's gaps (no judgement or answer running or
  waiting, `relevance.engine_idle`), one passage at a time, so a customer waits at most for one
  passage's reading;
- never gives up: a failed reading ("the relevance check is busy", the engine restarting, no model
  yet) is logged with its reason and retried after a back-off (1 s, doubling, up to 60 s);
- starts over when the engine's prompt cache is lost: the cache lives in the model server's memory,
  so after a restart of the app, or of the server (a crash, another adapter), every passage is read
  again; the job notices a new server and goes on by itself;
- reports its progress: a record beside the knowledge base (`<kb>.read-ahead.json`: done/total,
  state, the passages read, keyed by passage and by model + adapter) that `read_ahead_status`,
  `python -m core support warm --status` and the Knowledge base page show, and log lines.

`read_ahead` runs it now (`python -m core support warm`, `support eval`); the app keeps it going
from core/support/warm.py.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from core.config import Settings
from core.kb.store import KnowledgeBase
from core.storage.locking import atomic_write_text
from core.support.relevance import engine_idle, judgements_asked, passage_key, read_passage, reading_order

PASSES = 2  # see relevance.warm_judge: the second pass reads again what another passage displaced
# After a customer's judgement or answer, the engine must have been idle this long, and three times
# as long as a passage's reading takes now (long on a busy machine), before reading resumes: their
# next step (retrieval, then a judgement or an answer) would otherwise wait behind a reading, which
# cannot be stopped once sent (measured: a reading of 30 s on an overloaded machine made the next
# customer's judgement give up its 4 s wait).
QUIET_S = 3.0
QUIET_MAX_S = 60.0
POLL_S = 0.2
BACKOFF_S = (1.0, 60.0)  # the first wait after a failure, and the longest
SAVE_EVERY_S = 2.0
RUNNING = ("reading", "yielding", "retrying", "waiting")


def stderr_log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} read-ahead: {message}", file=sys.stderr, flush=True)


def record_path(kb_root: Path, kb_name: str) -> Path:
    return Path(kb_root) / f"{kb_name}.read-ahead.json"


def server_identity(llm) -> str:
    """Which model-server process holds the kept prompts (a new one has none); "" while none runs."""
    server = getattr(llm, "server", None)
    if server is None:
        return f"{os.getpid()}"
    pid = getattr(server, "pid", None)
    return f"{os.getpid()}:{pid}:{getattr(server, 'generation', 0)}" if pid else ""


def engine_key(llm) -> str:
    info = getattr(llm, "info", None)
    return f"{getattr(info, 'model', '') or '?'}|{getattr(info, 'adapter', None) or 'base'}"


class Stopped(Exception):
    pass


class ServerRestarted(Exception):
    pass


class ReadAhead:
    """Read `passages` (all of the knowledge base unless given) for the relevance check, in the
    engine's gaps; see the module's docstring. `run()` returns the summary; `status()` the progress."""

    def __init__(
        self,
        kb: KnowledgeBase,
        llm,
        *,
        passages: list | None = None,
        record: Path | None = None,
        stop: threading.Event | None = None,
        log: Callable[[str], None] = stderr_log,
        passes: int = PASSES,
        quiet_s: float = QUIET_S,
        poll_s: float = POLL_S,
        backoff_s: tuple[float, float] = BACKOFF_S,
    ):
        self.kb, self.llm = kb, llm
        self.passages = passages
        self.record = record
        self.stop = stop or threading.Event()
        self.log = log
        self.passes, self.quiet_s, self.poll_s, self.backoff_s = passes, quiet_s, poll_s, backoff_s
        self._last_busy = 0.0
        self._read_s = 0.0  # how long the last reading took
        self._saved_at = 0.0
        self.state: dict = {}

    # -- progress -----------------------------------------------------------------------------
    def _begin(self, passages: list) -> None:
        previous = read_record(self.record) if self.record else {}
        identity, key = server_identity(self.llm), engine_key(self.llm)
        read: dict[str, int] = {}
        if identity and previous.get("server") == identity and previous.get("engine") == key:
            wanted = {passage_key(h) for h in passages}  # the same server still holds these prompts
            read = {k: v for k, v in (previous.get("read") or {}).items() if k in wanted}
        elif previous.get("state") in RUNNING and previous.get("total"):
            why = "the model server restarted" if previous.get("pid") == os.getpid() else "the app restarted"
            self.log(
                f"the last read-ahead stopped at {previous.get('done', 0)}/{previous['total']} ({why}; the "
                "prompts it kept went with it): reading again from the start"
            )
        self.state = {
            "knowledge_base": self.kb.name,
            "engine": key,
            "server": identity,
            "pid": os.getpid(),
            "state": "reading",
            "pass": 1,
            "passages": len(passages),
            "total": len(passages) * self.passes,
            "done": sum(min(v, self.passes) for v in read.values()),
            "read": read,
            "yields": 0,  # times it waited for customers' judgements and answers to finish
            "met": 0,  # customers who came while a passage was being read (they waited for it)
            "yielded_s": 0.0,
            "retries": 0,
            "error": "",
            "started": time.time(),
            "updated": time.time(),
            "finished": None,
        }

    def _save(self, force: bool = False) -> None:
        self.state["updated"] = time.time()
        if self.record is None or (not force and time.monotonic() - self._saved_at < SAVE_EVERY_S):
            return
        self._saved_at = time.monotonic()
        try:
            atomic_write_text(self.record, json.dumps(self.state, ensure_ascii=False))
        except OSError as exc:  # the progress record only reports; reading goes on
            self.log(f"cannot write the progress record {self.record}: {exc}")

    def status(self) -> dict:
        return summary(self.state)

    # -- the gaps -----------------------------------------------------------------------------
    def _wait_for_gap(self) -> None:
        """Until no customer is being judged or answered (nor waits) and none was for quiet_s."""
        yielded = 0.0
        quiet = min(QUIET_MAX_S, max(self.quiet_s, 3 * self._read_s))
        while True:
            now = time.monotonic()
            if not engine_idle(self.llm):
                self._last_busy = now
            elif now - self._last_busy >= quiet:
                break
            if yielded == 0.0:
                self.state["state"] = "yielding"
                self.state["yields"] += 1
                self._save()
            if self.stop.wait(self.poll_s):
                raise Stopped
            yielded += self.poll_s
        if yielded:
            self.state["yielded_s"] = round(self.state["yielded_s"] + yielded, 1)
            self.state["state"] = "reading"

    def _read(self, hit) -> None:
        """One passage, retried with a back-off until it is read (or the job is stopped)."""
        delay = self.backoff_s[0]
        while True:
            if self.stop.is_set():
                raise Stopped
            self._wait_for_gap()
            try:
                started, asked = time.monotonic(), judgements_asked(self.llm)
                read_passage(self.llm, hit)
                self._read_s = time.monotonic() - started
                if judgements_asked(self.llm) - asked > 1:  # a customer's judgement came while it read
                    self._last_busy = time.monotonic()
                    self.state["met"] += 1
                if self.state["state"] == "retrying":
                    self.log("reading again after the failure")
                self.state["state"], self.state["error"] = "reading", ""
                return
            except Exception as exc:  # busy, restarting, no model: reported and tried again
                self.state["state"], self.state["error"] = "retrying", f"{type(exc).__name__}: {exc}"
                self.state["retries"] += 1
                self.log(f"could not read a passage ({exc}); trying again in {delay:.0f} s")
                self._save(force=True)
                if self.stop.wait(delay):
                    raise Stopped from None
                delay = min(delay * 2, self.backoff_s[1])

    # -- the job ------------------------------------------------------------------------------
    def run(self) -> dict:
        start = time.perf_counter()
        passages = reading_order(self.passages if self.passages is not None else self.kb.passages())
        self._begin(passages)
        if not getattr(self.llm, "keeps_prompts", False):
            self.state.update(state="not needed", total=0)
            self._save(force=True)
            return {"passages": 0, "prompts": 0, "s": 0.0, **self.status()}
        self._save(force=True)
        if passages:
            self.log(f"reading {len(passages)} passages of {self.kb.name} for the relevance check")
        try:
            while True:
                try:
                    self._passes(passages, start)
                    break
                except ServerRestarted:  # what it had read is gone with it: from the start again
                    self.log("the model server restarted: the prompts it kept are gone, reading again")
                    self.state.update(read={}, done=0, server=server_identity(self.llm))
        except Stopped:
            self.state["state"] = "stopped"
            self._save(force=True)
            self.log(f"stopped at {self.state['done']}/{self.state['total']}")
            return self._result(start)
        self.state.update(state="done", finished=time.time())
        self._save(force=True)
        if passages:
            self.log(self._progress_line(start))
        return self._result(start)

    def _passes(self, passages: list, start: float) -> None:
        milestone = 0.0
        for n in range(1, self.passes + 1):
            self.state["pass"] = n
            for hit in passages:
                key = passage_key(hit)
                if self.state["read"].get(key, 0) >= n:  # this server read it already (a resumed job)
                    continue
                self._read(hit)
                now = server_identity(self.llm)
                if self.state["server"] and now != self.state["server"]:
                    raise ServerRestarted
                self.state["server"] = now  # the first reading started it
                self.state["read"][key] = n
                self.state["done"] += 1
                self._save()
                share = self.state["done"] / max(1, self.state["total"])
                if milestone + 0.25 <= share < 1:
                    milestone = share - share % 0.25
                    self.log(self._progress_line(start))

    def _progress_line(self, start: float) -> str:
        s = self.state
        line = f"{s['done']}/{s['total']} read ({s['passages']} passages x {self.passes}) in {time.perf_counter() - start:.0f} s"
        if s["yields"]:
            line += f"; gave way to customers {s['yields']} times ({s['yielded_s']:.0f} s)"
        if s["met"]:
            line += f"; {s['met']} customers came while a passage was read"
        if s["retries"]:
            line += f"; {s['retries']} retries"
        return line

    def _result(self, start: float) -> dict:
        done = self.state["done"]
        return {
            "passages": self.state["passages"] if done else 0,
            "prompts": done,
            "s": round(time.perf_counter() - start, 1),
            **self.status(),
        }


def summary(state: dict) -> dict:
    """What the progress record says, without the list of passages read."""
    keys = ("state", "done", "total", "passages", "pass", "engine", "yields", "yielded_s", "met", "retries", "error")
    out = {k: state.get(k) for k in keys if k in state}
    for k in ("started", "updated", "finished"):
        if state.get(k):
            out[k] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(state[k]))
    return out


def read_record(path: Path | None) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def read_ahead_status(settings: Settings, kb_name: str | None = None) -> dict:
    """The read-ahead's progress for a knowledge base, from any process: done/total and the state:
    `reading`, `yielding` (a customer goes first), `retrying` (error says why), `waiting` (for a
    knowledge base with entries), `done`, `stopped`, `interrupted` (the process running it ended
    before it finished: the next start reads again), `not started`, `not needed` (an engine that
    keeps no prompts), `off` (APP_SUPPORT_WARM=off)."""
    name = kb_name or settings.kb_name
    state = read_record(record_path(settings.kb_dir, name))
    if not state:
        return {"state": "off" if settings.support_warm != "on" else "not started", "done": 0, "total": 0}
    out = summary(state)
    if out.get("state") in RUNNING and not _alive(state.get("pid")):
        out["state"] = "interrupted"
    return out


def read_ahead(
    kb: KnowledgeBase, llm, stop: threading.Event | None = None, log: Callable[[str], None] | None = None
) -> dict:
    """Every passage of `kb` read (twice: see warm_judge) by `llm`'s relevance check, now
    (`python -m core support warm`, `support eval`: a process of its own, with its own model server;
    the running app's progress record is left alone)."""
    return ReadAhead(kb, llm, stop=stop, log=log or stderr_log).run()
