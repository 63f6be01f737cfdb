"""Chat personas: named system prompts in English and Chinese (data/personas.json) plus a custom one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.config import PROJECT_ROOT
from core.i18n.translate import pick

PERSONAS_FILE = PROJECT_ROOT / "data" / "personas.json"
CUSTOM = "custom"


@dataclass(frozen=True)
class Persona:
    id: str
    name: dict
    description: dict
    system: dict

    def system_prompt(self, lang: str) -> str:
        prompt = pick(self.system, lang)
        if lang == "zh-Hant":  # the model drifts into Simplified characters unless told
            prompt += "回答中文時請一律使用繁體字。"
        return prompt


@cache
def load_personas(path: Path = PERSONAS_FILE) -> dict[str, Persona]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        personas = {r["id"]: Persona(r["id"], r["name"], r["description"], r["system"]) for r in rows}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a valid personas file: {exc}") from exc
    for p in personas.values():
        for part in (p.name, p.description, p.system):
            if not part.get("en") or not part.get("zh"):
                raise ValueError(f"{path}: persona {p.id!r} needs both 'en' and 'zh' texts")
    return personas


def system_prompt(persona_id: str, lang: str, custom_prompt: str = "") -> str:
    if persona_id == CUSTOM:
        if not custom_prompt.strip():
            raise ValueError("The custom persona needs a system prompt")
        return custom_prompt.strip()
    personas = load_personas()
    if persona_id not in personas:
        raise ValueError(f"Unknown persona {persona_id!r}; choose one of: {', '.join([*personas, CUSTOM])}")
    return personas[persona_id].system_prompt(lang)
