"""Load: N concurrent browser sessions on chat, customer service and the calculator; prints JSON.

Starts the app on 127.0.0.1 (its own data folder under /tmp, a copy of the knowledge base), then
drives it with headless Chromium (one browser, one context per session). Each session loops, until
--seconds have passed, over a weighted mix of actions, each timed from the user's action to the
finished result on screen:

- chat:          send a message, wait until the reply has streamed and its stats line shows
- support_faq:   a customer question the FAQ answers (tier 1, no model)
- support_model: a question only the documents answer (tier 2: the model writes the answer)
- calc:          change the seat price on the calculator's Business model tab, wait until the cash
                 chart shows the new break-even month (checked against core.economics)
- open_page:     switching pages through the sidebar, whenever the next action is on another page

Before the clock starts, every session opens its tab and three extra tabs use each page once
(the model, the embedding models and the knowledge base load on first use; --no-warmup skips them).

Errors: exceptions on the page (stException), error boxes (st.error), JavaScript errors, lost
connections, timeouts, wrong results, and tracebacks in the server's log; a failed action records
what its tab showed (and, with --keep, a screenshot in the work folder).

Fairness: the server is started through this file (`--serve`), which records every generation
request (ticket, arrival, start, end, requests ahead), every page run and every knowledge-base
search, by wrapping core.llm.Generation, Streamlit's script runner and KnowledgeBase.search
without changing them. Served order is compared with arrival order at the model, and each
request's wait with the work that was ahead of it when it arrived.

Memory: the server's RSS every second, the llama.cpp engine (its child process) included;
"flat" = growth over the second half of the run < 5 %.
CPU: the server's, the browser's and everything else's, in % of one core.

Diagnosis: --token-delay S makes each generated token take S seconds longer (long queues with the
tiny model); LOAD_STALL_DUMP=S in the environment dumps every server thread's stack into the
server log while a knowledge-base search has run longer than S seconds (see --keep).

    .venv/bin/python bench/load.py                      # real model, 16 sessions x 120 s
    .venv/bin/python bench/load.py --model /tmp/tiny --adapter none --sessions 4 --seconds 30

The model comes from --model (default: $APP_MODEL, else the packaged one, cached under
data/runtime/models). New actions stop at --seconds; actions in flight then finish (each bounded
by its timeout) and everything is shut down. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tests.servers import CHROMIUM, CHROMIUM_ARGS, free_port, streamlit_run_args, wait_until_up  # noqa: E402  (ROOT is on sys.path now)

LAUNCH_ARGS = [
    *CHROMIUM_ARGS,
    # 16 pages at once: keep every page's timers running at full speed
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-dev-shm-usage",
]

# Answered by the sample FAQ (en-001..012 / zh-001..012 are also in the tests' small knowledge base).
FAQ_QUESTIONS = [
    "How long does delivery take?",
    "How can I track my order?",
    "What is your return policy?",
    "How much is shipping in Europe, and when is it free?",
    "Can I return tea I've already opened?",
    "When and how will I get my refund?",
    "配送需要多长时间？",
]
# Below the FAQ threshold but above the relevance one: the model answers from the documents.
MODEL_QUESTIONS = [
    "Within how many days must I post a return after getting the return number?",
    "Can I return a gift I received?",
    "At what altitude is the Alishan oolong grown?",
    "How long do you keep server logs?",
    "Do you sell matcha whisks?",
]
CHAT_MESSAGES = [
    "Give me one tip for brewing green tea.",
    "Write a one-line slogan for a tea shop.",
    "What is oolong tea? Answer briefly.",
    "Suggest a name for a jasmine tea blend.",
    "用一句话介绍龙井茶。",
    "List two benefits of loose-leaf tea.",
]
PRICES = [35, 40, 45, 50, 55, 60, 70, 80, 30]  # seat prices: each gives a different break-even month
DEFAULT_MIX = {"chat": 0.25, "support_faq": 0.3, "support_model": 0.15, "calc": 0.3}
PAGE_OF = {"chat": "chat", "support_faq": "support", "support_model": "support", "calc": "calculator"}
NAV = {"chat": "Chat", "support": "Customer service", "calculator": "Cost & market"}
TITLE = {"chat": "Chat", "support": "Customer service", "calculator": "Cost & market calculator"}
TIER_BADGES = {1: "Answer from our FAQ", 2: "Answer written from", 3: "Handed over to a person"}
GENERATING = ("chat", "support_model")
CHAT_TURNS = 3  # a new chat after this many exchanges, so prompts stay short
SUPPORT_TURNS = 4  # "New conversation" on the support page after this many questions

# -- the server, with generation requests traced ---------------------------------------------


def _kind(messages: list[dict]) -> str:
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    if system.startswith("You are the customer-support assistant"):
        return "support"
    if system.startswith("Rewrite the customer's"):
        return "rewrite"
    if not system and len(messages) == 1 and messages[0]["content"] == "Hi":
        return "warmup"
    return "chat"


def install_trace(path: Path) -> None:
    """Append one JSON line per generation request to `path` (times: time.perf_counter, which is
    CLOCK_MONOTONIC on Linux, so the load driver can compare them with its own)."""
    import core.llm as llm_mod

    lock = threading.Lock()
    out = open(path, "a", encoding="utf-8", buffering=1)
    run = llm_mod.Generation._run

    def traced_run(self):
        rec = {
            "ticket": self._ticket,
            "created": self._created,
            "ahead": self.waiting_ahead,
            "kind": _kind(self.prompt.messages),
            "prompt_tokens": self.prompt.prompt_tokens,
            "max_new_tokens": self.options.max_new_tokens,
        }
        try:
            run(self)
        finally:
            rec.update(
                done=time.perf_counter(),
                new_tokens=self.stats.new_tokens,
                stopped=self.stats.stopped,
                started=self._created + self.stats.queued_ms / 1000 if self._started.is_set() else None,
                error=repr(self._error) if self._error else None,
            )
            with lock:
                out.write(json.dumps(rec) + "\n")

    llm_mod.Generation._run = traced_run

    delay = float(os.environ.get("LOAD_TOKEN_DELAY") or 0)
    if delay > 0:  # diagnosis with the tiny model: text arrives as slowly as the real one's under load
        emit = llm_mod.Generation.emit

        def slow_emit(self, text):
            time.sleep(delay)
            return emit(self, text)

        llm_mod.Generation.emit = slow_emit

    # How long each script run (one page, one rerun) takes on the server.
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    run_script = ScriptRunner._run_script

    def timed_run_script(self, rerun_data):
        start = time.perf_counter()
        try:
            run_script(self, rerun_data)
        finally:
            page = "?"
            try:
                ctx = get_script_run_ctx()
                info = self._pages_manager.get_pages().get(ctx.page_script_hash) if ctx else None
                page = (info or {}).get("url_pathname") or "home"
            except Exception:
                pass
            with lock:
                out.write(json.dumps({"script_run": page, "start": start, "s": time.perf_counter() - start}) + "\n")

    ScriptRunner._run_script = timed_run_script

    import core.kb.store as kb_mod

    search = kb_mod.KnowledgeBase.search

    in_flight: dict[int, float] = {}

    def timed_search(self, query, *args, **kwargs):
        start = time.perf_counter()
        in_flight[threading.get_ident()] = start
        try:
            return search(self, query, *args, **kwargs)
        finally:
            in_flight.pop(threading.get_ident(), None)
            with lock:
                out.write(json.dumps({"kb_search": start, "s": time.perf_counter() - start}) + "\n")

    kb_mod.KnowledgeBase.search = timed_search

    if os.environ.get("LOAD_STALL_DUMP"):  # diagnosis: every thread's stack while a search is slow
        import faulthandler

        def watch():
            dumps = 0
            while dumps < 5:
                time.sleep(0.5)
                if any(
                    time.perf_counter() - t > float(os.environ["LOAD_STALL_DUMP"]) for t in list(in_flight.values())
                ):
                    sys.stderr.write(f"\n=== slow search, stacks at {time.perf_counter():.2f} ===\n")
                    faulthandler.dump_traceback(sys.stderr, all_threads=True)
                    dumps += 1
                    time.sleep(3)

        threading.Thread(target=watch, daemon=True).start()


def serve(trace: Path, port: int) -> None:
    """Run the app in this process (so its PID is the server's), with generation and page runs traced,
    and the knowledge base's models loading in the background as `make run` (serve.py) does."""
    from serve import start_warm_up

    install_trace(trace)
    start_warm_up()
    sys.argv = ["streamlit", *streamlit_run_args(port, str(ROOT / "app.py")), "--server.fileWatcherType", "none"]
    from streamlit.web.cli import main

    main()


def _die_with_parent() -> None:
    """In the server's process, before exec: end when the load driver ends, however it ends."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Server:
    def __init__(self, env: dict, workdir: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.trace = workdir / "generations.jsonl"
        self.log_path = workdir / "server.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(self.trace), str(self.port)],
            cwd=ROOT,
            env=os.environ | env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float = 120) -> None:
        if wait_until_up(f"{self.url}/_stcore/health", timeout, proc=self.proc):
            return
        if self.proc.poll() is not None:
            raise RuntimeError("the app exited at start:\n" + self.log()[-3000:])
        raise RuntimeError("the app did not answer /_stcore/health:\n" + self.log()[-3000:])

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()

    def traced(self) -> list[dict]:
        if not self.trace.exists():
            return []
        return [json.loads(line) for line in self.trace.read_text(encoding="utf-8").splitlines() if line.strip()]


class MemorySampler(threading.Thread):
    """Every `interval` seconds: the server's RSS and CPU (the app process and its children: the
    llama.cpp engine), the browser's CPU (this process's other children: Playwright's driver and
    Chromium) and the whole machine's CPU, until stopped."""

    def __init__(self, pid: int, interval: float = 1.0):
        super().__init__(daemon=True, name="rss-sampler")
        import psutil

        self.psutil = psutil
        self.proc = psutil.Process(pid)
        self.interval = interval
        # (perf_counter, server RSS MB, server CPU %, browser CPU %, machine CPU % of all cores)
        self.samples: list[tuple[float, float, float, float, float]] = []
        self.engine_max_mb = 0.0
        self._halt = threading.Event()
        self._known: dict[int, object] = {}

    def _cpu(self, procs) -> float:
        total = 0.0
        for proc in procs:
            known = self._known.setdefault(proc.pid, proc)
            try:
                total += known.cpu_percent(None)
            except self.psutil.Error:
                self._known.pop(proc.pid, None)
        return total

    def _family(self) -> list:
        try:
            return [self.proc, *self.proc.children(recursive=True)]
        except self.psutil.Error:
            return [self.proc]

    def run(self):
        self.psutil.cpu_percent(None)
        while not self._halt.wait(self.interval):
            family = self._family()
            ours = {p.pid for p in family}
            try:
                kids = [k for k in self.psutil.Process().children(recursive=True) if k.pid not in ours]
            except self.psutil.Error:
                kids = []
            try:
                rss = [p.memory_info().rss / 2**20 for p in family]
                self.engine_max_mb = max(self.engine_max_mb, sum(rss[1:]))
                self.samples.append(
                    (
                        time.perf_counter(),
                        sum(rss),
                        self._cpu(family),
                        self._cpu(kids),
                        self.psutil.cpu_percent(None) * (os.cpu_count() or 1),
                    )
                )
            except self.psutil.Error:  # the server went away
                if not self.proc.is_running():
                    return

    def stop(self):
        self._halt.set()
        self.join(5)


