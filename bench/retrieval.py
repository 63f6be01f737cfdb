"""Retrieval quality: hit@1, hit@5, MRR and latency for bm25, vector and hybrid (JSON).

    .venv/bin/python bench/retrieval.py

Sets: StackFAQ (../shared/data/stackfaq, English, 625 paraphrases) and our own labelled English and
Chinese (简体 + 繁體) paraphrases of the sample FAQ (data/kb/eval/). Each set is indexed in a
throw-away store (`python -m core kb eval` does the same for one set and mode).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.kb.evaluate import evaluate  # noqa: E402

SETS = {
    "stackfaq_en": (
        ROOT.parent / "shared" / "data" / "stackfaq" / "faq.csv",
        ROOT.parent / "shared" / "data" / "stackfaq" / "queries_dev.csv",
    ),
    "sample_zh": (ROOT / "data" / "kb" / "sample" / "faq.csv", ROOT / "data" / "kb" / "eval" / "zh_queries.csv"),
    "sample_en": (ROOT / "data" / "kb" / "sample" / "faq.csv", ROOT / "data" / "kb" / "eval" / "en_queries.csv"),
}

if __name__ == "__main__":
    out = {}
    for name, (faq, queries) in SETS.items():
        if not faq.exists():
            out[name] = {"skipped": f"{faq} not found"}
            continue
        out[name] = evaluate(faq, queries, modes=("bm25", "vector", "hybrid"))
    print(json.dumps(out, indent=1))
