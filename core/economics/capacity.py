"""Capacity: how many customers one machine (or GPU) serves at once, how long each waits for the
first word, and how many machines a latency target needs.

The machine is a model server with `slots` answers in progress at once (llama.cpp's parallel slots,
continuous batching); further requests wait in line, first come first served. Its speed is what
`python -m core bench generate` measures here (prompt tokens read per second, tokens written per
second by one answer alone), or a catalogue GPU's roofline (core.economics.serving).

Slots do not add throughput linearly. A decode step writes one token for every answer in progress:
part of its cost is paid once per step (reading the weights, the server's own work), part once per
answer (the maths). With `slot_scaling` alpha the share paid per answer, a step with k answers takes
(1 - alpha + alpha x k) / decode speed, so k answers together write k / (1 - alpha + alpha x k)
times as many tokens as one alone: alpha = 0 is a memory-bound GPU (slots are free), alpha = 1 a
fully compute-bound CPU (slots add nothing). On this 2-core CPU, 1 answer alone decoded 26.6 tok/s
and 4 at once 33.6 together: alpha = 0.72. Prompts are compute-bound everywhere: reading one costs
its tokens / prefill speed whatever else runs. So with k answers in service the machine completes

    mu(k) = 1 / (P / prefill + (D / decode) x (alpha + (1 - alpha) / k))    answers per second

for P prompt and D written tokens per answer (mu(1) = 1 / one answer's time alone).

Queue: Poisson arrivals (rate lambda) into that load-dependent server with c slots: a birth-death
chain, solved exactly (exponential work); above c the machine runs at mu(c), so the wait beyond c
is that of M/M/c: P(wait > t) = P(wait) x exp(-(mu(c) - lambda) t) (Erlang C when alpha = 0).
Answers are not exponential (their token counts vary less): the mean wait is scaled by
(1 + cv^2) / 2 (the Allen-Cunneen approximation for M/G/c; cv = coefficient of variation of one
answer's work), keeping P(wait) and the exponential shape. Time to first word = the tier-2
overhead (retrieval, relevance check) + wait + reading the prompt (plus one decode token of each
other answer in progress per 512-token prompt chunk). core.economics.capacity_sim simulates the
same machine event by event to check these approximations; core.economics.capacity_plan sizes a day
of traffic with them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from core.economics.hardware import DATA_DIR, check_rate
from core.economics.messages import InputError
from core.economics.serving import estimate_serving

# Hourly traffic, relative to the day's mean (24 values, mean 1): when customers write.
DAILY_CURVES: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 24,
    # a shop's support chat, busiest in office hours (illustrative)
    "office": (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.9, 1.6, 2.0, 2.1, 2.0, 1.7, 1.9, 2.0, 1.9, 1.7, 1.4,
               1.1, 0.9, 0.7, 0.5, 0.3, 0.2),
    # a consumer app, busiest in the evening (illustrative)
    "evening": (0.5, 0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.1, 1.0, 1.0, 1.0, 1.1, 1.3,
                1.6, 2.0, 2.3, 2.3, 1.9, 1.2),
}  # fmt: skip
CURVES = tuple(DAILY_CURVES)
PROMPT_CHUNK = 512  # llama.cpp reads prompts in micro-batches of this many tokens (its n_ubatch)
# This development machine (2-core Xeon VM, Qwen2.5-Coder-1.5B Q4_K_M, llama.cpp, 2 threads):
# `python -m core bench generate` and llama-bench (README, Performance); the slot scaling from
# 1 stream 26.6 tok/s vs 4 streams 33.6 tok/s together.
THIS_MACHINE = {"prefill_tok_s": 100.0, "decode_tok_s": 15.0, "slots": 2, "slot_scaling": 0.72}
# `python -m core cost capacity --check` writes its result under the data folder with this name; the
# run recorded on the development machine is kept beside the catalogue.
CHECK_FILE = "capacity_check.json"
CHECK_REFERENCE = DATA_DIR / CHECK_FILE


def _check(value, what: str, low: float = 0.0, strict: bool = False) -> float:
    if value is None or not math.isfinite(value):
        raise InputError("not_number", what=what)
    if value < low or (strict and value <= low):
        raise InputError("positive" if strict else "negative", what=what)
    return float(value)


def _check_share(value, what: str) -> float:
    if value is None or not math.isfinite(value) or not 0 <= value <= 1:
        raise InputError("share_0_1", what=what)
    return float(value)


@dataclass(frozen=True)
class Machine:
    """One model server: speeds of one answer alone, slots, how slots share it, its price per hour."""

    name: str
    prefill_tok_s: float  # prompt tokens read per second
    decode_tok_s: float  # tokens written per second by one answer alone
    slots: int  # answers in progress at once
    slot_scaling: float = THIS_MACHINE["slot_scaling"]  # alpha, see the module's docstring
    usd_per_hour: float | None = None
    source: str = ""

    def validate(self) -> Machine:
        _check(self.prefill_tok_s, "prefill_speed", strict=True)
        _check(self.decode_tok_s, "decode_speed", strict=True)
        if self.slots is None or self.slots < 1 or int(self.slots) != self.slots:
            raise InputError("whole_at_least_1", what="slots")
        _check_share(self.slot_scaling, "slot_scaling")
        if self.usd_per_hour is not None:
            check_rate(self.usd_per_hour, "machine_price")
        return self

    def service_rates(self, prompt_tokens: float, output_tokens: float) -> np.ndarray:
        """mu(k) for k = 1..slots: answers completed per second with k in progress."""
        k = np.arange(1, self.slots + 1, dtype=float)
        a = self.slot_scaling
        return 1.0 / (prompt_tokens / self.prefill_tok_s + output_tokens / self.decode_tok_s * (a + (1 - a) / k))

    def prefill_s(self, prompt_tokens: float, k) -> np.ndarray:
        """Time to read one prompt with k answers in progress (itself included)."""
        chunks = max(1.0, math.ceil(prompt_tokens / PROMPT_CHUNK))
        k = np.maximum(np.asarray(k, dtype=float), 1.0)
        return prompt_tokens / self.prefill_tok_s + chunks * (k - 1) * self.slot_scaling / self.decode_tok_s

    def to_dict(self) -> dict:
        return asdict(self)


def this_machine(usd_per_hour: float | None = None, **speeds) -> Machine:
    """This development machine as measured (THIS_MACHINE), any speed overridden by keyword."""
    return Machine(name="this machine", usd_per_hour=usd_per_hour, source="measured", **(THIS_MACHINE | speeds))


def machine_from_bench(
    bench: dict, slots: int | None = None, slot_scaling: float | None = None, usd_per_hour: float | None = None
) -> Machine:
    """A Machine from `python -m core bench generate --json`: prompt speed from its long prompt's
    tokens / time to first token, decode speed as measured, slots from its `parallel`."""
    try:
        prefill = float(bench["long_prompt_tokens"]) / (float(bench["long_prompt_ttft_ms"]) / 1000)
        decode = float(bench["decode_tok_s"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        raise InputError("bench_result") from None
    return Machine(
        name=f"{bench.get('engine', 'engine')} {bench.get('model', '')}".strip(),
        prefill_tok_s=prefill,
        decode_tok_s=decode,
        slots=int(slots or bench.get("parallel") or 1),
        slot_scaling=THIS_MACHINE["slot_scaling"] if slot_scaling is None else slot_scaling,
        usd_per_hour=usd_per_hour,
        source="bench generate",
    ).validate()


def gpu_machine(
    gpu: str,
    params: float,
    slots: int,
    precision: str = "bf16",
    context: int = 4096,
    usd_per_gpu_hour: float | None = None,
    **serving,
) -> Machine:
    """A catalogue GPU (one copy of the model, on as many GPUs as it needs) with roofline speeds:
    prefill and one-answer decode from estimate_serving at batch 1; alpha from its decode step at
    batch `slots` against batch 1 (step(k) ~ step(1) x (1 - alpha + alpha x k))."""
    one = estimate_serving(params, gpu, precision, 1, context, usd_per_gpu_hour=usd_per_gpu_hour, **serving)
    many = estimate_serving(params, gpu, precision, slots, context, usd_per_gpu_hour=usd_per_gpu_hour, **serving)
    step1, stepc = 1 / one.decode_tok_s_per_sequence, 1 / many.decode_tok_s_per_sequence
    alpha = min(max((stepc - step1) / ((slots - 1) * step1), 0.0), 1.0) if slots > 1 else 1.0
    n = many.gpus_needed
    rate = many.usd_per_gpu_hour
    return Machine(
        name=f"{n} x {many.gpu}" if n > 1 else many.gpu,
        prefill_tok_s=one.prefill_tok_s * n,
        decode_tok_s=one.decode_tok_s_per_sequence,
        slots=int(slots),
        slot_scaling=alpha,
        usd_per_hour=rate * n if rate is not None else None,
        source="roofline",
    ).validate()


@dataclass(frozen=True)
class Traffic:
    """Customer questions: how many, when, which tier answers them, how long each tier takes."""

    conversations_per_day: float = 500.0
    questions_per_conversation: float = 1.5
    daily_curve: str = "office"
    tier1_share: float = 0.5  # curated FAQ answer, no generation
    tier2_share: float = 0.417  # written by the model (the rest, tier 3, is handed over)
    prompt_tokens: float = 750.0
    output_tokens: float = 110.0
    tier1_s: float = 0.51  # a curated answer, relevance check included
    tier3_s: float = 3.7  # a hand-over
    overhead_s: float = 1.5  # before a written answer's prompt is read: retrieval, relevance check
    service_cv: float = 0.5  # variation of one written answer's work (0 = all alike, 1 = exponential)

    def validate(self) -> Traffic:
        _check(self.conversations_per_day, "conversations_per_day")
        _check(self.questions_per_conversation, "questions_per_conversation")
        if self.daily_curve not in DAILY_CURVES:
            raise InputError("unknown_curve", curve=self.daily_curve, choices=", ".join(CURVES))
        _check_share(self.tier1_share, "tier1_share")
        _check_share(self.tier2_share, "tier2_share")
        if self.tier1_share + self.tier2_share > 1 + 1e-9:
            raise InputError("tier_shares")
        _check(self.prompt_tokens, "prompt_tokens")
        _check(self.output_tokens, "output_tokens")
        if self.prompt_tokens + self.output_tokens <= 0:
            raise InputError("tokens_per_request")
        for value, what in ((self.tier1_s, "tier1_s"), (self.tier3_s, "tier3_s"), (self.overhead_s, "overhead_s")):
            _check(value, what)
        _check(self.service_cv, "service_cv")
        return self

    @property
    def tier3_share(self) -> float:
        return max(0.0, 1.0 - self.tier1_share - self.tier2_share)

    @property
    def questions_per_day(self) -> float:
        return self.conversations_per_day * self.questions_per_conversation

    def written_per_second(self, machines: int = 1) -> np.ndarray:
        """Written answers (tier 2) per second reaching one of `machines`, each hour of the day."""
        curve = np.asarray(DAILY_CURVES[self.daily_curve], dtype=float)
        curve = curve / curve.mean()
        return self.questions_per_day * self.tier2_share / 86_400 * curve / machines


# ------------------------------------------------------------------------------------ the queue


def queue_state(lam, mu: np.ndarray, cv: float = 1.0) -> dict:
    """The stationary queue for arrival rates `lam` (an array: one value per hour) at a server whose
    completion rate with k in service is mu[k - 1] (k = 1..c), beyond c waiting first come first served.

    Returns arrays: utilisation (lambda / mu(c)), stable, p_wait (P(all slots busy on arrival)),
    mean_wait (Allen-Cunneen scaled by (1 + cv^2) / 2), decay (the rate of the wait's exponential
    tail), in_system (mean number present), in_service_on_arrival (slots busy once an arrival has
    started, itself included), throughput (= lambda when stable).
    """
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    mu = np.asarray(mu, dtype=float)
    c = mu.size
    rho = lam / mu[-1]
    stable = rho < 1
    safe_rho = np.where(stable, rho, 0.5)
    with np.errstate(divide="ignore"):
        steps = np.log(lam)[:, None] - np.log(mu)[None, :]
    logs = np.concatenate([np.zeros((lam.size, 1)), np.cumsum(steps, axis=1)], axis=1)  # log pi_n / pi_0, n = 0..c
    shift = logs.max(axis=1, keepdims=True)
    weights = np.exp(logs - shift)
    weights[:, c] /= 1 - safe_rho  # n >= c: a geometric tail, summed
    pi = weights / weights.sum(axis=1, keepdims=True)  # pi[:, :c] = P(N = n); pi[:, c] = P(N >= c)
    p_wait = pi[:, c]
    mean_wait_mm = np.where(lam > 0, p_wait / np.maximum(mu[-1] - lam, 1e-300), 0.0)
    n = np.arange(c, dtype=float)
    queue_len = p_wait * safe_rho / (1 - safe_rho)
    in_service = (pi[:, :c] * n).sum(axis=1) + c * p_wait
    on_arrival = (pi[:, :c] * (n + 1)).sum(axis=1) + c * p_wait
    mean_wait = mean_wait_mm * (1 + cv**2) / 2
    decay = np.where(mean_wait > 0, p_wait / np.maximum(mean_wait, 1e-300), 0.0)  # 0 with P(wait) 0: no wait
    nan = np.full(lam.size, np.nan)
    return {
        "utilisation": rho,
        "stable": stable,
        "p_wait": np.where(stable, p_wait, 1.0),
        "mean_wait": np.where(stable, mean_wait, np.inf),
        "mean_wait_mm": np.where(stable, mean_wait_mm, np.inf),
        "decay": np.where(stable, decay, 0.0),
        "in_system": np.where(stable, in_service + queue_len, np.inf),
        "in_service": np.where(stable, in_service, nan),
        "in_service_on_arrival": np.where(stable, on_arrival, float(c)),
        "throughput": np.where(stable, lam, mu[-1]),
    }


def wait_quantile(q: float, p_wait, decay) -> np.ndarray:
    """The q-quantile of the wait: 0 when q <= 1 - P(wait), else ln(P(wait) / (1 - q)) / decay."""
    p_wait, decay = np.asarray(p_wait, dtype=float), np.asarray(decay, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(p_wait / (1 - q)) / decay
    return np.where(p_wait <= 1 - q, 0.0, np.where(decay > 0, t, np.inf))


@dataclass
class Latency:
    """Written answers (tier 2) at one arrival rate per machine; times in seconds."""

    arrivals_per_s: float
    utilisation: float
    stable: bool
    p_wait: float
    mean_wait_s: float
    wait_p50_s: float
    wait_p90_s: float
    first_word_p50_s: float
    first_word_p90_s: float
    answer_p50_s: float
    answer_p90_s: float
    in_system: float

    def to_dict(self) -> dict:
        """Fields as a dict, infinities (an hour past capacity) as None."""
        values = ((k, getattr(self, k)) for k in self.__dataclass_fields__)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values}


def answer_offsets(machine: Machine, traffic: Traffic, state: dict) -> tuple[np.ndarray, np.ndarray]:
    """(time to first word, time to the whole answer) besides the wait, per row of `state`."""
    k = state["in_service_on_arrival"]
    first = traffic.overhead_s + machine.prefill_s(traffic.prompt_tokens, k)
    mu = machine.service_rates(traffic.prompt_tokens, traffic.output_tokens)
    ks = np.clip(np.rint(k).astype(int), 1, machine.slots)
    return first, traffic.overhead_s + ks / mu[ks - 1]


def latency(machine: Machine, traffic: Traffic, arrivals_per_s) -> list[Latency]:
    """Written answers' wait, time to first word and time to the whole answer at each arrival rate."""
    machine.validate()
    traffic.validate()
    lam = np.atleast_1d(np.asarray(arrivals_per_s, dtype=float))
    state = queue_state(lam, machine.service_rates(traffic.prompt_tokens, traffic.output_tokens), traffic.service_cv)
    first, whole = answer_offsets(machine, traffic, state)
    out = []
    for i in range(lam.size):
        stable = bool(state["stable"][i])
        w50, w90 = (float(wait_quantile(q, state["p_wait"][i], state["decay"][i])) for q in (0.5, 0.9))
        if not stable:
            w50 = w90 = math.inf
        out.append(
            Latency(
                arrivals_per_s=float(lam[i]),
                utilisation=float(state["utilisation"][i]),
                stable=stable,
                p_wait=float(state["p_wait"][i]),
                mean_wait_s=float(state["mean_wait"][i]),
                wait_p50_s=w50,
                wait_p90_s=w90,
                first_word_p50_s=float(first[i]) + w50,
                first_word_p90_s=float(first[i]) + w90,
                answer_p50_s=float(whole[i]) + w50,
                answer_p90_s=float(whole[i]) + w90,
                in_system=float(state["in_system"][i]),
            )
        )
    return out


def closed_loop(
    machine: Machine, prompt_tokens: float, output_tokens: float, clients: int, think_s: float = 0.0
) -> dict:
    """N clients, each asking again `think_s` after its answer (bench/api_load.py, bench/written_load.py:
    think 0): the finite-source birth-death chain. Returns throughput (answers/s) and the mean
    time from asking to the whole answer (Little's law: N / throughput - think)."""
    machine.validate()
    if clients is None or clients < 1 or int(clients) != clients:
        raise InputError("whole_at_least_1", what="clients")
    _check(think_s, "think_s")
    mu = machine.service_rates(prompt_tokens, output_tokens)
    rate = mu[np.minimum(np.arange(1, clients + 1), machine.slots) - 1]  # mu at n present, n = 1..N
    if think_s == 0:
        x = float(rate[-1])
    else:
        n = np.arange(1, clients + 1)
        logs = np.concatenate([[0.0], np.cumsum(np.log((clients - n + 1) / think_s) - np.log(rate))])
        pi = np.exp(logs - logs.max())
        pi /= pi.sum()
        x = float((pi[1:] * rate).sum())
    return {"clients": int(clients), "throughput_per_s": x, "mean_latency_s": clients / x - think_s}
