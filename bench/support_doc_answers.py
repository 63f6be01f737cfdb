"""Questions only the knowledge base's documents answer (no FAQ entry does): are they answered?

    .venv/bin/python bench/support_doc_answers.py [--adapters none,auto] [--out artifacts/doc-answers.json]

For each question in data/kb/eval/doc_questions.csv the full customer-service pipeline runs
(retrieval, tiers, grounded generation) once per adapter setting; an answer counts as right when
it is a tier-2 answer containing the expected fact (a number from the document). This catches an
adapter that hands over ("NO_ANSWER") whenever no FAQ entry restates the question. Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import PROJECT_ROOT, load_settings  # noqa: E402
from core.kb.store import KnowledgeBase, load_sample  # noqa: E402
from core.llm import load_llm  # noqa: E402
from core.support.policy import answer  # noqa: E402

QUESTIONS = PROJECT_ROOT / "data" / "kb" / "eval" / "doc_questions.csv"


def run(llm, kb, settings, rows) -> list[dict]:
    out = []
    for row in rows:
        result = answer(row["question"], kb, llm, thresholds=settings.thresholds, company=settings.company_name)
        text = "".join(result.stream())
        result.finish(text)
        # Numbers may be written with or without thousands separators.
        right = result.tier == 2 and row["expected"].replace(",", "") in result.text.replace(",", "")
        out.append(
            {
                "question": row["question"],
                "language": row["language"],
                "tier": result.tier,
                "right": right,
                "answer": result.text,
                "seconds": round(result.latency_ms / 1000, 1),
            }
        )
        print(
            f"{'ok ' if right else 'BAD'} tier {result.tier} {result.latency_ms / 1000:5.1f}s {row['question']}",
            file=sys.stderr,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--adapters", default="none,auto", help="APP_ADAPTER values to compare")
    parser.add_argument("--out", default="artifacts/doc-answers.json")
    args = parser.parse_args()
    rows = list(csv.DictReader(QUESTIONS.open(encoding="utf-8")))
    base = load_settings()
    kb = KnowledgeBase(base.kb_dir, base.kb_name)
    load_sample(kb)
    summary, details = {}, {}
    for adapter in args.adapters.split(","):
        settings = replace(base, adapter=adapter)
        llm = load_llm(settings, log=lambda *_: None)
        results = run(llm, kb, settings, rows)
        details[adapter] = results
        summary[adapter] = {
            "adapter": llm.info.adapter,
            "right": sum(r["right"] for r in results),
            "handed_over": sum(r["tier"] == 3 for r in results),
            "questions": len(results),
            "by_language": {lang: sum(r["right"] for r in results if r["language"] == lang) for lang in ("en", "zh")},
            "median_seconds": statistics.median(r["seconds"] for r in results),
        }
        del llm
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "results": details}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
