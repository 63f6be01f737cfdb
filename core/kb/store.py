"""The knowledge base: FAQ entries and document chunks in Chroma, searched hybrid.

Each knowledge base is two Chroma collections holding the same records, one embedded with
all-MiniLM-L6-v2 and one with multilingual-e5-small (see core/embeddings.py for why), plus an
in-memory BM25 index (jieba words, Traditional folded to Simplified: core/kb/keywords.py). A FAQ entry is stored as two
records, its question and its question + answer, and scores as the better of the two.

Record ids derive from content, so ingesting the same file twice changes nothing and a changed
file replaces exactly its old chunks. Writes take a file lock, so the app and the CLI never write
the store at the same time; a version marker tells other processes to rebuild their BM25 index.
The store is an embedded folder, or a Chroma server shared by many processes (`chroma_client`).
What it stores and hands out (`Hit`, `IngestReport`, the record ids, its errors) is in
core/kb/records.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from core.config import PROJECT_ROOT, load_settings
from core.kb.embeddings import bounded_query, e5_embedding, minilm_embedding
from core.kb.ingest import Chunk, IngestError, ParsedSource, parse_file
from core.kb.keywords import keyword_index, tokens
from core.kb.records import Hit, IngestReport, KBBusy, chroma_client, entry_id
from core.storage.locking import atomic_write_text, file_lock
from core.text.language import has_cjk, question_language

EMBEDDERS = {"e5": e5_embedding, "minilm": minilm_embedding}
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="embed")
KB_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{2,62}$")
SAMPLE_DIR = PROJECT_ROOT / "data" / "kb" / "sample"
# Fusion weights per query language, measured with bench/retrieval.py (StackFAQ + our EN/ZH sets).
# e5 cosines sit in a narrow band near 1, MiniLM's spread wide: hence the different scales.
WEIGHTS = {
    "en": {"minilm": 1.0, "e5": 0.2, "bm25": 0.05},
    "zh": {"minilm": 0.0, "e5": 1.0, "bm25": 0.02},
}
E5_FLOOR = 0.7  # e5 gives even unrelated texts ~0.7; confidence rescales [0.7, 1] to [0, 1]


class KnowledgeBase:
    def __init__(
        self, root: Path, name: str = "default", chroma_host: str | None = None, chroma_port: int | None = None
    ):
        """root: this process's folder for the store (embedded mode), the write lock and markers.
        chroma_host/chroma_port: None = from the settings; chroma_host "" = the embedded store."""
        if not KB_NAME.match(name):
            raise ValueError("A knowledge base name needs 3–63 characters: a–z, 0–9, '-' or '_'")
        import jieba  # jieba: loads its dictionary (seconds) only for the keyword index

        jieba.setLogLevel(60)
        self.name = name
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        if chroma_host is None:
            configured = load_settings()
            chroma_host, chroma_port = configured.chroma_host, configured.chroma_port
        self.server = f"{chroma_host.strip()}:{chroma_port or 8000}" if chroma_host.strip() else None
        client = chroma_client(self.root, self.server)
        space = {"hnsw:space": "cosine"}
        self._e5 = client.get_or_create_collection(f"{name}-e5", embedding_function=e5_embedding(), metadata=space)
        self._minilm = client.get_or_create_collection(
            f"{name}-minilm", embedding_function=minilm_embedding(), metadata=space
        )
        # With a server, the "something changed" marker lives in the server too, so processes that
        # share no folder (other hosts) still rebuild their BM25 index after another one writes.
        self._meta = client.get_or_create_collection(f"{name}-meta", embedding_function=None) if self.server else None
        self._thread_lock = threading.Lock()
        self._bm25 = None  # (version, model, entry ids, entry metadata)
        self._finish_interrupted_write()

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def _writing(self, timeout: float = 60):
        """One writer at a time, across threads and processes (app + CLI) that share `root`.

        The lock protects (1) the embedded store, which two writing processes corrupt, and (2) the
        read-then-write of one source's records (ingest replaces a file's old chunks; add_faq_entry
        rewrites "staff-answers"), which two writers of the same source would race on. A Chroma
        server makes (1) moot but not (2): processes on other hosts, with their own `root`, are not
        serialised, so imports belong to one place (docs/deploy.md). Writes of different sources
        never conflict: record ids derive from content. After a write the version marker changes
        (a file here, and in the server when there is one) so readers rebuild their BM25 index.
        """
        busy = "Another import into this knowledge base is running; try again shortly"
        with self._thread_lock, file_lock(self.root / f"{self.name}.lock", timeout, busy, error=KBBusy):
            try:
                self._replay_journal()  # we hold the lock: a journal left now is a dead writer's
                yield
            finally:
                version = uuid.uuid4().hex
                atomic_write_text(self.root / f"{self.name}.version", version)  # never seen half-written
                if self._meta is not None:
                    self._meta.upsert(ids=["version"], embeddings=[[0.0]], documents=[version])

    # -- crash safety ---------------------------------------------------------------------
    # An ingest or a delete is many Chroma calls on two collections, with no transaction spanning
    # them: a writer killed half-way (kill -9, power cut, OOM) would leave a half-replaced document
    # (old and new chunks side by side, or a record in one collection only). So a write first notes
    # its plan in `<name>.journal.json`; the next writer, or the next process to open the store,
    # finds the note of a dead writer and completes or undoes the write (`_replay_journal`).
    @property
    def _journal_path(self) -> Path:
        return self.root / f"{self.name}.journal.json"

    def _journal(self, phase: str, source: str, ids: list[str]) -> None:
        """phase "add": `ids` are being added (undo = delete them; the old version stays whole);
        phase "delete": every new record is in and `ids` are being removed (redo = delete them)."""
        atomic_write_text(self._journal_path, json.dumps({"phase": phase, "source": source, "ids": ids}))

    def _replay_journal(self) -> None:
        """With the write lock held: undo (phase "add") or finish (phase "delete") a dead writer's
        write. Both are deletes of known ids, so replaying twice is harmless."""
        if not self._journal_path.exists():
            return
        ids = json.loads(self._journal_path.read_text(encoding="utf-8"))["ids"]
        for start in range(0, len(ids), 1000):
            self._e5.delete(ids=ids[start : start + 1000])
            self._minilm.delete(ids=ids[start : start + 1000])
        self._journal_path.unlink()

    def _finish_interrupted_write(self) -> None:
        """On open: replay a dead writer's journal, unless a live writer holds the lock (its own)."""
        if self._journal_path.exists():
            try:
                with self._writing(timeout=0):
                    pass
            except KBBusy:
                pass

    def ingest_bytes(self, filename: str, data: bytes, max_bytes: int = 50_000_000, progress=None) -> IngestReport:
        return self.ingest_parsed(parse_file(filename, data, max_bytes), progress=progress)

    def ingest_path(self, path: Path, max_bytes: int = 50_000_000, progress=None) -> IngestReport:
        path = Path(path)
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        if path.stat().st_size > max_bytes:
            raise IngestError(
                f"{path.name}: {path.stat().st_size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit"
            )
        return self.ingest_bytes(path.name, path.read_bytes(), max_bytes, progress=progress)

    def ingest_parsed(self, parsed: ParsedSource, progress=None, batch: int = 64) -> IngestReport:
        records = {}  # record id -> (document, metadata)
        now = time.time()
        for position, chunk in enumerate(parsed.chunks):
            entry = entry_id(self.name, parsed.name, chunk, position)
            meta = {
                "entry": entry,
                "source": parsed.name,
                "kind": chunk.kind,
                "language": chunk.language,
                "answer": chunk.answer,
                "faq_id": chunk.faq_id,
                "category": chunk.category,
                "section": chunk.section,
                "position": position,
                "added_at": now,
            }
            if chunk.kind == "faq":
                records[f"{entry}:q"] = (chunk.text, meta)
                records[f"{entry}:qa"] = (f"{chunk.text}\n{chunk.answer}", meta)
            else:
                records[entry] = (chunk.text, meta)
        with self._writing():
            existing = set(self._e5.get(where={"source": parsed.name}, include=[])["ids"])
            to_add = [rid for rid in records if rid not in existing]
            to_remove = sorted(existing - set(records))
            if to_add:
                self._journal("add", parsed.name, to_add)
            for start in range(0, len(to_add), batch):  # add first, then delete the old records
                ids = to_add[start : start + batch]
                docs = [records[i][0] for i in ids]
                metas = [records[i][1] for i in ids]
                self._e5.add(ids=ids, documents=docs, metadatas=metas)
                self._minilm.add(ids=ids, documents=docs, metadatas=metas)
                if progress:
                    progress(min(start + batch, len(to_add)) / max(len(to_add), 1))
            if to_remove:
                self._journal("delete", parsed.name, to_remove)  # the new version is whole: go forward
                self._e5.delete(ids=to_remove)
                self._minilm.delete(ids=to_remove)
            self._journal_path.unlink(missing_ok=True)
        if progress:
            progress(1.0)
        entries = len(parsed.chunks)
        return IngestReport(parsed.name, parsed.kind, entries, len(to_add), len(to_remove))

    def add_faq_entry(self, question: str, answer: str, source: str = "staff-answers") -> IngestReport:
        """Add one curated FAQ entry (e.g. from the Unanswered list) to a staff-maintained source."""
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            raise IngestError("A FAQ entry needs both a question and an answer")

        rows = self.preview(source, limit=100_000)
        chunks = [Chunk("faq", r["text"], r["language"], answer=r["answer"], faq_id=r["faq_id"]) for r in rows]
        chunks.append(
            Chunk(
                "faq",
                question,
                question_language(question),
                answer=answer,
                faq_id=f"staff-{hashlib.sha1(question.encode()).hexdigest()[:8]}",
            )
        )
        return self.ingest_parsed(ParsedSource(source, "faq", chunks))

    def delete_source(self, source: str) -> int:
        with self._writing():
            ids = self._e5.get(where={"source": source}, include=[])["ids"]
            if ids:
                self._journal("delete", source, ids)  # a crash half-way is finished by the next writer
                self._e5.delete(ids=ids)
                self._minilm.delete(ids=ids)
                self._journal_path.unlink()
        return len(ids)

    # -- reading --------------------------------------------------------------------------
    def count(self) -> int:
        return self._e5.count()

    def sources(self) -> list[dict]:
        """One row per ingested file: name, kind, entries, languages, when added."""
        got = self._e5.get(include=["metadatas"])
        rows: dict[str, dict] = {}
        for meta in got["metadatas"]:
            row = rows.setdefault(
                meta["source"],
                {
                    "source": meta["source"],
                    "kind": meta["kind"],
                    "entries": set(),
                    "languages": set(),
                    "added_at": meta["added_at"],
                },
            )
            row["entries"].add(meta["entry"])
            row["languages"].add(meta["language"])
            row["added_at"] = max(row["added_at"], meta["added_at"])
        out = [
            {**r, "entries": len(r["entries"]), "languages": ", ".join(sorted(r["languages"]))} for r in rows.values()
        ]
        return sorted(out, key=lambda r: r["source"])

    def preview(self, source: str, limit: int = 50) -> list[dict]:
        got = self._e5.get(where={"source": source}, include=["documents", "metadatas"])
        rows = {}
        for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=False):
            if rid.endswith(":qa"):
                continue
            rows[meta["entry"]] = {
                "position": meta["position"],
                "text": doc,
                "answer": meta["answer"],
                "faq_id": meta["faq_id"],
                "language": meta["language"],
            }
        return sorted(rows.values(), key=lambda r: r["position"])[:limit]

    def faq_entries(self, faq_ids: list[str]) -> list[Hit]:
        """The FAQ entries with these ids (e.g. an entry's twin in the other language), as hits
        without scores."""
        faq_ids = [f for f in dict.fromkeys(faq_ids) if f]
        if not faq_ids:
            return []
        return self._stored(where={"faq_id": {"$in": faq_ids}})

    def passages(self) -> list[Hit]:
        """Every entry once, with the text a search shows for it (a FAQ entry's question), without
        scores: what the relevance check reads."""
        return sorted(self._stored(), key=lambda h: (h.kind != "faq", h.source, h.id))

    def _stored(self, where: dict | None = None) -> list[Hit]:
        """Entries as hits without scores: a FAQ entry by its question record (":q"), once."""
        got = self._e5.get(where=where, include=["documents", "metadatas"])
        return [
            Hit(
                meta["entry"],
                doc,
                0.0,
                0.0,
                meta["source"],
                meta["kind"],
                meta["language"],
                meta["answer"],
                meta["faq_id"],
                meta["category"],
                meta["section"],
            )
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=False)
            if rid.endswith(":q") or meta["kind"] != "faq"
        ]

    def version(self) -> str:
        """Changes whenever the knowledge base does (in this process or another)."""
        return self._version()

    def _version(self) -> str:
        if self._meta is not None:
            got = self._meta.get(ids=["version"], include=["documents"])
            return got["documents"][0] if got["ids"] else ""
        version_file = self.root / f"{self.name}.version"
        return version_file.read_text() if version_file.exists() else ""

    def _bm25_index(self):
        version = self._version()
        if self._bm25 is None or self._bm25[0] != version:
            self._bm25 = (version, *keyword_index(self._e5.get(include=["documents", "metadatas"])))
        return self._bm25

    def _dense(self, collection, vector, n: int) -> dict[str, tuple[float, str, dict]]:
        """entry -> (best cosine similarity, shown text, metadata)."""
        res = collection.query(query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"])
        best: dict[str, tuple[float, str, dict]] = {}
        for rid, doc, meta, dist in zip(
            res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=False
        ):
            sim = 1.0 - float(dist)
            shown = doc.split("\n", 1)[0] if rid.endswith(":qa") else doc
            if meta["entry"] not in best or sim > best[meta["entry"]][0]:
                best[meta["entry"]] = (sim, shown, meta)
        return best

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        query = (query or "").strip()
        if not query:
            raise ValueError("The question is empty")
        if mode not in ("hybrid", "vector", "bm25"):
            raise ValueError("mode must be hybrid, vector or bm25")
        total = self.count()
        if total == 0:
            return []
        lang = "zh" if has_cjk(query) else "en"
        w = dict(WEIGHTS[lang])
        if mode == "vector":
            w["bm25"] = 0.0
        elif mode == "bm25":
            w = {"minilm": 0.0, "e5": 0.0, "bm25": 1.0}
        n = min(total, max(4 * k, 24))
        scores: dict[str, dict[str, float]] = defaultdict(dict)
        info: dict[str, tuple[str, dict]] = {}
        wanted = {
            key: col
            for key, col in (("e5", self._e5), ("minilm", self._minilm))
            if w[key] > 0 or (key == "e5") == (lang == "zh")
        }
        # Both encoders release the GIL: embed the query with each at the same time.
        # What is searched for: the question whole, or its start and end when long (a 2,000-character
        # question then costs what a short one does: 3.2 s of e5 and 70 ms of jieba before).
        searched = bounded_query(query)
        futures = {key: _POOL.submit(EMBEDDERS[key]().embed_query, [searched]) for key in wanted}
        for key, collection in wanted.items():
            for entry, (sim, shown, meta) in self._dense(collection, futures[key].result()[0], n).items():
                scores[entry][key] = sim
                info.setdefault(entry, (shown, meta))
        words = tokens(searched)  # none at all ("???", emoji): bm25s fails on an empty query
        if w["bm25"] > 0 and words:
            _, model, ids, metas = self._bm25_index()
            if model is not None:
                raw = model.get_scores(words)
                top = np.argsort(-raw)[:n]
                peak = float(raw[top[0]]) if len(top) else 0.0
                for i in top:
                    if raw[i] <= 0:
                        break
                    scores[ids[i]]["bm25"] = float(raw[i]) / peak
                    doc, meta = metas[i]
                    info.setdefault(ids[i], (doc.split("\n", 1)[0] if meta["kind"] == "faq" else doc, meta))
        if not scores:
            return []
        floor = {key: min((s[key] for s in scores.values() if key in s), default=0.0) for key in ("e5", "minilm")}
        hits = []
        for entry, s in scores.items():
            fused = sum(w[key] * s.get(key, floor.get(key, 0.0)) for key in ("e5", "minilm", "bm25"))
            shown, meta = info[entry]
            if lang == "en":
                confidence = s.get("minilm", floor["minilm"])
            else:
                confidence = (s.get("e5", floor["e5"]) - E5_FLOOR) / (1 - E5_FLOOR)
            if mode == "bm25":
                confidence = s.get("bm25", 0.0)
            hits.append(
                Hit(
                    entry,
                    shown,
                    round(fused, 4),
                    round(float(np.clip(confidence, 0, 1)), 4),
                    meta["source"],
                    meta["kind"],
                    meta["language"],
                    meta["answer"],
                    meta["faq_id"],
                    meta["category"],
                    meta["section"],
                )
            )
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]


def warm_up() -> None:
    """Load both embedding models and the keyword tokenizer's dictionary now (about 6 s of CPU).
    serve.py runs this in the background at start: otherwise the first people to open the support
    page wait for it, one behind the other (six at once waited 19 s each here)."""
    for embedder in EMBEDDERS.values():
        embedder().embed_query(["warm up"])
    tokens("warm up 热身")


def load_sample(kb: KnowledgeBase, progress=None) -> list[IngestReport]:
    """Load the sample company's FAQ and documents, once, into an empty knowledge base."""
    marker = kb.root / f"{kb.name}.sample-loaded"
    if marker.exists() or kb.count() > 0:
        return []
    files = sorted(SAMPLE_DIR.glob("*"))
    reports = []
    for i, path in enumerate(files):
        reports.append(kb.ingest_path(path))
        if progress:
            progress((i + 1) / len(files))
    marker.write_text("loaded\n")
    return reports
