"""End-to-end evaluation of customer service: each question goes through the whole answer policy
(`core.support.policy.answer`, the model included) and is scored on what the customer would see.

Two kinds of labelled file:
- queries (`query`, `faq_id`): right = the curated answer of that FAQ entry (tier 1), or a written
  answer (tier 2) that shows the entry among its sources and is not a refusal; handed = tier 3;
  anything else is wrong. An entry's twin in the other language (en-001 / zh-001) counts as it.
- questions (`question`, `expect_any`: facts separated by `|`, or `HANDOVER` where a hand-over is
  the right outcome): right = the answer holds one expected fact (compared case-, space- and
  script-insensitively), or hands over where that is expected.
CLI: `python -m core support eval`; the Knowledge base page's Hit test tab runs the same.
"""

from __future__ import annotations

import csv
import io
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from core.kb.ingest import IngestError, ParsedSource, decode_text, parse_faq_table
from core.kb.store import SAMPLE_DIR, KnowledgeBase
from core.storage.company import Company
from core.support.policy import answer, twin_ids
from core.support.reply import ENGINE_FAILED, NEUTRAL
from core.text.language import is_traditional, question_language, to_simplified

HANDOVER_LABEL = "HANDOVER"


@dataclass
class Case:
    question: str
    gold: str = ""  # queries: the FAQ id that answers it
    expect: tuple[str, ...] = ()  # questions: facts, one of which the answer must hold
    handover: bool = False  # questions: a hand-over is the right outcome

    @property
    def language(self) -> str:
        if question_language(self.question) != "zh":
            return "en"
        return "zh-Hant" if is_traditional(self.question) else "zh-Hans"


def _rows(name: str, data: bytes, needed: set[str]) -> list[dict]:
    if not data.strip():
        raise IngestError(f"{name}: the file is empty")
    text = decode_text(name, data)
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise IngestError(f"{name}: no rows under the header")
    missing = needed - set(rows[0])
    if missing:
        raise IngestError(
            f"{name}: needs the columns {', '.join(sorted(needed))} (missing: {', '.join(sorted(missing))})"
        )
    return rows


def read_queries(name: str, data: bytes) -> list[Case]:
    rows = _rows(name, data, {"query", "faq_id"})
    cases = [Case(r["query"].strip(), gold=(r["faq_id"] or "").strip()) for r in rows if (r["query"] or "").strip()]
    if any(not c.gold for c in cases):
        raise IngestError(f"{name}: every query needs a faq_id")
    return cases


def read_questions(name: str, data: bytes) -> list[Case]:
    rows = _rows(name, data, {"question", "expect_any"})
    cases = []
    for r in rows:
        question, expect = (r["question"] or "").strip(), (r["expect_any"] or "").strip()
        if not question:
            continue
        if not expect:
            raise IngestError(f"{name}: no expect_any for {question[:60]!r} (facts separated by |, or HANDOVER)")
        if expect.upper() == HANDOVER_LABEL:
            cases.append(Case(question, handover=True))
        else:
            cases.append(Case(question, expect=tuple(x.strip() for x in expect.split("|") if x.strip())))
    return cases


def read_cases(name: str, data: bytes) -> list[Case]:
    """Either kind, told apart by its columns."""
    if not data.strip():
        raise IngestError(f"{name}: the file is empty")
    header = {c.strip() for c in decode_text(name, data).lstrip("\ufeff").split("\n", 1)[0].split(",")}
    if "query" in header:
        return read_queries(name, data)
    if "question" in header:
        return read_questions(name, data)
    raise IngestError(
        f"{name}: needs the columns query, faq_id (labelled queries) or question, expect_any "
        "(questions with the facts a right answer holds)"
    )


def check_gold(cases: list[Case], kb: KnowledgeBase) -> None:
    """Labelled FAQ ids must exist in the knowledge base (a typo would count as a wrong answer)."""
    golds = sorted({c.gold for c in cases if c.gold})
    if not golds:
        return
    known = {h.faq_id for h in kb.faq_entries(golds)}
    unknown = [g for g in golds if g not in known]
    if unknown:
        raise IngestError(
            f"faq_id not in the knowledge base: {', '.join(unknown[:8])}"
            + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        )


def normalise(text: str) -> str:
    text = to_simplified(text.lower())
    return re.sub(r"[\s,，]", "", text)


