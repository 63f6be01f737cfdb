"""Hostile strings against every regular expression the app runs on outside text.

    .venv/bin/python bench/regex_fuzz.py [--seconds 60] [--only guard] [--skip LOOP] [--length 8192]

Every `re.compile / search / match / fullmatch / sub / subn / split / findall / finditer` call in
core/, pages/, ui_calc/ and the top-level scripts is found in the source (ast), its pattern
evaluated in its module (so computed patterns, "|".join(...) of a list, count too), and each is
then run (finditer to the end: the cost of search, sub, split and findall alike) on strings built
by Hypothesis to be slow for it: runs and repetitions of the pattern's own characters and words,
separators, nested brackets, CJK, with `hypothesis.target` steering toward the slowest. A
GilWatch thread (bench/gil_watch.py) records the longest the interpreter was held meanwhile.

Prints one JSON object: {"patterns", "examples", "slowest_ms" (the slowest single call: what a
pattern held the interpreter for), "slowest_pattern", "max_gil_hold_ms" (the GilWatch's worst over
the whole run, the fuzzer's own garbage collection and a busy machine's scheduling included),
"idle_max_gil_hold_ms" (the same for a second of doing nothing first), "fixed_shapes" (the test's
hostile strings, run first: their count, slowest call and GilWatch worst), "slowest": [the five
slowest patterns with their input]}. --seconds counts the Hypothesis part only. tests/test_regex_linear.py runs the fixed
hostile shapes of `hostile_strings` on every pattern (`find_patterns`) and fails on any call over 50 ms.
"""

from __future__ import annotations

import argparse
import ast
import gc
import importlib
import json
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: core is imported from the source tree
    sys.path.insert(0, str(ROOT))

SCANNED = ["core", "pages", "ui_calc", "app.py", "ui.py", "serve.py"]
CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
# The flags argument's position, by function: re.sub(pattern, repl, string, count, flags).
FLAGS_AT = {"compile": 1, "search": 2, "match": 2, "fullmatch": 2, "findall": 2, "finditer": 2, "split": 3}
FLAGS_AT |= {"sub": 4, "subn": 4}

# Longest outside text each kind of input can be (README, core/api/schemas.py): questions 2,000
# characters, tickets 5,000, knowledge-base chunks 500 (core/kb/ingest.py), model output at its
# token limit ~8,000, request headers 8 KB. Every pattern is run at the longest of them all but
# those in LENGTHS.
MAX_LENGTH = 8192
# Patterns that only see shorter text: the question filter (questions are at most 2,000 characters)
# and the passage filter (a line of a knowledge-base chunk: 500 characters and its section title).
LENGTHS = {"QUESTION_INJECTION": 2000, "SOURCE_INJECTION": 2000}


@dataclass
class Target:
    name: str  # "core/support/guard.py:118 QUESTION_INJECTION"
    pattern: re.Pattern
    length: int = MAX_LENGTH
    words: list[str] = field(default_factory=list)
    chars: list[str] = field(default_factory=list)


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
    return out


def _module(path: Path):
    rel = path.relative_to(ROOT)
    if rel.parts[0] != "core":  # Streamlit scripts run on import: only literal patterns there
        return None
    return importlib.import_module(".".join(rel.with_suffix("").parts))


def _evaluate(node: ast.expr | None, module) -> object:
    if node is None:
        return 0
    try:
        return ast.literal_eval(node)
    except ValueError:
        if module is None:
            raise
    return eval(compile(ast.Expression(node), "<pattern>", "eval"), vars(module))  # noqa: S307 (our own source)


def find_patterns() -> tuple[list[Target], list[str]]:
    """(every regular expression in the scanned code, compiled; the calls whose pattern is only
    known at run time, as "file:line")."""
    found: dict[tuple[str, int], Target] = {}
    dynamic: list[str] = []
    for path in _files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = None
        names = {}  # module-level NAME = re.compile(...): the name, for reports
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1:
                if isinstance(node.targets[0], ast.Name):
                    names[id(node.value)] = node.targets[0].id
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in CALLS
                and node.args
            ):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            flags_node = next((k.value for k in node.keywords if k.arg == "flags"), None)
            if flags_node is None and len(node.args) > FLAGS_AT[node.func.attr]:
                flags_node = node.args[FLAGS_AT[node.func.attr]]
            first = node.args[0]  # `a if language == "zh" else b`: both
            for expr in (first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,):
                try:
                    if module is None:
                        module = _module(path)
                    compiled = re.compile(_evaluate(expr, module), _evaluate(flags_node, module))  # type: ignore[arg-type]
                except Exception:  # a pattern made at run time (a template's) or from a local variable
                    dynamic.append(where)
                    continue
                key = (compiled.pattern, compiled.flags)
                if key not in found:
                    name = f"{where} {names.get(id(node), '')}".strip()
                    length = LENGTHS.get(names.get(id(node), ""), MAX_LENGTH)
                    found[key] = Target(name, compiled, length, *_alphabet(compiled))
    return list(found.values()), dynamic


