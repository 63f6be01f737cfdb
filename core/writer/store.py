"""The writer's SQLite tables: the history of drafts written and the saved brand voices."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from core.storage.db import connect
from core.storage.schema import migrate
from core.writer.drafts import Variant
from core.writer.request import BrandVoice, WriteRequest


class WriterStore:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        migrate(db_path)

    def save(self, req: WriteRequest, variant: Variant) -> int:
        request = {
            "fields": req.fields,
            "tone": req.tone,
            "audience": req.audience,
            "length": req.length,
            "keywords": req.keywords,
            "banned": req.banned,
            "platform": req.platform,
            "voice": req.voice.name if req.voice else None,
        }
        with connect(self.db_path) as conn:
            cur = conn.execute(
                "INSERT INTO writer_history (created_at, template, lang, request, text, checks) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    req.template.id,
                    req.lang,
                    json.dumps(request, ensure_ascii=False),
                    variant.text,
                    json.dumps(variant.checks),
                ),
            )
            return cur.lastrowid

    def update_text(self, history_id: int, text: str, checks: dict) -> None:
        with connect(self.db_path) as conn:
            conn.execute(
                "UPDATE writer_history SET text = ?, checks = ? WHERE id = ?", (text, json.dumps(checks), history_id)
            )

    def history(self, limit: int = 100) -> list[dict]:
        with connect(self.db_path) as conn:
            rows = conn.execute("SELECT * FROM writer_history ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) | {"request": json.loads(r["request"]), "checks": json.loads(r["checks"])} for r in rows]

    def save_voice(self, voice: BrandVoice) -> None:
        if not voice.name.strip():
            raise ValueError("A brand voice needs a name")
        with connect(self.db_path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO brand_voices VALUES (?, ?, ?)",
                (voice.name.strip(), json.dumps(asdict(voice), ensure_ascii=False), time.time()),
            )

    def voices(self) -> dict[str, BrandVoice]:
        with connect(self.db_path) as conn:
            rows = conn.execute("SELECT voice FROM brand_voices ORDER BY name").fetchall()
        return {v.name: v for v in (BrandVoice(**json.loads(r["voice"])) for r in rows)}

    def delete_voice(self, name: str) -> None:
        with connect(self.db_path) as conn:
            conn.execute("DELETE FROM brand_voices WHERE name = ?", (name,))
