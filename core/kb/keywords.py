"""The keyword side of the knowledge base's hybrid search: jieba words (Traditional folded to
Simplified) and the in-memory BM25 index over the store's records."""

from __future__ import annotations

import re

from core.text.language import to_simplified


def tokens(text: str) -> list[str]:
    import jieba  # jieba: loads its dictionary (seconds) only for the keyword index

    text = to_simplified(text.lower())
    return [w for w in (t.strip() for t in jieba.lcut_for_search(text)) if w and re.search(r"\w", w)]


def keyword_index(got: dict) -> tuple:
    """(BM25 model or None when there are no records, entry ids, (shown text, metadata) per entry)
    from the records of a Chroma `get`; a FAQ entry is indexed once, by its question + answer."""
    import bm25s  # bm25s: loaded with the keyword index only

    ids, metas, corpus = [], [], []
    for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=False):
        if rid.endswith(":q"):
            continue  # FAQ entries are indexed once, by their question + answer record
        ids.append(meta["entry"])
        metas.append((doc, meta))
        corpus.append(tokens(doc) or ["∅"])
    model = None
    if corpus:
        model = bm25s.BM25()
        model.index(corpus, show_progress=False)
    return model, ids, metas
