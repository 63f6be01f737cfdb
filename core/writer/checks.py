"""The checks of a draft against its request: length, keywords, banned words, language, required
parts and figures nobody gave; and how far a draft is from usable."""

from __future__ import annotations

import re

from core.text.language import text_language
from core.writer.draft_text import contains_word, unsupported_numbers
from core.writer.prompts import given_text
from core.writer.request import WriteRequest
from core.writer.templates import Template


def structure_missing(text: str, template: Template, lang: str) -> list[str]:
    """Labels (in `lang`) of the template's required parts that `text` lacks."""
    return [
        part["label"][lang]
        for part in template.structure.get(lang, [])
        if len(re.findall(part["pattern"], text, re.MULTILINE)) < int(part.get("min", 1))
    ]


TOO_SHORT = 0.25  # of the length asked for: a draft this short stopped before it was done


def check(text: str, req: WriteRequest) -> dict:
    language = text_language(text)
    return {
        "unsupported_numbers": unsupported_numbers(text, given_text(req)),
        "chars": len(text),
        "max_chars": req.max_chars,
        "length_ok": 0 < len(text) <= req.max_chars,
        "too_short": len(text) < TOO_SHORT * req.target_chars,
        "missing_keywords": [k for k in req.keywords if not contains_word(text, k)],
        "banned_found": [b for b in req.banned if contains_word(text, b)],
        "structure_missing": structure_missing(text, req.template, req.lang),
        "language": language,
        "language_ok": language == req.lang,
    }


def problems(checks: dict) -> int:
    """How far a draft is from usable; 0 = every check passed."""
    return (
        2 * (not checks["language_ok"])
        + 2 * len(checks.get("structure_missing", []))
        + (not checks["length_ok"])
        + checks.get("too_short", False)
        + len(checks["missing_keywords"])
        + len(checks["banned_found"])
        + min(2, len(checks.get("unsupported_numbers", [])))
    )
