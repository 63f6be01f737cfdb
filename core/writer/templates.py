"""Writer templates as data files: a template's fields, prompts, length limits, worked examples and
required parts, read from data/writer/templates/<id>.json and checked when loaded, so a new template
needs no code."""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.config import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "data" / "writer" / "templates"
LANGS = ("en", "zh")
PREFERRED_ORDER = [
    "product_description",
    "marketing_email",
    "social_post",
    "ad_copy",
    "blog_outline",
    "blog_article",
    "press_release",
    "review_reply",
    "slogans",
]


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Field:
    name: str
    label: dict
    required: bool = False
    multiline: bool = False
    placeholder: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    id: str
    name: dict
    description: dict
    fields: tuple
    prompt: dict
    max_chars: dict
    platforms: dict = field(default_factory=dict)
    # One worked example per language ({"fields": {...}, "output": "..."}), shown to the model as
    # an earlier turn: a 0.5B model copies a format far more reliably than it follows a description.
    examples: dict = field(default_factory=dict)
    # Parts a usable draft must have, per language: [{"label": {...}, "pattern": regex, "min": n,
    # "lead": first words}] (a subject line, 3 bullets, a quote...). A draft that lacks one is
    # written again; if it still lacks it, the model continues the draft from the part's "lead"
    # (a text with {fields}), or from the next heading listed in the field named by "lead_from".
    structure: dict = field(default_factory=dict)

    def example(self, lang: str, platform: str | None = None) -> dict | None:
        if platform and platform in self.platforms:
            return self.platforms[platform].get("example", {}).get(lang)
        return self.examples.get(lang)

    def limit(self, lang: str, platform: str | None = None) -> int:
        if platform and platform in self.platforms:
            return int(self.platforms[platform]["max_chars"][lang])
        return int(self.max_chars[lang])


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def parse_template(path: Path) -> Template:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        fields_ = tuple(
            Field(f["name"], f["label"], bool(f.get("required")), bool(f.get("multiline")), f.get("placeholder", {}))
            for f in raw["fields"]
        )
        template = Template(
            raw["id"],
            raw["name"],
            raw.get("description", {"en": "", "zh": ""}),
            fields_,
            raw["prompt"],
            raw["max_chars"],
            raw.get("platforms", {}),
            raw.get("example", {}),
            raw.get("structure", {}),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TemplateError(f"Template {path.name} is broken: {exc.__class__.__name__}: {exc}") from None
    if template.id != path.stem:
        raise TemplateError(f"Template {path.name}: id {template.id!r} must match the file name")
    names = {f.name for f in template.fields}
    for lang in LANGS:
        for attr in ("name", "prompt", "max_chars"):
            if not getattr(template, attr).get(lang):
                raise TemplateError(f"Template {path.name}: '{attr}' needs an '{lang}' text")
        try:
            unknown = _placeholders(template.prompt[lang]) - names
        except ValueError as exc:
            raise TemplateError(f"Template {path.name}: {lang} prompt has a stray brace ({exc})") from None
        if unknown:
            raise TemplateError(f"Template {path.name}: {lang} prompt uses unknown field(s) {sorted(unknown)}")
        for platform in [None, *template.platforms]:
            example = template.example(lang, platform)
            if example is not None and not (
                isinstance(example, dict)
                and isinstance(example.get("fields"), dict)
                and isinstance(example.get("output"), str)
            ):
                where = f"platform {platform!r} " if platform else ""
                raise TemplateError(
                    f"Template {path.name}: {where}{lang} example needs 'fields' (object) and 'output' (text)"
                )
    for lang, parts in template.structure.items():
        if not isinstance(parts, list):
            raise TemplateError(f"Template {path.name}: {lang} structure must be a list of parts, not {parts!r}")
        for part in parts:
            try:
                re.compile(part["pattern"], re.MULTILINE)
                ok = part["label"].get("en") and part["label"].get("zh") and int(part.get("min", 1)) >= 1
            except (TypeError, KeyError, AttributeError, ValueError, re.error) as exc:
                raise TemplateError(f"Template {path.name}: {lang} structure part {part!r} is broken: {exc}") from None
            if not ok:
                raise TemplateError(f"Template {path.name}: {lang} structure part needs en/zh labels and min >= 1")
            unknown = _placeholders(part.get("lead", "")) - names
            if unknown:
                raise TemplateError(
                    f"Template {path.name}: {lang} structure 'lead' uses unknown field(s) {sorted(unknown)}"
                )
            if part.get("lead_from") and part["lead_from"] not in names:
                raise TemplateError(
                    f"Template {path.name}: {lang} structure 'lead_from' names no field: {part['lead_from']!r}"
                )
    return template


@lru_cache(maxsize=4)
def load_templates(directory: Path = TEMPLATES_DIR) -> dict[str, Template]:
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        raise TemplateError(f"No templates found in {directory}")
    loaded = {t.id: t for t in map(parse_template, paths)}
    order = {name: i for i, name in enumerate(PREFERRED_ORDER)}
    return dict(sorted(loaded.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