# -- the browser sessions -------------------------------------------------------------------
STATE_JS = """() => { const a = document.querySelector('[data-testid="stApp"]');
  return a ? [a.getAttribute('data-test-script-state'), a.getAttribute('data-test-connection-state')] : [null, null]; }"""
# Records, while an action runs: whether the script ran, the queue notice, when the reply's text
# first showed. Cheap: one MutationObserver, a few selectors per batch of DOM changes.
PROBE_JS = """(n0) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const p = {t0: Date.now(), ran: false, waiting: null, waitingAt: null, firstAt: null};
  const check = () => {
    if (app.getAttribute('data-test-script-state') === 'running') p.ran = true;
    if (p.waiting === null) {
      for (const sp of document.querySelectorAll('[data-testid="stSpinner"]')) {
        if (/ahead of yours/.test(sp.innerText)) { p.waiting = sp.innerText; p.waitingAt = Date.now(); }
      }
    }
    if (p.firstAt === null && n0 !== null) {
      const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
      if (msgs.length > n0 + 1) {
        const texts = [...msgs[n0 + 1].querySelectorAll('[data-testid="stMarkdownContainer"]')]
          .filter(e => !e.closest('[data-testid="stSpinner"]') && !e.closest('button'));
        if (texts.some(e => e.innerText.trim())) p.firstAt = Date.now();
      }
    }
  };
  if (window.__probeObs) window.__probeObs.disconnect();
  window.__probeObs = new MutationObserver(check);
  window.__probeObs.observe(document.body, {subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ['data-test-script-state']});
  window.__probe = p;
  check();
}"""
# Installed once per page load: every change of the websocket's state, with its time.
CONN_JS = """() => {
  if (window.__conn) return;
  const app = document.querySelector('[data-testid="stApp"]');
  window.__conn = [];
  new MutationObserver(() => {
    const state = app.getAttribute('data-test-connection-state');
    const last = window.__conn.length ? window.__conn[window.__conn.length - 1][1] : 'CONNECTED';
    if (state !== last) window.__conn.push([Date.now(), state]);
  }).observe(app, {attributes: true, attributeFilter: ['data-test-connection-state']});
}"""
FAILED_JS = """() => [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]')]
  .map(e => e.innerText.slice(0, 400))"""
