"""Grounding in the knowledge base: the company facts a draft may use, found by the fields' text."""

from __future__ import annotations


def facts_from_kb(kb, req_fields: dict, k: int = 5) -> list[str]:
    """Company facts for grounding: the knowledge-base passages closest to the fields' text."""
    query = " ".join(str(v) for v in req_fields.values() if str(v).strip())[:500]
    if not query.strip():
        return []
    out = []
    for h in kb.search(query, k=k):
        out.append(f"{h.text} — {h.answer}" if h.kind == "faq" else h.text.replace("\n", " "))
    return [f[:600] for f in out]