# -- what a pattern is made of --------------------------------------------------------------------
def _alphabet(pattern: re.Pattern) -> tuple[list[str], list[str]]:
    """(the literal words in a pattern, its characters): what hostile strings are built from."""
    from re import _constants as C  # noqa: N812
    from re import _parser

    words: list[str] = []
    chars: list[str] = []

    def add(c: str) -> None:
        if c not in chars:
            chars.append(c)

    def walk(items) -> None:
        run = ""
        for op, arg in items:
            if op is C.LITERAL:
                run += chr(arg)
                add(chr(arg))
                continue
            if len(run) >= 2 and run not in words:
                words.append(run)
            run = ""
            if op is C.NOT_LITERAL:
                add(chr(arg + 1) if arg + 1 < 0x110000 else "a")
            elif op is C.IN:
                for kind, value in arg:
                    if kind is C.LITERAL:
                        add(chr(value))
                    elif kind is C.RANGE:
                        add(chr(value[0]))
                    elif kind is C.CATEGORY:
                        for c in {
                            C.CATEGORY_DIGIT: "7",
                            C.CATEGORY_SPACE: " \n",
                            C.CATEGORY_WORD: "a_中",
                            C.CATEGORY_NOT_WORD: "-'",
                        }.get(value, ""):
                            add(c)
            elif op is C.BRANCH:
                for branch in arg[1]:
                    walk(branch)
            elif op is C.SUBPATTERN:
                walk(arg[-1])
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
                walk(arg[2])
            elif op is C.ATOMIC_GROUP:
                walk(arg)
            elif op in (C.ASSERT, C.ASSERT_NOT):
                walk(arg[1])
            elif op is C.CATEGORY:
                add({C.CATEGORY_DIGIT: "7", C.CATEGORY_SPACE: " ", C.CATEGORY_WORD: "a"}.get(arg, "-"))
        if len(run) >= 2 and run not in words:
            words.append(run)

    walk(_parser.parse(pattern.pattern, pattern.flags))
    return words, chars


# -- fixed hostile shapes (the test) --------------------------------------------------------------
# Shapes seen to be slow before they were fixed, and the usual suspects for backtracking.
MAX_SHAPES = 60
SHAPES = [
    "ignore-",  # issue 21: 109 s in the question filter at 1,995 characters
    "See [the guide](https://help.example/a (for orders placed abroad, ",  # issue 21: the output tail
    "See [the guide](https://help.example/a (for orders placed abroad, \n",
    "[",
    "![",
    "(",
    "[a](",
    "[a](b (",
    "<",
    "<a ",
    "<|",
    "<<",
    " ",
    "\n",
    " \n",
    "a.",
    "1.",
    "a@",
    "a-",
    "A-",
    "AB-",
    "www.",
    "http://a",
    "...",
    "!!",
    "。",
    "中",
    "中a-",
    "a ",
    "ignore all ",
    "ignore the-",
    "你好，",
    "[1] ",
    "# ",
    "\t",
    "0,",
]


def _no_repeats(n: int, alphabet: str) -> str:
    """A text that repeats no phrase (a backreference's worst case: "(.{3,}?)\\1" tries every length)."""
    words, size, i = [], 0, 0
    while size < n:
        i += 1
        word, k = "", i
        while k:
            k, r = divmod(k, len(alphabet))
            word += alphabet[r]
        words.append(word + " ")
        size += len(word) + 1
    return "".join(words)[:n]


