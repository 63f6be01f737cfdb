"""Content writer: templates as data files, brand voice, grounding in company facts, checks.

A template (data/writer/templates/<id>.json) holds its fields, an English and a Chinese prompt
and a length limit (per platform for social posts), so a new template needs no code. The writer
adds tone, audience, length, keywords, banned words, the brand voice and, optionally, facts from
the knowledge base, then checks every variant: length, keywords, banned words, language.
"""

from __future__ import annotations

import csv
import io
import json
import re
import string
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.config import PROJECT_ROOT
from core.kb.ingest import decode_text
from core.llm import GenerationOptions
from core.storage.db import connect
from core.text.exports import safe_cell
from core.text.language import text_language
from core.text.uploads import check_upload
from core.writer.draft_text import (
    PAUSE,
    clean,
    contains_word,
    drop_unfinished,
    fit_length,
    is_looping,
    new_sentences,
    unsupported_numbers,
)

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
LENGTHS = {"short": 0.4, "medium": 0.7, "long": 1.0}  # share of the template's character limit
TONES = {
    "friendly": ("friendly and warm", "亲切温暖"),
    "professional": ("professional and clear", "专业清晰"),
    "playful": ("playful and lively", "活泼有趣"),
    "luxury": ("refined and premium", "高端精致"),
    "persuasive": ("persuasive and energetic", "有说服力、富有感染力"),
}


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


def structure_missing(text: str, template: Template, lang: str) -> list[str]:
    """Labels (in `lang`) of the template's required parts that `text` lacks."""
    return [
        part["label"][lang]
        for part in template.structure.get(lang, [])
        if len(re.findall(part["pattern"], text, re.MULTILINE)) < int(part.get("min", 1))
    ]


