"""Written-answer load on the real model: N clients asking support-style questions (~600-token
prompts, 80 tokens written) at once, against the capacity model's prediction; prints JSON.

    .venv/bin/python bench/written_load.py                      # 1 and 4 clients, 60 s each
    .venv/bin/python bench/written_load.py --clients 1,2,4 --seconds 90

The same run as `python -m core cost capacity --check` (core/cli/capacity_check.py): one request
alone measures the engine's speeds, core.economics.capacity predicts each level's throughput and
median time to the whole answer, then each level runs for --seconds (answers in flight finish).
The engine is the app's (llama.cpp on 127.0.0.1, APP_PARALLEL slots). Run it on a quiet machine:
anything else on the same cores slows the load but not the single request the prediction uses,
or the other way round.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.cli.capacity_check import run_check  # noqa: E402
from core.config import load_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="1,4", help="load levels, comma-separated")
    ap.add_argument("--seconds", type=float, default=60.0, help="per level")
    ap.add_argument("--max-new-tokens", type=int, default=80)
    ap.add_argument("--sources", type=int, default=4, help="~150-token sources per prompt (4: ~670 tokens)")
    args = ap.parse_args()
    levels = tuple(int(x) for x in args.clients.split(","))
    result = run_check(
        load_settings(),
        levels,
        args.seconds,
        args.max_new_tokens,
        args.sources,
        log=lambda m: print(m, file=sys.stderr),
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
