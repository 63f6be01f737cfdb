"""`python -m core cost capacity --check`: the capacity model's prediction against a short
written-answer load on the real model, on this machine.

One request alone first measures the engine's speeds the way `python -m core bench generate` does
(prompt tokens / time to first token; tokens written per second after the first). From them the
capacity model (core.economics.capacity: service rate by concurrency) predicts, for each load level,
what the run measures: N clients that each ask again as soon as their answer is complete (as
bench/api_load.py's clients do), from an idle machine, for the level's seconds
(capacity_sim.simulate_closed); the steady state (capacity.closed_loop) is reported beside it. Prompts are support-style (~600 tokens of
company facts and a question), each with its own first line, so no slot reuses another's prompt
cache. The engine is this app's (llama.cpp on 127.0.0.1, APP_PARALLEL slots); nothing else is
contacted. Every level is bounded in time, and so is the whole check (about 3 minutes by default).
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from pathlib import Path

from core.economics.capacity import CHECK_FILE, Machine, closed_loop
from core.economics.capacity_sim import simulate_closed
from core.llm import GenerationOptions
from core.llm.benchmark import LONG_CONTEXT

QUESTIONS = [
    "Can I return a sale item, and how much does shipping cost for a EUR 30 order?",
    "My zip broke after a year. Is the repair free, and how do I send the jacket in?",
    "Can I pay with a gift card and a discount code together, and do gift cards expire?",
    "How fast is delivery to Taiwan from the Shenzhen warehouse, and is express free for members?",
]
WORDS = "teal amber cedar maple river harbour lantern quartz willow meadow summit orchard".split()


def support_prompt(i: int, rng: random.Random, repeat: int = 4) -> list[dict]:
    """A written answer's prompt (~150 tokens of facts per repeat, a question); its first line is
    unique, so the engine reads all of it."""
    ticket = " ".join(rng.choice(WORDS) for _ in range(6))
    facts = "\n\n".join(f"Source {n + 1}:\n{LONG_CONTEXT}" for n in range(repeat))
    return [
        {"role": "system", "content": f"Ticket {i} ({ticket}). You answer customers of Northwind Outfitters."},
        {
            "role": "user",
            "content": f"{facts}\n\nUsing only these sources, answer the customer in detail, step by step: "
            f"{QUESTIONS[i % len(QUESTIONS)]}",
        },
    ]


def _ask(llm, messages, options, active: set, lock: threading.Lock) -> dict | None:
    """One request, streamed; None when it was cancelled (the level's hard deadline)."""
    start = time.perf_counter()
    gen = llm.stream(messages, options)
    with lock:
        active.add(gen)
    first = None
    try:
        for _ in gen:
            first = first or time.perf_counter()
    finally:
        with lock:
            active.discard(gen)
    if gen.stats.stopped:
        return None
    end = time.perf_counter()
    st = gen.stats
    return {
        "s": end - start,
        "first_s": (first or end) - start,
        "prompt_tokens": st.prompt_tokens,
        "cached_tokens": st.cached_tokens,
        "new_tokens": st.new_tokens,
        "ttft_s": st.ttft_ms / 1000,
        "decode_tok_s": st.decode_tok_s,
        "end": end,
    }


def run_level(llm, clients: int, seconds: float, options, rng: random.Random, first_id: int, sources: int = 4) -> dict:
    """N clients asking until `seconds` have passed; answers in flight then finish, unless they run
    past three times that (then they are cancelled and left out)."""
    results: list[dict] = []
    active: set = set()
    lock = threading.Lock()
    counter = iter(range(first_id, first_id + 100_000))
    started = time.perf_counter()
    deadline = started + seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                messages = support_prompt(next(counter), rng, sources)
            r = _ask(llm, messages, options, active, lock)
            if r is not None:
                with lock:
                    results.append(r)

    def hard_stop() -> None:
        with lock:
            for gen in list(active):
                gen.cancel()

    timer = threading.Timer(3 * seconds, hard_stop)
    timer.start()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    timer.cancel()
    if not results:
        return {"clients": clients, "requests": 0}
    span = max(r["end"] for r in results) - started
    return {
        "clients": clients,
        "requests": len(results),
        "measured_throughput_per_s": len(results) / span,
        "measured_p50_s": statistics.median(r["s"] for r in results),
        "measured_first_word_p50_s": statistics.median(r["first_s"] for r in results),
        "prompt_tokens": statistics.fmean(r["prompt_tokens"] - r["cached_tokens"] for r in results),
        "new_tokens": statistics.fmean(r["new_tokens"] for r in results),
        "seconds": span,
    }


def compare(machine: Machine, level: dict, seconds: float) -> dict:
    """One level's check: what the model predicts for this run (simulate_closed: the same clients,
    tokens and seconds, from an idle machine) beside what it measured; the steady state too."""
    n, tokens = level["clients"], (level["prompt_tokens"], level["new_tokens"])
    predicted = simulate_closed(machine, *tokens, n, seconds)
    steady = closed_loop(machine, *tokens, n)
    return {
        "clients": n,
        "predicted_throughput_per_s": round(predicted["throughput_per_s"], 4),
        "measured_throughput_per_s": round(level["measured_throughput_per_s"], 4),
        "predicted_p50_s": round(predicted["p50_s"], 2),
        "measured_p50_s": round(level["measured_p50_s"], 2),
        "predicted_first_word_p50_s": round(predicted["first_word_p50_s"], 2),
        "measured_first_word_p50_s": round(level["measured_first_word_p50_s"], 2),
        "predicted_requests": predicted["requests"],
        "requests": level["requests"],
        "prompt_tokens": round(level["prompt_tokens"], 1),
        "new_tokens": round(level["new_tokens"], 1),
        "throughput_error": round(predicted["throughput_per_s"] / level["measured_throughput_per_s"] - 1, 3),
        "p50_error": round(predicted["p50_s"] / level["measured_p50_s"] - 1, 3),
        "steady_throughput_per_s": round(steady["throughput_per_s"], 4),
        "steady_latency_s": round(steady["mean_latency_s"], 2),
    }


def run_check(
    settings,
    clients: tuple[int, ...] = (1, 4),
    seconds: float = 60.0,
    max_new_tokens: int = 80,
    sources: int = 4,
    slot_scaling: float | None = None,
    log=lambda _msg: None,
) -> dict:
    """Measure the speeds, predict each level, run it; returns {"checks": [...], "machine": ...}.
    `sources`: copies of the ~150-token company facts in each prompt (4: ~670 prompt tokens)."""
    began = time.perf_counter()
    rng = random.Random(7)
    options = GenerationOptions(max_new_tokens=max_new_tokens, temperature=0)
    from core.application import Application  # the engine and chromadb: only this command loads them

    llm = Application(settings).engine(warm=False)  # its own: closed at the end
    try:
        llm.warm_up()
        log("measuring the engine's speed with one request alone")
        alone = _ask(llm, support_prompt(0, rng, sources), options, set(), threading.Lock())
        if alone is None:
            raise RuntimeError("the engine stopped the measuring request")
        read = alone["prompt_tokens"] - alone["cached_tokens"]
        machine = Machine(
            name=f"{llm.info.engine} {llm.info.model}",
            prefill_tok_s=read / alone["ttft_s"],
            decode_tok_s=alone["decode_tok_s"],
            slots=max(1, int(llm.info.parallel or 1)),
            source="measured now",
            **({} if slot_scaling is None else {"slot_scaling": slot_scaling}),
        ).validate()
        checks: list[dict] = []
        for n in clients:
            log(f"{n} client(s) for {seconds:.0f} s")
            level = run_level(llm, n, seconds, options, rng, 1000 * (len(checks) + 1), sources)
            if not level["requests"]:
                checks.append({"clients": n, "requests": 0, "note": "no answer finished within three times the time"})
                continue
            checks.append(compare(machine, level, seconds))
    finally:
        llm.close()
    return {
        "checks": checks,
        "machine": machine.to_dict(),
        "within_25pct": all(
            c.get("requests") and abs(c["throughput_error"]) <= 0.25 and abs(c["p50_error"]) <= 0.25 for c in checks
        ),
        "settings": {"seconds_per_level": seconds, "max_new_tokens": max_new_tokens, "sources": sources},
        "seconds": round(time.perf_counter() - began, 1),
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }


def save(result: dict, data_dir: Path) -> Path:
    """Keep the result under the data folder, where the Calibration tab shows the last run."""
    path = Path(data_dir) / CHECK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path