@lru_cache(maxsize=4)
def load_templates(directory: Path = TEMPLATES_DIR) -> dict[str, Template]:
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        raise TemplateError(f"No templates found in {directory}")
    loaded = {t.id: t for t in map(parse_template, paths)}
    order = {name: i for i, name in enumerate(PREFERRED_ORDER)}
    return dict(sorted(loaded.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


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


def _task(req: WriteRequest, fields: dict) -> str:
    values = {f.name: str(fields.get(f.name, "")).strip() or "-" for f in req.template.fields}
    return req.template.prompt[req.lang].format(**values)


def _style_lines(req: WriteRequest, target: int, max_chars: int) -> list[str]:
    """Platform, tone, audience and length lines; the example turn gets them too, so the model sees
    them as instructions it has already followed rather than text to repeat."""
    zh = req.lang == "zh"
    lines = []
    if req.platform:
        style = req.template.platforms[req.platform]["style"][req.lang]
        lines.append(("平台风格：" if zh else "Platform style: ") + style)
    tone = TONES[req.tone][1 if zh else 0]
    lines.append(f"语气：{tone}。" if zh else f"Tone: {tone}.")
    if req.audience.strip():
        lines.append(f"目标读者：{req.audience.strip()}。" if zh else f"Audience: {req.audience.strip()}.")
    lines.append(
        f"篇幅：约 {target} 字，最多 {max_chars} 字。"
        if zh
        else f"Length: about {target} characters, never more than {max_chars}."
    )
    return lines


def _closing_line(zh: bool) -> str:
    return "请用简体中文写作。只输出成稿本身，不要任何解释。" if zh else "Write in English. Output only the text."


def _example_turns(req: WriteRequest) -> list[dict]:
    example = req.template.example(req.lang, req.platform)
    if not example:
        return []
    zh = req.lang == "zh"
    length = len(example["output"])
    lines = [_task(req, example["fields"]), *_style_lines(req, length, max(length, req.max_chars)), _closing_line(zh)]
    return [{"role": "user", "content": "\n".join(lines)}, {"role": "assistant", "content": example["output"]}]


def build_messages(req: WriteRequest) -> list[dict]:
    req.validate()
    zh = req.lang == "zh"
    lines = [_task(req, req.fields), *_style_lines(req, req.target_chars, req.max_chars)]
    if req.keywords:
        lines.append(("必须包含这些词：" if zh else "Must include these words: ") + ", ".join(req.keywords))
    if req.banned:
        lines.append(("不得使用这些词：" if zh else "Never use these words: ") + ", ".join(req.banned))
    if req.facts:
        facts = "\n".join(f"- {f}" for f in req.facts)
        lines.append(
            (
                "只使用以下公司资料中的事实，不要编造价格、数据或奖项：\n"
                if zh
                else "Use only these company facts; do not invent prices, numbers or awards:\n"
            )
            + facts
        )
    lines.append(_closing_line(zh))
    system = (
        "你是一名资深营销文案，文字具体、生动、真实。"
        if zh
        else "You are an experienced marketing copywriter: concrete, vivid and truthful."
    )
    if req.voice:
        v = req.voice
        parts = [f"{'品牌调性' if zh else 'Brand voice'} “{v.name}”: {v.description}".strip()]
        if v.do:
            parts.append(("要：" if zh else "Do: ") + "; ".join(v.do))
        if v.dont:
            parts.append(("不要：" if zh else "Don't: ") + "; ".join(v.dont))
        for example in v.examples[:2]:
            parts.append(("范例：" if zh else "Example: ") + example[:400])
        system += "\n" + "\n".join(parts)
    return [{"role": "system", "content": system}, *_example_turns(req), {"role": "user", "content": "\n".join(lines)}]


TOO_SHORT = 0.25  # of the length asked for: a draft this short stopped before it was done


def check(text: str, req: WriteRequest) -> dict:
    language = text_language(text)
    return {
        "unsupported_numbers": unsupported_numbers(text, _given(req)),
        "chars": len(text),
        "max_chars": req.max_chars,
        "length_ok": 0 < len(text) <= req.max_chars,
        "too_short": len(text) < TOO_SHORT * req.target_chars,
        "missing_keywords": [k for k in req.keywords if not contains_word(text, k)],
        "banned_found": [b for b in req.banned if contains_word(text, b)],
        "structure_missing": structure_missing(text, req.template, req.lang),
        "language": language,
        "language_ok": language == req.lang,
    }


def problems(checks: dict) -> int:
    """How far a draft is from usable; 0 = every check passed."""
    return (
        2 * (not checks["language_ok"])
        + 2 * len(checks.get("structure_missing", []))
        + (not checks["length_ok"])
        + checks.get("too_short", False)
        + len(checks["missing_keywords"])
        + len(checks["banned_found"])
        + min(2, len(checks.get("unsupported_numbers", [])))
    )


@dataclass
class Variant:
    text: str
    checks: dict
    seconds: float = 0.0
    tokens: int = 0
    attempts: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


def options_for(req: WriteRequest, seed: int) -> GenerationOptions:
    # Qwen's tokenizer: ~4 characters per token in English, ~1.4 in Chinese (measured on our
    # templates' outputs); a little headroom so the text can end its sentence.
    per_token = 1.4 if req.lang == "zh" else 4.0
    return GenerationOptions(
        max_new_tokens=min(2048, int(req.max_chars / per_token * 1.15) + 16),
        temperature=0.7,
        top_p=0.9,
        repetition_penalty=1.1,
        seed=seed,
    )


ATTEMPTS = 2  # drafts per variant at most: a second one only when the first fails a check


def write_one(
    llm, req: WriteRequest, seed: int = 0, cancel: threading.Event | None = None, attempts: int = ATTEMPTS
) -> Variant:
    """One variant. A 0.5B model sometimes stops early, loops or drops a required part; such a
    draft is written again with another seed, and the better of the two is kept. A part still
    missing after that is written into the draft from its first words (see `_complete_parts`)."""
    start = time.perf_counter()
    messages = build_messages(req)
    best: tuple[str, dict] | None = None
    tokens = 0
    for attempt in range(max(1, attempts)):
        options = options_for(req, seed + 1000 * attempt)
        gen = llm.stream(messages, options)
        looped = _consume(gen, cancel)
        tokens += gen.stats.new_tokens
        raw = gen.text
        if looped or gen.stats.new_tokens >= options.max_new_tokens:  # stopped mid-sentence
            raw = drop_unfinished(raw)
        text = fit_length(clean(raw, _example_text(req), _given(req), req.keywords), req.max_chars)
        checks = check(text, req)
        if best is None or problems(checks) < problems(best[1]):
            best = (text, checks)
        if problems(best[1]) == 0 or (cancel is not None and cancel.is_set()):
            break
    assert best is not None  # at least one attempt ran
    text, checks = best
    if checks["structure_missing"] and not (cancel is not None and cancel.is_set()):
        text, checks, added = _complete_parts(llm, req, messages, text, seed, cancel)
        tokens += added
    return Variant(text, checks, round(time.perf_counter() - start, 2), tokens, attempt + 1)


def _consume(gen, cancel: threading.Event | None, stop_at: str = "") -> bool:
    """Read a generation to its end; stop it early when the user cancels, when the model starts
    saying the same thing again (it would loop until the token limit: minutes on a CPU), or once
    `stop_at` follows some text. True when it was stopped for looping."""
    looped = False
    for chunk in gen:
        if not looped and PAUSE.search(chunk) and is_looping(gen.text):
            looped = True
            gen.cancel()
        if (cancel is not None and cancel.is_set()) or (stop_at and stop_at in gen.text.strip()):
            gen.cancel()
    return looped


def _given(req: WriteRequest) -> str:
    """Everything the user gave the model: what the draft may say even when the example says it too."""
    voice = req.voice.examples if req.voice else []
    return "\n".join([_task(req, req.fields), *req.facts, *req.keywords, *voice])


def _example_text(req: WriteRequest) -> str:
    example = req.template.example(req.lang, req.platform)
    return example["output"] if example else ""


def _lead(part: dict, req: WriteRequest, draft: str) -> str:
    """The text that starts a missing part, from the template, written after the draft's last line:
    a fixed text ("\nAbout {company}\n": a blank line, then the heading; "- ": one more bullet) or,
    with "lead_from", the next heading of a field that lists headings (an outline) that the draft
    does not have yet, as a new paragraph."""
    values = {f.name: str(req.fields.get(f.name, "")).strip() or "-" for f in req.template.fields}
    if part.get("lead_from"):
        for line in str(req.fields.get(part["lead_from"], "")).splitlines():
            heading = HEADING_NUMBER.sub("", line).strip()
            if (
                heading
                and not line.lstrip().startswith(("-", "*", "•"))
                and not TITLE_LINE.match(line)
                and heading not in draft
            ):
                return f"\n{heading}\n"
        return ""
    return part.get("lead", "").format(**values)


HEADING_NUMBER = re.compile(r"^\s*(?:#+\s*)?(?:\d+[.、)]|[一二三四五六七八九十]+[、.])?\s*")
TITLE_LINE = re.compile(r"^\s*(?:title|标题|標題)\s*[:：]", re.IGNORECASE)


def _complete_parts(
    llm, req: WriteRequest, messages: list[dict], text: str, seed: int, cancel: threading.Event | None = None
) -> tuple[str, dict, int]:
    """Write each missing part that has a lead into the draft: the draft up to where the part
    belongs plus the part's first words go to the model as the start of its own reply, and it
    finishes that line (a section of an outline: that paragraph). Asking for a part in a new turn
    does not work with a 0.5B model (it rewrites the whole text or ignores the request); continuing
    its own text does. A part needed several times (3 bullets) is continued once per missing one.
    The result is kept only if it lacks fewer parts."""
    parts = req.template.structure.get(req.lang, [])
    draft, tokens = text, 0
    missing = set(structure_missing(text, req.template, req.lang))
    for i, part in enumerate(parts):
        if part["label"][req.lang] not in missing or not (part.get("lead") or part.get("lead_from")):
            continue
        # The part goes after the line of its last instance the draft has (a third bullet after
        # the second), and before the first later part it has (a quote before "About ...").
        places = [m.start() for p in parts[i + 1 :] if (m := re.search(p["pattern"], draft, re.MULTILINE))]
        if had := list(re.finditer(part["pattern"], draft, re.MULTILINE)):
            line_end = draft.find("\n", had[-1].end())
            places.append(len(draft) if line_end < 0 else line_end)
        head = draft[: min(places, default=len(draft))].rstrip()
        tail = draft[len(head) :]  # with the blank line or line break that led into it
        count = lambda text, pattern=part["pattern"]: len(re.findall(pattern, text, re.MULTILINE))  # noqa: E731
        stop_at = "\n\n" if part.get("lead_from") else "\n"
        for extra_try in range(int(part.get("min", 1)) + 1):
            lead = _lead(part, req, head)
            if not lead or (cancel is not None and cancel.is_set()):
                break
            options = options_for(req, seed + 500 + extra_try)
            options.max_new_tokens = min(options.max_new_tokens, 240)  # one paragraph
            gen = llm.stream(messages, options, prefill=f"{head}\n{lead}")
            _consume(gen, cancel, stop_at)
            tokens += gen.stats.new_tokens
            # Only that line or paragraph: what follows may be a part the draft already has.
            piece = gen.text.strip().split(stop_at)[0]
            body = new_sentences(
                clean(piece, _example_text(req), _given(req), req.keywords), f"{head}\n{tail}", _given(req)
            )
            if len(body) < 4:
                continue
            candidate = f"{head}\n{lead}{body}"
            if count(candidate + tail) > count(head + tail):  # one more of the part: keep it
                head = candidate
            if count(head + tail) >= int(part.get("min", 1)):
                break
        draft = (head + tail).strip()
    draft = fit_length(draft, req.max_chars)
    checks = check(draft, req)
    if len(checks["structure_missing"]) < len(missing):
        return draft, checks, tokens
    return text, check(text, req), tokens


def write(llm, req: WriteRequest, variants: int = 1, seed: int = 0) -> list[Variant]:
    if not 1 <= variants <= 4:
        raise ValueError("Variants must be between 1 and 4")
    req.validate()
    return [write_one(llm, req, seed + i) for i in range(variants)]


def facts_from_kb(kb, req_fields: dict, k: int = 5) -> list[str]:
    """Company facts for grounding: the knowledge-base passages closest to the fields' text."""
    query = " ".join(str(v) for v in req_fields.values() if str(v).strip())[:500]
    if not query.strip():
        return []
    out = []
    for h in kb.search(query, k=k):
        out.append(f"{h.text} — {h.answer}" if h.kind == "faq" else h.text.replace("\n", " "))
    return [f[:600] for f in out]


# -- history and brand voices ---------------------------------------------------------------
SCHEMA = """
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


class WriterStore:
    def __init__(self, db_path: Path):
        self.db_path = db_path
        with connect(db_path) as conn:
            conn.executescript(SCHEMA)

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


# -- export ---------------------------------------------------------------------------------
def to_markdown(title: str, texts: list[str]) -> str:
    parts = [f"# {title}", ""]
    for i, text in enumerate(texts, 1):
        parts += ([f"## Variant {i}", ""] if len(texts) > 1 else []) + [text, ""]
    return "\n".join(parts)


def to_docx(title: str, texts: list[str]) -> bytes:
    import docx  # Word files: loaded when one is read or written

    document = docx.Document()
    document.add_heading(title, level=1)
    for i, text in enumerate(texts, 1):
        if len(texts) > 1:
            document.add_heading(f"Variant {i}", level=2)
        for paragraph in clean(text).split("\n"):
            document.add_paragraph(paragraph)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# -- batch ----------------------------------------------------------------------------------
def read_rows(name: str, data: bytes, max_bytes: int = 50_000_000) -> list[dict]:
    """The rows of a batch upload (CSV or .xlsx), after the knowledge base's import limits: its size
    and an .xlsx's unpacked size (core/text/uploads.py); UploadRefused (a ValueError) says which."""
    check_upload(name, data, max_bytes)
    if name.lower().endswith(".xlsx"):
        try:
            frame = pd.read_excel(io.BytesIO(data), dtype=str).fillna("")
        except Exception as exc:  # openpyxl/zipfile raise many kinds for a broken workbook
            raise ValueError(f"{name}: cannot read the workbook ({type(exc).__name__})") from None
        return frame.to_dict("records")
    rows = list(csv.DictReader(io.StringIO(decode_text(name, data))))
    if not rows:
        raise ValueError(f"{name}: no rows")
    return rows


def run_batch(
    llm,
    template: Template,
    rows: list[dict],
    out_path: Path,
    base: WriteRequest | None = None,
    progress=None,
    cancel: threading.Event | None = None,
    facts_for=None,
) -> dict:
    """One text per row, appended to out_path as it goes; rows already in out_path are skipped, so
    a stopped or crashed run resumes where it ended. Cells that a spreadsheet would run as a
    formula (the uploaded fields or the model's text starting with = + - @) are neutralised.
    `facts_for(row)`, when given, grounds each row in its own facts (from the knowledge base)."""

    out_path = Path(out_path)
    done = set()
    inputs = list(rows[0].keys())
    # Output columns; one whose name the upload already uses (a "text" or "facts" column) gets "out_".
    named = {
        c: f"out_{c}" if c in inputs else c
        for c in (
            "text",
            "chars",
            "length_ok",
            "missing_keywords",
            "banned_found",
            "language",
            "unsupported_numbers",
            "facts",
        )
    }
    columns = ["row", *[c for c in inputs if c != "row"], *named.values()]
    if out_path.exists():
        with out_path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            done = {int(r["row"]) for r in reader if r.get("row", "").isdigit()}
            if reader.fieldnames and reader.fieldnames != [safe_cell(c) for c in columns]:
                # Resuming a file written with other columns: keep its own (as they were before
                # safe_cell guarded them), so its rows stay aligned.
                columns = [h[1:] if h.startswith("'") and safe_cell(h[1:]) == h else h for h in reader.fieldnames]
    new_file = not out_path.exists()
    written = 0
    with out_path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if new_file:
            writer.writerow([safe_cell(c) for c in columns])
        for i, row in enumerate(rows, start=1):
            if cancel is not None and cancel.is_set():
                break
            if i in done:
                continue
            req = WriteRequest(
                template,
                {k: v for k, v in row.items()},
                **(
                    {}
                    if base is None
                    else {
                        k: getattr(base, k)
                        for k in ("lang", "tone", "audience", "length", "keywords", "banned", "platform", "voice")
                    }
                ),
            )
            if facts_for is not None:
                req.facts = list(facts_for(req.fields))
            variant = write_one(llm, req, seed=i, cancel=cancel)
            if cancel is not None and cancel.is_set():
                break  # a row stopped half-way is not saved: resuming writes it again
            c = variant.checks
            out = {
                "text": variant.text,
                "chars": c["chars"],
                "length_ok": c["length_ok"],
                "missing_keywords": "; ".join(c["missing_keywords"]),
                "banned_found": "; ".join(c["banned_found"]),
                "language": c["language"],
                "unsupported_numbers": "; ".join(c["unsupported_numbers"]),
                "facts": "\n".join(req.facts),
            }
            record = {**row, "row": i, **{named[k]: v for k, v in out.items()}}
            writer.writerow([safe_cell(record.get(col, "")) for col in columns])
            fh.flush()
            written += 1
            if progress:
                progress(i / len(rows))
    return {
        "rows": len(rows),
        "written": written,
        "skipped": len(done),
        "out": str(out_path),
        "stopped": bool(cancel is not None and cancel.is_set()),
    }
