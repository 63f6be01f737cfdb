"""How the support policy's thresholds were chosen: precision and coverage per tier and language (JSON).

    .venv/bin/python bench/support_thresholds.py                       # judge with the configured model
    .venv/bin/python bench/support_thresholds.py --judgements artifacts/judgements.json   # reuse them

For every labelled question (data/kb/eval: en_queries, zh_queries, offtopic, doc_questions; the
StackFAQ dev queries, a seeded sample of --stackfaq of them) it retrieves the candidates exactly
as the answer policy does and has the model judge the first four (core.support.relevance), then
replays core.support.relevance.decide over a grid of thresholds. Per language it reports:
- tier 1: coverage (share of answerable questions given a curated answer) and precision (share
  of those from the right entry), for the fast path (no judgement) and for judged answers;
- tier 2: how often the right passage is among the sources of a written answer;
- off-topic: the share handed over (tier 3) — they must never get a curated answer;
and the thresholds that give the most right answers with wrong <= 3 % and off-topic handed
over >= 95 %, which are what core/support_relevance.py uses. The judgements are saved with
--save, so the grid can be replayed without the model.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import load_settings  # noqa: E402
from core.kb.ingest import ParsedSource, parse_faq_table  # noqa: E402
from core.kb.store import Hit, KnowledgeBase, load_sample  # noqa: E402
from core.support.policy import as_data, twin_ids  # noqa: E402
from core.support.relevance import JUDGED, THRESHOLDS, Thresholds, decide, judge  # noqa: E402
from core.text.language import is_traditional, question_language  # noqa: E402

EVAL = ROOT / "data" / "kb" / "eval"
STACKFAQ = ROOT.parent / "shared" / "data" / "stackfaq"


def rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def language(question: str) -> str:
    if question_language(question) != "zh":
        return "en"
    return "zh-Hant" if is_traditional(question) else "zh-Hans"


def collect(llm, stackfaq: int, seed: int, progress) -> list[dict]:
    """Every labelled question with its candidates, their retrieval confidence and the judgement."""
    sets = []
    for r in rows(EVAL / "en_queries.csv") + rows(EVAL / "zh_queries.csv"):
        sets.append(("sample", r["query"], "faq", r["faq_id"]))
    for r in rows(EVAL / "offtopic.csv"):
        sets.append(("sample", r["query"], "offtopic", ""))
    for r in rows(EVAL / "doc_questions.csv"):
        sets.append(("sample", r["question"], "doc", r["source"]))
    if stackfaq and (STACKFAQ / "queries_dev.csv").is_file():
        queries = rows(STACKFAQ / "queries_dev.csv")
        for r in random.Random(seed).sample(queries, min(stackfaq, len(queries))):
            sets.append(("stackfaq", r["query"], "faq", r["faq_id"]))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        kbs = {"sample": KnowledgeBase(Path(tmp) / "sample", "thresholds", chroma_host="")}
        load_sample(kbs["sample"])
        if any(s[0] == "stackfaq" for s in sets):
            kbs["stackfaq"] = KnowledgeBase(Path(tmp) / "stackfaq", "stackfaq", chroma_host="")
            data = (STACKFAQ / "faq.csv").read_bytes()
            kbs["stackfaq"].ingest_parsed(ParsedSource("faq.csv", "faq", parse_faq_table("faq.csv", ".csv", data)))
        for i, (kb_name, question, kind, gold) in enumerate(sets):
            hits = as_data(kbs[kb_name].search(question, k=8))
            start = time.perf_counter()
            scores = judge(llm, question, hits[:JUDGED]) if hits else []
            out.append(
                {
                    "set": kb_name,
                    "question": question,
                    "language": language(question),
                    "kind": kind,
                    "gold": gold,
                    "judge_ms": round((time.perf_counter() - start) * 1000, 1),
                    "hits": [
                        {
                            "id": h.id,
                            "kind": h.kind,
                            "faq_id": h.faq_id,
                            "source": h.source,
                            "confidence": h.confidence,
                            "score": h.score,
                            "text": h.text[:120],
                            "judged": scores[j] if j < len(scores) else None,
                        }
                        for j, h in enumerate(hits)
                    ],
                }
            )
            progress(i + 1, len(sets))
    return out


def as_hits(record: dict) -> tuple[list[Hit], list]:
    hits = [
        Hit(h["id"], h["text"], h["score"], h["confidence"], h["source"], h["kind"], "", "", h["faq_id"])
        for h in record["hits"]
    ]
    return hits, [h["judged"] for h in record["hits"][:JUDGED]]


def outcome(record: dict, t: Thresholds, fallback=(0.7, 0.4)) -> str:
    """right | wrong | handed, as the policy would decide (a written answer counted right when the
    right passage is among its sources; off-topic right only when handed over)."""
    hits, scores = as_hits(record)
    d = decide(hits, scores, t, fallback)
    if record["kind"] == "offtopic":
        return "right" if d.tier == 3 else "wrong"
    if d.tier == 3:
        return "handed"
    if record["kind"] == "doc":
        return "right" if any(h.source == record["gold"] for h in d.chosen) else "wrong"
    golds = set(twin_ids(record["gold"]))
    if d.tier == 1:
        return "right" if d.chosen[0].faq_id in golds else "wrong"
    return "right" if any(h.faq_id in golds for h in d.chosen) else "wrong"


def summary(records: list[dict], thresholds: dict[str, Thresholds]) -> dict:
    out = {}
    for group in sorted({(r["set"], r["language"]) for r in records}):
        t = thresholds["zh" if group[1].startswith("zh") else "en"]
        rs = [r for r in records if (r["set"], r["language"]) == group]
        answerable = [r for r in rs if r["kind"] != "offtopic"]
        off = [r for r in rs if r["kind"] == "offtopic"]
        outcomes = [outcome(r, t) for r in answerable]
        tier1 = [(r, decide(*as_hits(r), t)) for r in answerable if r["kind"] == "faq"]
        fast = [(r, d) for r, d in tier1 if d.tier == 1 and not d.judged]
        judged1 = [(r, d) for r, d in tier1 if d.tier == 1 and d.judged]

        def precision(pairs):
            ok = [d.chosen[0].faq_id in twin_ids(r["gold"]) for r, d in pairs]
            return round(sum(ok) / len(ok), 3) if ok else None

        n = len(answerable)
        out["/".join(group)] = {
            "n": n,
            "right": round(outcomes.count("right") / n, 3) if n else None,
            "wrong": round(outcomes.count("wrong") / n, 3) if n else None,
            "handed": round(outcomes.count("handed") / n, 3) if n else None,
            "tier1_fast_coverage": round(len(fast) / len(tier1), 3) if tier1 else None,
            "tier1_fast_precision": precision(fast),
            "tier1_judged_coverage": round(len(judged1) / len(tier1), 3) if tier1 else None,
            "tier1_judged_precision": precision(judged1),
            **(
                {
                    "offtopic": len(off),
                    "offtopic_handed": round(sum(outcome(r, t) == "right" for r in off) / len(off), 3),
                }
                if off
                else {}
            ),
        }
    return out


def search_grid(records: list[dict], lang: str) -> tuple[Thresholds, dict]:
    """The thresholds with the most right answers, wrong <= 3 % and off-topic handed >= 95 %."""
    mine = [r for r in records if r["language"].startswith(lang)]
    answerable = [r for r in mine if r["kind"] != "offtopic"]
    off = [r for r in mine if r["kind"] == "offtopic"]
    best, best_score = None, None
    # score = P(yes) + weight x retrieval confidence (core.support.relevance.score)
    grid = itertools.product(
        [0.93],
        [0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
        [x / 20 for x in range(10, 50)],
        [x / 20 for x in range(6, 40)],
        [0.3, 0.6, 0.9, 1.2],
    )
    for fast, weight, tier1, tier2, keep in grid:
        if tier2 > tier1:
            continue
        t = Thresholds(fast=fast, weight=weight, tier1=tier1, tier2=tier2, keep=keep, suggest=THRESHOLDS[lang].suggest)
        outcomes = [outcome(r, t) for r in answerable]
        wrong = outcomes.count("wrong") / len(outcomes)
        off_ok = sum(outcome(r, t) == "right" for r in off) / len(off) if off else 1.0
        if wrong > 0.03 or off_ok < 0.95:
            continue
        key = (outcomes.count("right"), -wrong, -tier1)  # ties: more curated answers (exact, and quick)
        if best_score is None or key > best_score:
            best, best_score = t, key
    return best, {"right": best_score[0] / len(answerable) if best_score else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--judgements", type=Path, help="replay judgements saved by --save (no model needed)")
    ap.add_argument("--save", type=Path, help="save the judgements here")
    ap.add_argument("--stackfaq", type=int, default=200, help="StackFAQ dev queries to include (seeded sample)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.judgements:
        records = json.loads(args.judgements.read_text(encoding="utf-8"))
    else:
        from core.llm import load_llm

        settings = replace(load_settings(), adapter="none")
        llm = load_llm(settings, log=lambda m: print(m, file=sys.stderr))
        llm.warm_up()
        records = collect(
            llm, args.stackfaq, args.seed, lambda i, n: print(f"\r{i}/{n}", end="", file=sys.stderr, flush=True)
        )
        print(file=sys.stderr)
        if args.save:
            args.save.parent.mkdir(parents=True, exist_ok=True)
            args.save.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    judge_ms = sorted(r["judge_ms"] for r in records)
    chosen = {lang: search_grid(records, lang) for lang in ("en", "zh")}
    out = {
        "questions": len(records),
        "judge_ms_p50": judge_ms[len(judge_ms) // 2] if judge_ms else None,
        "current": {
            "thresholds": {k: v.__dict__ for k, v in THRESHOLDS.items()},
            "by_set_and_language": summary(records, THRESHOLDS),
        },
        "best": {lang: {"thresholds": t.__dict__ if t else None, **score} for lang, (t, score) in chosen.items()},
        "best_by_set_and_language": summary(records, {lang: t or THRESHOLDS[lang] for lang, (t, _) in chosen.items()}),
    }
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
