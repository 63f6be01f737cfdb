"""API keys for the HTTP API and the website widget: created, listed and revoked by admins.

A key is 32 random bytes, shown once when it is made and stored only as its sha256 (a random key
needs no slow password hash: there is nothing to guess). Each key has a name, the website origins
allowed to use it from a browser (the CORS allowlist; none = servers only), a rate limit in
requests per minute, and a scope: "support" (customer service only: what a public widget needs)
or "all" (also the OpenAI-compatible chat endpoint). Every use is counted.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.storage.db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    origins TEXT NOT NULL DEFAULT '[]',
    rpm INTEGER NOT NULL DEFAULT 60,
    scope TEXT NOT NULL DEFAULT 'support' CHECK (scope IN ('support', 'all')),
    created_at REAL NOT NULL,
    revoked_at REAL,
    uses INTEGER NOT NULL DEFAULT 0,
    last_used_at REAL
);
"""
PREFIX = "sk-studio-"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}$")
SCOPES = ("support", "all")


@dataclass
class ApiKey:
    id: int
    name: str
    prefix: str
    origins: list[str]
    rpm: int
    scope: str
    created_at: float
    revoked_at: float | None
    uses: int
    last_used_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "id",
                "name",
                "prefix",
                "origins",
                "rpm",
                "scope",
                "created_at",
                "revoked_at",
                "uses",
                "last_used_at",
            )
        } | {"active": self.active}


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def normalise_origin(origin: str) -> str:
    """scheme://host[:port], as browsers send it in the Origin header."""
    origin = origin.strip().rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValueError(f"{origin!r} is not a website origin like https://shop.example.com")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def _row(r) -> ApiKey:
    return ApiKey(
        r["id"],
        r["name"],
        r["prefix"],
        json.loads(r["origins"]),
        r["rpm"],
        r["scope"],
        r["created_at"],
        r["revoked_at"],
        r["uses"],
        r["last_used_at"],
    )


class KeyStore:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        with connect(db_path) as conn:
            conn.executescript(SCHEMA)

    def add(
        self, name: str, origins: list[str] | None = None, rpm: int = 60, scope: str = "support"
    ) -> tuple[ApiKey, str]:
        """A new key: (its record, the key itself — shown once, never stored)."""
        name = (name or "").strip()
        if not NAME.match(name):
            raise ValueError("A key name needs 1–60 characters: letters, digits, space, '.', '_' or '-'")
        if not 1 <= int(rpm) <= 100_000:
            raise ValueError("The rate limit must be between 1 and 100000 requests per minute")
        if scope not in SCOPES:
            raise ValueError(f"The scope is one of: {', '.join(SCOPES)}")
        allowed = sorted({normalise_origin(o) for o in origins or [] if o.strip()})
        key = PREFIX + secrets.token_urlsafe(32)
        with connect(self.db_path) as conn:
            if conn.execute("SELECT 1 FROM api_keys WHERE name = ?", (name,)).fetchone():
                raise ValueError(f"A key called {name!r} exists already")
            cur = conn.execute(
                "INSERT INTO api_keys (name, key_hash, prefix, origins, rpm, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, digest(key), key[: len(PREFIX) + 4], json.dumps(allowed), int(rpm), scope, time.time()),
            )
            row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _row(row), key

    def list(self) -> list[ApiKey]:
        with connect(self.db_path) as conn:
            return [_row(r) for r in conn.execute("SELECT * FROM api_keys ORDER BY created_at DESC")]

    def revoke(self, name_or_id: str) -> ApiKey:
        with connect(self.db_path) as conn:
            row = conn.execute(
                "SELECT * FROM api_keys WHERE name = ? OR CAST(id AS TEXT) = ?", (str(name_or_id), str(name_or_id))
            ).fetchone()
            if row is None:
                raise ValueError(f"No API key called {name_or_id!r}")
            if row["revoked_at"] is None:
                conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (time.time(), row["id"]))
            return _row(conn.execute("SELECT * FROM api_keys WHERE id = ?", (row["id"],)).fetchone())

    def verify(self, key: str) -> ApiKey | None:
        """The active key this is, counted as used; None for a wrong or revoked key."""
        if not key or not key.startswith(PREFIX) or len(key) > 200:
            return None
        with connect(self.db_path) as conn:
            row = conn.execute(
                "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (digest(key),)
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE api_keys SET uses = uses + 1, last_used_at = ? WHERE id = ?", (time.time(), row["id"]))
        return _row(row)

    def allowed_origins(self) -> set[str]:
        """Every origin some active key allows (answers a browser's CORS preflight, which carries no key)."""
        return {o for k in self.list() if k.active for o in k.origins}


class RateLimiter:
    """Requests per minute per key, over a sliding minute, in this process."""

    def __init__(self):
        self._seen: dict[int, deque] = {}
        self._lock = threading.Lock()

    def check(self, key_id: int, rpm: int, now: float | None = None) -> float:
        """0 if the request may go ahead (and counts it), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(key_id, deque())
            while seen and now - seen[0] >= 60:
                seen.popleft()
            if len(seen) >= rpm:
                return max(0.001, 60 - (now - seen[0]))
            seen.append(now)
            return 0.0
