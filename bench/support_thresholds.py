"""How the support tier thresholds were chosen (JSON).

    .venv/bin/python bench/support_thresholds.py

Indexes the sample knowledge base in a throw-away store, then for each question language reports,
per candidate threshold: the share of labelled questions that would get a tier-1 (curated) answer,
how often that answer is the right FAQ entry, and how many off-topic questions would pass the
tier-2 threshold (they should be handed over instead). Defaults in core/config.py: tier 1 where
precision is ≥ 0.9 (0.909 EN, 0.971 ZH on our sets); tier 2 a little below the highest off-topic
confidence (0.465 EN, 0.612 ZH), at 0.40 / 0.58, because the few off-topic questions between the
two reach the model, which answers NO_ANSWER and hands over (20/20 off-topic questions handed over
with the real model), while on-topic questions in that band get answered.
"""

import csv
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.kb import KnowledgeBase, load_sample  # noqa: E402

EVAL = ROOT / "data" / "kb" / "eval"


def rows(path):
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp), "thresholds", chroma_host="")  # throw-away: never on a shared server
        load_sample(kb)
        on = {"en": [], "zh": []}
        for lang in ("en", "zh"):
            for r in rows(EVAL / f"{lang}_queries.csv"):
                top = kb.search(r["query"], k=1)[0]
                on[lang].append((top.confidence, top.kind == "faq" and top.faq_id == r["faq_id"]))
        off = {"en": [], "zh": []}
        for r in rows(EVAL / "offtopic.csv"):
            off[r["language"]].append(kb.search(r["query"], k=1)[0].confidence)
    out = {}
    for lang in ("en", "zh"):
        table = []
        for t in [x / 100 for x in range(40, 90, 5)]:
            chosen = [ok for conf, ok in on[lang] if conf >= t]
            table.append({"threshold": t, "tier1_share": round(len(chosen) / len(on[lang]), 3),
                          "tier1_precision": round(sum(chosen) / len(chosen), 3) if chosen else None,
                          "offtopic_above": sum(c >= t for c in off[lang])})
        out[lang] = {"labelled": len(on[lang]), "offtopic": len(off[lang]),
                     "offtopic_max_confidence": round(max(off[lang]), 3), "table": table}
    print(json.dumps(out, indent=1))
