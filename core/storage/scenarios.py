"""Calculator scenarios saved by name in SQLite: the inputs only (results are recomputed on load, so
a saved scenario always shows what today's formulas say about it). Which names are allowed is the
calculator's rule (`core.economics.scenario_names`), given to the store by whoever opens it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from core.storage.db import connect
from core.storage.schema import migrate


def tidy(name: str) -> str:
    """Runs of spaces as one, none at the ends: the least any name gets."""
    return " ".join((name or "").split())


class ScenarioStore:
    def __init__(self, db_path: Path, check_name: Callable[[str], str] = tidy):
        """check_name: the name as saved, or a ValueError saying why it cannot be."""
        self.db_path, self.check_name = db_path, check_name
        migrate(db_path)

    def save(self, name: str, inputs: dict) -> str:
        name = self.check_name(name)
        payload = json.dumps(inputs, ensure_ascii=False, sort_keys=True)  # raises on non-JSON values
        with connect(self.db_path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO scenarios (name, inputs, updated_at) VALUES (?, ?, ?)",
                (name, payload, time.time()),
            )
        return name

    def load(self, name: str) -> dict | None:
        """The inputs saved under this name; None when there are none."""
        with connect(self.db_path) as conn:
            row = conn.execute("SELECT inputs FROM scenarios WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row["inputs"])

    def names(self) -> list[str]:
        with connect(self.db_path) as conn:
            return [r["name"] for r in conn.execute("SELECT name FROM scenarios ORDER BY updated_at DESC")]

    def delete(self, name: str) -> None:
        with connect(self.db_path) as conn:
            conn.execute("DELETE FROM scenarios WHERE name = ?", (name,))
