"""API keys for the HTTP API and the website widget: created, listed and revoked by admins.

A key is 32 random bytes, shown once when it is made and stored only as its sha256 (a random key
needs no slow password hash: there is nothing to guess). Each key has a name, the website origins
allowed to use it from a browser (the CORS allowlist; none = servers only), a rate limit in
requests per minute, and a scope: "support" (customer service only: what a public widget needs)
or "all" (also the OpenAI-compatible chat endpoint). Every use is counted.

A website key is public (it is in the page's HTML), so limits also hold per visitor: requests per
minute per client address and per conversation (`RateLimiter`), and questions in progress per
address and in all (`InFlight`). The client address is the connection's, or behind a trusted
reverse proxy the one it forwards (`client_address`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.storage.db import connect
from core.storage.schema import migrate

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


def well_formed(key: str) -> bool:
    return bool(key) and key.startswith(PREFIX) and len(key) <= 200


def active_row(conn, key: str):
    return conn.execute("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (digest(key),)).fetchone()


class KeyStore:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        migrate(db_path)

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
        if not well_formed(key):
            return None
        with connect(self.db_path) as conn:
            row = active_row(conn, key)
            if row is not None:
                conn.execute(
                    "UPDATE api_keys SET uses = uses + 1, last_used_at = ? WHERE id = ?", (time.time(), row["id"])
                )
        return None if row is None else _row(row)

    def find(self, key: str) -> ApiKey | None:
        """The active key this is, read only (not counted as used): what FastRefusal looks up on the
        event loop, one indexed read, before the full check counts the use."""
        if not well_formed(key):
            return None
        with connect(self.db_path) as conn:
            row = active_row(conn, key)
        return None if row is None else _row(row)

    def allowed_origins(self) -> set[str]:
        """Every origin some active key allows (answers a browser's CORS preflight, which carries no key)."""
        return {o for k in self.list() if k.active for o in k.origins}


class RateLimiter:
    """Requests per window (a sliding minute unless said) per key, visitor or conversation (any
    hashable), in this process. At most `tracked` of them are remembered (the least recently seen
    go first), so a flood of new addresses cannot fill the memory."""

    def __init__(self, tracked: int = 100_000):
        self.tracked = tracked
        self._seen: OrderedDict[Hashable, deque] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: Hashable, limit: int, now: float | None = None, window: float = 60.0) -> float:
        """0 if the request may go ahead (and counts it), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.get(key)
            if seen is None:
                seen = self._seen[key] = deque()
                while len(self._seen) > self.tracked:
                    self._seen.popitem(last=False)
            self._seen.move_to_end(key)
            while seen and now - seen[0] >= window:
                seen.popleft()
            if len(seen) >= limit:
                return max(0.001, window - (now - seen[0]))
            seen.append(now)
            return 0.0


class InFlight:
    """Questions in progress, per visitor and in all: what lets the API refuse at once (before any
    work) a question it could not start soon, instead of queueing it behind everyone else's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per: dict[Hashable, int] = {}
        self.total = 0

    def enter(self, visitor: Hashable, per_visitor: int, total: int) -> str:
        """ "" when admitted (and counted: call `leave` once done); "visitor" when this visitor has
        `per_visitor` questions in progress; "full" when `total` are in progress."""
        with self._lock:
            if self._per.get(visitor, 0) >= per_visitor:
                return "visitor"
            if self.total >= total:
                return "full"
            self._per[visitor] = self._per.get(visitor, 0) + 1
            self.total += 1
            return ""

    def of(self, visitor: Hashable) -> int:
        with self._lock:
            return self._per.get(visitor, 0)

    def leave(self, visitor: Hashable) -> None:
        with self._lock:
            left = self._per.get(visitor, 0) - 1
            if left > 0:
                self._per[visitor] = left
            else:
                self._per.pop(visitor, None)
            self.total = max(0, self.total - 1)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(setting: str) -> list[Network]:
    """APP_API_TRUSTED_PROXIES: comma-separated addresses or networks; ValueError for a wrong one."""
    networks = []
    for part in setting.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"APP_API_TRUSTED_PROXIES: {part.strip()!r} is not an address or network") from None
    return networks


def _trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: list[Network]) -> str:
    """The client's address: the connection's peer, unless the peer is a trusted proxy; then the
    right-most address in X-Forwarded-For that is not a trusted proxy (what the outermost trusted
    proxy saw; anything left of it the client may have written itself)."""
    address = peer or "unknown"
    if not trusted or not forwarded_for or not _trusted(address, trusted):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",")[-20:]]):
        if not hop:
            continue
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return "invalid"
        address = hop
    return address