IDLE = """(() => { const a = document.querySelector('[data-testid="stApp"]');
  return a && a.getAttribute('data-test-script-state') === 'notRunning'
    && a.getAttribute('data-test-connection-state') === 'CONNECTED'; })()"""
FAILED = 'document.querySelector(\'[data-testid="stException"], [data-testid="stAlertContentError"]\')'
CHAT_DONE = f"""(n0) => {{
  if ({FAILED}) return true;
  const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
  return msgs.length >= n0 + 2 && msgs[n0 + 1].innerText.includes('tokens/s') && {IDLE}; }}"""
SUPPORT_DONE = f"""(n0) => {{
  if ({FAILED}) return true;
  const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
  return msgs.length >= n0 + 2 && /{"|".join(TIER_BADGES.values())}/.test(msgs[n0 + 1].innerText) && {IDLE}; }}"""
CALC_DONE = f"""(old) => {{
  if ({FAILED}) return true;
  const chart = document.querySelector('.st-key-chart-cash');
  return window.__probe.ran && chart && chart.innerText !== old && /break-even, month/.test(chart.innerText) && {IDLE}; }}"""
PAGE_DONE = f"""([path, title]) => location.pathname.replace(/\\/$/, '').endsWith('/' + path)
  && [...document.querySelectorAll('h1')].some(h => h.innerText.trim().startsWith(title)) && {IDLE}"""


class ActionFailed(Exception):
    pass


