"""The calculator's one-page investor summary: key numbers, assumptions and two charts, as
Markdown (numbers and a quarterly table) and DOCX (numbers, charts as images).

`plan_figures` picks the numbers: every cost it reports is the one the P&L deducts (the training
cost in month 1, the serving cost per seat and per 1M tokens), so the summary never contradicts the
P&L; the Training and Serving tabs' own estimates come separately, labelled as estimates.

Charts are drawn with matplotlib (headless Agg backend) because plotly's static image export needs
kaleido and a Chrome it would download; text comes in already translated from the caller.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import pandas as pd

from core import economics as eco


def plan_figures(s: eco.Scenario, monte_carlo: bool = True, capacity: bool = True) -> dict:
    """The headline numbers of a scenario, each from where the P&L takes it (None where undefined).

    From the P&L: pnl, months, break_even, payback, runway, cash_end, revenue_last_month,
    revenue_total, gross_margin_last_month (gross profit / revenue in the last month),
    training_cost (costs.training_one_off, deducted in month 1), serving_cost_per_seat and
    serving_cost_per_million_tokens (None when that revenue stream is off), ltv_to_cac.
    Market: tam, sam, som (per year). Risk (monte_carlo=True): mc_p50 (median break-even month of
    the Risk tab's simulation), mc_within (its N) and mc_probability_within.
    Estimates, not in the P&L unless copied into it: training_estimate (the Training tab's cost) and
    serving_estimate_per_million_output (the Serving tab's $ per 1M output tokens); from the Capacity
    tab, capacity_machines (machines for its p90 target, on capacity_machine), first_word_p90_s
    (written answers at the busiest hour), cost_per_resolved (per resolved conversation, hand-overs
    and wrong answers included) and service_per_resolved / service_name (the cheapest per-resolution
    service at its list price, costed the same way; capacity=False leaves them None, for a caller
    that has them: capacity_figures). serving_cost_per_conversation: the P&L's, when per-resolution
    pricing is on.
    Raises ValueError when the P&L's own inputs are impossible; other parts are None when theirs are.
    """
    pnl = eco.monthly_pnl(s)
    sub = eco.subscription_metrics(s.subscription)
    last = pnl.iloc[-1]
    out = {
        "pnl": pnl,
        "months": s.months,
        "break_even": eco.break_even_month(pnl),
        "payback": eco.payback_month(pnl),
        "runway": eco.runway_months(pnl),
        "cash_end": float(last["cash"]),
        "revenue_last_month": float(last["revenue"]),
        "revenue_total": float(pnl["revenue"].sum()),
        "gross_margin_last_month": float(last["gross_profit"] / last["revenue"]) if last["revenue"] > 0 else None,
        "ltv_to_cac": sub["ltv_to_cac"] if s.subscription.enabled else None,
        "training_cost": float(s.costs.training_one_off),
        "serving_cost_per_seat": float(s.subscription.serving_cost_per_seat_month) if s.subscription.enabled else None,
        "serving_cost_per_million_tokens": float(s.api.serving_cost_per_million_tokens) if s.api.enabled else None,
        "tam": None,
        "sam": None,
        "som": None,
        "mc_p50": None,
        "mc_within": None,
        "mc_probability_within": None,
        "training_estimate": None,
        "serving_estimate_per_million_output": None,
        "serving_cost_per_conversation": (
            float(s.resolution.serving_cost_per_conversation) if s.resolution.enabled else None
        ),
        **dict.fromkeys(CAPACITY_KEYS),
    }
    if capacity:
        try:
            plan = eco.scenario_capacity(s)
            out.update(capacity_figures(plan, eco.scenario_resolution(s, plan, draws=200)))
        except ValueError:
            pass  # the Capacity tab says why
    try:
        mk = eco.market_sizing(
            s.market.companies, s.market.spend_per_company_usd, s.market.serviceable_pct, s.market.obtainable_pct
        )
        out.update(tam=mk.tam_usd, sam=mk.sam_usd, som=mk.som_usd)
    except ValueError:
        pass
    if monte_carlo:
        try:
            mc = eco.scenario_monte_carlo(s)
            out.update(mc_p50=mc.p50, mc_within=mc.within_months, mc_probability_within=mc.probability_within)
        except ValueError:
            pass
    try:
        out["training_estimate"] = eco.scenario_training(s).cost_usd
    except ValueError:
        pass
    try:
        out["serving_estimate_per_million_output"] = eco.scenario_serving(s).usd_per_million_output_tokens
    except ValueError:
        pass
    return out


CAPACITY_KEYS = (
    "capacity_machines",
    "capacity_machine",
    "first_word_p90_s",
    "cost_per_resolved",
    "service_per_resolved",
    "service_name",
)


def capacity_figures(plan: eco.CapacityPlan, resolution: dict) -> dict:
    """The Capacity tab's headline numbers (plan_figures' CAPACITY_KEYS) from its plan and
    core.economics.scenario_resolution's result."""
    services = resolution["comparison"][resolution["comparison"]["kind"] == "service"]
    cost = resolution["cost"]
    return {
        "capacity_machines": plan.machines,
        "capacity_machine": plan.machine["name"],
        "first_word_p90_s": plan.peak["first_word_p90_s"],
        "cost_per_resolved": cost.per_resolved if cost is not None else None,
        "service_per_resolved": float(services["per_resolved"].iloc[0]) if len(services) else None,
        "service_name": str(services["option"].iloc[0]) if len(services) else None,
    }


@dataclass
class Summary:
    title: str
    subtitle: str
    key_numbers: list[tuple[str, str]]  # (label, formatted value)
    assumptions: list[tuple[str, str]]
    pnl: pd.DataFrame  # columns: month, revenue, costs, net, cumulative_cash
    labels: dict = field(default_factory=dict)  # chart and section titles, translated
    notes: list[str] = field(default_factory=list)
    estimates: list[tuple[str, str]] = field(default_factory=list)  # the tabs' estimates, not in the P&L
    break_even: int | None = None  # month; drawn as a line on the charts

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
    return pd.DataFrame(
        {
            "revenue": q["revenue"].sum(),
            "costs": q["costs"].sum(),
            "net": q["net"].sum(),
            "cumulative_cash": q["cumulative_cash"].last(),
        }
    ).reset_index()


def to_markdown(s: Summary) -> str:
    lines = [
        f"# {s.title}",
        "",
        f"*{s.subtitle} · {date.today().isoformat()}*",
        "",
        f"## {s.label('key_numbers', 'Key numbers')}",
        "",
    ]
    lines += [f"- **{k}:** {v}" for k, v in s.key_numbers]
    lines += ["", f"## {s.label('assumptions', 'Assumptions')}", ""]
    lines += [f"- {k}: {v}" for k, v in s.assumptions]
    if s.estimates:
        lines += ["", f"## {s.label('estimates', 'Estimates (not in the P&L)')}", ""]
        lines += [f"- {k}: {v}" for k, v in s.estimates]
    table = quarterly(s.pnl)
    heads = [
        s.label("quarter", "Quarter"),
        s.label("revenue", "Revenue"),
        s.label("costs", "Costs"),
        s.label("net", "Net"),
        s.label("cumulative_cash", "Cumulative cash"),
    ]
    lines += [
        "",
        f"## {s.label('by_quarter', 'By quarter')}",
        "",
        "| " + " | ".join(heads) + " |",
        "|" + "---:|" * len(heads),
    ]
    for row in table.itertuples():
        lines.append(
            f"| Q{row.quarter} | {_money(row.revenue)} | {_money(row.costs)} | {_money(row.net)} | "
            f"{_money(row.cumulative_cash)} |"
        )
    if s.notes:
        lines += [""] + [f"> {n}" for n in s.notes]
    return "\n".join(lines) + "\n"


# One chart at a time: pyplot keeps global state, and sessions importing matplotlib (and PIL) for
# the first time at once failed with "partially initialized module 'PIL.Image'" (bench/load.py).
_CHARTS = threading.Lock()


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """A CJK font matplotlib can use, if the system has one (Noto CJK on Debian)."""
    from matplotlib import font_manager  # charts: loaded when a summary is exported

    names = sorted(
        {f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name},
        key=lambda n: ("Sans" not in n, "SC" not in n, n),
    )  # prefer a sans-serif Simplified face
    return names[0] if names else None


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def chart_png(s: Summary) -> bytes:
    """Two panels: monthly revenue vs costs, and the cumulative cash curve; a dotted line at the
    break-even month (s.break_even) on both."""
    with _CHARTS:
        return _draw_chart(s)


def _draw_chart(s: Summary) -> bytes:
    import matplotlib  # charts: loaded when a summary is exported

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # charts: loaded when a summary is exported

    texts = " ".join(map(str, s.labels.values()))
    font = _cjk_font() if _has_cjk(texts) else None
    label = s.label if font or not _has_cjk(texts) else (lambda _k, default: default)  # no CJK font: English
    rc: dict = {"font.size": 8}
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
    with plt.rc_context(rc):
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
            if s.break_even is not None:
                ax.axvline(s.break_even, color="#2e7d32", linestyle=":", linewidth=1)
        if s.break_even is not None:
            late = s.break_even > 0.6 * float(m.max())  # label on the line's left, so it stays inside the panel
            left.annotate(
                label("break_even_at", "Break-even: month {month}").format(month=s.break_even),
                (s.break_even, 1),
                xycoords=("data", "axes fraction"),
                xytext=(-3 if late else 3, -10),
                textcoords="offset points",
                ha="right" if late else "left",
                color="#2e7d32",
                fontsize=7,
            )
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        plt.close(fig)
    return out.getvalue()


def to_docx(s: Summary) -> bytes:
    import docx  # Word files: loaded when one is read or written
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
        for j, (k, v) in enumerate(pairs[i : i + 2]):
            cells[2 * j].text = k
            cells[2 * j + 1].text = v
            cells[2 * j + 1].paragraphs[0].runs[0].bold = True
    document.add_picture(io.BytesIO(chart_png(s)), width=Inches(6.9))
    document.add_heading(s.label("assumptions", "Assumptions"), level=2)
    document.add_paragraph("; ".join(f"{k}: {v}" for k, v in s.assumptions))
    if s.estimates:
        document.add_heading(s.label("estimates", "Estimates (not in the P&L)"), level=2)
        document.add_paragraph("; ".join(f"{k}: {v}" for k, v in s.estimates))
    for note in s.notes:
        document.add_paragraph(note).runs[0].italic = True
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
