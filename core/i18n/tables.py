"""Read the UI text tables: core/i18n/<name>.toml, each key = [English, Simplified Chinese] (or, for
a table of Chinese only, key = Simplified Chinese). Data, not code, so translators edit TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path

HERE = Path(__file__).parent


def read(name: str) -> tuple[Path, dict]:
    path = HERE / f"{name}.toml"
    with path.open("rb") as f:
        return path, tomllib.load(f)


def load_table(name: str) -> dict[str, tuple[str, str]]:
    """core/i18n/<name>.toml as {key: (English, Simplified Chinese)}; a key TOML defines twice is an
    error of tomllib, an entry that is not two strings a ValueError naming the file and the key."""
    path, data = read(name)
    table: dict[str, tuple[str, str]] = {}
    for key, value in data.items():
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise ValueError(f"core/i18n/{path.name}: {key!r} should be [English, Simplified Chinese], not {value!r}")
        table[key] = (value[0], value[1])
    return table


def load_chinese(name: str) -> dict[str, str]:
    """core/i18n/<name>.toml as {key: Simplified Chinese}, for text whose English lives in code."""
    path, data = read(name)
    for key, value in data.items():
        if not isinstance(value, str):
            raise ValueError(f"core/i18n/{path.name}: {key!r} should be one string (Simplified Chinese), not {value!r}")
    return data