class Session:
    def __init__(self, n: int, browser, url: str, cfg: dict, record, expected_month):
        self.n, self.browser, self.url, self.cfg = n, browser, url, cfg
        self.record, self.expected_month = record, expected_month
        self.rng = random.Random(cfg["seed"] * 1000 + n)
        self.chat_turns = self.support_turns = 0
        self.page_errors: list[str] = []
        self.conn_changes: list = []  # [browser time ms, new websocket state]

    def plan(self):
        """The actions this session takes, in order: weighted random, or (order "cycle") round the
        mix starting at a different action in each session, so a short run covers every action."""
        names, weights = zip(*((k, w) for k, w in self.cfg["mix"].items() if w > 0), strict=False)
        k = self.n
        while True:
            if self.cfg["order"] == "cycle":
                yield names[k % len(names)]
                k += 1
            else:
                yield self.rng.choices(names, weights)[0]

    async def start(self):
        """Open the browser tab on the page of this session's first action; returns seconds taken."""
        self.actions = self.plan()
        self.next_action = next(self.actions)
        t0 = time.perf_counter()
        self.ctx = await self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = await self.ctx.new_page()
        self.page.set_default_timeout(self.cfg["ui_timeout"] * 1000)  # also for fill/click
        self.page.on("pageerror", lambda exc: self.page_errors.append(f"JavaScript error: {exc}"))
        await self.open_fresh(PAGE_OF[self.next_action])
        return time.perf_counter() - t0

    async def close(self):
        await self.ctx.close()

    async def open_fresh(self, key: str) -> None:
        await self.connection_changes()  # the page about to go away may have lost its connection
        await self.page.goto(f"{self.url}/{key}", timeout=self.cfg["ui_timeout"] * 1000)
        await self.page.wait_for_function(
            PAGE_DONE, arg=[key, TITLE[key]], polling=100, timeout=self.cfg["ui_timeout"] * 1000
        )
        await self.page.evaluate(CONN_JS)
        self.chat_turns = self.support_turns = 0

    def current(self) -> str:
        path = self.page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        return path if path in NAV else "home"

    async def open_page(self, key: str) -> None:
        if self.current() == key:
            return
        t0 = time.perf_counter()
        await (
            self.page.get_by_test_id("stSidebarNav")
            .get_by_role("link", name=re.compile(re.escape(NAV[key]) + "$"))
            .click(timeout=self.cfg["ui_timeout"] * 1000)
        )
        await self.page.wait_for_function(
            PAGE_DONE, arg=[key, TITLE[key]], polling=100, timeout=self.cfg["ui_timeout"] * 1000
        )
        self.record(self.n, "open_page", t0, time.perf_counter(), {"page": key})

    async def messages(self) -> int:
        return await self.page.get_by_test_id("stChatMessage").count()

    async def probe(self, n0):
        await self.page.evaluate(PROBE_JS, n0)

    async def probe_result(self) -> dict:
        return await self.page.evaluate("() => { const p = window.__probe; window.__probeObs.disconnect(); return p; }")

    async def ask(self, box, text: str, done_js: str, timeout: float) -> tuple[float, float, dict]:
        n0 = await self.messages()
        await self.probe(n0)
        t0 = time.perf_counter()
        await box.fill(text)
        await box.press("Enter")
        await self.page.wait_for_function(done_js, arg=n0, polling=100, timeout=timeout * 1000)
        t1 = time.perf_counter()
        probe = await self.probe_result()
        # browser Date.now() -> seconds after t0 (both clocks tick in real time)
        extra = {"n0": n0}
        if probe.get("firstAt"):
            extra["first_s"] = (probe["firstAt"] - probe["t0"]) / 1000
        if probe.get("waiting"):
            extra["waiting"] = probe["waiting"]
            match = re.search(r"(\d+) request", probe["waiting"])
            extra["ahead_shown"] = int(match.group(1)) if match else None
        return t0, t1, extra

    async def chat(self):
        await self.open_page("chat")
        if self.chat_turns >= CHAT_TURNS:
            await self.page.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
            await self.page.wait_for_function(
                f"() => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length === 0 && {IDLE}",
                polling=100,
                timeout=self.cfg["ui_timeout"] * 1000,
            )
            self.chat_turns = 0
        box = self.page.get_by_test_id("stChatInputTextArea")
        t0, t1, extra = await self.ask(box, self.rng.choice(CHAT_MESSAGES), CHAT_DONE, self.cfg["gen_timeout"])
        self.chat_turns += 1
        await self.check_failed("chat")
        reply = self.page.get_by_test_id("stChatMessage").nth(extra["n0"] + 1)
        match = re.search(r"(\d+) tokens", await reply.inner_text())
        extra["new_tokens"] = int(match.group(1)) if match else None
        self.record(self.n, "chat", t0, t1, extra)

    async def support(self, action: str):
        await self.open_page("support")
        if self.support_turns >= SUPPORT_TURNS:
            await self.page.get_by_role("button", name="New conversation").click()
            await self.page.wait_for_function(
                f"() => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length === 0 && {IDLE}",
                polling=100,
                timeout=self.cfg["ui_timeout"] * 1000,
            )
            self.support_turns = 0
        questions = FAQ_QUESTIONS if action == "support_faq" else MODEL_QUESTIONS
        timeout = self.cfg["ui_timeout"] if action == "support_faq" else self.cfg["gen_timeout"]
        box = self.page.get_by_test_id("stChatInputTextArea")
        t0, t1, extra = await self.ask(box, self.rng.choice(questions), SUPPORT_DONE, timeout)
        self.support_turns += 1
        await self.check_failed(action)
        text = await self.page.get_by_test_id("stChatMessage").nth(extra["n0"] + 1).inner_text()
        extra["tier"] = next((tier for tier, badge in TIER_BADGES.items() if badge in text), None)
        if action == "support_faq" and extra["tier"] != 1:
            raise ActionFailed(f"support_faq: expected a FAQ answer (tier 1), got tier {extra['tier']}")
        self.record(self.n, action, t0, t1, extra)

    async def calc(self):
        await self.open_page("calculator")
        tab = self.page.get_by_role("tab", name="Business model")
        if await tab.get_attribute("aria-selected") != "true":
            await tab.click()
        chart = self.page.locator(".st-key-chart-cash")
        await self.page.wait_for_function(
            "() => /break-even, month/.test(document.querySelector('.st-key-chart-cash')?.innerText || '')",
            polling=100,
            timeout=self.cfg["ui_timeout"] * 1000,
        )
        old = await chart.inner_text()
        box = self.page.get_by_role("tabpanel", name="Business model").get_by_role(
            "spinbutton", name="Price per seat per month ($)"
        )
        current = float(await box.input_value() or 0)
        price = self.rng.choice([p for p in PRICES if p != current])
        await self.probe(None)
        t0 = time.perf_counter()
        await box.fill(str(price))
        await box.press("Enter")
        await self.page.wait_for_function(CALC_DONE, arg=old, polling=100, timeout=self.cfg["ui_timeout"] * 1000)
        t1 = time.perf_counter()
        await self.probe_result()
        await self.check_failed("calc")
        shown = re.search(r"break-even, month (\d+)", await chart.inner_text())
        want = self.expected_month.get(price)
        if want is not None and (not shown or int(shown.group(1)) != want):
            raise ActionFailed(
                f"calc: price {price} should break even in month {want}, the chart says "
                f"{shown.group(0) if shown else 'nothing'}"
            )
        self.record(self.n, "calc", t0, t1, {"price": price, "month": int(shown.group(1)) if shown else None})

    async def connection_changes(self) -> list:
        """Websocket state changes since the last call (lost connections, reconnects)."""
        try:
            changes = await self.page.evaluate(
                "() => { const c = window.__conn || []; const n = window.__connRead || 0; window.__connRead = c.length; return c.slice(n); }"
            )
        except Exception:
            return []
        self.conn_changes.extend(changes or [])
        return changes or []

    async def snapshot(self, action: str) -> dict:
        """What the tab showed when an action failed (and a screenshot, when a work folder is kept)."""
        try:
            state = await self.page.evaluate(STATE_JS)
            texts = await self.page.evaluate(
                "() => [...document.querySelectorAll('[data-testid=\"stChatMessage\"]')].map(e => e.innerText.slice(0, 200))"
            )
            spinners = await self.page.evaluate(
                "() => [...document.querySelectorAll('[data-testid=\"stSpinner\"]')].map(e => e.innerText.slice(0, 120))"
            )
            if self.cfg.get("shots"):
                await self.page.screenshot(
                    path=str(Path(self.cfg["shots"]) / f"failed-{self.n}-{action}-{int(time.time())}.png")
                )
            await self.connection_changes()
            return {
                "url": self.page.url,
                "script": state[0],
                "connection": state[1],
                "messages": len(texts),
                "last_messages": texts[-2:],
                "spinners": spinners,
                "connection_changes": [
                    f"{time.strftime('%H:%M:%S', time.localtime(t / 1000))} {c}" for t, c in self.conn_changes[-6:]
                ],
            }
        except Exception as exc:
            return {"snapshot_failed": str(exc).splitlines()[0][:200]}

    async def check_failed(self, action: str) -> None:
        failed = await self.page.evaluate(FAILED_JS)
        state = await self.page.evaluate(STATE_JS)
        if failed:
            raise ActionFailed(f"{action}: error on page: {' | '.join(failed)}")
        if state[1] != "CONNECTED":
            raise ActionFailed(f"{action}: connection {state[1]}")

    async def loop(self, deadline: float, errors: list[dict]) -> None:
        while time.perf_counter() < deadline:
            action, self.next_action = self.next_action, next(self.actions)
            t0 = time.perf_counter()
            try:
                if action == "chat":
                    await self.chat()
                elif action == "calc":
                    await self.calc()
                else:
                    await self.support(action)
            except Exception as exc:  # timeouts, wrong results, errors on the page
                message = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__
                errors.append(
                    {
                        "session": self.n,
                        "action": action,
                        "at_s": round(t0 - self.cfg["t_start"], 1),
                        "after_s": round(time.perf_counter() - t0, 1),
                        "error": message,
                        "page": await self.snapshot(action),
                    }
                )
                try:  # start that page afresh
                    await self.open_fresh(PAGE_OF[action])
                except Exception as again:
                    errors.append({"session": self.n, "action": "reload", "error": str(again).splitlines()[0][:300]})
                    await asyncio.sleep(1)
            await self.connection_changes()
            for message in self.page_errors:
                errors.append({"session": self.n, "action": action, "error": message[:500]})
            self.page_errors.clear()
            think = self.cfg["think"]
            if think > 0 and time.perf_counter() < deadline:
                await asyncio.sleep(self.rng.uniform(think / 2, think * 1.5))