def score(case: Case, result) -> str:
    """right | handed | wrong, for a finished SupportAnswer."""
    if case.handover:
        return "right" if result.tier == 3 else "wrong"
    if result.tier == 3:
        return "handed"
    if case.gold:
        golds = set(twin_ids(case.gold))
        shown = {h.faq_id for h in result.sources}
        if result.tier == 1:
            return "right" if shown & golds else "wrong"
        return "right" if shown & golds and result.text.strip() else "wrong"
    said = normalise(result.text)
    return "right" if any(normalise(fact) in said for fact in case.expect) else "wrong"


def build_kb(folder: Path, faq: tuple[str, bytes] | None = None, docs: list[Path] | None = None) -> KnowledgeBase:
    """A throw-away knowledge base in `folder` (never the user's): the FAQ and documents given, or
    the sample company's when neither is."""
    kb = KnowledgeBase(folder, "eval", chroma_host="")
    if faq is None and not docs:
        for path in sorted(SAMPLE_DIR.glob("*")):
            kb.ingest_path(path)
        return kb
    if faq is not None:
        name, data = faq
        kb.ingest_parsed(ParsedSource(name, "faq", parse_faq_table(name, Path(name).suffix.lower(), data)))
    for path in docs or []:
        kb.ingest_path(Path(path))
    return kb


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def rates(outcomes: list[str]) -> dict:
    n = len(outcomes)
    counts = {k: outcomes.count(k) for k in ("right", "handed", "wrong")}
    return {"n": n, **counts, **{f"{k}_rate": round(v / n, 4) if n else 0.0 for k, v in counts.items()}}


def evaluate(
    cases: list[Case],
    kb: KnowledgeBase,
    llm,
    *,
    thresholds=None,
    company: Company = NEUTRAL,
    limit: int | None = None,
    seed: int = 0,
    progress=None,
    failures: int = 50,
    use_judge: bool = True,
) -> dict:
    """Ask every case (a seeded random `limit` of them) and score the answers. use_judge=False
    decides tiers on retrieval confidence alone (the policy before the relevance check)."""
    if not cases:
        raise IngestError("No questions to evaluate")
    check_gold(cases, kb)
    if limit is not None and limit < len(cases):
        cases = random.Random(seed).sample(cases, limit)
    outcomes: list[str] = []
    times: list[float] = []
    tiers: list[int] = []
    by_tier_ms: dict[int, list[float]] = {1: [], 2: [], 3: []}
    failed: list[dict] = []
    engine_failures = 0
    for i, case in enumerate(cases):
        for _attempt in range(2):
            start = time.perf_counter()
            result = answer(case.question, kb, llm, thresholds=thresholds, company=company, use_judge=use_judge)
            result.finish("".join(result.stream()))
            ms = (time.perf_counter() - start) * 1000
            if not result.reason.startswith(ENGINE_FAILED):
                break
            engine_failures += 1  # the engine died or was restarted mid-answer: ask once more
        outcome = score(case, result)
        outcomes.append(outcome)
        times.append(ms)
        tiers.append(result.tier)
        by_tier_ms[result.tier].append(ms)
        if outcome != "right" and len(failed) < failures:
            failed.append(
                {
                    "question": case.question,
                    "language": case.language,
                    "outcome": outcome,
                    "expected": case.gold or ("HANDOVER" if case.handover else " | ".join(case.expect)),
                    "tier": result.tier,
                    "answer": result.text[:400],
                    "sources": [h.faq_id or h.source for h in result.sources],
                    "reason": result.reason,
                    "suggestions": [h.faq_id for h in result.suggestions],
                    "withheld": result.withheld[:400],  # what the model wrote, where it was not shown
                }
            )
        if progress:
            progress((i + 1) / len(cases), case.question)
    report = rates(outcomes)
    report.update(
        {
            "tiers": {str(t): tiers.count(t) for t in (1, 2, 3)},
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": pct(times, 0.95),
            "tier_ms": {
                str(t): {"n": len(v), "p50": pct(v, 0.5), "p95": pct(v, 0.95)} for t, v in by_tier_ms.items() if v
            },
            "by_language": {
                lang: rates([o for o, c in zip(outcomes, cases, strict=False) if c.language == lang])
                for lang in sorted({c.language for c in cases})
            },
            "failures": failed,
            "engine_failures": engine_failures,
        }
    )
    return report
