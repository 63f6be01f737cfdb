"""The layers drawn in docs/architecture.md, read from its diagram, and the imports that break them.

An arrow `a --> b & c` in the mermaid flowchart says package a may use b and c; a package may use
what those use in turn (the arrows' closure). Any other import between packages points up the
layers. Used by tests/test_architecture.py and bench/structure.py."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIAGRAM = ROOT / "docs" / "architecture.md"
ARROW = re.compile(r"^\s*(\w+)(?:\[[^\]]*\])?\s*-->\s*(.+)$")


@cache
def arrows() -> dict[str, set[str]]:
    text = DIAGRAM.read_text(encoding="utf-8")
    chart = text.split("```mermaid", 1)[1].split("```", 1)[0]
    uses: dict[str, set[str]] = {}
    for line in chart.splitlines():
        found = ARROW.match(line)
        if found:
            uses.setdefault(found[1], set()).update(t.strip() for t in found[2].split("&"))
    return uses


def allowed() -> dict[str, set[str]]:
    """Each package and everything below it (the arrows' transitive closure)."""
    uses = arrows()
    below: dict[str, set[str]] = {}

    def reach(node: str) -> set[str]:
        if node not in below:
            below[node] = set()
            for nxt in uses.get(node, ()):
                below[node] |= {nxt} | reach(nxt)
        return below[node]

    for node in {*uses, *(t for ts in uses.values() for t in ts)}:
        reach(node)
    return below


def package_of(module: str) -> str | None:
    """The diagram's node a module belongs to (None: not in the layers, e.g. tests)."""
    parts = module.split(".")
    if parts[0] == "serve":
        return "serve"
    if parts[0] in ("app", "ui", "pages", "ui_calc"):
        return "pages"
    if parts[0] != "core" or len(parts) == 1:
        return None
    if parts[1] in ("cli", "__main__"):
        return "cli"
    return parts[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> list[Path]:
    return [
        ROOT / "app.py",
        ROOT / "ui.py",
        ROOT / "serve.py",
        *sorted((ROOT / "pages").glob("*.py")),
        *sorted((ROOT / "ui_calc").glob("*.py")),
        *sorted((ROOT / "core").rglob("*.py")),
    ]


def imported(path: Path):
    """(module, line) for every import in a file, inside functions too."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def upward_imports() -> list[str]:
    """'file:line a -> b' for every import from package a of package b that no arrow allows."""
    below = allowed()
    found = []
    for path in sources():
        here = package_of(module_name(path))
        for module, line in imported(path):
            there = package_of(module)
            if here is None or there is None or there == here:
                continue
            if there not in below.get(here, set()):
                found.append(f"{path.relative_to(ROOT)}:{line} {here} -> {there}")
    return found
