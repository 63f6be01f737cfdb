"""Turn uploaded files into knowledge-base chunks: FAQ tables and documents.

FAQ tables (CSV/TSV/XLSX) keep one entry per row: question, answer, optional id, category,
language (English or Chinese headers). Documents (Markdown, text, HTML, PDF, DOCX) are split
with LangChain's text splitters, Markdown by its headings first so each chunk knows its section.
Every failure raises `IngestError` with a message that names the file and says what is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from core.text.language import has_cjk, question_language
from core.text.uploads import UploadRefused, check_upload

FAQ_EXTENSIONS = {".csv", ".tsv", ".xlsx"}
DOC_EXTENSIONS = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"}
SUPPORTED = sorted(FAQ_EXTENSIONS | DOC_EXTENSIONS)
TEXT_ENCODINGS = ("utf-8-sig", "gb18030", "big5")  # gb18030 is a superset of GBK/GB2312

COLUMN_NAMES = {
    "question": {"question", "q", "问题", "問題", "提问", "提問"},
    "answer": {"answer", "a", "答案", "回答", "答复", "答覆"},
    "id": {"id", "faq_id", "编号", "編號"},
    "category": {"category", "类别", "類別", "分类", "分類"},
    "language": {"language", "lang", "语言", "語言"},
}
CHUNK_SIZE = 500  # characters; a few sentences, so a citation points somewhere precise
CHUNK_OVERLAP = 80
SEPARATORS = ["\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "; ", "，", ", ", " ", ""]


class IngestError(ValueError):
    pass


@dataclass
class Chunk:
    kind: str  # "faq" | "doc"
    text: str  # FAQ: the question; document: the chunk (with its section title)
    language: str
    answer: str = ""
    faq_id: str = ""
    category: str = ""
    section: str = ""


@dataclass
class ParsedSource:
    name: str
    kind: str
    chunks: list[Chunk] = field(default_factory=list)


def safe_name(name: str) -> str:
    """A display name from an uploaded file name: never a path."""
    base = PurePath(str(name).replace("\\", "/")).name.strip()
    base = re.sub(r"[\x00-\x1f]", "", base)
    if not base or base in (".", ".."):
        raise IngestError("The file has no usable name")
    return base[:200]


def _mostly_gb2312(text: str) -> bool:
    """Big5 bytes often decode as valid but nonsensical GB18030; real GBK text is nearly all GB2312."""
    cjk = [c for c in text if has_cjk(c)]
    if not cjk:
        return True
    common = sum(1 for c in cjk if _encodes(c, "gb2312"))
    return common / len(cjk) >= 0.95


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


def decode_text(name: str, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise IngestError(f"{name}: this is a binary file, not text (was it renamed?)")
    decoded = {}
    for encoding in TEXT_ENCODINGS:
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if "utf-8-sig" in decoded:
        return decoded["utf-8-sig"]
    if "gb18030" in decoded and ("big5" not in decoded or _mostly_gb2312(decoded["gb18030"])):
        return decoded["gb18030"]
    if "big5" in decoded:
        return decoded["big5"]
    raise IngestError(f"{name}: cannot read the text: it is not UTF-8, GBK or Big5")


def parse_file(name: str, data: bytes, max_bytes: int) -> ParsedSource:
    name = safe_name(name)
    ext = PurePath(name).suffix.lower()
    if ext not in FAQ_EXTENSIONS | DOC_EXTENSIONS:
        raise IngestError(f"{name}: unsupported file type; use one of {', '.join(SUPPORTED)}")
    try:
        check_upload(name, data, max_bytes)  # its size, and an Office file's unpacked size (zip bombs)
    except UploadRefused as exc:
        raise IngestError(str(exc)) from None
    if not data.strip():
        raise IngestError(f"{name}: the file is empty")
    if ext in FAQ_EXTENSIONS:
        return ParsedSource(name, "faq", parse_faq_table(name, ext, data))
    text = extract_text(name, ext, data)
    if not text.strip():
        raise IngestError(f"{name}: no text found in the document")
    return ParsedSource(name, "doc", split_document(text, markdown=ext in (".md", ".markdown")))


# -- FAQ tables -----------------------------------------------------------------------------
def _rows_from_table(name: str, ext: str, data: bytes) -> list[dict]:
    if ext == ".xlsx":
        if not data.startswith(b"PK"):
            raise IngestError(f"{name}: not a valid Excel .xlsx file")
        import openpyxl  # file readers: loaded for their file type only

        try:
            sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many types for broken files
            raise IngestError(f"{name}: cannot open the Excel file ({exc.__class__.__name__})") from None
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        text = decode_text(name, data)
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter="\t" if ext == ".tsv" else ","))
        except csv.Error as exc:
            raise IngestError(f"{name}: not a valid CSV file ({exc})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise IngestError(f"{name}: the table is empty")
    header = [h.strip().lower() for h in rows[0]]
    columns = {}
    for key, names in COLUMN_NAMES.items():
        for i, h in enumerate(header):
            if h in names and key not in columns:
                columns[key] = i
    missing = [k for k in ("question", "answer") if k not in columns]
    if missing:
        raise IngestError(
            f"{name}: needs columns 'question' and 'answer' (or 问题/答案); found: {', '.join(rows[0][:8]) or 'none'}"
        )
    out = []
    for line, row in enumerate(rows[1:], start=2):

        def cell(key, row=row):
            i = columns.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        out.append({"line": line, **{k: cell(k) for k in COLUMN_NAMES}})
    return out


def parse_faq_table(name: str, ext: str, data: bytes) -> list[Chunk]:
    chunks, seen = [], set()
    for row in _rows_from_table(name, ext, data):
        question, answer = row["question"], row["answer"]
        if not question or not answer:
            continue  # a half-filled row is skipped, not an error: spreadsheets often have them
        faq_id = row["id"] or f"row-{row['line']}"
        if faq_id in seen:
            raise IngestError(f"{name}: id {faq_id!r} appears twice (line {row['line']})")
        seen.add(faq_id)
        language = row["language"].lower()[:2] if row["language"] else question_language(question)
        chunks.append(
            Chunk(
                "faq",
                question,
                "zh" if language == "zh" else "en",
                answer=answer,
                faq_id=faq_id,
                category=row["category"],
            )
        )
    if not chunks:
        raise IngestError(f"{name}: no rows with both a question and an answer")
    return chunks


# -- documents ------------------------------------------------------------------------------
def extract_text(name: str, ext: str, data: bytes) -> str:
    if ext == ".pdf":
        from pypdf import PdfReader  # file readers: loaded for their file type only
        from pypdf.errors import PdfReadError

        if not data.startswith(b"%PDF"):
            raise IngestError(f"{name}: not a PDF file")
        try:
            reader = PdfReader(io.BytesIO(data))
            return "\n\n".join(page.extract_text() or "" for page in reader.pages)
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            raise IngestError(f"{name}: the PDF is damaged and cannot be read ({exc})") from None
    if ext == ".docx":
        import docx  # Word files: loaded when one is read or written

        try:
            document = docx.Document(io.BytesIO(data))
        except Exception as exc:  # python-docx raises zipfile/KeyError/ValueError for broken files
            raise IngestError(f"{name}: cannot open the Word file ({exc.__class__.__name__})") from None
        parts = []
        for p in document.paragraphs:
            if p.style is not None and p.style.name.lower().startswith("heading") and p.text.strip():
                parts.append("#" * _heading_level(p.style.name) + " " + p.text.strip())
            else:
                parts.append(p.text)
        return "\n\n".join(parts)
    text = decode_text(name, data)
    if ext in (".html", ".htm"):
        import lxml.html  # file readers: loaded for their file type only

        try:
            tree = lxml.html.fromstring(text)
        except Exception:
            raise IngestError(f"{name}: cannot parse the HTML") from None
        for bad in tree.xpath("//script|//style|//noscript"):
            bad.drop_tree()
        return re.sub(r"\n\s*\n+", "\n\n", tree.text_content())
    return text


def _heading_level(style_name: str) -> int:
    digits = re.findall(r"\d+", style_name)
    return min(int(digits[0]), 6) if digits else 1


def split_document(text: str, markdown: bool = True) -> list[Chunk]:
    # LangChain: loaded when a document is split
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, separators=SEPARATORS, keep_separator="end"
    )
    sections = [(text, "")]
    if markdown or re.search(r"^#{1,6} ", text, re.M):
        headers = [("#", "h1"), ("##", "h2"), ("###", "h3")]
        docs = MarkdownHeaderTextSplitter(headers, strip_headers=True).split_text(text)
        sections = [(d.page_content, " › ".join(d.metadata[h] for _, h in headers if h in d.metadata)) for d in docs]
    chunks = []
    for body, section in sections:
        for piece in splitter.split_text(body):
            piece = piece.strip()
            if len(piece) < 2:
                continue
            shown = f"{section}\n{piece}" if section else piece
            chunks.append(Chunk("doc", shown, question_language(piece), section=section))
    return chunks
