"""A discrete-event simulation of written answers on one machine: the check on the queueing
formulas of core.economics.capacity (which assume exponential work and a stationary hour).

Arrivals: Poisson, at each hour's rate of the daily curve, day after day. Each answer's work is
gamma-distributed with mean 1 and the traffic's coefficient of variation (0: all alike, 1:
exponential). With k answers in progress every one advances at rate mu(k) / k (mu from
Machine.service_rates), so k answers complete mu(k) a second as in the formulas; beyond the slots
requests wait first come first served. A month of a busy shop (~30,000 written answers) takes a
fraction of a second: all answers in progress advance together, so one "virtual clock" and a heap
of finishing points replace per-answer bookkeeping.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np

from core.economics.capacity import Machine, Traffic
from core.economics.messages import InputError

MAX_ANSWERS = 2_000_000  # written answers one simulation may hold


@dataclass
class Simulation:
    days: int
    machines: int
    answers: int  # written answers simulated (on one machine)
    wait_mean_s: float
    wait_p50_s: float
    wait_p90_s: float
    first_word_p50_s: float
    first_word_p90_s: float
    answer_p50_s: float
    answer_p90_s: float
    response_mean_s: float  # from arrival to the whole answer, overhead excluded
    in_system_mean: float  # time-average number present (Little: = arrival rate x response_mean_s)
    arrivals_per_s: float
    busy_share: float  # share of time with at least one answer in progress
    seconds: float  # simulated time

    def to_dict(self) -> dict:
        return asdict(self)


def arrivals(traffic: Traffic, days: int, machines: int, rng: np.random.Generator) -> np.ndarray:
    """Arrival times (s) of written answers at one of `machines`, hour by hour."""
    rates = np.tile(traffic.written_per_second(machines) * 3600, days)
    counts = rng.poisson(rates)
    if counts.sum() > MAX_ANSWERS:
        raise InputError("simulation_too_big", max=f"{MAX_ANSWERS:,}")
    starts = np.repeat(np.arange(rates.size) * 3600.0, counts)
    return np.sort(starts + rng.random(starts.size) * 3600.0)


def sizes(n: int, cv: float, rng: np.random.Generator) -> np.ndarray:
    """Work of each answer: mean 1, coefficient of variation cv (gamma; 0 = all alike)."""
    if cv <= 0:
        return np.ones(n)
    shape = 1 / cv**2
    return rng.gamma(shape, 1 / shape, n)


def run_queue(times: np.ndarray, work: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, ...]:
    """The event loop: returns (start, finish, in service at start, integral of number present dt)."""
    c = mu.size
    rate = np.concatenate([[0.0], mu / np.arange(1, c + 1)]).tolist()  # progress per second with k in service
    n = times.size
    start, finish, k_start = np.empty(n), np.empty(n), np.empty(n)
    heap: list[tuple[float, int]] = []
    waiting: deque[int] = deque()
    now = virtual = area = busy = 0.0
    k = present = i = 0
    t_list, w_list = times.tolist(), work.tolist()
    while i < n or heap:
        t_arrival = t_list[i] if i < n else math.inf
        t_done = now + (heap[0][0] - virtual) / rate[k] if heap else math.inf
        t = min(t_arrival, t_done)
        area += present * (t - now)
        if k:
            busy += t - now
            virtual += (t - now) * rate[k]
        now = t
        if t_arrival <= t_done:
            j, i, present = i, i + 1, present + 1
            if k == c:
                waiting.append(j)
                continue
        else:
            point, done = heapq.heappop(heap)
            virtual = max(virtual, point)
            finish[done], k, present = now, k - 1, present - 1
            if not waiting:
                continue
            j = waiting.popleft()
        k += 1
        heapq.heappush(heap, (virtual + w_list[j], j))
        start[j], k_start[j] = now, k
    return start, finish, k_start, np.array([area, busy, now])


def simulate(machine: Machine, traffic: Traffic, days: int = 30, machines: int = 1, seed: int = 0) -> Simulation:
    """Simulate `days` of written answers on one of `machines` (traffic split evenly)."""
    machine.validate()
    traffic.validate()
    if days is None or days < 1 or int(days) != days:
        raise InputError("whole_at_least_1", what="days")
    if machines is None or machines < 1 or int(machines) != machines:
        raise InputError("whole_at_least_1", what="machines")
    rng = np.random.default_rng(seed)
    times = arrivals(traffic, int(days), int(machines), rng)
    mu = machine.service_rates(traffic.prompt_tokens, traffic.output_tokens)
    span = days * 86_400.0
    if times.size == 0:
        return Simulation(int(days), int(machines), 0, *(0.0,) * 11, span)
    start, finish, k_start, totals = run_queue(times, sizes(times.size, traffic.service_cv, rng), mu)
    wait = start - times
    first = wait + traffic.overhead_s + machine.prefill_s(traffic.prompt_tokens, k_start)
    whole = finish - times
    elapsed = max(float(totals[2]), span)
    return Simulation(
        days=int(days),
        machines=int(machines),
        answers=int(times.size),
        wait_mean_s=float(wait.mean()),
        wait_p50_s=float(np.quantile(wait, 0.5)),
        wait_p90_s=float(np.quantile(wait, 0.9)),
        first_word_p50_s=float(np.quantile(first, 0.5)),
        first_word_p90_s=float(np.quantile(first, 0.9)),
        answer_p50_s=float(np.quantile(whole, 0.5)) + traffic.overhead_s,
        answer_p90_s=float(np.quantile(whole, 0.9)) + traffic.overhead_s,
        response_mean_s=float(whole.mean()),
        in_system_mean=float(totals[0]) / elapsed,
        arrivals_per_s=times.size / elapsed,
        busy_share=float(totals[1]) / elapsed,
        seconds=elapsed,
    )


def simulate_closed(
    machine: Machine,
    prompt_tokens: float,
    output_tokens: float,
    clients: int,
    seconds: float,
    cv: float = 0.0,
    seed: int = 0,
) -> dict:
    """A load test as bench/written_load.py runs it: `clients` ask at once at time 0, each asks again
    as soon as its answer is complete until `seconds` have passed, and answers in flight then finish.
    Returns what that run measures: requests, throughput (answers / time to the last one), the median
    time to the whole answer and to the first word. Short runs start empty, so they differ from the
    steady state (capacity.closed_loop) as the measured ones do."""
    machine.validate()
    if clients is None or clients < 1 or int(clients) != clients:
        raise InputError("whole_at_least_1", what="clients")
    mu = machine.service_rates(prompt_tokens, output_tokens)
    c = mu.size
    rate = [0.0, *(mu / np.arange(1, c + 1)).tolist()]
    rng = np.random.default_rng(seed)
    shape = 1 / cv**2 if cv > 0 else 0.0
    now = virtual = 0.0
    heap: list[tuple[float, int, float]] = []  # (finishing point, order, asked at)
    waiting: deque[float] = deque([0.0] * int(clients))
    whole: list[float] = []
    first: list[float] = []
    ends: list[float] = []
    order = 0

    def admit() -> None:
        nonlocal order
        while len(heap) < c and waiting:
            asked = waiting.popleft()
            work = rng.gamma(shape, 1 / shape) if shape else 1.0
            heapq.heappush(heap, (virtual + work, order, asked))
            order += 1
            first.append(now - asked + float(machine.prefill_s(prompt_tokens, len(heap))))

    admit()
    while heap:
        point, _, asked = heap[0]
        now += (point - virtual) / rate[len(heap)]
        virtual = point
        heapq.heappop(heap)
        whole.append(now - asked)
        ends.append(now)
        if now < seconds:
            waiting.append(now)
        admit()
    return {
        "requests": len(whole),
        "throughput_per_s": len(whole) / ends[-1],
        "p50_s": float(np.median(whole)),
        "first_word_p50_s": float(np.median(first)),
    }
