"""Generation speed of the configured model: load time, TTFT and decode tokens/s (JSON).

    .venv/bin/python bench/generate.py [--max-new-tokens 64] [--repeats 3]

Same as `python -m core bench generate --json`; settings (APP_THREADS, APP_QUANTIZE, ...) come
from the environment as in the app.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.cli.main import main  # noqa: E402

sys.exit(main(["bench", "generate", "--json", *sys.argv[1:]]))
