"""Audit log of admin actions: who ingested or deleted knowledge, changed the model, managed users.

One row per action: (ts, username, action, target, detail JSON). Callers pass only facts about
the action (names, counts, settings); never a password or any other secret.
"""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path

from core.storage.db import connect
from core.storage.schema import migrate

LOCAL_USER = "local"  # who acted in the app while sign-in is off


def cli_user() -> str:
    """The actor for command-line actions: the operating-system account that ran them."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no such account in the password database (some containers)
        name = "unknown"
    return f"cli:{name}"


def record(
    db_path: Path, username: str, action: str, target: str = "", detail: dict | None = None, now: float | None = None
) -> None:
    migrate(db_path)
    with connect(db_path) as conn:
        conn.execute(
            "INSERT INTO audit_log (ts, username, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            (
                time.time() if now is None else now,
                username,
                action,
                str(target),
                json.dumps(detail or {}, ensure_ascii=False, default=str),
            ),
        )


def recent(db_path: Path, limit: int = 100) -> list[dict]:
    """The newest `limit` entries, newest first."""
    migrate(db_path)
    with connect(db_path) as conn:
        rows = conn.execute(
            "SELECT ts, username, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?", (int(limit),)
        ).fetchall()
    return [dict(r) | {"detail": json.loads(r["detail"])} for r in rows]
