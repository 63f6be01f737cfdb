"""Saved chat conversations in SQLite: create, list, rename, delete, resume, export."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from core.storage.db import connect
from core.storage.schema import migrate

TITLE_MAX = 80


@dataclass
class Message:
    id: int
    role: str
    content: str
    stats: dict | None = None


@dataclass
class Conversation:
    id: str
    title: str
    persona: str
    custom_prompt: str
    created_at: float
    updated_at: float
    messages: list[Message] = field(default_factory=list)


def _title_from(text: str) -> str:
    title = " ".join(text.split())
    return (title[: TITLE_MAX - 1] + "…") if len(title) > TITLE_MAX else title


class ConversationStore:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        migrate(db_path)

    def create(
        self, title: str = "", persona: str = "assistant", custom_prompt: str = "", first_message: str | None = None
    ) -> str:
        """A new conversation; with `first_message`, the user's opening message is saved in the same
        transaction, so a crash between the two never leaves an empty, titled conversation."""
        cid = uuid.uuid4().hex[:12]
        now = time.time()
        with connect(self.db_path) as conn:
            conn.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                (cid, _title_from(title) or "New chat", persona, custom_prompt, now, now),
            )
            if first_message is not None:
                conn.execute(
                    "INSERT INTO messages (conversation_id, role, content, stats, created_at)"
                    " VALUES (?, 'user', ?, NULL, ?)",
                    (cid, first_message, now),
                )
        return cid

    def list(self) -> list[Conversation]:
        with connect(self.db_path) as conn:
            rows = conn.execute("SELECT * FROM conversations ORDER BY updated_at DESC").fetchall()
        return [Conversation(**dict(r)) for r in rows]

    def get(self, cid: str) -> Conversation | None:
        with connect(self.db_path) as conn:
            row = conn.execute("SELECT * FROM conversations WHERE id = ?", (cid,)).fetchone()
            if row is None:
                return None
            msgs = conn.execute(
                "SELECT id, role, content, stats FROM messages WHERE conversation_id = ? ORDER BY id", (cid,)
            ).fetchall()
        conv = Conversation(**dict(row))
        conv.messages = [
            Message(m["id"], m["role"], m["content"], json.loads(m["stats"]) if m["stats"] else None) for m in msgs
        ]
        return conv

    def add_message(self, cid: str, role: str, content: str, stats: dict | None = None) -> int:
        now = time.time()
        with connect(self.db_path) as conn:
            cur = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, stats, created_at) VALUES (?, ?, ?, ?, ?)",
                (cid, role, content, json.dumps(stats) if stats else None, now),
            )
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, cid))
            return cur.lastrowid

    def delete_message(self, message_id: int) -> None:
        with connect(self.db_path) as conn:
            conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def rename(self, cid: str, title: str) -> None:
        title = _title_from(title)
        if not title:
            raise ValueError("A conversation title cannot be empty")
        with connect(self.db_path) as conn:
            conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, cid))

    def set_persona(self, cid: str, persona: str, custom_prompt: str = "") -> None:
        with connect(self.db_path) as conn:
            conn.execute(
                "UPDATE conversations SET persona = ?, custom_prompt = ? WHERE id = ?", (persona, custom_prompt, cid)
            )

    def delete(self, cid: str) -> None:
        with connect(self.db_path) as conn:
            conn.execute("DELETE FROM conversations WHERE id = ?", (cid,))


def to_markdown(conv: Conversation) -> str:
    lines = [f"# {conv.title}", "", f"Persona: {conv.persona}", ""]
    for m in conv.messages:
        lines += [f"## {'You' if m.role == 'user' else 'Assistant'}", "", m.content, ""]
    return "\n".join(lines)


def to_json(conv: Conversation) -> str:
    return json.dumps(
        {
            "id": conv.id,
            "title": conv.title,
            "persona": conv.persona,
            "custom_prompt": conv.custom_prompt,
            "created_at": conv.created_at,
            "messages": [{"role": m.role, "content": m.content, "stats": m.stats} for m in conv.messages],
        },
        ensure_ascii=False,
        indent=2,
    )
