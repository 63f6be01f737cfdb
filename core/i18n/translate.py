"""UI text in English and Chinese. Traditional Chinese is derived from the Simplified text with
OpenCC (s2twp: Taiwan standard with local phrases), so the two scripts can never drift apart.

`t(key, lang)` looks a string up; `pick({"en": ..., "zh": ...}, lang)` picks from data files. The
strings live in one table per part of the app (core/i18n/app.py, chat.py, support.py, writer.py,
model.py, calc.py; their data in app.toml, chat.toml, …), each key: (English, Simplified
Chinese); a key defined in two tables is an error at import, and tests/test_i18n.py checks that
every key the code uses exists.
"""

from __future__ import annotations

from core.i18n import app, calc, chat, model, support, writer
from core.text.language import to_traditional

LANGUAGES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文"}
DEFAULT_LANG = "en"
TABLES = {
    "app": app.STRINGS,
    "chat": chat.STRINGS,
    "support": support.STRINGS,
    "writer": writer.STRINGS,
    "model": model.STRINGS,
    "calc": calc.STRINGS,
}


def merge(tables: dict[str, dict]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for name, table in tables.items():
        twice = sorted(merged.keys() & table.keys())
        if twice:
            raise ValueError(f"core/i18n/{name}.py defines keys another table has: {', '.join(twice[:5])}")
        merged.update(table)
    return merged


STRINGS = merge(TABLES)


def normalize_lang(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANG


def pick(texts: dict, lang: str) -> str:
    """Choose from {"en": ..., "zh": ...} (optionally "zh-Hant") for a UI language."""
    lang = normalize_lang(lang)
    if lang == "en":
        return texts["en"]
    if lang == "zh-Hant" and texts.get("zh-Hant"):
        return texts["zh-Hant"]
    zh = texts.get("zh") or texts.get("zh-Hans") or texts["en"]
    return to_traditional(zh) if lang == "zh-Hant" else zh


def t(key: str, lang: str = DEFAULT_LANG, **kwargs) -> str:
    en, zh = STRINGS[key]
    text = pick({"en": en, "zh": zh}, lang)
    return text.format(**kwargs) if kwargs else text


def in_every_language(*keys: str) -> set[str]:
    """These texts in every UI language, case-folded: names a user may not take for their own."""
    return {t(key, lang).casefold() for key in keys for lang in LANGUAGES}