async def drive(url: str, cfg: dict, progress=print) -> dict:
    import dataclasses

    from playwright.async_api import async_playwright

    from core import economics as eco

    base = eco.Scenario()
    expected = {}
    for price in PRICES:  # what the chart must say after each price change
        s = dataclasses.replace(
            base, subscription=dataclasses.replace(base.subscription, price_per_seat_month=float(price))
        )
        expected[price] = eco.break_even_month(eco.monthly_pnl(s))

    records: list[dict] = []
    errors: list[dict] = []

    def record(session, action, t0, t1, extra):
        records.append(
            {
                "session": session,
                "action": action,
                "t0": t0,
                "t1": t1,
                "at_s": round(t0 - cfg["t_start"], 2) if cfg.get("t_start") else None,
                "latency_s": t1 - t0,
                **extra,
            }
        )

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            # Warm-up, not counted: the model, the embedding models and the knowledge base load on
            # first use, so three extra tabs use each page once while the sessions open their tabs
            # (spread over --ramp seconds). Then the clock starts.
            warm_cfg = cfg | {"ui_timeout": cfg["warmup_timeout"], "gen_timeout": cfg["warmup_timeout"]}
            t = time.perf_counter()

            async def warm_up(n: int, action: str):
                s = Session(-1 - n, browser, url, warm_cfg, lambda *a: None, expected)
                s.ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
                s.page = await s.ctx.new_page()
                s.page.set_default_timeout(s.cfg["ui_timeout"] * 1000)  # also for fill/click
                s.page.on("pageerror", lambda exc: s.page_errors.append(f"JavaScript error: {exc}"))
                try:
                    await s.open_fresh(PAGE_OF[action])
                    if action == "support_faq":  # English: it needs both embedding models
                        s.rng = random.Random(0)
                        s.rng.choice = lambda seq: seq[0]
                    await {"chat": s.chat, "calc": s.calc}.get(action, lambda: s.support(action))()
                except Exception as exc:
                    errors.append({"session": s.n, "action": "warmup", "error": str(exc).splitlines()[0][:500]})
                finally:
                    errors.extend({"session": s.n, "action": "warmup", "error": e} for e in s.page_errors)
                    await s.close()

            sessions = [Session(i, browser, url, warm_cfg, record, expected) for i in range(cfg["sessions"])]
            connect: list[float] = []

            async def open_tab(s: Session):
                await asyncio.sleep(s.n * cfg["ramp"] / max(1, cfg["sessions"]))
                try:
                    connect.append(await s.start())
                except Exception as exc:
                    errors.append({"session": s.n, "action": "connect", "error": str(exc).splitlines()[0][:500]})
                    s.page = None
                s.cfg = cfg

            warm_tabs = ("support_faq", "chat", "calc") if cfg["warmup"] else ()
            await asyncio.gather(*(warm_up(n, a) for n, a in enumerate(warm_tabs)), *(open_tab(s) for s in sessions))
            warmup_s = time.perf_counter() - t
            progress(f"warm-up done and {len(connect)} tabs open in {warmup_s:.1f} s; load for {cfg['seconds']} s")
            cfg["t_start"] = time.perf_counter()
            deadline = cfg["t_start"] + cfg["seconds"]

            async def one(s: Session):
                try:
                    if s.page is not None:
                        await s.loop(deadline, errors)
                except Exception as exc:
                    errors.append({"session": s.n, "action": "session", "error": str(exc).splitlines()[0][:500]})
                finally:
                    try:
                        await s.close()
                    except Exception:
                        pass

            async def report():
                while True:
                    await asyncio.sleep(15)
                    progress(
                        f"{time.perf_counter() - cfg['t_start']:.0f} s: {len(records)} actions, {len(errors)} errors"
                    )

            reporter = asyncio.create_task(report())
            hard_limit = cfg["seconds"] + cfg["gen_timeout"] + 2 * cfg["ui_timeout"] + 30
            try:
                await asyncio.wait_for(asyncio.gather(*(one(s) for s in sessions)), hard_limit)
            except TimeoutError:
                errors.append(
                    {"session": None, "action": "run", "error": f"sessions still running after {hard_limit} s"}
                )
            finally:
                reporter.cancel()
            t_end = time.perf_counter()
        finally:
            await browser.close()
    drops = sum(1 for s in sessions for _, state in s.conn_changes if state != "CONNECTED")
    return {
        "records": records,
        "errors": errors,
        "warmup_s": warmup_s,
        "connect": connect,
        "t_start": cfg["t_start"],
        "connection_drops": drops,
        "t_end": t_end,
        "deadline": deadline,
    }


