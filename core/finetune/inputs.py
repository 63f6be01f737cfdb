"""What training data is built from (FAQ entries, document passages, chat examples) and the
readers of each input: FAQ tables, the knowledge base, document files, JSONL chat files, uploads.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from core.kb.ingest import FAQ_EXTENSIONS, parse_file, safe_name
from core.text.language import has_cjk

ROLES = ("system", "user", "assistant")
MAX_ERRORS_SHOWN = 5


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    answer: str
    language: str  # en | zh
    category: str = ""
    source: str = "faq.csv"  # file name, as the knowledge base shows it in citations


@dataclass(frozen=True)
class Passage:
    """A document chunk of the knowledge base, as tier 2 shows it: "Title › Section\ntext"."""

    text: str
    language: str
    source: str  # file name


@dataclass
class Example:
    messages: list[dict]  # ends with the assistant's message: the training target
    kind: str  # faq | no-answer | voice | extra
    language: str
    source: str  # where it came from, e.g. "faq.csv#en-001", "voice:Jade#1", "extra.jsonl:3"
    reference: str = ""  # FAQ examples: the curated answer, for answer-quality evaluation

    def as_dict(self) -> dict:
        return asdict(self)


def faq_from_table(name: str, data: bytes, max_bytes: int = 50_000_000) -> list[FaqEntry]:
    """FAQ rows from a CSV/TSV/XLSX table (same columns as the knowledge base accepts)."""

    name = safe_name(name)
    if Path(name).suffix.lower() not in FAQ_EXTENSIONS:
        raise ValueError(f"{name}: a FAQ table must be .csv, .tsv or .xlsx")
    parsed = parse_file(name, data, max_bytes)
    return [FaqEntry(c.faq_id, c.text, c.answer, c.language, c.category, parsed.name) for c in parsed.chunks]


def faq_from_kb(kb) -> list[FaqEntry]:
    """The FAQ entries stored in a knowledge base (every ingested FAQ table, staff answers too)."""
    entries = []
    for src in kb.sources():
        if src["kind"] != "faq":
            continue
        for row in kb.preview(src["source"], limit=1_000_000):
            entries.append(FaqEntry(row["faq_id"], row["text"], row["answer"], row["language"], "", src["source"]))
    return entries


def docs_from_kb(kb) -> list[Passage]:
    out = []
    for src in kb.sources():
        if src["kind"] == "doc":
            out += [
                Passage(r["text"], r["language"], src["source"]) for r in kb.preview(src["source"], limit=1_000_000)
            ]
    return out


def docs_from_files(paths: list[Path], max_bytes: int = 50_000_000) -> list[Passage]:
    """Document chunks, split exactly as the knowledge base splits them."""

    out = []
    for path in map(Path, paths):
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        if path.suffix.lower() in FAQ_EXTENSIONS:
            raise ValueError(f"{path.name}: a FAQ table, not a document; pass it with --faq or --data")
        parsed = parse_file(path.name, path.read_bytes(), max_bytes)
        out += [Passage(c.text, c.language, parsed.name) for c in parsed.chunks]
    return out


def read_chat_jsonl(name: str, data: bytes) -> list[Example]:
    """Chat examples, one JSON object per line: {"messages": [{"role": ..., "content": ...}, ...]}.

    Rejects the whole file when any row is malformed, naming the file and line of each problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text") from None
    examples, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            messages = _chat_row(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        lang = "zh" if has_cjk(messages[-1]["content"]) else "en"
        examples.append(Example(messages, "extra", lang, f"{name}:{number}"))
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise ValueError(f"{name}: {len(errors)} malformed row(s) — {shown}{more}")
    if not examples:
        raise ValueError(f"{name}: no examples (expected one JSON object per line with a 'messages' list)")
    return examples


def _chat_row(row) -> list[dict]:
    if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
        raise ValueError('expected an object with a "messages" list')
    messages = row["messages"]
    if not messages:
        raise ValueError('"messages" is empty')
    out = []
    for i, m in enumerate(messages, start=1):
        if not isinstance(m, dict):
            raise ValueError(f"message {i} is not an object")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise ValueError(f"message {i} has role {role!r}; use system, user or assistant")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"message {i} has no text content")
        if role == "system" and i != 1:
            raise ValueError(f"message {i}: a system message may only come first")
        out.append({"role": role, "content": content.strip()})
    dialogue = [m for m in out if m["role"] != "system"]
    if not dialogue or dialogue[0]["role"] != "user":
        raise ValueError("the conversation must start with a user message")
    if out[-1]["role"] != "assistant":
        raise ValueError("the last message must be the assistant's (the answer to learn)")
    return out


def read_inputs(paths: list[Path], max_bytes: int = 50_000_000) -> tuple[list[FaqEntry], list[Example]]:
    """Extra data files: .jsonl chats, or .csv/.tsv/.xlsx FAQ tables."""
    faq, extra = [], []
    for path in map(Path, paths):
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        faq_rows, chats = read_upload(path.name, path.read_bytes(), max_bytes)
        faq += faq_rows
        extra += chats
    return faq, extra


def read_upload(name: str, data: bytes, max_bytes: int = 50_000_000) -> tuple[list[FaqEntry], list[Example]]:
    suffix = Path(name).suffix.lower()
    if len(data) > max_bytes:
        raise ValueError(f"{name}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    if suffix == ".jsonl":
        return [], read_chat_jsonl(name, data)
    if suffix in (".csv", ".tsv", ".xlsx"):
        return faq_from_table(name, data, max_bytes), []
    raise ValueError(f"{name}: use .jsonl (chat examples) or .csv/.tsv/.xlsx (FAQ table)")
