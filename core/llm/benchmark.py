"""Generation benchmark: a fixed prompt set, greedy decoding, median timings (CLI `bench generate`)."""

from __future__ import annotations

import resource
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from core.config import Settings
from core.llm.base import Engine, GenerationOptions

LONG_CONTEXT = (
    "Northwind Outfitters sells outdoor clothing online in Europe and Asia. Orders ship within two "
    "working days from warehouses in Rotterdam and Shenzhen. Customers may return unworn items within "
    "30 days for a full refund; sale items can be exchanged but not refunded. Shipping is free above "
    "EUR 50, otherwise EUR 4.90. Premium members get free express shipping and early access to sales. "
    "Gift cards never expire and can be used together with discount codes. Repairs of zips and seams "
    "are free for two years after purchase. Support is available by chat from 8:00 to 20:00 CET on "
    "weekdays and by email at all times; emails are answered within one working day."
)

PROMPTS = [
    ("en", "Explain in three sentences why small businesses should keep a customer FAQ."),
    ("zh", "请用三句话说明小企业为什么应该维护常见问题解答（FAQ）。"),
    (
        "en-long",
        f"Company facts:\n{LONG_CONTEXT}\n\nUsing only these facts, answer: can I return a sale item, "
        "and how much does shipping cost for a EUR 30 order? Then summarise the return policy.",
    ),
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rss_mb(pid: int) -> float:
    """Resident memory of a process now (Linux /proc), 0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class PeakSampler:
    """Samples a child process's resident memory every 50 ms (getrusage only sees children that
    have exited; the engine runs on)."""

    def __init__(self, pid_of):
        self.pid_of, self.peak = pid_of, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.05):
            if pid := self.pid_of():
                self.peak = max(self.peak, rss_mb(pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def bench_generate(
    settings: Settings, open_engine: Callable[[], Engine], max_new_tokens: int = 64, repeats: int = 1
) -> dict:
    """open_engine: loads the configured engine (core/application.py); its time is `load_s`."""
    start = time.perf_counter()
    llm = open_engine()
    load_s = time.perf_counter() - start
    options = GenerationOptions(max_new_tokens=max_new_tokens, temperature=0)
    llm.warm_up()
    server = getattr(llm, "server", None)  # the llama.cpp engine's child process
    sampler = PeakSampler(lambda: server.pid) if server is not None else None
    runs = []
    for _ in range(repeats):
        for name, prompt in PROMPTS:
            messages = [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": prompt},
            ]
            reply, stats = llm.complete(messages, options)
            runs.append(
                {
                    "prompt": name,
                    "prompt_tokens": stats.prompt_tokens,
                    "cached_tokens": stats.cached_tokens,
                    "new_tokens": stats.new_tokens,
                    "ttft_ms": round(stats.ttft_ms, 1),
                    "decode_tok_s": round(stats.decode_tok_s, 2),
                    "reply": reply[:120],
                }
            )

    # A chat's second turn: the first turn's prompt is in the engine's prompt cache (llama.cpp), so
    # only the new message is read before the first token.
    name, prompt = PROMPTS[-1]
    first = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": prompt}]
    reply, _ = llm.complete(first, options)
    _, second = llm.complete(
        [
            *first,
            {"role": "assistant", "content": reply},
            {"role": "user", "content": "And what about a EUR 60 order?"},
        ],
        options,
    )

    def median(key):
        return round(statistics.median(r[key] for r in runs), 2)

    engine_mb = sampler.stop() if sampler else 0.0
    return {
        "engine": llm.info.engine,
        "model": llm.info.model,
        "adapter": llm.info.adapter,
        "device": llm.info.device,
        "dtype": llm.info.dtype,
        "threads": llm.info.threads,
        "parallel": llm.info.parallel,
        "quantize": settings.quantize,
        "load_s": round(load_s, 2),
        "prompt_tokens": median("prompt_tokens"),
        "new_tokens": median("new_tokens"),
        "ttft_ms": median("ttft_ms"),
        "decode_tok_s": median("decode_tok_s"),
        "long_prompt_tokens": next(r["prompt_tokens"] for r in runs if r["prompt"] == "en-long"),
        "long_prompt_ttft_ms": round(statistics.median(r["ttft_ms"] for r in runs if r["prompt"] == "en-long"), 1),
        "second_turn_ttft_ms": round(second.ttft_ms, 1),
        "second_turn_cached_tokens": second.cached_tokens,
        "second_turn_prompt_tokens": second.prompt_tokens,
        "peak_rss_mb": round(peak_rss_mb() + engine_mb, 1),  # this process + the engine child
        "engine_peak_rss_mb": round(engine_mb, 1),
        "runs": runs,
    }
