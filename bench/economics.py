"""Economics engine speed (JSON): the calculator's latency budget.

    .venv/bin/python bench/economics.py [--repeats 5]

- monte_carlo_10k_ms: 10,000 draws x 36 months of the P&L, default ranges (target <= 1,000 ms)
- recompute_all_tabs_ms: evaluate_scenario, i.e. every tab's numbers after an input change:
  training, serving, serving plan, cost-per-user curve, API comparison, P&L, break-even,
  price war (3 responses), market sizing, tornado (target <= 200 ms)
- pnl_36_months_ms: monthly_pnl alone
Each is the median of --repeats runs after one warm-up run.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.economics import Scenario, evaluate_scenario, monte_carlo, monthly_pnl  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: first-call costs (file reads, caches) are not what an input change pays
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    s = Scenario()
    result = {
        "monte_carlo_10k_ms": median_ms(lambda: monte_carlo(s, draws=10_000, seed=0), args.repeats),
        "recompute_all_tabs_ms": median_ms(lambda: evaluate_scenario(s), args.repeats),
        "pnl_36_months_ms": median_ms(lambda: monthly_pnl(s), args.repeats),
        "targets_ms": {"monte_carlo_10k": 1000, "recompute_all_tabs": 200},
        "repeats": args.repeats,
    }
    result["within_targets"] = result["monte_carlo_10k_ms"] <= 1000 and result["recompute_all_tabs_ms"] <= 200
    print(json.dumps(result))


if __name__ == "__main__":
    main()
