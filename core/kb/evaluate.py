"""Retrieval evaluation: index a FAQ in a throw-away store, score labelled queries (CLI `kb eval`)."""

from __future__ import annotations

import csv
import statistics
import tempfile
import time
from pathlib import Path

from core.kb.ingest import IngestError, ParsedSource, decode_text, parse_faq_table
from core.kb.store import KnowledgeBase


def _read_queries(path: Path) -> list[tuple[str, str]]:
    text = decode_text(path.name, path.read_bytes())
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or not {"query", "faq_id"} <= set(rows[0]):
        raise IngestError(f"{path.name}: needs columns query, faq_id")
    return [(r["query"], r["faq_id"]) for r in rows if r["query"].strip()]


def evaluate(faq: Path, queries: Path, k: int = 5, modes=("hybrid",), store_dir: Path | None = None) -> dict:
    faq, queries = Path(faq), Path(queries)
    chunks = parse_faq_table(faq.name, faq.suffix.lower(), faq.read_bytes())
    labelled = _read_queries(queries)
    known = {c.faq_id for c in chunks}
    unknown = sorted({fid for _, fid in labelled if fid not in known})
    if unknown:
        raise IngestError(f"{queries.name}: faq_id not in {faq.name}: {', '.join(unknown[:5])}")
    with tempfile.TemporaryDirectory(prefix="kb-eval-", dir=store_dir) as tmp:
        kb = KnowledgeBase(Path(tmp), "eval", chroma_host="")  # throw-away: never on a shared server

        kb.ingest_parsed(ParsedSource(faq.name, "faq", chunks))
        kb.search("warm up", k=1)
        results = {}
        for mode in modes:
            ranks, times = [], []
            for query, gold in labelled:
                start = time.perf_counter()
                hits = kb.search(query, k=max(k, 5), mode=mode)
                times.append((time.perf_counter() - start) * 1000)
                ids = [h.faq_id for h in hits]
                ranks.append(ids.index(gold) + 1 if gold in ids else None)
            n = len(ranks)
            times.sort()
            results[mode] = {
                "n": n,
                "hit@1": round(sum(r == 1 for r in ranks) / n, 4),
                "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
                "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[min(n - 1, int(0.95 * n))], 1),
            }
    return results
