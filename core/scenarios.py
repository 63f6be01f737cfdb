"""Calculator scenarios saved by name in SQLite (the inputs only: results are recomputed on load,
so a saved scenario always shows what today's formulas say about it)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from core.db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    name TEXT PRIMARY KEY,
    inputs TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""
MAX_NAME = 80


class ScenarioStore:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        with connect(db_path) as conn:
            conn.executescript(SCHEMA)

    @staticmethod
    def _clean_name(name: str) -> str:
        name = " ".join((name or "").split())
        if not name:
            raise ValueError("Give the scenario a name")
        if len(name) > MAX_NAME:
            raise ValueError(f"A scenario name can be at most {MAX_NAME} characters")
        return name

    def save(self, name: str, inputs: dict) -> str:
        name = self._clean_name(name)
        payload = json.dumps(inputs, ensure_ascii=False, sort_keys=True)  # raises on non-JSON values
        with connect(self.db_path) as conn:
            conn.execute("INSERT OR REPLACE INTO scenarios (name, inputs, updated_at) VALUES (?, ?, ?)",
                         (name, payload, time.time()))
        return name

    def load(self, name: str) -> dict:
        with connect(self.db_path) as conn:
            row = conn.execute("SELECT inputs FROM scenarios WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise ValueError(f"No saved scenario called {name!r}")
        return json.loads(row["inputs"])

    def names(self) -> list[str]:
        with connect(self.db_path) as conn:
            return [r["name"] for r in conn.execute("SELECT name FROM scenarios ORDER BY updated_at DESC")]

    def delete(self, name: str) -> None:
        with connect(self.db_path) as conn:
            conn.execute("DELETE FROM scenarios WHERE name = ?", (name,))
