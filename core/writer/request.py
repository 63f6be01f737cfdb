"""What a user asks the writer for: a template's fields plus tone, audience, length, keywords,
banned words, platform, brand voice and facts (`WriteRequest`), checked before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.writer.templates import LANGS, Template

LENGTHS = {"short": 0.4, "medium": 0.7, "long": 1.0}  # share of the template's character limit
TONES = {
    "friendly": ("friendly and warm", "亲切温暖"),
    "professional": ("professional and clear", "专业清晰"),
    "playful": ("playful and lively", "活泼有趣"),
    "luxury": ("refined and premium", "高端精致"),
    "persuasive": ("persuasive and energetic", "有说服力、富有感染力"),
}


@dataclass
class BrandVoice:
    name: str
    description: str = ""
    do: list[str] = field(default_factory=list)
    dont: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


@dataclass
class WriteRequest:
    template: Template
    fields: dict
    lang: str = "en"
    tone: str = "friendly"
    audience: str = ""
    length: str = "medium"
    keywords: list[str] = field(default_factory=list)
    banned: list[str] = field(default_factory=list)
    platform: str | None = None
    voice: BrandVoice | None = None
    facts: list[str] = field(default_factory=list)

    def validate(self) -> WriteRequest:
        if self.lang not in LANGS:
            raise ValueError("Language must be en or zh")
        if self.tone not in TONES:
            raise ValueError(f"Tone must be one of: {', '.join(TONES)}")
        if self.length not in LENGTHS:
            raise ValueError(f"Length must be one of: {', '.join(LENGTHS)}")
        if self.template.platforms and self.platform not in self.template.platforms:
            raise ValueError(f"Choose a platform: {', '.join(self.template.platforms)}")
        missing = [
            f.label["en"] for f in self.template.fields if f.required and not str(self.fields.get(f.name, "")).strip()
        ]
        if missing:
            raise ValueError(f"Please fill in: {', '.join(missing)}")
        return self

    @property
    def max_chars(self) -> int:
        return self.template.limit(self.lang, self.platform)

    @property
    def target_chars(self) -> int:
        return int(self.max_chars * LENGTHS[self.length])


def split_list(text: str) -> list[str]:
    return [w.strip() for w in re.split(r"[,，、;\n]", text or "") if w.strip()]