# -- figures ----------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def r3(x):
    return None if x is None else round(x, 3)


def action_figures(records: list[dict], errors: list[dict]) -> dict:
    out = {}
    names = sorted({r["action"] for r in records} | {e["action"] for e in errors if e["action"] in PAGE_OF})
    for name in names:
        rs = [r for r in records if r["action"] == name]
        lat = [r["latency_s"] for r in rs]
        fig = {
            "count": len(rs),
            "errors": sum(1 for e in errors if e["action"] == name),
            "p50_s": r3(pct(lat, 0.5)),
            "p95_s": r3(pct(lat, 0.95)),
            "max_s": r3(max(lat, default=None)),
        }
        first = [r["first_s"] for r in rs if r.get("first_s") is not None]
        if name in GENERATING and first:
            fig["first_text_p50_s"], fig["first_text_p95_s"] = r3(pct(first, 0.5)), r3(pct(first, 0.95))
        if name in GENERATING:
            shown = [r["ahead_shown"] for r in rs if r.get("ahead_shown") is not None]
            fig["queue_notice_shown"] = len(shown)
            fig["max_ahead_shown"] = max(shown, default=0)
        if name == "chat":
            tokens = [r["new_tokens"] for r in rs if r.get("new_tokens") is not None]
            fig["new_tokens_p50"] = pct(tokens, 0.5)
        if name.startswith("support"):
            fig["tiers"] = {str(t): sum(1 for r in rs if r.get("tier") == t) for t in (1, 2, 3)}
        out[name] = fig
    return out


def fairness(gens: list[dict], records: list[dict], eps: float = 2.0) -> dict:
    """Served order vs arrival order, and each wait vs the work ahead of it (server trace); and,
    from the browsers, replies that started before one asked more than `eps` seconds earlier."""
    gens = [g for g in gens if g["kind"] != "warmup"]
    served = sorted((g for g in gens if g["started"] is not None), key=lambda g: g["started"])
    tickets = [g["ticket"] for g in served]
    overtaken = sum(1 for i, g in enumerate(served) if any(h["ticket"] < g["ticket"] for h in served[i + 1 :]))
    waits, excess, ratio = [], [], []
    services = [g["done"] - g["started"] for g in served]
    max_service = max(services, default=0.0)
    for g in served:
        wait = g["started"] - g["created"]
        ahead = [h for h in gens if h["ticket"] < g["ticket"] and h["done"] > g["created"]]
        work = sum(
            h["done"] - max(h["started"] if h["started"] is not None else h["done"], g["created"]) for h in ahead
        )
        waits.append(wait)
        excess.append(wait - work)
        ratio.append(wait / ((len(ahead) + 1) * max_service) if max_service > 0 else 0.0)
    busy = sum(services)
    span = (max(g["done"] for g in gens) - min(g["created"] for g in gens)) if gens else 0.0
    client = [r for r in records if r["action"] in GENERATING and r.get("first_s") is not None]
    client_overtakes = sum(
        1
        for a in client
        for b in client
        if a["t0"] + eps < b["t0"] and b["t0"] + b["first_s"] < a["t0"] + a["first_s"] - eps
    )
    return {
        "requests": len(gens),
        "by_kind": {k: sum(1 for g in gens if g["kind"] == k) for k in sorted({g["kind"] for g in gens})},
        "served_in_arrival_order": tickets == sorted(tickets),
        "overtaken": overtaken,
        "stopped": sum(1 for g in gens if g["stopped"]),
        "failed": [g["error"] for g in gens if g["error"]],
        "max_ahead_at_arrival": max((g["ahead"] for g in gens), default=0),
        "wait_p50_s": r3(pct(waits, 0.5)),
        "wait_p95_s": r3(pct(waits, 0.95)),
        "wait_max_s": r3(max(waits, default=None)),
        "service_p50_s": r3(pct(services, 0.5)),
        "service_max_s": r3(max_service),
        # FIFO: a request waits for exactly the work ahead of it; the rest is hand-over overhead.
        "wait_minus_work_ahead_max_s": r3(max(excess, default=None)),
        # no starvation: wait <= (requests ahead + 1) x the longest request
        "wait_over_bound_max": r3(max(ratio, default=None)),
        "model_busy_pct": round(100 * busy / span, 1) if span else None,
        "tokens_per_s_overall": round(sum(g["new_tokens"] for g in served) / busy, 1) if busy else None,
        "client_overtakes_over_2s": client_overtakes,
    }


