"""Calculator scenarios saved by name in SQLite (the inputs only: results are recomputed on load,
so a saved scenario always shows what today's formulas say about it)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from core.economics.messages import InputError
from core.i18n.translate import LANGUAGES, t
from core.storage.db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    name TEXT PRIMARY KEY,
    inputs TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""
MAX_NAME = 80
# Labels the calculator gives things that are not saved scenarios (the current inputs, the comparison
# sheet of the Excel export): a scenario with one of those names would be mistaken for them.
RESERVED_KEYS = ("calc.current_inputs", "calc.sheet_compare")


def reserved_names() -> set[str]:
    """Those labels in every UI language, case-folded."""

    return {t(key, lang).casefold() for key in RESERVED_KEYS for lang in LANGUAGES}


class ScenarioStore:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        with connect(db_path) as conn:
            conn.executescript(SCHEMA)

    @staticmethod
    def _clean_name(name: str) -> str:
        name = " ".join((name or "").split())
        if not name:
            raise InputError("name_empty")
        if len(name) > MAX_NAME:
            raise InputError("name_long", max=MAX_NAME)
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise InputError("name_control")
        if name.casefold() in reserved_names():
            raise InputError("name_reserved", name=name)
        return name

    def save(self, name: str, inputs: dict) -> str:
        name = self._clean_name(name)
        payload = json.dumps(inputs, ensure_ascii=False, sort_keys=True)  # raises on non-JSON values
        with connect(self.db_path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO scenarios (name, inputs, updated_at) VALUES (?, ?, ?)",
                (name, payload, time.time()),
            )
        return name

    def load(self, name: str) -> dict:
        with connect(self.db_path) as conn:
            row = conn.execute("SELECT inputs FROM scenarios WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise InputError("no_saved", name=name)
        return json.loads(row["inputs"])

    def names(self) -> list[str]:
        with connect(self.db_path) as conn:
            return [r["name"] for r in conn.execute("SELECT name FROM scenarios ORDER BY updated_at DESC")]

    def delete(self, name: str) -> None:
        with connect(self.db_path) as conn:
            conn.execute("DELETE FROM scenarios WHERE name = ?", (name,))
