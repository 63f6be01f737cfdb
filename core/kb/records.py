"""What the knowledge base stores and hands out: record ids, search hits, ingest reports, its
errors, and the one place a Chroma client is made (`chroma_client`: an embedded folder or a server).

Record ids derive from content (`entry_id`), so ingesting the same file twice changes nothing and
a changed file replaces exactly its old chunks.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

from core.kb.ingest import Chunk


class KBBusy(RuntimeError):
    pass


class KBUnavailable(RuntimeError):
    """The configured Chroma server does not answer."""


@dataclass
class Hit:
    id: str
    text: str
    score: float  # fused ranking score
    confidence: float  # 0..1, the query language's dense similarity: what answer thresholds use
    source: str
    kind: str  # faq | doc
    language: str
    answer: str = ""
    faq_id: str = ""
    category: str = ""
    section: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    source: str
    kind: str
    entries: int
    added: int
    removed: int

    @property
    def unchanged(self) -> bool:
        return self.added == 0 and self.removed == 0


def entry_id(kb: str, source: str, chunk: Chunk, position: int) -> str:
    key = "\x00".join(
        [kb, source, chunk.kind, chunk.text, chunk.answer, chunk.faq_id, str(position * (chunk.kind == "doc"))]
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def chroma_client(root: Path, server: str | None = None):
    """The one place a Chroma client is made: the embedded store in `root/chroma` (default; one
    process per folder), or, when `server` ("host:port", APP_CHROMA_HOST/APP_CHROMA_PORT) is given,
    a Chroma server (`chroma run`) that any number of app processes on any hosts share. Embedding
    happens here, client-side, with our functions in both cases; the server only stores vectors."""
    import chromadb  # chromadb: loaded with the knowledge base only
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if not server:
        return chromadb.PersistentClient(path=str(Path(root) / "chroma"), settings=settings)
    host, _, port = server.rpartition(":")
    try:
        return chromadb.HttpClient(host=host, port=int(port), settings=settings)
    except Exception as exc:  # chromadb says ValueError("Could not connect to a Chroma server…")
        raise KBUnavailable(
            f"Cannot reach the Chroma server at {server} (APP_CHROMA_HOST, APP_CHROMA_PORT): {exc}"
        ) from None
