"""The one schema of the app's database (`APP_DATA_DIR/app.db`), as ordered migrations.

Every store opens the database through `migrate(db_path)`: the steps a database lacks run in order,
each recorded by name in `schema_migrations`, once per database file and process. Names never
change and steps are never edited once released: a change to a table is a new step at the end.
The steps are safe to run twice (`IF NOT EXISTS`, a column added only where it is missing), since
SQLite's executescript commits as it goes and a database made before this table existed (releases
up to 2026-12-07) has every table but no record of them: it is upgraded in place, its rows kept
(tests/test_schema.py opens one such database, kept in tests/fixtures/).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from core.storage.db import connect

CONVERSATIONS = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    persona TEXT NOT NULL DEFAULT 'assistant',
    custom_prompt TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    stats TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""

# Customer questions (core/support/log.py) and the hand-over tickets they lead to.
SUPPORT_LOG = """
CREATE TABLE IF NOT EXISTS support_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at REAL NOT NULL,
    kb TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    tier INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    answer TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',
    confidence REAL,
    latency_ms REAL,
    feedback INTEGER,            -- 1 thumbs up, 0 thumbs down, NULL none
    resolved INTEGER NOT NULL DEFAULT 0,
    suggested_from INTEGER,      -- answered by clicking a suggestion offered for that question
    offered INTEGER NOT NULL DEFAULT 0,  -- how many "did you mean" suggestions came with the answer
    channel TEXT NOT NULL DEFAULT 'page',  -- page | widget | api
    api_key TEXT,                -- the API key's name, for the widget and the API
    status TEXT NOT NULL DEFAULT 'answered',  -- answering | answered | abandoned
    token_hash TEXT,             -- sha256 of the answer's token (API answers)
    owner TEXT                   -- while answering: the process answering (host|boot|pid|start)
);
CREATE INDEX IF NOT EXISTS support_questions_by_time ON support_questions(asked_at);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    question_id INTEGER REFERENCES support_questions(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    question TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))
);
"""

# Columns support_questions gained after its first version: a database made then gets them (its
# rows were all answered: they were stored only once their answer ended).
SUPPORT_LOG_ADDED_COLUMNS = {
    "suggested_from": "INTEGER",
    "offered": "INTEGER NOT NULL DEFAULT 0",
    "channel": "TEXT NOT NULL DEFAULT 'page'",
    "api_key": "TEXT",
    "status": "TEXT NOT NULL DEFAULT 'answered'",
    "token_hash": "TEXT",
    "owner": "TEXT",
}
SUPPORT_LOG_INDEXES = """
CREATE INDEX IF NOT EXISTS support_questions_by_token ON support_questions(token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS support_questions_answering ON support_questions(status) WHERE status = 'answering';
"""

API_KEYS = """
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

SCENARIOS = """
CREATE TABLE IF NOT EXISTS scenarios (
    name TEXT PRIMARY KEY,
    inputs TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

USERS = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,          -- canonical form: NFKC, trimmed, case-folded
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    password_changed_at REAL NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
DROP TABLE IF EXISTS sign_in_failures;  -- before per-address counts: per name only
CREATE TABLE IF NOT EXISTS sign_in_user_failures (
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure REAL NOT NULL,
    locked_until REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (username, address)
);
CREATE TABLE IF NOT EXISTS sign_in_address_failures (
    address TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure REAL NOT NULL,
    blocked_until REAL NOT NULL DEFAULT 0
);
"""

AUDIT_LOG = """
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log(ts);
"""

WRITER = """
CREATE TABLE IF NOT EXISTS writer_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    template TEXT NOT NULL,
    lang TEXT NOT NULL,
    request TEXT NOT NULL,
    text TEXT NOT NULL,
    checks TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS brand_voices (
    name TEXT PRIMARY KEY,
    voice TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

COMPANY = """
CREATE TABLE IF NOT EXISTS company (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    profile TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


def _support_log_columns(conn: sqlite3.Connection) -> None:
    have = {row[1] for row in conn.execute("PRAGMA table_info(support_questions)")}
    for column, kind in SUPPORT_LOG_ADDED_COLUMNS.items():
        if column not in have:
            conn.execute(f"ALTER TABLE support_questions ADD COLUMN {column} {kind}")
    conn.executescript(SUPPORT_LOG_INDEXES)


Step = str | Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Step]] = [
    ("0001_conversations", CONVERSATIONS),
    ("0002_support_log", SUPPORT_LOG),
    ("0003_support_log_columns", _support_log_columns),
    ("0004_api_keys", API_KEYS),
    ("0005_scenarios", SCENARIOS),
    ("0006_users", USERS),
    ("0007_audit_log", AUDIT_LOG),
    ("0008_writer", WRITER),
    ("0009_company", COMPANY),
]

# Databases known to be up to date, as (path, inode, change time): a file restored or copied over
# it is looked at again.
_MIGRATED: set[tuple[Path, int, int]] = set()
_LOCK = threading.Lock()


def _identity(db_path: Path) -> tuple[Path, int, int] | None:
    try:
        st = db_path.stat()
    except OSError:
        return None  # not made yet
    return db_path, st.st_ino, st.st_ctime_ns


def migrate(db_path: Path) -> list[str]:
    """Bring the database up to date; the names of the steps that ran (none: it was)."""
    identity = _identity(db_path)
    if identity is not None and identity in _MIGRATED:
        return []
    with _LOCK, connect(db_path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        ran = []
        for name, step in MIGRATIONS:
            if name in done:
                continue
            if callable(step):
                step(conn)
            else:
                conn.executescript(step)
            # another process may have run it meanwhile: the steps are safe twice, the record once
            conn.execute("INSERT OR IGNORE INTO schema_migrations VALUES (?, ?)", (name, time.time()))
            ran.append(name)
    if (done_now := _identity(db_path)) is not None:
        _MIGRATED.add(done_now)
    return ran


def applied(db_path: Path) -> list[str]:
    """The steps recorded in this database, in order."""
    with connect(db_path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        return [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