def memory_figures(samples: list[tuple], t_start: float, t_end: float) -> dict:
    run = [x for x in samples if t_start <= x[0] <= t_end]
    if len(run) < 4:
        return {"samples": len(run)}
    rss = [x[1] for x in run]
    half = [x for x in run if x[0] >= t_start + (t_end - t_start) / 2]

    def window(points):  # median of a few samples: one GC or a chart in flight is noise
        return statistics.median(p[1] for p in points)

    mid, end = window(half[:5]), window(half[-5:])
    ts = [p[0] for p in half]
    slope = 0.0
    if len(half) > 2 and max(ts) > min(ts):
        mt, mr = statistics.fmean(ts), statistics.fmean(p[1] for p in half)
        slope = sum((t - mt) * (p[1] - mr) for t, p in zip(ts, half, strict=False)) / sum((t - mt) ** 2 for t in ts)
    return {
        "samples": len(run),
        "start_mb": round(rss[0]),
        "end_mb": round(rss[-1]),
        "max_mb": round(max(rss)),
        "second_half_growth_pct": round(100 * (end - mid) / mid, 2),
        "second_half_slope_mb_per_min": round(slope * 60, 2),
    }


def cpu_figures(samples: list[tuple], t_start: float, t_end: float) -> dict:
    """Mean CPU in % of one core (200 = both cores of a 2-core machine)."""
    run = [x for x in samples if t_start <= x[0] <= t_end]
    if not run:
        return {}
    server, browser, machine = (statistics.fmean(x[i] for x in run) for i in (2, 3, 4))
    return {
        "server_pct": round(server),
        "browser_pct": round(browser),
        "machine_pct": round(machine),
        "others_pct": round(max(0.0, machine - server - browser)),
        "cores": os.cpu_count(),
    }


def server_errors(log: str) -> list[str]:
    lines = log.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback") or re.match(r"^\S*(Error|Exception)\b.*:", line):
            found.append(
                " / ".join(
                    lines[i : i + 1]
                    + [line.strip() for line in lines[i + 1 : i + 40] if line and not line.startswith(" ")][:2]
                )[:500]
            )
    return found


