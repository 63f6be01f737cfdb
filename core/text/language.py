"""Is a text Chinese, in which script, and converting between Simplified and Traditional (OpenCC).

Used everywhere text is compared or shown: retrieval folds 繁體 to 简体, answers go back out in the
asker's script, drafts are checked for their language.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import opencc

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text or ""))


@cache  # two configs; a cache of one rebuilt each (~60 ms) on every switch
def _converter(config: str):
    return opencc.OpenCC(config).convert


def to_simplified(text: str) -> str:
    """Traditional → Simplified, so 繁體 questions match 简体 entries (and the reverse)."""
    return _converter("t2s")(text) if has_cjk(text) else text


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    """Simplified → Traditional with Taiwan phrasing (s2twp): for whole texts."""
    return _converter("s2twp")(text)


def is_traditional(text: str) -> bool:
    """Written in Traditional characters (a text in neither script is not)."""
    return to_simplified(text) != text


def question_language(text: str) -> str:
    """ "zh" for any Chinese in it, else "en": the language a customer asked in."""
    return "zh" if has_cjk(text) else "en"


def text_language(text: str) -> str:
    """ "zh" or "en" by the share of Chinese among its letters; "unknown" without letters (a draft's language)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "unknown"
    cjk = sum(1 for c in letters if has_cjk(c))
    return "zh" if cjk / len(letters) > 0.3 else "en"


def stream_in_script(chunks, lang: str):
    """Model output for a 繁體 reader ("zh-Hant"): the model drifts into Simplified characters, so
    convert as it streams. Character-level (s2t), because a chunk may split a phrase."""
    if lang != "zh-Hant":
        yield from chunks
        return
    convert = _converter("s2t")
    for chunk in chunks:
        yield convert(chunk)
