"""Safe spreadsheet exports: a cell starting with = + - @ could run as a formula in Excel, and a
sheet name Excel refuses (or two that collide) would make the whole export fail."""

from __future__ import annotations

import io
import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_MAX = 31  # Excel's limit on a sheet name's length
SHEET_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")  # characters Excel (or its XML) refuses in a sheet name
SHEET_RESERVED = {"history"}  # Excel keeps "History" for itself


def safe_cell(value):
    """Text that Excel/LibreOffice would run as a formula gets a leading apostrophe. A carriage return
    becomes a newline: CSV writers quote fields holding "\n" but not a lone "\r", which spreadsheet
    programs read as a new row (whose first cell could then be a formula)."""
    if isinstance(value, str):
        if "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if value.startswith(FORMULA_START) or value.startswith("\n"):
            return "'" + value
    return value


def safe_cells(frame):
    """A copy of a pandas DataFrame whose text cells, column names and index labels cannot be read as
    formulas (headers are cells too once written: a scenario or column named "=..." would be one)."""
    return frame.map(safe_cell).rename(columns=safe_cell, index=safe_cell)


def sheet_names(names) -> list[str]:
    """A valid Excel sheet name for each name, in order, no two alike.

    [ ] : * ? / \\ and control characters become "_"; apostrophes are trimmed from both ends (Excel
    refuses them there); names are cut to 31 characters; an empty name becomes "Sheet". Excel
    compares names ignoring case, and so does this: a name already taken (or "History", which Excel
    reserves) gets " (2)", " (3)", ... inside the 31 characters. Earlier names win, so put the sheets
    whose names must not change (e.g. a summary sheet) first.
    """
    taken = set(SHEET_RESERVED)
    out = []
    for name in names:
        base = SHEET_BAD.sub("_", " ".join(str(name).split())).strip("'").strip() or "Sheet"
        candidate, n = base[:SHEET_MAX], 1
        while candidate.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            candidate = base[: SHEET_MAX - len(suffix)].rstrip().rstrip("'") + suffix
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def to_xlsx(sheets) -> bytes:
    """An .xlsx workbook from (name, DataFrame) pairs, in order: names made valid and unique with
    sheet_names, cells made safe with safe_cells, no index column."""

    sheets = list(sheets)
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, (_, frame) in zip(sheet_names(n for n, _ in sheets), sheets, strict=False):
            safe_cells(frame).to_excel(writer, sheet_name=name, index=False)
    return out.getvalue()
