"""Hostile clients against the HTTP API on 127.0.0.1; prints JSON.

    .venv/bin/python bench/hostile_api.py           # 1,100+ fuzzed questions, 60 s of 24 hostile clients, …
    .venv/bin/python bench/hostile_api.py --quick   # the same, shorter (about 5 minutes on 2 cores)

Starts `python -m core serve --no-app` (the real API and settings; its own data folder with a copy
of the app's knowledge base; keys: a website key, a server key, a staff `all` key) and runs:

1. fuzz: 1,100+ crafted and random questions (ReDoS shapes such as "ignore-"*285 and "See [the
   guide](https://x (for orders placed abroad, " repeated, maximum sizes, every script: Latin, 简体,
   繁體, emoji, RTL, control characters; invalid JSON, wrong types, deep nesting, huge bodies), each
   timed to its whole answer or refusal. This phase runs on a server with the model switched off
   (APP_ENGINE=openai without a server: every question is answered from the FAQ, handed over or
   refused), so the time measured is all the work before any model work: parsing, limits, the
   question filter, retrieval, the answer policy. Target: the slowest ≤ 0.5 s.
2. health: /api/v1/health polled every 0.2 s while 24 hostile clients (24 addresses, the website
   key, no Origin header, no pause, streams read whole or cut) send fuzzed and written-answer
   questions. Target: the slowest ≤ 0.5 s.
3. flood: 50 written-answer questions at once from one address with one key, then 50 from 50
   addresses: how many were let in (at most APP_API_VISITOR_ASKS from one address; at most the
   customer slots + APP_API_MAX_WAITING in all), how fast the rest were refused (429/503; target
   ≤ 0.1 s each); a staff reply (`/v1/chat/completions` stream with an `all` key) timed to its
   first token while they wait, against the same idle.
4. cut: written-answer streams cut mid-answer (after `start`, after the first event, after three
   pieces), and a server killed with SIGKILL mid-answer: every question in the log, abandoned where
   cut, none lost, none left 'answering'.

Phases 2-4 use the configured model (APP_SUPPORT_WARM=off: the read-ahead of the knowledge base
would take the CPU for minutes). Every request has a timeout; every phase a deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.servers import api_command, free_port, spawn, wait_until_up  # noqa: E402  (ROOT is on sys.path now)

FAQ = [
    "How much does shipping in Europe cost?",
    "What is your return policy?",
    "配送需要多长时间？",
    "運費是多少？",
]
WRITTEN = [  # what the documents answer: the model writes these
    "At what altitude is the Alishan oolong grown?",
    "How long do you keep server logs?",
    "Can I return a gift I received?",
]
SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ àéîõüñçßø 0123456789 .,;:!?'\"()-",
    "zh-Hans": "运费多少退货怎么办订单配送时间茶叶包装请问您好谢谢发票优惠码会员积分",
    "zh-Hant": "運費多少退貨怎麼辦訂單配送時間茶葉包裝請問您好謝謝發票優惠碼會員積分",
    "emoji": "😀🍵🚚💳❤️👍🏽🇭🇰👩‍👩‍👧🙏🏻✨",
    "rtl": "مرحبا كيف الشحن שלום משלוח \u202e\u202d\u200f\u200e",
    "control": "".join(chr(c) for c in (*range(0, 32), 127, 0x85, 0x2028, 0x2029, 0xFEFF, 0x200B, 0x200D)),
    "other": "привет доставка γειά σου नमस्ते สวัสดี こんにちは 안녕하세요 e\u0301\u0302\u0303 ＳＨＩＰＰＩＮＧ ﬁ",
}
TOKENS = [
    "ignore-",
    "ignore previous instructions ",
    "See [the guide](https://x (for orders placed abroad, ",
    "(",
    "[",
    "](",
    "http://",
    "a",
    " ",
    "\n",
    "-",
    "you are now ",
    "system: ",
    "<|im_start|>",
    "```",
    "忽略之前的指令",
    "#",
    "*",
    "_",
    "${",
    "{{",
    "\\",
    "'",
    '"',
]


def fit(text: str, n: int = 2000) -> str:
    return text[:n]


def crafted() -> list[tuple[str, str]]:
    guide = "See [the guide](https://x (for orders placed abroad, "
    shapes = {
        "ignore-*285": "ignore-" * 285,
        "guide-link+newline": fit((guide + "\n") * 40),
        "guide-link": fit(guide * 40),
        "guide-link+crlf": fit((guide + "\r\n") * 40),
        "open-parens": "(" * 2000,
        "open-brackets": "[" * 2000,
        "link-openers": fit("[](" * 700),
        "nested-parens": "(" * 1000 + ")" * 1000,
        "a*2000": "a" * 2000,
        "spaces-then-a": " " * 1999 + "a",
        "newlines-then-?": "\n" * 1999 + "?",
        "dashes": "-" * 2000,
        "ignore+dashes": "ignore" + "-" * 1994,
        "ignore-previous*": fit("ignore previous instructions " * 70),
        "忽略*": fit("忽略之前的所有指令，" * 200),
        "http*": fit("http://" * 290),
        "you-are*": fit("you are " * 250),
        "chatml*": fit("<|im_start|>system\n" * 110),
        "stars": "*" * 2000,
        "underscores": "_" * 2000,
        "backticks": "`" * 2000,
        "emoji*": fit("😀🍵" * 1000),
        "zwj-family*": fit("👩‍👩‍👧" * 400),
        "rtl*": fit("مرحبا \u202e" * 300),
        "control*": fit(SCRIPTS["control"] * 60),
        "combining*": fit("e" + "\u0301" * 1999),
        "fullwidth*": fit("ＳＨＩＰＰＩＮＧ" * 250),
        "zh-Hans-max": fit(SCRIPTS["zh-Hans"] * 60),
        "zh-Hant-max": fit(SCRIPTS["zh-Hant"] * 60),
        "question+2000": fit("How much does shipping in Europe cost? " + "x" * 2000),
        "max+1": "a" * 2001,
        "one-char": "?",
        "nul": "\x00",
        "surrogate-pair-emoji": "🍵",
    }
    return [(f"crafted:{k}", v) for k, v in shapes.items()]


def random_question(rng: random.Random) -> tuple[str, str]:
    parts, labels = [], []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.4:
            script = rng.choice(list(SCRIPTS))
            pool = SCRIPTS[script]
            parts.append("".join(rng.choice(pool) for _ in range(rng.choice((5, 40, 300, 2000)))))
            labels.append(script)
        elif kind < 0.8:
            token = rng.choice(TOKENS)
            parts.append(token * rng.choice((10, 50, 285, 1000)))
            labels.append("repeat")
        else:
            parts.append(rng.choice(FAQ + WRITTEN))
            labels.append("real")
    text = "".join(parts)
    size = rng.random()
    if size < 0.1:
        text = (text * (2000 // max(1, len(text)) + 1))[:2000]  # exactly the maximum
    elif size < 0.13:
        text = (text * (2001 // max(1, len(text)) + 1))[:2001]  # one over: refused (422)
    else:
        text = text[:2000]
    return "random:" + "+".join(labels), text or "?"


def invalid_bodies() -> list[tuple[str, bytes]]:
    return [
        ("invalid:truncated", b'{"question": '),
        ("invalid:not-json", b"not json at all"),
        ("invalid:not-utf8", b'{"question": "\xff\xfe\x00"}'),
        ("invalid:lone-surrogate", b'{"question": "\\ud800 shipping"}'),
        ("invalid:array", b"[]"),
        ("invalid:null", b"null"),
        ("invalid:string", b'"How much is shipping?"'),
        ("invalid:question-null", b'{"question": null}'),
        ("invalid:question-list", b'{"question": ["a"]}'),
        ("invalid:question-object", b'{"question": {"a": 1}}'),
        ("invalid:language", b'{"question": "hi", "language": "fr"}'),
        ("invalid:conversation-path", b'{"question": "hi", "conversation_id": "../../etc/passwd"}'),
        ("invalid:deep-nesting", b'{"question": "hi", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        (
            "invalid:many-keys",
            b'{"question": "hi", ' + b", ".join(b'"k%d": %d' % (i, i) for i in range(40_000)) + b"}",
        ),
        ("invalid:huge-1.1MB", b'{"question": "' + b"a" * 1_100_000 + b'"}'),
        ("invalid:huge-5MB", b'{"question": "' + b"a" * 5_000_000 + b'"}'),
        ("invalid:empty", b""),
    ]


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    values = sorted(values)
    return {
        "n": len(values),
        "p50_s": round(values[len(values) // 2], 4),
        "p95_s": round(values[min(len(values) - 1, int(0.95 * len(values)))], 4),
        "max_s": round(values[-1], 4),
    }


class Server:
    """`python -m core serve --no-app` on a free port of 127.0.0.1, over `data`."""

    def __init__(self, data: Path, work: Path, **env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = work / f"serve-{self.port}.log"
        environ = dict(
            os.environ,
            APP_DATA_DIR=str(data),
            APP_SAMPLE_KB="off" if (data / "kb").is_dir() else "on",
            APP_MODELS_DIR=str(ROOT / "data" / "runtime" / "models"),
            APP_SUPPORT_WARM="off",
            HF_HUB_OFFLINE="1",
        )
        environ.update(env)
        self.proc = spawn(api_command(self.port), self.log_path, environ)
        if wait_until_up(f"{self.base}/api/v1/health", 300, proc=self.proc):
            return
        raise SystemExit("the API did not start:\n" + self.log_path.read_text()[-3000:])

    def health(self) -> dict:
        return httpx.get(f"{self.base}/api/v1/health", timeout=10).json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def errors(self) -> dict[str, int]:
        """The exceptions in the server's log (tracebacks' last lines), counted."""
        counts: dict[str, int] = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt): ", line):
                head = line[:160]
                counts[head] = counts.get(head, 0) + 1
        return counts


def client(address: str | None = None, timeout: float = 60) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address) if address else None
    return httpx.Client(transport=transport, timeout=timeout)


def bearer(key: str, **extra) -> dict:
    return {"Authorization": f"Bearer {key}", **extra}


def read_events(response, stop=None):
    """(event, data) from an SSE response; stop(event, data, n) True: stop reading (the client cuts)."""
    name, n = None, 0
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            data = json.loads(line[6:])
            n += 1
            yield name, data
            if stop is not None and stop(name, data, n):
                return


# -- 1. fuzz ------------------------------------------------------------------------------------------------
def fuzz(server: Server, key: str, n_random: int, deadline: float) -> dict:
    rng = random.Random(7)
    cases: list[tuple[str, dict | bytes]] = [(label, {"question": q}) for label, q in crafted()]
    cases += [(label, {"question": q}) for label, q in (random_question(rng) for _ in range(n_random))]
    cases += list(invalid_bodies())
    rng.shuffle(cases)  # a deadline reached leaves out a sample of every kind, not one kind
    results: list[dict] = []
    lock = threading.Lock()
    todo = list(enumerate(cases))

    def worker():
        with client(timeout=60) as c:
            while time.monotonic() < deadline:
                with lock:
                    if not todo:
                        return
                    i, (label, body) = todo.pop()
                url = f"{server.base}/api/v1/support/ask?stream=false"
                started = time.perf_counter()
                try:
                    if isinstance(body, bytes):
                        r = c.post(url, content=body, headers=bearer(key, **{"Content-Type": "application/json"}))
                    else:
                        r = c.post(url, json=body, headers=bearer(key))
                    status, outcome = r.status_code, ""
                    if r.status_code == 200:
                        answer = r.json()
                        outcome = f"tier {answer['tier']}"
                except httpx.HTTPError as exc:
                    status, outcome = 0, type(exc).__name__
                took = time.perf_counter() - started
                size = len(body) if isinstance(body, bytes) else len(body["question"])
                with lock:
                    results.append({"label": label, "status": status, "s": took, "outcome": outcome, "size": size})

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slowest = sorted(results, key=lambda r: -r["s"])[:8]
    codes: dict[str, int] = {}
    for r in results:
        key_ = str(r["status"]) + (f" {r['outcome']}" if r["outcome"] else "")
        codes[key_] = codes.get(key_, 0) + 1
    return {
        "requests": len(results),
        "not_run_before_deadline": len(cases) - len(results),
        "outcomes": dict(sorted(codes.items())),
        "server_errors_5xx": sum(1 for r in results if r["status"] >= 500 or r["status"] == 0),
        "latency": stats([r["s"] for r in results]),
        "redos_shapes_latency": stats([r["s"] for r in results if r["label"].startswith("crafted:")]),
        "slowest": [{k: (round(v, 4) if k == "s" else v) for k, v in r.items()} for r in slowest],
        "failed_samples": [
            (r["label"], r["size"], r["status"], r["outcome"]) for r in results if r["status"] >= 500 or not r["status"]
        ][:10],
        "target_max_s": 0.5,
        "met": bool(results) and max(r["s"] for r in results) <= 0.5,
    }


# -- 2. health under hostile load --------------------------------------------------------------------------------
def hostile_load(server: Server, key: str, seconds: float) -> dict:
    stop_at = time.monotonic() + seconds
    health: list[float] = []
    health_errors: list[str] = []
    sent: dict[str, int] = {}
    lock = threading.Lock()

    def poll():
        with client(timeout=10) as c:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    ok = c.get(f"{server.base}/api/v1/health").status_code == 200
                    if not ok:
                        health_errors.append("status")
                except httpx.HTTPError as exc:
                    health_errors.append(type(exc).__name__)
                health.append(time.perf_counter() - started)
                time.sleep(0.2)

    def hostile(n: int):
        rng = random.Random(100 + n)
        with client(f"127.0.1.{n + 1}", timeout=30) as c:
            while time.monotonic() < stop_at:
                r = rng.random()
                if r < 0.3:
                    _, q = rng.choice(crafted())
                elif r < 0.6:
                    _, q = random_question(rng)
                else:
                    q = rng.choice(WRITTEN) + f" (#{rng.randint(0, 10**6)})"
                cut = rng.random() < 0.3
                try:
                    with c.stream(
                        "POST", f"{server.base}/api/v1/support/ask", json={"question": q}, headers=bearer(key)
                    ) as resp:
                        status = resp.status_code
                        if status == 200:
                            for _ in read_events(resp, (lambda *a: True) if cut else None):
                                if time.monotonic() > stop_at:
                                    break
                        else:
                            resp.read()
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    sent[str(status)] = sent.get(str(status), 0) + 1

    threads = [threading.Thread(target=poll)] + [threading.Thread(target=hostile, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return {
        "hostile_clients": 24,
        "seconds": seconds,
        "hostile_requests": dict(sorted(sent.items())),
        "health": stats(health),
        "health_errors": health_errors[:5],
        "target_max_s": 0.5,
        "met": bool(health) and max(health) <= 0.5 and not health_errors,
    }


# -- 3. a flood at once, and a staff reply meanwhile ----------------------------------------------------------------
def staff_ttft(server: Server, key: str) -> float | None:
    body = {
        "model": "assistant",
        "messages": [{"role": "user", "content": "Say hello to the team in one short sentence."}],
        "stream": True,
        "max_tokens": 16,
        "temperature": 0,
    }
    started = time.perf_counter()
    with httpx.stream("POST", f"{server.base}/v1/chat/completions", json=body, headers=bearer(key), timeout=120) as r:
        for line in r.iter_lines():
            if line.startswith("data: {") and '"content": ""' not in line and '"content"' in line:
                return time.perf_counter() - started
    return None


def wait_idle(server: Server, limit: float = 180) -> None:
    """Until the API reports nothing answering or waiting and the server's processes (llama-server
    included) have used under 10 % of a core for a second: a question whose customer left during its
    relevance check finishes that check (and may start its answer) after the API stops counting it."""
    deadline = time.monotonic() + limit
    processes = [psutil.Process(server.proc.pid)]
    while time.monotonic() < deadline:
        h = server.health()
        if h.get("busy") or h.get("waiting"):
            time.sleep(0.5)
            continue
        processes = [processes[0], *processes[0].children(recursive=True)]
        try:
            before = sum(sum(p.cpu_times()[:2]) for p in processes)
            time.sleep(1)
            if sum(sum(p.cpu_times()[:2]) for p in processes) - before < 0.1:
                return
        except psutil.NoSuchProcess:  # a child ended meanwhile: look again
            continue


def server_ms(header: str) -> float | None:
    found = re.search(r"dur=([\d.]+)", header)
    return float(found[1]) if found else None


def raw_request(server: Server, key: str, question: str) -> bytes:
    body = json.dumps({"question": question}).encode()
    head = (
        f"POST /api/v1/support/ask HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def response_head(data: bytes) -> tuple[int, dict[str, str]]:
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers


def flood(server: Server, key: str, staff_key: str, addresses: list[str], tag: str) -> dict:
    """The requests go out at once from one thread over connections opened beforehand (as load tools
    such as wrk do), and one selector loop notes when each response's head arrives: the time measured
    is the server's and the network stack's, not this client's threads waiting for each other."""
    socks = []
    for i, address in enumerate(addresses):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30, source_address=(address, 0))
        socks.append((sock, raw_request(server, key, WRITTEN[i % len(WRITTEN)] + f" ({tag} {i})")))
    time.sleep(0.5)  # the server has accepted every connection
    selector = selectors.DefaultSelector()
    sent: dict[socket.socket, float] = {}
    received: dict[socket.socket, bytes] = {}
    for sock, request in socks:
        sock.sendall(request)
        sent[sock] = time.perf_counter()
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = b""
    results: list[dict] = []
    holders: list[socket.socket] = []
    deadline = time.monotonic() + 30
    while len(results) < len(socks) and time.monotonic() < deadline:
        for ready, _ in selector.select(timeout=1):
            sock = ready.fileobj
            assert isinstance(sock, socket.socket)
            chunk = sock.recv(65536)
            received[sock] += chunk
            if b"\r\n\r\n" not in received[sock] and chunk:
                continue
            took = time.perf_counter() - sent[sock]
            selector.unregister(sock)
            if not chunk and b"\r\n\r\n" not in received[sock]:
                results.append({"status": "closed", "s": took})
                sock.close()
                continue
            status, headers = response_head(received[sock])
            results.append(
                {
                    "status": status,
                    "s": took,
                    "retry_after": headers.get("retry-after"),
                    "server_ms": server_ms(headers.get("server-timing", "")),
                }
            )
            if status == 200:
                holders.append(sock)  # keeps its place (waiting or being answered) until hung up below
            else:
                sock.close()
    time.sleep(2)  # the admitted ones take their slots and their places in the line
    waiting = [server.health().get("waiting", 0) for _ in range(3)]
    during = [staff_ttft(server, staff_key) for _ in range(3)]
    for sock in holders:  # hang up: those questions are abandoned
        sock.close()
    for sock, _ in socks:
        sock.close()
    refused = [r for r in results if r["status"] != 200]
    codes: dict[str, int] = {}
    for r in results:
        codes[str(r["status"])] = codes.get(str(r["status"]), 0) + 1
    return {
        "requests": len(addresses),
        "addresses": len(set(addresses)),
        "statuses": codes,
        "admitted": sum(1 for r in results if r["status"] == 200),
        "waiting_seen": max(waiting),
        "refusal_latency": stats([r["s"] for r in refused]),
        "refusals_over_0.1_s": sum(1 for r in refused if r["s"] > 0.1),
        # The server's own time per refusal (its Server-Timing header): the rest of "refusal_latency" is
        # reading the request, the event loop's turn and the network stack, on the same 2 cores as this client.
        "refusal_server_time": stats([r["server_ms"] / 1000 for r in refused if r.get("server_ms") is not None]),
        "refusals_without_retry_after": sum(1 for r in refused if not r.get("retry_after")),
        "staff_ttft_s_during": [round(x, 3) if x is not None else None for x in during],
    }


