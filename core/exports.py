"""Safe spreadsheet exports: a cell starting with = + - @ could run as a formula in Excel."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_cells(frame):
    """A copy of a pandas DataFrame whose text cells cannot be read as formulas."""
    return frame.map(safe_cell)
