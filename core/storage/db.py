"""SQLite connections for everything the app stores (conversations now; tickets, scenarios later).

One short-lived connection per operation: safe across Streamlit's threads. WAL lets readers run
while one writer commits; every write happens inside a transaction, so a crash never leaves half
of one visible.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def connect(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    try:
        with conn:  # commit on success, roll back on error
            yield conn
    finally:
        conn.close()
