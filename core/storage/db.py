"""SQLite connections for everything the app stores (conversations now; tickets, scenarios later).

One short-lived connection per operation: safe across Streamlit's threads. WAL lets readers run
while one writer commits; every write happens inside a transaction, so a crash never leaves half
of one visible. The database's folder is 0700 and its files 0600 (core/storage/private.py).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from core.storage.private import private_db

_PRIVATE: set[Path] = set()  # databases whose folder and files were made private in this process


@contextmanager
def connect(path: Path):
    if path not in _PRIVATE:  # folder 0700, files 0600: the app's user alone reads them
        private_db(path)
        _PRIVATE.add(path)
    conn = sqlite3.connect(path, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    try:
        with conn:  # commit on success, roll back on error
            yield conn
    finally:
        conn.close()
