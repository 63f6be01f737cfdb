"""Batch writing: the rows of an uploaded CSV or .xlsx, one draft per row appended to a CSV that a
stopped run resumes."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pandas as pd

from core.kb.ingest import decode_text
from core.text.exports import safe_cell
from core.text.uploads import check_upload
from core.writer.drafts import Variant, write_one
from core.writer.request import WriteRequest
from core.writer.templates import Template


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


# The output columns, after the upload's own.
OUTPUTS = (
    "text",
    "chars",
    "length_ok",
    "missing_keywords",
    "banned_found",
    "language",
    "unsupported_numbers",
    "facts",
)
# What each row's request takes from the batch's settings (the fields come from the row).
SHARED = ("lang", "tone", "audience", "length", "keywords", "banned", "platform", "voice")


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
    inputs = list(rows[0].keys())
    # Output columns; one whose name the upload already uses (a "text" or "facts" column) gets "out_".
    named = {c: f"out_{c}" if c in inputs else c for c in OUTPUTS}
    columns = ["row", *[c for c in inputs if c != "row"], *named.values()]
    done, columns = _resume(out_path, columns)
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
            req = _row_request(template, row, base, facts_for)
            variant = write_one(llm, req, seed=i, cancel=cancel)
            if cancel is not None and cancel.is_set():
                break  # a row stopped half-way is not saved: resuming writes it again
            record = {**row, "row": i, **{named[k]: v for k, v in _outputs(variant, req).items()}}
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


def _resume(out_path: Path, columns: list[str]) -> tuple[set[int], list[str]]:
    """The rows out_path already has, and the columns to write: the file's own when it exists."""
    done: set[int] = set()
    if out_path.exists():
        with out_path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            done = {int(r["row"]) for r in reader if r.get("row", "").isdigit()}
            if reader.fieldnames and reader.fieldnames != [safe_cell(c) for c in columns]:
                # Resuming a file written with other columns: keep its own (as they were before
                # safe_cell guarded them), so its rows stay aligned.
                columns = [h[1:] if h.startswith("'") and safe_cell(h[1:]) == h else h for h in reader.fieldnames]
    return done, columns


def _row_request(template: Template, row: dict, base: WriteRequest | None, facts_for) -> WriteRequest:
    """A row's request: its cells as the fields, the rest from `base`, its own facts if asked."""
    req = WriteRequest(
        template,
        {k: v for k, v in row.items()},
        **({} if base is None else {k: getattr(base, k) for k in SHARED}),
    )
    if facts_for is not None:
        req.facts = list(facts_for(req.fields))
    return req


def _outputs(variant: Variant, req: WriteRequest) -> dict:
    """A written row's output cells, by output column."""
    c = variant.checks
    return {
        "text": variant.text,
        "chars": c["chars"],
        "length_ok": c["length_ok"],
        "missing_keywords": "; ".join(c["missing_keywords"]),
        "banned_found": "; ".join(c["banned_found"]),
        "language": c["language"],
        "unsupported_numbers": "; ".join(c["unsupported_numbers"]),
        "facts": "\n".join(req.facts),
    }
