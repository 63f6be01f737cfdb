"""Re-render time of the Cost & market calculator page after an input change (JSON).

    .venv/bin/python bench/calculator_page.py [--changes 20]

Drives pages/calculator.py with Streamlit's AppTest, changes one input per run (cycling through
inputs of different tabs) and reads the page's own timing of each run (`calc.render_ms`: computing
and laying out all nine tabs, server side). Target: median <= 200 ms. Browser paint is not included.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_DATA_DIR", tempfile.mkdtemp(prefix="calc-bench-"))

from streamlit.testing.v1 import AppTest  # noqa: E402

CHANGES = [
    ("subscription.price_per_seat_month", [30.0, 35.0]),
    ("training.params", [7.0, 13.0]),
    ("serving.batch", [16, 32]),
    ("price_war.cut_pct", [50.0, 30.0]),
    ("usage.users", [1000.0, 5000.0]),
    ("costs.team_monthly", [60000.0, 80000.0]),
    ("market.companies", [200000.0, 100000.0]),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=21)
    args = parser.parse_args()
    at = AppTest.from_file(str(ROOT / "pages" / "calculator.py"), default_timeout=120).run()
    first = at.session_state["calc.render_ms"]
    runs, by_tab = [], []
    for i in range(args.changes):
        path, values = CHANGES[i % len(CHANGES)]
        at.number_input(key=f"calc:{path}").set_value(values[(i // len(CHANGES)) % 2 ^ 1]).run()
        assert not at.exception, at.exception
        runs.append(at.session_state["calc.render_ms"])
        by_tab.append(at.session_state["calc.render_ms_by_tab"])
    tabs = {name: statistics.median(r[name] for r in by_tab) for name in by_tab[0]}
    print(
        json.dumps(
            {
                "first_render_ms": first,
                "rerender_ms_median": statistics.median(runs),
                "rerender_ms_p95": sorted(runs)[int(0.95 * (len(runs) - 1))],
                "rerender_ms_max": max(runs),
                "changes": len(runs),
                "median_ms_by_tab": tabs,
                "target_ms": 200,
            }
        )
    )


if __name__ == "__main__":
    main()
