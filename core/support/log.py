"""What the support assistant was asked and how it went: questions, feedback, hand-over tickets.

The "unanswered" list is every question answered by tier 3 (nothing in the knowledge base) or
thumbed down, until staff resolve it (usually by turning it into a new FAQ entry). A question
answered by clicking a "did you mean" suggestion is recorded with the question it came from
(`suggested_from`), so the analytics count how often suggestions are taken.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from core.storage.db import connect

SCHEMA = """
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
    api_key TEXT                 -- the API key's name, for the widget and the API
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


# Columns added since the first version: a database made then gets them on first open.
ADDED_COLUMNS = {
    "suggested_from": "INTEGER",
    "offered": "INTEGER NOT NULL DEFAULT 0",
    "channel": "TEXT NOT NULL DEFAULT 'page'",
    "api_key": "TEXT",
}


class SupportLog:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        with connect(db_path) as conn:
            conn.executescript(SCHEMA)
            have = {row["name"] for row in conn.execute("PRAGMA table_info(support_questions)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in have:
                    conn.execute(f"ALTER TABLE support_questions ADD COLUMN {column} {kind}")

    def record(
        self,
        kb: str,
        question: str,
        language: str,
        tier: int,
        answer: str,
        sources: list[dict],
        confidence: float | None,
        latency_ms: float,
        suggested_from: int | None = None,
        offered: int = 0,
        channel: str = "page",
        api_key: str | None = None,
    ) -> int:
        with connect(self.db_path) as conn:
            cur = conn.execute(
                "INSERT INTO support_questions (asked_at, kb, question, language, tier, answer, sources, confidence,"
                " latency_ms, suggested_from, offered, channel, api_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    kb,
                    question,
                    language,
                    tier,
                    answer,
                    json.dumps(sources, ensure_ascii=False),
                    confidence,
                    latency_ms,
                    suggested_from,
                    offered,
                    channel,
                    api_key,
                ),
            )
            return cur.lastrowid

    def asked_with(self, question_id: int, api_key: str) -> bool:
        """Whether this question came through this API key (a key only touches its own questions)."""
        with connect(self.db_path) as conn:
            return (
                conn.execute(
                    "SELECT 1 FROM support_questions WHERE id = ? AND api_key = ?", (question_id, api_key)
                ).fetchone()
                is not None
            )

    def set_feedback(self, question_id: int, feedback: int | None) -> None:
        if feedback not in (None, 0, 1):
            raise ValueError("feedback is 1 (up), 0 (down) or None")
        with connect(self.db_path) as conn:
            conn.execute("UPDATE support_questions SET feedback = ? WHERE id = ?", (feedback, question_id))

    def unanswered(self, kb: str | None = None) -> list[dict]:
        sql = (
            "SELECT * FROM support_questions WHERE resolved = 0 AND (tier = 3 OR feedback = 0)"
            + (" AND kb = ?" if kb else "")
            + " ORDER BY asked_at DESC"
        )
        with connect(self.db_path) as conn:
            return [dict(r) for r in conn.execute(sql, (kb,) if kb else ())]

    def resolve(self, question_id: int) -> None:
        with connect(self.db_path) as conn:
            conn.execute("UPDATE support_questions SET resolved = 1 WHERE id = ?", (question_id,))

    def questions(self, kb: str | None = None, limit: int = 10_000) -> list[dict]:
        sql = "SELECT * FROM support_questions" + (" WHERE kb = ?" if kb else "") + " ORDER BY asked_at DESC LIMIT ?"
        with connect(self.db_path) as conn:
            return [dict(r) for r in conn.execute(sql, ((kb,) if kb else ()) + (limit,))]

    def open_ticket(self, name: str, contact: str, question: str, question_id: int | None = None) -> int:
        name, contact, question = name.strip(), contact.strip(), question.strip()
        if not (name and contact and question):
            raise ValueError("Name, contact and question are all needed for a ticket")
        if len(name) > 200 or len(contact) > 200 or len(question) > 5000:
            raise ValueError("That is too long for a ticket")
        with connect(self.db_path) as conn:
            cur = conn.execute(
                "INSERT INTO tickets (created_at, question_id, name, contact, question) VALUES (?, ?, ?, ?, ?)",
                (time.time(), question_id, name, contact, question),
            )
            return cur.lastrowid

    def tickets(self, status: str | None = None) -> list[dict]:
        sql = "SELECT * FROM tickets" + (" WHERE status = ?" if status else "") + " ORDER BY created_at DESC"
        with connect(self.db_path) as conn:
            return [dict(r) for r in conn.execute(sql, (status,) if status else ())]

    def close_ticket(self, ticket_id: int) -> None:
        with connect(self.db_path) as conn:
            conn.execute("UPDATE tickets SET status = 'closed' WHERE id = ?", (ticket_id,))
