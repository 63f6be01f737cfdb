"""Knowledge base at scale: ingest throughput and query latency with N chunks (JSON).

    .venv/bin/python bench/kb_scale.py [--chunks 10000] [--queries 200]

Synthetic but realistic chunks (sentences recombined from the sample documents, English and
Chinese) are ingested into a throw-away store; then FAQ-style questions are searched (hybrid) and
a tier-1 support answer is timed end to end (retrieval + policy, no model needed for tier 1).
"""

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from core.kb.ingest import Chunk, ParsedSource  # noqa: E402
from core.kb.store import SAMPLE_DIR, KnowledgeBase  # noqa: E402
from core.support.policy import answer  # noqa: E402


def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in SAMPLE_DIR.glob("*.md"))
    parts = re.split(r"(?<=[.!?。！？])\s*", re.sub(r"[#*|>-]+", " ", text))
    return [p.strip() for p in parts if len(p.strip()) > 15]


def pct(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(0)
    pool = sentences()
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp), "scale", chroma_host="")  # throw-away: never on a shared server
        faq = (SAMPLE_DIR / "faq.csv").read_bytes()
        kb.ingest_bytes("faq.csv", faq)
        per_file = 500
        start = time.perf_counter()
        for f in range(args.chunks // per_file):
            chunks = [Chunk("doc", " ".join(rng.sample(pool, 3)) + f" [{f}-{i}]", "en") for i in range(per_file)]
            kb.ingest_parsed(ParsedSource(f"synthetic-{f:03d}.md", "doc", chunks))
        ingest_s = time.perf_counter() - start
        questions = [
            line.split(",", 1)[0] for line in (ROOT / "data/kb/eval/en_queries.csv").read_text().splitlines()[1:]
        ]
        questions += [
            line.split(",", 1)[0]
            for line in (ROOT / "data/kb/eval/zh_queries.csv").read_text(encoding="utf-8").splitlines()[1:]
        ]
        rng.shuffle(questions)
        questions = questions[: args.queries]
        kb.search("warm up", k=5)
        search_ms = []
        for q in questions:
            t = time.perf_counter()
            kb.search(q, k=5)
            search_ms.append((time.perf_counter() - t) * 1000)
        settings = Settings()
        tier1_ms = []
        for q in ["How much does shipping in Europe cost?", "运费多少？满多少包邮？", "Can I pay with PayPal?"] * 10:
            r = answer(q, kb, None, thresholds=settings.thresholds)
            "".join(r.stream())
            r.finish(r.text)
            if r.tier == 1:
                tier1_ms.append(r.latency_ms)
        print(
            json.dumps(
                {
                    "chunks": kb.count(),
                    "ingest_s": round(ingest_s, 1),
                    "ingest_chunks_per_s": round(args.chunks / ingest_s, 1),
                    "search_p50_ms": pct(search_ms, 0.5),
                    "search_p95_ms": pct(search_ms, 0.95),
                    "tier1_answers": len(tier1_ms),
                    "tier1_p50_ms": pct(tier1_ms, 0.5) if tier1_ms else None,
                    "tier1_p95_ms": pct(tier1_ms, 0.95) if tier1_ms else None,
                    "disk_mb": round(sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()) / 1e6, 1),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
