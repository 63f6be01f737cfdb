"""Load on the HTTP API: N concurrent clients asking FAQ questions for S seconds; prints JSON.

    .venv/bin/python bench/api_load.py                       # 50 clients x 60 s, the configured model
    .venv/bin/python bench/api_load.py --clients 8 --seconds 20 --model-share 0.1

Starts `python -m core serve --no-app` on 127.0.0.1 with its own data folder (a copy of the app's
knowledge base) and one API key, then runs the clients: each loops, until --seconds have passed,
over customer questions the FAQ answers (streamed, `stream=true`, timed to the `final` event) and,
with --model-share, questions only the documents answer (written by the model through the
engine's slots; their streams carry `queue` events with the position while they wait). Every
request is bounded by --timeout. Only 127.0.0.1 is contacted. Reports errors, requests per
second, latency per tier (p50/p95/max) and the largest queue position seen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.servers import api_command, free_port, spawn, wait_until_up  # noqa: E402  (ROOT is on sys.path now)

FAQ = [
    "How much does shipping in Europe cost?",
    "How long does delivery take?",
    "How can I track my order?",
    "What is your return policy?",
    "Can I return tea I've already opened?",
    "When will I get my refund?",
    "Which payment methods do you accept?",
    "配送需要多长时间？",
    "可以退货吗？",
    "運費是多少？",
]
DOCS = [
    "At what altitude is the Alishan oolong grown?",
    "How long do you keep server logs?",
    "Can I return a gift I received?",
]


def pct(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3) if values else None


def one(client: httpx.Client, url: str, key: str, question: str) -> dict:
    start = time.perf_counter()
    final, ahead = None, 0
    with client.stream("POST", url, json={"question": question}, headers={"Authorization": f"Bearer {key}"}) as r:
        if r.status_code != 200:
            r.read()
            return {"error": f"HTTP {r.status_code}: {r.text[:200]}", "s": time.perf_counter() - start}
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "queue":
                ahead = max(ahead, json.loads(line[6:])["ahead"])
            elif line.startswith("data: ") and event == "final":
                final = json.loads(line[6:])
    if final is None:
        return {"error": "the stream ended without a final event", "s": time.perf_counter() - start}
    return {"tier": final["tier"], "s": time.perf_counter() - start, "ahead": ahead}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--model-share", type=float, default=0.0, help="share of questions the model must write")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--kb", type=Path, default=ROOT / "data" / "runtime" / "kb")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="api-load-"))
    data = work / "runtime"
    data.mkdir()
    if args.kb.is_dir():
        shutil.copytree(args.kb, data / "kb")
    from core.api.keys import KeyStore

    _, key = KeyStore(data / "app.db").add("load", rpm=100_000)
    port = free_port()
    env = dict(
        os.environ,
        APP_DATA_DIR=str(data),
        APP_SAMPLE_KB="off" if args.kb.is_dir() else "on",
        APP_MODELS_DIR=str(ROOT / "data" / "runtime" / "models"),
        HF_HUB_OFFLINE="1",
    )
    server = spawn(api_command(port), work / "serve.log", env)
    base = f"http://127.0.0.1:{port}"
    results: list[dict] = []
    lock = threading.Lock()
    try:
        if not wait_until_up(f"{base}/api/v1/health", 300, proc=server, interval=0.2):
            raise SystemExit("the API did not start:\n" + (work / "serve.log").read_text()[-2000:])
        url = f"{base}/api/v1/support/ask"
        with httpx.Client(timeout=args.timeout) as warm:  # load the embedding models and the engine first
            for q in (FAQ[0], FAQ[7], DOCS[0]) if args.model_share else (FAQ[0], FAQ[7]):
                one(warm, url, key, q)
        deadline = time.monotonic() + args.seconds

        def client(n: int):
            rng = random.Random(args.seed + n)
            with httpx.Client(timeout=args.timeout) as c:
                while time.monotonic() < deadline:
                    model = rng.random() < args.model_share
                    question = rng.choice(DOCS if model else FAQ)
                    try:
                        r = one(c, url, key, question)
                    except httpx.HTTPError as exc:
                        r = {"error": f"{type(exc).__name__}: {exc}", "s": 0.0}
                    r |= {"kind": "model" if model else "faq", "at": time.monotonic()}
                    with lock:
                        results.append(r)

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(args.seconds + args.timeout + 30)
        span = time.monotonic() - started
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    errors = [r["error"] for r in results if "error" in r]
    ok = [r for r in results if "error" not in r]
    by_tier = {t: [r["s"] for r in ok if r["tier"] == t] for t in (1, 2, 3)}
    out = {
        "clients": args.clients,
        "seconds": args.seconds,
        "model_share": args.model_share,
        "cpus": os.cpu_count(),
        "requests": len(results),
        "errors": len(errors),
        "error_samples": errors[:5],
        "requests_per_s": round(len(results) / span, 1) if span else None,
        "tiers": {
            str(t): {"n": len(v), "p50_s": pct(v, 0.5), "p95_s": pct(v, 0.95), "max_s": pct(v, 1.0)}
            for t, v in by_tier.items()
            if v
        },
        "faq_p95_s": pct([r["s"] for r in ok if r["kind"] == "faq"], 0.95),
        "max_queue_ahead": max((r.get("ahead", 0) for r in ok), default=0),
        "latency_mean_s": round(statistics.fmean(r["s"] for r in ok), 3) if ok else None,
    }
    print(json.dumps(out, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
