"""The company the app speaks for: its name, what customers ask it about, the support assistant's
greeting and hand-over texts, in English and Chinese (繁體 is derived from 简体 where a customer
writes 繁體). An admin edits it on the Knowledge base page (`python -m core company`); until then it
is the sample company's (data/kb/sample-company.json) when APP_COMPANY_NAME names that company,
else a neutral one with the configured name: never one company's words for another.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.config import PROJECT_ROOT
from core.storage.db import connect
from core.storage.schema import migrate

SAMPLE = PROJECT_ROOT / "data" / "kb" / "sample-company.json"  # beside the sample folder: not ingested
LANGS = ("en", "zh")
NAME_MAX, TOPICS_MAX, TEXT_MAX = 80, 200, 600


# A greeting or hand-over left empty is written from these, with the company's name and topics.
GREETING = {
    "en": "Hello! I'm the assistant of {name}. I can answer questions about {topics}. What would you like "
    "to know? If you'd rather talk to a person, leave your details below.",
    "zh": "您好！我是{name}的客服助手，可以回答关于{topics}的问题。请问有什么可以帮您？如需人工客服，请在下方留下联系方式。",
}
HANDOVER = {
    "en": "I'm sorry, I couldn't find an answer to that in our help centre. A member of our team will "
    "gladly help: leave your name and how to reach you below, and we'll get back to you.",
    "zh": "抱歉，我在帮助中心里没有找到这个问题的答案。我们的客服同事很乐意为您处理：请在下方留下您的姓名和联系方式，我们会尽快回复您。",
}
TOPICS = {"en": "our products, your orders and our services", "zh": "我们的产品、订单和服务"}


def _texts(value, limit: int) -> dict[str, str]:
    value = value if isinstance(value, dict) else {}
    return {lang: " ".join(str(value.get(lang) or "").split())[:limit] for lang in LANGS}


@dataclass(frozen=True)
class Company:
    name: str
    topics: dict[str, str] = field(default_factory=dict)  # what customers ask about, per language
    greeting: dict[str, str] = field(default_factory=dict)  # empty: written from GREETING
    handover: dict[str, str] = field(default_factory=dict)  # empty: HANDOVER

    @classmethod
    def from_dict(cls, data: dict) -> Company:
        """From stored or typed-in values: trimmed, bounded, only the known languages."""
        name = " ".join(str(data.get("name") or "").split())[:NAME_MAX]
        if not name:
            raise ValueError("The company needs a name")
        return cls(
            name,
            _texts(data.get("topics"), TOPICS_MAX),
            _texts(data.get("greeting"), TEXT_MAX),
            _texts(data.get("handover"), TEXT_MAX),
        )

    def greeting_texts(self) -> dict[str, str]:
        """The greeting in each language, as the support assistant says it."""
        return {
            lang: self.greeting.get(lang)
            or GREETING[lang].format(name=self.name, topics=self.topics.get(lang) or TOPICS[lang])
            for lang in LANGS
        }

    def handover_texts(self) -> dict[str, str]:
        return {lang: self.handover.get(lang) or HANDOVER[lang] for lang in LANGS}

    def to_dict(self) -> dict:
        return asdict(self)


def default_company(configured_name: str) -> Company:
    """The sample company's profile if APP_COMPANY_NAME is its name, else a neutral one."""
    sample = Company.from_dict(json.loads(SAMPLE.read_text(encoding="utf-8")))
    return sample if configured_name.strip() == sample.name else Company.from_dict({"name": configured_name})


class CompanyStore:
    def __init__(self, db_path: Path, configured_name: str):
        self.db_path, self.configured_name = db_path, configured_name
        migrate(db_path)

    def get(self) -> Company:
        with connect(self.db_path) as conn:
            row = conn.execute("SELECT profile FROM company WHERE id = 1").fetchone()
        if row is None:
            return default_company(self.configured_name)
        try:
            return Company.from_dict(json.loads(row["profile"]))
        except ValueError:  # unreadable: the default rather than no support at all
            return default_company(self.configured_name)

    def save(self, company: Company) -> None:
        with connect(self.db_path) as conn:
            conn.execute(
                "INSERT INTO company (id, profile, updated_at) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at",
                (json.dumps(company.to_dict(), ensure_ascii=False), time.time()),
            )

    def reset(self) -> None:
        """Back to the default (the sample company's, or a neutral one)."""
        with connect(self.db_path) as conn:
            conn.execute("DELETE FROM company")
