"""The calculator's one-page investor summary: key numbers, assumptions and two charts, as
Markdown (numbers and a quarterly table) and DOCX (numbers, charts as images).

Charts are drawn with matplotlib (headless Agg backend) because plotly's static image export needs
kaleido and a Chrome it would download; text comes in already translated from the caller.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import pandas as pd


@dataclass
class Summary:
    title: str
    subtitle: str
    key_numbers: list[tuple[str, str]]  # (label, formatted value)
    assumptions: list[tuple[str, str]]
    pnl: pd.DataFrame  # columns: month, revenue, costs, net, cumulative_cash
    labels: dict = field(default_factory=dict)  # chart and section titles, translated
    notes: list[str] = field(default_factory=list)

    def label(self, key: str, default: str) -> str:
        return self.labels.get(key, default)


def _money(value: float) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{sign}${value / size:,.2f}{unit}"
    return f"{sign}${value:,.0f}"


def quarterly(pnl: pd.DataFrame) -> pd.DataFrame:
    """Revenue, costs and net summed per quarter; cash at the quarter's end."""
    q = pnl.assign(quarter=(pnl["month"] - 1) // 3 + 1).groupby("quarter")
    return pd.DataFrame({"revenue": q["revenue"].sum(), "costs": q["costs"].sum(), "net": q["net"].sum(),
                         "cumulative_cash": q["cumulative_cash"].last()}).reset_index()


def to_markdown(s: Summary) -> str:
    lines = [f"# {s.title}", "", f"*{s.subtitle} · {date.today().isoformat()}*", "",
             f"## {s.label('key_numbers', 'Key numbers')}", ""]
    lines += [f"- **{k}:** {v}" for k, v in s.key_numbers]
    lines += ["", f"## {s.label('assumptions', 'Assumptions')}", ""]
    lines += [f"- {k}: {v}" for k, v in s.assumptions]
    table = quarterly(s.pnl)
    heads = [s.label("quarter", "Quarter"), s.label("revenue", "Revenue"), s.label("costs", "Costs"),
             s.label("net", "Net"), s.label("cumulative_cash", "Cumulative cash")]
    lines += ["", f"## {s.label('by_quarter', 'By quarter')}", "", "| " + " | ".join(heads) + " |",
              "|" + "---:|" * len(heads)]
    for row in table.itertuples():
        lines.append(f"| Q{row.quarter} | {_money(row.revenue)} | {_money(row.costs)} | {_money(row.net)} | "
                     f"{_money(row.cumulative_cash)} |")
    if s.notes:
        lines += [""] + [f"> {n}" for n in s.notes]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """A CJK font matplotlib can use, if the system has one (Noto CJK on Debian)."""
    from matplotlib import font_manager

    names = sorted({f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name},
                   key=lambda n: ("Sans" not in n, "SC" not in n, n))  # prefer a sans-serif Simplified face
    return names[0] if names else None


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def chart_png(s: Summary) -> bytes:
    """Two panels: monthly revenue vs costs, and the cumulative cash curve with break-even line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    texts = " ".join(map(str, s.labels.values()))
    font = _cjk_font() if _has_cjk(texts) else None
    label = s.label if font or not _has_cjk(texts) else (lambda _k, default: default)  # no CJK font: English
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context({"font.size": 8, **rc}):
        fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 2.4), dpi=150)
        m = s.pnl["month"]
        left.plot(m, s.pnl["revenue"] / 1e3, label=label("revenue", "Revenue"), color="#2e7d32")
        left.plot(m, s.pnl["costs"] / 1e3, label=label("costs", "Costs"), color="#c62828")
        left.set_title(label("monthly", "Monthly revenue and costs (k$)"))
        left.set_xlabel(label("month", "Month"))
        left.legend(frameon=False)
        cash = s.pnl["cumulative_cash"] / 1e3
        right.fill_between(m, cash, 0, where=cash >= 0, interpolate=True, color="#a5d6a7")
        right.fill_between(m, cash, 0, where=cash < 0, interpolate=True, color="#ef9a9a")
        right.plot(m, cash, color="#37474f")
        right.axhline(0, color="#555", linewidth=0.6)
        right.set_title(label("cash_curve", "Cumulative cash (k$)"))
        right.set_xlabel(label("month", "Month"))
        for ax in (left, right):
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        plt.close(fig)
    return out.getvalue()


def to_docx(s: Summary) -> bytes:
    import docx
    from docx.shared import Inches, Pt

    document = docx.Document()
    section = document.sections[0]
    section.top_margin = section.bottom_margin = Inches(0.6)
    section.left_margin = section.right_margin = Inches(0.7)
    document.styles["Normal"].font.size = Pt(9.5)
    document.add_heading(s.title, level=1)
    document.add_paragraph(f"{s.subtitle} · {date.today().isoformat()}").runs[0].italic = True
    document.add_heading(s.label("key_numbers", "Key numbers"), level=2)
    table = document.add_table(rows=0, cols=4)
    table.style = "Light List Accent 1"
    pairs = list(s.key_numbers)
    for i in range(0, len(pairs), 2):
        cells = table.add_row().cells
        for j, (k, v) in enumerate(pairs[i:i + 2]):
            cells[2 * j].text = k
            cells[2 * j + 1].text = v
            cells[2 * j + 1].paragraphs[0].runs[0].bold = True
    document.add_picture(io.BytesIO(chart_png(s)), width=Inches(6.9))
    document.add_heading(s.label("assumptions", "Assumptions"), level=2)
    document.add_paragraph("; ".join(f"{k}: {v}" for k, v in s.assumptions))
    for note in s.notes:
        document.add_paragraph(note).runs[0].italic = True
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
