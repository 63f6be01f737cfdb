"""Drafts as files to download: Markdown and Word (.docx)."""

from __future__ import annotations

import io

from core.writer.draft_text import clean


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
