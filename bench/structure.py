"""The shape of the code, as issue 22's targets count it; prints JSON.

    .venv/bin/python bench/structure.py            # everything but the duplicate pairs
    .venv/bin/python bench/structure.py --duplicates   # also the `duplicates` tool's pair count (if installed)

- `builds`: the places outside tests that construct the model engine (`load_llm(`) or the knowledge
  base (`KnowledgeBase(`); the target is one module.
- `create_app_lines`: the length of `core/api/app.py`'s `create_app` (target ≤ 60).
- `long_functions`: functions over 80 lines in `core/`, `pages/`, `ui_calc/`, `ui.py`, `app.py`.
- `long_core_files`: files in `core/` over 450 lines (the translation tables in `core/i18n` excepted).
- `upward_imports`: imports between packages that no arrow of `docs/architecture.md`'s diagram
  allows, directly or through other arrows (`layers.py` reads the diagram; the architecture test
  fails on any).
- `duplicate_pairs`: pairs of places sharing six or more lines (the `duplicates` tool), with --duplicates.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.layers import upward_imports  # noqa: E402  (the same reading of the diagram as the test)

SOURCES = [ROOT / "app.py", ROOT / "ui.py", ROOT / "serve.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui_calc/*.py")]
CORE = sorted((ROOT / "core").rglob("*.py"))
TABLES = {"core/i18n/calc.py", "core/i18n/translate.py", "core/i18n/tables.py"}


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def builds() -> list[str]:
    """Calls of `load_llm(...)` or `KnowledgeBase(...)` (read from the syntax tree: docstrings and
    comments that name them do not count)."""
    found = []
    for path in [*SOURCES, *CORE]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in ("load_llm", "KnowledgeBase"):
                    found.append(f"{rel(path)}:{node.lineno}")
    return sorted(found)


def functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, (node.end_lineno or node.lineno) - node.lineno + 1


def duplicate_pairs() -> int | None:
    tool = shutil.which("duplicates")
    if tool is None:
        return None
    out = subprocess.run(
        [tool, "--most", "200", "--seconds", "300"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    found = re.search(r"^(\d+) pairs of places", out, re.M)
    return int(found[1]) if found else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duplicates", action="store_true", help="also count the duplicate pairs (slow: about a minute)")
    args = ap.parse_args()
    create_app = [n for name, _, n in functions(ROOT / "core/api/app.py") if name == "create_app"]
    long_functions = [
        {"where": f"{rel(p)}:{line}", "function": name, "lines": n}
        for p in [*SOURCES, *CORE]
        for name, line, n in functions(p)
        if n > 80
    ]
    long_files = {
        rel(p): n for p in CORE if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450 and rel(p) not in TABLES
    }
    out = {
        "builds": builds(),
        "create_app_lines": create_app[0] if create_app else 0,
        "long_functions": sorted(long_functions, key=lambda f: -f["lines"]),
        "long_core_files": dict(sorted(long_files.items(), key=lambda kv: -kv[1])),
        "upward_imports": upward_imports(),
        "duplicate_pairs": duplicate_pairs() if args.duplicates else None,
    }
    out["counts"] = {
        "builds": len(out["builds"]),
        "create_app_lines": out["create_app_lines"],
        "long_functions": len(long_functions),
        "long_core_files": len(long_files),
        "upward_imports": len(out["upward_imports"]),
        "duplicate_pairs": out["duplicate_pairs"],
    }
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