def hostile_strings(target: Target, length: int | None = None) -> list[tuple[str, str]]:
    """(shape, text) pairs of `length` characters: a shape repeated, then a character that makes a
    match fail late (alone, and after a line break); and texts that repeat no phrase. The shapes: the
    cases of issue 21, the usual suspects that share a character with the pattern (a shape with none
    is plain text to it), the pattern's own characters, pairs of its punctuation, and its words."""
    n = length or target.length
    mine = set(target.chars)
    units = [unit for i, unit in enumerate(SHAPES) if i < 3 or mine & set(unit)]
    units += target.chars[:12]
    marks = [c for c in target.chars if not c.isalnum()][:6]
    units += [a + b for i, a in enumerate(marks) for b in marks[i + 1 :]]
    for word in target.words[:10]:
        units += [word + "-", word + " "]
    if len(target.words) >= 2:
        units.append("-".join(target.words[:12]) + "-")
    out = []
    for unit in list(dict.fromkeys(units))[:MAX_SHAPES]:
        text = (unit * (n // len(unit) + 1))[: n - 1]
        out += [(unit + "…\\x7f", text + "\x7f"), (unit + "…\\n\\x7f", text[:-1] + "\n\x7f")]
    for alphabet in (
        "abcdefghijklmnopqrstuvwxyz",
        "一二三四五六七八九十",
        "".join(dict.fromkeys(target.chars[:12] + ["a", "b"])),
    ):
        out.append((f"no repeats of {alphabet[:12]!r}", _no_repeats(n, alphabet)))
    return out


def run_once(pattern: re.Pattern, text: str) -> float:
    """Milliseconds for finditer to the end (the work of search, sub, split or findall)."""
    start = time.perf_counter()
    for _ in pattern.finditer(text):
        pass
    return (time.perf_counter() - start) * 1000


class TooSlow(Exception):
    pass


def _too_slow(signum, frame):
    raise TooSlow


def cpu_ms(call, *args, cap_s: float = 1.0) -> float:
    """CPU milliseconds of call(*args) in this thread, or inf when it ran past cap_s seconds (wall):
    `re` checks for signals as it goes, so an alarm stops a catastrophic match (main thread only)."""
    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.setitimer(signal.ITIMER_REAL, cap_s)
    start = time.thread_time()
    try:
        call(*args)
    except TooSlow:
        return float("inf")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return (time.thread_time() - start) * 1000


def exhaust(pattern: re.Pattern, text: str) -> None:
    for _ in pattern.finditer(text):
        pass


# -- the fuzzer -----------------------------------------------------------------------------------
def fuzz(targets: list[Target], seconds: float, length: int | None = None) -> dict:
    """Hypothesis builds strings for each pattern in turn (25 a round, `target` steering each toward
    its slowest) until `seconds` have passed; a GilWatch thread records the longest hold."""
    sys.path.insert(0, str(ROOT / "bench"))
    from gil_watch import GilWatch
    from hypothesis import HealthCheck, Phase, given, settings, target
    from hypothesis import strategies as st

    worst: dict[str, tuple[float, str]] = {}  # pattern -> (ms, the repeated unit)
    examples = 0
    deadline = time.monotonic() + seconds

    def check(t: Target) -> None:
        n = length or t.length
        pieces = st.sampled_from(t.chars + t.words + list(SHAPES) + [" ", "-", "\n", "'", "中", "a", "(", "["])
        unit = st.lists(pieces, min_size=1, max_size=6).map("".join)
        tail = st.sampled_from(["", "\n", "\x7f", "!", ")", "]", "-", "a", "\nx"])

        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.target],
            suppress_health_check=list(HealthCheck),
        )
        @given(unit, st.lists(pieces, max_size=3).map("".join), tail)
        def slow(u: str, head: str, end: str) -> None:
            nonlocal examples
            if time.monotonic() > deadline:
                return
            text = (head + u * (n // len(u) + 1))[: n - len(end)] + end
            ms = min(cpu_ms(exhaust, t.pattern, text, cap_s=2.0), 2000.0)  # (a runaway counts as 2 s)
            examples += 1
            target(ms)
            if ms > worst.get(t.name, (-1.0, ""))[0]:
                worst[t.name] = (ms, repr(head + u + "…" + end)[:80])

        slow()

    # What is loaded by now (the app, Hypothesis) is left out of garbage collection: a full pass over
    # it held the interpreter for 200-300 ms every few seconds here, which is the collector's, not
    # a pattern's (a server can do the same after start-up: gc.freeze()).
    gc.collect()
    gc.freeze()
    with GilWatch() as idle:  # the machine's own noise: a busy one wakes a sleeping thread late too
        time.sleep(1.0)
    shapes = {"strings": 0, "slowest_ms": 0.0, "slowest_pattern": ""}
    with GilWatch() as fixed:  # first the fixed shapes of the test: regex work only, little else
        for t in targets:
            for _, text in hostile_strings(t, length):
                ms = min(cpu_ms(exhaust, t.pattern, text, cap_s=2.0), 2000.0)
                shapes["strings"] += 1
                if ms > shapes["slowest_ms"]:
                    shapes["slowest_ms"], shapes["slowest_pattern"] = round(ms, 2), t.name
    shapes["max_gil_hold_ms"] = round(fixed.max_ms, 1)
    deadline = time.monotonic() + seconds
    with GilWatch() as watch:
        while time.monotonic() < deadline:
            for t in targets:
                if time.monotonic() > deadline:
                    break
                check(t)
    ranked = sorted(((ms, name, shape) for name, (ms, shape) in worst.items()), reverse=True)
    top = ranked[0] if ranked else (0.0, "", "")
    return {
        "patterns": len(targets),
        "examples": examples,
        "slowest_ms": round(top[0], 2),
        "slowest_pattern": top[1],
        "max_gil_hold_ms": round(watch.max_ms, 1),
        "idle_max_gil_hold_ms": round(idle.max_ms, 1),
        "fixed_shapes": shapes,
        "slowest": [{"ms": round(ms, 2), "pattern": name, "input": shape} for ms, name, shape in ranked[:5]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--length", type=int, default=None, help="characters (default: each pattern's longest input)")
    parser.add_argument("--only", default="", help="patterns whose name contains this")
    parser.add_argument("--skip", default="", help="leave out patterns whose name contains one of these (a,b)")
    args = parser.parse_args()
    targets, _ = find_patterns()
    skip = [part for part in args.skip.split(",") if part]
    targets = [t for t in targets if args.only in t.name and not any(part in t.name for part in skip)]
    print(json.dumps(fuzz(targets, args.seconds, args.length), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