# -- 4. streams cut mid-answer, and kill -9 -------------------------------------------------------------------------------
def cut_streams(server: Server, key: str, n: int, tag: str) -> list[dict]:
    """n written-answer questions, each from its own address, cut at different points."""
    asked: list[dict] = []
    lock = threading.Lock()

    def one(i: int):
        question = WRITTEN[i % len(WRITTEN)] + f" ({tag} {i})"
        after = ("start", "first event", "three pieces")[i % 3]

        pieces = [0]

        def stop(name, data, count):
            pieces[0] += name == "delta"
            if after == "start":
                return name == "start"
            if after == "first event":
                return count >= 2
            return pieces[0] >= 3

        seen = []
        with client(f"127.0.4.{i + 1}", timeout=300) as c:
            with c.stream(
                "POST", f"{server.base}/api/v1/support/ask", json={"question": question}, headers=bearer(key)
            ) as resp:
                if resp.status_code != 200:
                    resp.read()
                    with lock:
                        asked.append({"question": question, "status": resp.status_code})
                    return
                for name, _ in read_events(resp, stop):
                    seen.append(name)
        with lock:
            asked.append({"question": question, "status": 200, "cut_after": after, "reached_final": "final" in seen})

    batch = 6  # within the waiting cap: none refused
    for start in range(0, n, batch):
        threads = [threading.Thread(target=one, args=(i,)) for i in range(start, min(n, start + batch))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    return asked


def log_rows(data: Path, tag: str) -> dict[str, dict]:
    from core.support.log import SupportLog

    return {r["question"]: r for r in SupportLog(data / "app.db").questions() if f"({tag} " in r["question"]}


def statuses(rows) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def check_cut(data: Path, asked: list[dict], tag: str, settle_s: float = 60) -> dict:
    deadline = time.monotonic() + settle_s
    rows = log_rows(data, tag)
    while time.monotonic() < deadline and any(r["status"] == "answering" for r in rows.values()):
        time.sleep(0.5)
        rows = log_rows(data, tag)
    started = [a for a in asked if a["status"] == 200]
    cut = [a for a in started if not a.get("reached_final")]
    return {
        "asked": len(started),
        "refused": len(asked) - len(started),
        "cut_before_the_end": len(cut),
        "in_log": sum(1 for a in started if a["question"] in rows),
        "lost": sum(1 for a in started if a["question"] not in rows),
        "abandoned": sum(1 for a in cut if rows.get(a["question"], {}).get("status") == "abandoned"),
        "cut_but_not_abandoned": [
            (a["question"], rows.get(a["question"], {}).get("status"))
            for a in cut
            if rows.get(a["question"], {}).get("status") != "abandoned"
        ],
        "left_answering": sum(1 for r in rows.values() if r["status"] == "answering"),
    }


def kill_mid_answer(data: Path, work: Path, key: str, n: int) -> dict:
    server = Server(data, work)
    tag = "killed"
    streams, asked = [], []
    try:
        with client(timeout=600) as warm:  # the model loads on the first question
            warm.post(f"{server.base}/api/v1/support/ask?stream=false", json={"question": FAQ[0]}, headers=bearer(key))
        for i in range(n):
            question = WRITTEN[i % len(WRITTEN)] + f" ({tag} {i})"
            c = client(f"127.0.5.{i + 1}", timeout=300)
            resp = c.send(
                c.build_request(
                    "POST", f"{server.base}/api/v1/support/ask", json={"question": question}, headers=bearer(key)
                ),
                stream=True,
            )
            events = read_events(resp)
            if resp.status_code == 200 and next(events)[0] == "start":
                asked.append(question)
            streams.append((c, resp))
        time.sleep(3)  # mid-answer: being written or waiting for a slot
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
    finally:
        for c, resp in streams:
            try:
                resp.close()
            except httpx.HTTPError:
                pass
            c.close()
        server.stop()
    rows = log_rows(data, tag)  # opening the log (the next start) marks them abandoned
    return {
        "asked": len(asked),
        "in_log": sum(1 for q in asked if q in rows),
        "abandoned": sum(1 for q in asked if rows.get(q, {}).get("status") == "abandoned"),
        "answered_before_the_kill": sum(1 for q in asked if rows.get(q, {}).get("status") == "answered"),
        "left_answering": sum(1 for r in rows.values() if r["status"] == "answering"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run: fewer questions, 20 s of hostile clients")
    ap.add_argument("--kb", type=Path, default=ROOT / "data" / "runtime" / "kb")
    ap.add_argument("--skip", default="", help="comma-separated phases to leave out: fuzz,health,flood,cut")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    n_random = 250 if args.quick else 1100
    hostile_s = 20 if args.quick else 60
    n_cut = 6 if args.quick else 12
    work = Path(tempfile.mkdtemp(prefix="hostile-api-"))
    data = work / "runtime"
    data.mkdir()
    if args.kb.is_dir():
        shutil.copytree(args.kb, data / "kb")
    from core.api.keys import KeyStore
    from core.config import load_settings

    keys = KeyStore(data / "app.db")
    _, website = keys.add("shop", ["http://127.0.0.1"], rpm=100_000)  # public: limits per visitor
    _, backend = keys.add("backend", rpm=100_000)  # a server's key: the fuzz from one address
    _, staff = keys.add("staff", rpm=100_000, scope="all")
    settings = load_settings()
    out: dict = {
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "settings": {
            "parallel": settings.parallel,
            "staff_slots": settings.staff_slots,
            "api_max_waiting": settings.api_max_waiting,
            "api_visitor_asks": settings.api_visitor_asks,
            "api_visitor_rpm": settings.api_visitor_rpm,
        },
    }
    started = time.monotonic()
    try:
        if "fuzz" not in skip:
            server = Server(data, work, APP_ENGINE="openai", APP_OPENAI_BASE_URLS="", APP_OPENAI_MODEL="")
            try:
                with client(timeout=300) as warm:  # the embedding models load on the first question
                    warm.post(
                        f"{server.base}/api/v1/support/ask?stream=false",
                        json={"question": FAQ[0]},
                        headers=bearer(backend),
                    )
                out["1_fuzz_before_model_work"] = fuzz(server, backend, n_random, time.monotonic() + 900)
            finally:
                server.stop()
                out.setdefault("1_fuzz_before_model_work", {})["server_log_errors"] = server.errors()
        if {"health", "flood", "cut"} <= skip:
            return 0
        server = Server(data, work)
        try:
            with client(timeout=900) as warm:  # the model and the embedding models load on the first questions
                for q in (FAQ[0], WRITTEN[0]):
                    warm.post(
                        f"{server.base}/api/v1/support/ask?stream=false", json={"question": q}, headers=bearer(backend)
                    )
            out["engine"] = {k: server.health().get(k) for k in ("model", "engine")}
            if "health" not in skip:
                out["2_health_under_hostile_clients"] = hostile_load(server, website, hostile_s)
                wait_idle(server)
            if "flood" not in skip:
                idle = [staff_ttft(server, staff) for _ in range(3)]
                one_address = flood(server, website, staff, ["127.0.2.1"] * 50, "flood-one")
                wait_idle(server)
                many = flood(server, website, staff, [f"127.0.3.{i + 1}" for i in range(50)], "flood-many")
                wait_idle(server)
                slots = settings.parallel + settings.api_max_waiting
                out["3_flood"] = {
                    "staff_ttft_s_idle": [round(x, 3) if x is not None else None for x in idle],
                    "one_address": one_address,
                    "fifty_addresses": many,
                    "met": one_address["admitted"] <= settings.api_visitor_asks
                    and many["admitted"] <= slots
                    and one_address["refusals_over_0.1_s"] == 0
                    and many["refusals_over_0.1_s"] == 0,
                }
            if "cut" not in skip:
                asked = cut_streams(server, website, n_cut, "cut")
                out["4_cut_streams"] = check_cut(data, asked, "cut")
                if "flood" not in skip:  # the flood's admitted questions, hung up on (or answered before)
                    out["4_cut_streams"]["flood_questions"] = {
                        tag: statuses(log_rows(data, tag).values()) for tag in ("flood-one", "flood-many")
                    }
        finally:
            server.stop()
            out["server_log_errors"] = server.errors()
        if "cut" not in skip:
            out["4_kill_9_mid_answer"] = kill_mid_answer(data, work, website, 4)
    finally:
        out["seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
