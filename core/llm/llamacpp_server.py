"""llama.cpp's server as a child process (`LlamaServer`): started, watched, restarted, stopped.

`LlamaServer` owns the process: started from one long-lived supervisor thread on 127.0.0.1 and a
free port, watched, restarted when it dies or stalls, stopped when the app stops (atexit, and on
Linux the kernel sends it SIGTERM when the app dies, so there are no orphans even after kill -9).
One server per model file and settings (`shared_server`) is shared by every `LlamaCppEngine`
(core.llm.llamacpp) in the process. Other users of the machine can reach 127.0.0.1 too: the server
wants an API key made at random for each process (given in its environment, which only its own user
can read; never on the command line, which `ps` shows everyone), and its slot-inspection endpoint
is off.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from core.llm.base import ModelUnavailable
from core.llm.slots import SlotQueue
from core.storage.locking import FairLock

START_TIMEOUT_S = 300  # loading a 1 GB model from a cold disk; normally a few seconds
HEALTH_POLL_S = 0.1
# A server whose requests in flight make no progress this long is wedged and is killed (the supervisor
# starts it again). Seen here once in ~1,000 requests: decoding stopped mid-answer at 0% CPU, /health
# still "ok", the stream silent for good. Progress is what our own requests receive (tokens, and the
# prompt-reading progress the server streams): its /slots endpoint is off. One prompt batch (512
# tokens) takes ~5 s on 2 cores.
STALL_S = 90.0
WATCH_EVERY_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the thread that started it ends
    (the supervisor thread lives as long as the app), so a killed app leaves no server behind."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class LlamaServer:
    """One llama-server process, kept running by a supervisor thread."""

    def __init__(
        self,
        binary: Path,
        model: Path,
        *,
        alias: str,
        threads: int,
        parallel: int,
        context_tokens: int,
        log_path: Path,
        cache_mb: int = 4096,
        staff_slots: int = 0,
    ):
        self.binary, self.model, self.alias = Path(binary), Path(model), alias
        self.threads, self.parallel, self.context_tokens = threads, parallel, context_tokens
        self.cache_mb = cache_mb
        self.log_path = log_path
        # Our slots: one ticket per request; staff first, then arrival order; `staff_slots` more for staff only.
        self.queue = SlotQueue(parallel, reserved=staff_slots)
        # One more slot on the server for short yes/no judgements (the support relevance check):
        # they never wait behind long answers, and are read alongside them (continuous batching).
        self.judge_queue = FairLock(1)
        self.loras: list[Path] = []
        self.url = ""
        self.restarts = 0  # unplanned: the process died and was started again
        self.stalls = 0  # of which: killed by the watchdog, its slots making no progress
        self.meta: dict = {}
        self._proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._state = threading.Condition()
        self._failure = ""  # why the last start failed; cleared by the next successful start
        self._generation = 0  # bumped each time a process becomes ready
        self._stopping = False
        self._restart_wanted = False
        self._supervisor: threading.Thread | None = None
        # Progress of the requests in flight, for the watchdog: how many, and when one last received something.
        self._activity = threading.Lock()
        self._in_flight = 0
        self._progress_at = time.monotonic()
        self.api_key = secrets.token_urlsafe(32)  # this process's; every request sends it
        self.client = httpx.Client(
            timeout=httpx.Timeout(connect=5.0, read=600.0, write=30.0, pool=30.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            headers={"Authorization": f"Bearer {self.api_key}"},
        )

    @property
    def slots(self) -> int:
        """Server slots: the shared ones, the staff-only ones, and one for relevance judgements."""
        return self.queue.slots + self.queue.reserved + 1

    # The server reads its slots' prompts in slot order, a batch at a time: staff's slots come first,
    # then the relevance check's (it decides a customer's tier), then customers' written answers.
    @property
    def judge_slot(self) -> int:
        return self.queue.reserved

    def server_slot(self, number: int | None) -> int:
        """The server's slot for our queue's slot `number` (-1: the server picks)."""
        if number is None:
            return -1
        return number if number < self.queue.reserved else number + 1

    # -- progress, for the watchdog ---------------------------------------------------------------
    @contextlib.contextmanager
    def request(self):
        """Around a request to the server: counted as in flight; its start and end are progress."""
        with self._activity:
            self._in_flight += 1
            self._progress_at = time.monotonic()
        try:
            yield
        finally:
            with self._activity:
                self._in_flight -= 1
                self._progress_at = time.monotonic()

    def progressed(self) -> None:
        """A request in flight received something (a token, prompt-reading progress)."""
        with self._activity:
            self._progress_at = time.monotonic()

    def stalled_for(self) -> float:
        """Seconds since requests in flight last made progress (0 with none in flight)."""
        with self._activity:
            return time.monotonic() - self._progress_at if self._in_flight else 0.0

    # -- lifecycle -----------------------------------------------------------------------------
    def command(self, port: int) -> list[str]:
        cmd = [
            str(self.binary),
            "-m",
            str(self.model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--alias",
            self.alias,
            "-t",
            str(self.threads),
            "-tb",
            str(self.threads),
            "-np",
            str(self.slots),
            "-c",
            str(self.context_tokens * self.slots),
            # At most 128 tokens a step (default 2,048): a reply's next token, a staff prompt (read
            # first) wait for one step, not for 2,048 tokens of customers' prompts. Prompt reading on
            # 2 threads measured the same at 128, 256, 512 tokens a step (llama-bench pp512).
            "-b",
            "128",
            "--no-webui",
            "--no-slots",  # no /slots: what others' prompts hold is nobody else's business
            "--cache-ram",  # host-memory prompt cache: each passage is read once for judging, then reused
            str(self.cache_mb),
        ]
        for lora in self.loras:
            cmd += ["--lora", str(lora)]
        if self.loras:
            cmd.append("--lora-init-without-apply")  # each request says which adapter it uses
        return cmd

    def start(self) -> None:
        with self._state:
            if self._supervisor is None or not self._supervisor.is_alive():
                self._stopping = False
                self._supervisor = threading.Thread(target=self._supervise, name="llama-server", daemon=True)
                self._supervisor.start()

    def ensure_ready(self, timeout: float = START_TIMEOUT_S) -> str:
        """The server's URL once it answers; starts it if needed. ModelUnavailable if it cannot start."""
        self.start()
        deadline = time.monotonic() + timeout
        while True:
            if self._ready.wait(0.2):
                proc = self._proc
                if proc is None or proc.poll() is None:
                    return self.url
                time.sleep(HEALTH_POLL_S)  # it died just now: the supervisor is about to start it again
            with self._state:
                failure = self._failure
                alive = self._supervisor is not None and self._supervisor.is_alive()
            if failure and not alive:
                raise ModelUnavailable(failure)
            if time.monotonic() > deadline:
                raise ModelUnavailable(
                    f"The llama.cpp engine did not start within {timeout:.0f} s"
                    + (f": {failure}" if failure else f"; see {self.log_path}")
                )

    @property
    def generation(self) -> int:
        """How many times a process became ready: a new number means a new process."""
        with self._state:
            return self._generation

    def wait_replaced(self, generation: int, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until a process newer than `generation` is ready, or the supervisor gave up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._state:
                newer = self._generation > generation and self._ready.is_set()
                gave_up = self._supervisor is None or not self._supervisor.is_alive()
            if newer or gave_up:
                return
            time.sleep(HEALTH_POLL_S)

    @property
    def running(self) -> bool:
        return self._ready.is_set()

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def restart(self, loras: list[Path] | None = None) -> None:
        """Start again (with these LoRA adapters), once the requests in flight have finished."""
        tickets: list[tuple[SlotQueue | FairLock, int]] = [
            (self.queue, self.queue.take_ticket()) for _ in range(self.queue.slots + self.queue.reserved)
        ]
        tickets.append((self.judge_queue, self.judge_queue.take_ticket()))
        for queue, ticket in tickets:  # every slot: in-flight requests finish, new ones wait behind us
            queue.acquire(ticket)
        try:
            with self._state:
                if loras is not None:
                    self.loras = list(loras)
                self._restart_wanted = True
                self._ready.clear()
                proc = self._proc
            if proc is not None and proc.poll() is None:
                proc.terminate()
            self.ensure_ready()
        finally:
            for queue, ticket in tickets:
                queue.release(ticket)

    def stop(self) -> None:
        with self._state:
            self._stopping = True
            self._ready.clear()
            proc, supervisor = self._proc, self._supervisor
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(timeout=10)

    def _spawn(self) -> subprocess.Popen:
        port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path.exists():  # keep the previous run's log for a post-mortem
            self.log_path.replace(self.log_path.with_suffix(".previous.log"))
        with self.log_path.open("wb") as log:
            proc = subprocess.Popen(
                self.command(port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # The key in the environment (only this user can read it), not on the command line.
                env={**os.environ, "LLAMA_API_KEY": self.api_key},
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        self.url = f"http://127.0.0.1:{port}"
        return proc

    def _wait_healthy(self, proc: subprocess.Popen) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None and not self._stopping:
            try:
                if self.client.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(HEALTH_POLL_S)
        return False

    def _log_tail(self, chars: int = 1200) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:].strip()
        except OSError:
            return ""

    def _supervise(self) -> None:
        failures = 0
        while True:
            with self._state:
                if self._stopping:
                    return
                self._restart_wanted = False
            try:
                proc = self._spawn()
            except OSError as exc:
                with self._state:
                    self._failure = f"Could not start the llama.cpp engine ({self.binary}): {exc}"
                return
            self._proc = proc
            stalled = False
            if self._wait_healthy(proc):
                failures = 0
                try:
                    self.meta = self.client.get(f"{self.url}/v1/models", timeout=5).json()["data"][0].get("meta", {})
                except (httpx.HTTPError, ValueError, KeyError, IndexError):
                    self.meta = {}
                with self._state:
                    self._failure = ""
                    self._generation += 1
                self._ready.set()
                stalled = self._watch(proc)
                self._ready.clear()
            else:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                failures += 1
            with self._state:
                if self._stopping:
                    return
                planned = self._restart_wanted
                if stalled:
                    self._failure = f"The llama.cpp engine made no progress for {STALL_S:.0f} s and was restarted"
                elif not planned:
                    self._failure = (
                        f"The llama.cpp engine stopped (exit code {proc.returncode}). "
                        f"Last lines of {self.log_path}:\n{self._log_tail()}"
                    )
            if not planned:
                self.restarts += 1
                if failures >= 3:  # it cannot start (bad model file, say): stop trying, say why
                    return
                time.sleep(min(8.0, 0.5 * 2**failures))

    def _watch(self, proc: subprocess.Popen) -> bool:
        """Wait for the process to end; kill it when its requests in flight have made no progress for
        STALL_S (True then). The requests in flight fail with a clear message and the supervisor
        starts the server again, instead of an answer that never comes."""
        with self._activity:
            self._progress_at = time.monotonic()  # a new process: nothing in flight has waited on it yet
        while True:
            try:
                proc.wait(timeout=WATCH_EVERY_S)
                self._ready.clear()
                return False
            except subprocess.TimeoutExpired:
                pass
            if self.stalled_for() >= STALL_S and proc.poll() is None:
                self.stalls += 1
                # Not ready before the kill: a request sent right after the failed one waits for the
                # new process instead of finding nothing listening (seen on a busy machine).
                self._ready.clear()
                proc.kill()
                proc.wait()
                return True


_servers: dict[tuple, LlamaServer] = {}
_servers_lock = threading.Lock()


def shared_server(binary: Path, model: Path, **options) -> LlamaServer:
    """The one server for this model file and these settings in this process."""
    key = (str(binary), str(model), *sorted(options.items()))
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            server = _servers[key] = LlamaServer(binary, model, **options)
        return server


def stop_all() -> None:
    """Stop every server this process started (at exit; tests call it too)."""
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()


atexit.register(stop_all)