# -- running it -------------------------------------------------------------------------------
def run_load(
    *,
    sessions: int = 16,
    seconds: float = 120,
    model: str = "default",
    adapter: str = "auto",
    threads: int = 1,
    parallel: int = 2,
    engine: str = "auto",
    max_new_tokens: int = 64,
    kb_dir: Path | None = None,
    mix: dict | None = None,
    think: float = 1.0,
    ramp: float = 4.0,
    seed: int = 1,
    order: str = "random",
    warmup: bool = True,
    token_delay: float = 0.0,
    ui_timeout: float = 60,
    gen_timeout: float = 600,
    warmup_timeout: float = 300,
    port: int | None = None,
    progress=None,
    keep: bool = False,
) -> dict:
    progress = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="load-"))
    data = work / "runtime"
    data.mkdir()
    if kb_dir is not None:
        shutil.copytree(kb_dir, data / "kb")
    env = {
        "APP_DATA_DIR": str(data),
        "APP_MODEL": model,
        "APP_ADAPTER": adapter,
        "APP_THREADS": str(threads),
        "APP_PARALLEL": str(parallel),
        "APP_ENGINE": engine,
        "APP_MAX_NEW_TOKENS": str(max_new_tokens),
        "APP_AUTH": "off",
        "APP_SAMPLE_KB": "on" if kb_dir is None else "off",
        # Reading the knowledge base ahead takes minutes of the 2 cores right after start: it would
        # overlap the measured run (the run's questions are judged cold, as before).
        "APP_SUPPORT_WARM": "off",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "LOAD_TOKEN_DELAY": str(token_delay),
    }
    if model == "default":
        env["APP_MODELS_DIR"] = str(ROOT / "data" / "runtime" / "models")
    cfg = {
        "sessions": sessions,
        "seconds": seconds,
        "mix": mix or DEFAULT_MIX,
        "think": think,
        "ramp": ramp,
        "order": order,
        "warmup": warmup,
        "shots": str(work) if keep else None,
        "seed": seed,
        "ui_timeout": ui_timeout,
        "gen_timeout": gen_timeout,
        "warmup_timeout": warmup_timeout,
    }
    server = Server(env, work, port)
    sampler = None
    try:
        t = time.perf_counter()
        server.wait_ready()
        server_start_s = time.perf_counter() - t
        sampler = MemorySampler(server.pid)
        sampler.start()
        result = asyncio.run(drive(server.url, cfg, progress))
    finally:
        try:
            if sampler is not None:
                sampler.stop()
        finally:
            server.stop()
    log = server.log()
    traced = server.traced()
    gens = [g for g in traced if "ticket" in g]
    runs = [r for r in traced if "script_run" in r and result["t_start"] <= r["start"] <= result["t_end"]]
    searches = [r["s"] for r in traced if "kb_search" in r and result["t_start"] <= r["kb_search"] <= result["t_end"]]
    errors = result["errors"] + [{"session": None, "action": "server", "error": e} for e in server_errors(log)]
    load_after = os.getloadavg()
    out = {
        "config": {
            "sessions": sessions,
            "seconds": seconds,
            "model": model,
            "adapter": adapter,
            "engine": engine,
            "threads": threads,
            "parallel": parallel,
            "max_new_tokens_chat": max_new_tokens,
            "max_new_tokens_support": 300,
            "mix": cfg["mix"],
            "think_s": think,
            "ramp_s": ramp,
            "order": order,
            "seed": seed,
            "cpus": os.cpu_count(),
            **({"token_delay_s": token_delay} if token_delay else {}),
            "knowledge_base": str(kb_dir) if kb_dir else "sample, loaded at start",
        },
        "run": {
            "server_start_s": round(server_start_s, 1),
            "warmup_s": round(result["warmup_s"], 1),
            "warmup_tabs": warmup,
            "sessions_open": len(result["connect"]),
            "open_tab_p50_s": r3(pct(result["connect"], 0.5)),
            "open_tab_max_s": r3(max(result["connect"], default=None)),
            "load_s": round(result["deadline"] - result["t_start"], 1),
            "drain_s": round(result["t_end"] - result["deadline"], 1),
            "actions": len(result["records"]),
            "websocket_drops": result["connection_drops"],
            "actions_per_session": [
                sum(1 for r in result["records"] if r["session"] == n and r["action"] != "open_page")
                for n in range(sessions)
            ],
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "actions": action_figures(result["records"], errors),
        "errors": {"count": len(errors), "messages": errors[:30]},
        "server_script_runs": {
            page: {"count": len(ss), "p50_s": r3(pct(ss, 0.5)), "p95_s": r3(pct(ss, 0.95)), "max_s": r3(max(ss))}
            for page in sorted({r["script_run"] for r in runs})
            for ss in [[r["s"] for r in runs if r["script_run"] == page]]
        }
        | {
            "kb_search": {
                "count": len(searches),
                "p50_s": r3(pct(searches, 0.5)),
                "p95_s": r3(pct(searches, 0.95)),
                "max_s": r3(max(searches, default=None)),
            }
        },
        "fairness": fairness(gens, result["records"]),
        "memory": memory_figures(sampler.samples if sampler else [], result["t_start"], result["t_end"])
        | {"engine_max_mb": round(sampler.engine_max_mb) if sampler else None},
        "cpu": cpu_figures(sampler.samples if sampler else [], result["t_start"], result["t_end"]),
    }
    if keep:
        out["run"]["workdir"] = str(work)
        (work / "records.json").write_text(json.dumps(result["records"], indent=1))
        (work / "samples.json").write_text(
            json.dumps(  # seconds from the start of the load, RSS MB, CPU %
                [
                    [round(t - result["t_start"], 1), round(rss), round(c1), round(c2), round(c3)]
                    for t, rss, c1, c2, c3 in (sampler.samples if sampler else [])
                ]
            )
        )
    else:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), int(sys.argv[3]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=120, help="new actions start until then")
    ap.add_argument(
        "--model",
        default=os.environ.get("APP_MODEL", "default"),
        help="'default' (the packaged model) or a model folder, e.g. a tiny one for a quick run",
    )
    ap.add_argument("--adapter", default="auto", help="APP_ADAPTER for the app (auto, none, or a folder)")
    ap.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("APP_THREADS", "1")),
        help="model threads (1: the browsers share the CPU)",
    )
    ap.add_argument(
        "--parallel",
        type=int,
        default=int(os.environ.get("APP_PARALLEL", "2")),
        help="requests the llama.cpp engine generates at once (APP_PARALLEL)",
    )
    ap.add_argument("--engine", default=os.environ.get("APP_ENGINE", "auto"), help="APP_ENGINE for the app")
    ap.add_argument("--max-new-tokens", type=int, default=64, help="chat answer limit (APP_MAX_NEW_TOKENS)")
    ap.add_argument(
        "--kb",
        type=Path,
        default=ROOT / "data" / "runtime" / "kb",
        help="knowledge base folder to copy (default: the app's); missing: load the sample",
    )
    ap.add_argument(
        "--mix",
        default=",".join(f"{k}={v}" for k, v in DEFAULT_MIX.items()),
        help="action weights, e.g. chat=0.25,support_faq=0.3,support_model=0.15,calc=0.3",
    )
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a session's actions (s)")
    ap.add_argument("--ramp", type=float, default=4.0, help="sessions start spread over this many seconds")
    ap.add_argument(
        "--order",
        choices=("random", "cycle"),
        default="random",
        help="random: weighted by --mix; cycle: each session goes round the actions in turn",
    )
    ap.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="no warm-up tabs: the sessions' first actions pay for loading the models",
    )
    ap.add_argument(
        "--token-delay",
        type=float,
        default=0.0,
        help="diagnosis: seconds added per generated token (long queues with a tiny model)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ui-timeout", type=float, default=60, help="limit for an action without the model (s)")
    ap.add_argument("--gen-timeout", type=float, default=600, help="limit for an action that waits for the model (s)")
    ap.add_argument("--port", type=int)
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (server log, trace, records)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout`, kill: still stop the server
    if not Path(CHROMIUM).exists():
        print(json.dumps({"error": "Debian chromium is not installed (apt-get install chromium)"}))
        return 2
    mix = {k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    unknown = set(mix) - set(DEFAULT_MIX)
    if unknown:
        ap.error(f"unknown actions in --mix: {', '.join(sorted(unknown))}")
    out = run_load(
        sessions=args.sessions,
        seconds=args.seconds,
        model=args.model,
        adapter=args.adapter,
        threads=args.threads,
        parallel=args.parallel,
        engine=args.engine,
        max_new_tokens=args.max_new_tokens,
        kb_dir=args.kb if args.kb.is_dir() else None,
        mix=mix,
        think=args.think,
        ramp=args.ramp,
        seed=args.seed,
        order=args.order,
        warmup=args.warmup,
        token_delay=args.token_delay,
        ui_timeout=args.ui_timeout,
        gen_timeout=args.gen_timeout,
        port=args.port,
        keep=args.keep,
    )
    text = json.dumps(out, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
