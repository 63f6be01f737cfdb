"""What the support assistant was asked and how it went: questions, feedback, hand-over tickets.

Nothing asked is lost: a question is stored when it arrives (`arrive`, status 'answering'), and
completed when its answer ends (`complete`, 'answered'). A stream cut short (the customer closed
the tab) marks it 'abandoned' (`abandon`); so does the next opening of the log for a question whose
process died (kill -9, a crash, a power cut): each 'answering' row names the process answering it.

The "unanswered" list is every question answered by tier 3 (nothing in the knowledge base),
thumbed down or abandoned, until staff resolve it (usually by turning it into a new FAQ entry). A
question answered by clicking a "did you mean" suggestion is recorded with the question it came
from (`suggested_from`), so the analytics count how often suggestions are taken.

An answer given through the API comes with a random `answer_token`; only its sha256 is stored, and
feedback, suggestion clicks and tickets name their answer by it (sequential ids can be guessed).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path

from core.storage.db import connect
from core.storage.schema import migrate

STATUSES = ("answering", "answered", "abandoned")
# A question still 'answering' after this long is abandoned even if its process cannot be checked
# (another host's): no answer takes half an hour (the engine's read timeout is 10 minutes).
STALE_S = 1800.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """When the process started (clock ticks since boot, Linux), so a reused pid is told apart;
    "" for no such process, or one that is dead but not reaped yet (a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return "" if fields[0] == "Z" else fields[19]
    except (OSError, IndexError):
        return ""


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}|{_boot_id()}|{pid}|{_start_time(pid)}"


def process_alive(owner: str) -> bool | None:
    """Whether the process that wrote `owner` still runs: None where this machine cannot tell."""
    try:
        host, boot, pid_text, started = owner.split("|")
        pid = int(pid_text)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    if boot and boot != _boot_id():
        return False  # the machine restarted since
    if started:
        return _start_time(pid) == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SupportLog:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.owner = this_process()
        migrate(db_path)
        self.abandon_orphans()

    def abandon_orphans(self) -> list[int]:
        """Mark abandoned the questions still 'answering' whose process is gone (or that are older
        than STALE_S): what a crash or kill -9 left. Returns their ids."""
        now = time.time()
        with connect(self.db_path) as conn:
            rows = conn.execute(
                "SELECT id, owner, asked_at FROM support_questions WHERE status = 'answering'"
            ).fetchall()
            gone = [r["id"] for r in rows if now - r["asked_at"] > STALE_S or process_alive(r["owner"] or "") is False]
            for qid in gone:
                conn.execute(
                    "UPDATE support_questions SET status = 'abandoned', owner = NULL WHERE id = ? AND status = 'answering'",
                    (qid,),
                )
        return gone

    # -- one question, from arrival to its end ----------------------------------------------------
    def arrive(
        self,
        kb: str,
        question: str,
        language: str,
        channel: str = "page",
        api_key: str | None = None,
        token: str | None = None,
    ) -> int:
        """Store a question the moment it arrives (status 'answering'); `complete` or `abandon` it later."""
        with connect(self.db_path) as conn:
            cur = conn.execute(
                "INSERT INTO support_questions (asked_at, kb, question, language, tier, answer, channel, api_key,"
                " status, token_hash, owner) VALUES (?, ?, ?, ?, 3, '', ?, ?, 'answering', ?, ?)",
                (
                    time.time(),
                    kb,
                    question,
                    language,
                    channel,
                    api_key,
                    token_hash(token) if token else None,
                    self.owner,
                ),
            )
            return int(cur.lastrowid or 0)

    def complete(
        self,
        question_id: int,
        language: str,
        tier: int,
        answer: str,
        sources: list[dict],
        confidence: float | None,
        latency_ms: float,
        offered: int = 0,
    ) -> None:
        """The answer ended: store it (status 'answered')."""
        with connect(self.db_path) as conn:
            conn.execute(
                "UPDATE support_questions SET language = ?, tier = ?, answer = ?, sources = ?, confidence = ?,"
                " latency_ms = ?, offered = ?, status = 'answered', owner = NULL WHERE id = ?",
                (
                    language,
                    tier,
                    answer,
                    json.dumps(sources, ensure_ascii=False),
                    confidence,
                    latency_ms,
                    offered,
                    question_id,
                ),
            )

    def abandon(
        self,
        question_id: int,
        tier: int | None = None,
        answer: str | None = None,
        latency_ms: float | None = None,
        language: str | None = None,
    ) -> None:
        """The answer was cut short (the customer left, the stream broke): status 'abandoned', with
        what is known so far (the tier, the text shown)."""
        with connect(self.db_path) as conn:
            conn.execute(
                "UPDATE support_questions SET status = 'abandoned', owner = NULL, tier = COALESCE(?, tier),"
                " answer = COALESCE(?, answer), latency_ms = COALESCE(?, latency_ms),"
                " language = COALESCE(?, language) WHERE id = ? AND status = 'answering'",
                (tier, answer, latency_ms, language or None, question_id),
            )

    def status(self, question_id: int) -> str | None:
        with connect(self.db_path) as conn:
            row = conn.execute("SELECT status FROM support_questions WHERE id = ?", (question_id,)).fetchone()
            return row["status"] if row else None

    def question_for(self, token: str, api_key: str) -> int | None:
        """The question whose answer came with this token, through this API key; None for any other."""
        if not token or len(token) > 200:
            return None
        with connect(self.db_path) as conn:
            row = conn.execute(
                "SELECT id FROM support_questions WHERE token_hash = ? AND api_key = ?", (token_hash(token), api_key)
            ).fetchone()
            return int(row["id"]) if row else None

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
        token: str | None = None,
    ) -> int:
        """A question answered at once (a suggestion clicked): stored whole, status 'answered'."""
        with connect(self.db_path) as conn:
            cur = conn.execute(
                "INSERT INTO support_questions (asked_at, kb, question, language, tier, answer, sources, confidence,"
                " latency_ms, suggested_from, offered, channel, api_key, token_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    token_hash(token) if token else None,
                ),
            )
            return int(cur.lastrowid or 0)

    def set_feedback(self, question_id: int, feedback: int | None) -> None:
        if feedback not in (None, 0, 1):
            raise ValueError("feedback is 1 (up), 0 (down) or None")
        with connect(self.db_path) as conn:
            conn.execute("UPDATE support_questions SET feedback = ? WHERE id = ?", (feedback, question_id))

    def unanswered(self, kb: str | None = None) -> list[dict]:
        """Questions for staff: handed over, thumbed down or abandoned, not resolved yet."""
        sql = (
            "SELECT * FROM support_questions WHERE resolved = 0 AND status != 'answering'"
            " AND (tier = 3 OR feedback = 0 OR status = 'abandoned')"
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
