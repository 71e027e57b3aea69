"""The monthly review as tables people take away: CSV per table and the review pack PDF.

Everything here renders a `Review` the view has already loaded, so the page, the CSVs and the
PDF show the same figures from the same queries, and these functions need no database.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from agreements.exports import SlaPdf, pdf_rowset

from .metrics import MonthReport, Status
from .periods import Month

CURRENCY_UNITS = {"$", "US$", "R$", "€", "£", "USD", "BRL", "EUR", "GBP"}
STATUS_LABELS = {"green": "On track", "amber": "At risk", "red": "Off track", "grey": "No data"}


@dataclass
class BreachRow:
    lead_id: int
    lead: str
    rep: str
    rep_id: int
    handed_off_at: datetime
    due_at: datetime
    first_touch_at: datetime | None
    late_business_minutes: float | None
    returned_at: datetime | None = None

    @property
    def how_late(self) -> str:
        if self.first_touch_at is None:
            return "returned untouched" if self.returned_at else "not touched yet"
        if self.late_business_minutes is None:
            return "late"
        return f"{duration(self.late_business_minutes)} late"


@dataclass
class SummaryRow:
    """One line of the two-sided compliance summary: what a side promised and what it did."""

    side: str
    measure: str
    promised: str
    actual: str
    figure: str | None = None
    query: str = ""


@dataclass
class Review:
    month: Month
    report: MonthReport
    trends: dict
    agreement_name: str
    version_label: str
    response_target_hours: float | None
    accept_window_hours: float | None
    cadence_steps: int
    planned_rates: dict[str, float]
    reason_labels: dict[str, str]
    breaches: list[BreachRow]
    notes: str
    notes_updated: str
    action_items: list
    as_of: datetime = field(default_factory=timezone.now)
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def time_zone(self) -> str:
        return self.report.time_zone

    def reason(self, code: str) -> str:
        return self.reason_labels.get(code, code.replace("_", " ").capitalize())


# Formatting shared by the page, the CSVs and the PDF ----------------------------------------


def number(value, decimals: int = 1) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{decimals}f}"


def percent(rate: float | None) -> str:
    """A fraction 0..1 as a percentage; "—" when there was nothing to divide by."""
    if rate is None:
        return "—"
    share = round(rate * 100, 1)
    return f"{share:.0f}%" if share.is_integer() else f"{share:.1f}%"


def hours(minutes: float | None) -> str:
    return "—" if minutes is None else f"{minutes / 60:.1f} h"


def duration(minutes: float) -> str:
    minutes = round(minutes)
    if minutes < 60:
        return f"{minutes} min"
    whole, rest = divmod(minutes, 60)
    return f"{whole} h {rest:02d} min" if rest else f"{whole} h"


def with_unit(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "h":
        return f"{value:.1f} h"
    if unit in CURRENCY_UNITS:
        return f"{unit} {number(value)}"
    return f"{number(value, 2)} {unit}".strip()


def change(status: Status) -> tuple[str, str]:
    """The change from last month as (arrow, text): percentage points for rates."""
    delta = status.change
    if delta is None:
        return "", "—"
    arrow = "up" if delta > 0 else "down" if delta < 0 else "flat"
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    unit = {"%": " pp", "h": " h"}.get(status.unit, "")
    size = f"{abs(delta):.1f}" if status.unit == "h" else number(abs(delta))
    return arrow, f"{sign}{size}{unit}"


def local(moment: datetime | None, time_zone: str) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment, ZoneInfo(time_zone)).strftime("%d %b %Y %H:%M")


# The review's tables ---------------------------------------------------------------------


def summary_rows(review: Review) -> list[SummaryRow]:
    report = review.report
    funnel = {step.stage: step for step in report.funnel}
    kpi_targets = {k.metric: k for k in report.kpis}

    def target(metric: str, fallback: str = "—") -> str:
        kpi = kpi_targets.get(metric)
        return f"{with_unit(kpi.target, kpi.unit)} (KPI target)" if kpi else fallback

    planned_conversion = review.planned_rates.get("lead_to_mql_rate")
    marketing = [
        SummaryRow(
            "marketing",
            "MQLs delivered",
            "—"
            if report.mqls_planned is None
            else f"{number(report.mqls_planned)} a month (funnel plan)",
            number(funnel["mql"].count),
            "entered_mql",
        ),
        SummaryRow(
            "marketing", "Leads created", "—", number(funnel["lead"].count), "leads_created"
        ),
        SummaryRow(
            "marketing",
            "Lead → MQL conversion",
            target(
                "lead_to_mql_rate",
                f"{number(planned_conversion)}% (funnel plan)" if planned_conversion else "—",
            ),
            percent(funnel["mql"].conversion_from_previous),
            "entered_mql",
        ),
        SummaryRow(
            "marketing",
            "MQL acceptance rate",
            target("mql_acceptance_rate"),
            percent(report.mql_acceptance_rate),
            "accepted",
        ),
        SummaryRow(
            "marketing",
            "MQLs rejected by sales",
            "—",
            number(report.totals.get("rejected", 0)),
            "rejected",
        ),
    ]
    marketing += [
        SummaryRow(
            "marketing",
            f"Rejected: {review.reason(code)}",
            "—",
            number(count),
            "rejected",
            f"?key={code}" if code != "unspecified" else "",
        )
        for code, count in report.rejections_by_reason.items()
    ]
    target_hours = review.response_target_hours
    first_touch = "—" if target_hours is None else f"within {number(target_hours)} business h"
    speed = report.speed_to_lead_minutes
    sales = [
        SummaryRow(
            "sales",
            "First touch",
            first_touch,
            f"{report.totals.get('windows_met', 0)} of "
            f"{report.totals.get('windows_closed', 0)} windows met",
            "windows_met",
        ),
        SummaryRow(
            "sales",
            "SLA compliance",
            target("sla_compliance", "100%"),
            percent(report.sla_compliance),
            "windows_closed",
        ),
        SummaryRow(
            "sales",
            "Speed to lead, median",
            target("speed_to_lead", first_touch),
            hours(speed["median"]),
            "handoffs",
        ),
        SummaryRow(
            "sales", "Speed to lead, 90th percentile", first_touch, hours(speed["p90"]), "handoffs"
        ),
        SummaryRow(
            "sales",
            "Contact attempts per lead",
            target(
                "attempts_per_lead",
                f"{review.cadence_steps} in the cadence" if review.cadence_steps else "—",
            ),
            number(report.attempts_per_lead, 2),
            "handoffs",
        ),
        SummaryRow(
            "sales",
            "Time between attempts, median",
            "as the cadence spaces them",
            "—"
            if report.attempt_spacing_hours is None
            else f"{report.attempt_spacing_hours:.1f} h",
            "handoffs",
        ),
        SummaryRow(
            "sales",
            "Handoffs that kept the cadence",
            "100%",
            percent(report.cadence_met_share),
            "handoffs",
        ),
        SummaryRow("sales", "Breaches", "0", number(report.totals.get("breached", 0)), "breached"),
        SummaryRow(
            "sales",
            "Leads returned to marketing",
            "with a reason",
            number(report.totals.get("returned", 0)),
            "returned",
        ),
    ]
    sales += [
        SummaryRow(
            "sales",
            f"Returned: {review.reason(code)}",
            "—",
            number(count),
            "returned",
            f"?key={code}" if code != "unspecified" else "",
        )
        for code, count in report.returns_by_reason.items()
    ]
    return marketing + sales


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]


def _scorecard(review: Review) -> Table:
    rows = []
    for goal in review.report.goals:
        rows.append(
            [
                "Goal",
                goal.name,
                goal.owner,
                with_unit(goal.target, goal.unit),
                with_unit(goal.actual, goal.unit),
                goal.status,
                "",
                goal.detail,
            ]
        )
    for kpi in review.report.kpis:
        rows.append(
            [
                "KPI",
                kpi.name,
                kpi.owner,
                with_unit(kpi.target, kpi.unit),
                with_unit(kpi.actual, kpi.unit),
                kpi.status,
                with_unit(kpi.previous, kpi.unit) if kpi.previous is not None else "—",
                change(kpi)[1],
            ]
        )
    return Table(
        "Scorecard",
        ["Kind", "Name", "Owner", "Target", "Actual", "Status", "Last month", "Change / detail"],
        rows,
    )


def _breakdown_table(title: str, name: str, breakdowns) -> Table:
    return Table(
        title,
        [name, "Leads", "MQLs", "SQLs", "Opportunities", "Won"],
        [[b.label, b.leads, b.mqls, b.sqls, b.opportunities, b.won] for b in breakdowns],
    )


def tables(review: Review) -> dict[str, Table]:
    """Every table on the page, by the name its CSV is downloaded under."""
    report, tz = review.report, review.time_zone
    summary = summary_rows(review)
    reasons = [
        ["Rejected", review.reason(code), count]
        for code, count in report.rejections_by_reason.items()
    ]
    reasons += [
        ["Returned", review.reason(code), count] for code, count in report.returns_by_reason.items()
    ]
    return {
        "scorecard": _scorecard(review),
        "summary": Table(
            "Compliance summary",
            ["Side", "Measure", "Promised", "Actual"],
            [[r.side.title(), r.measure, r.promised, r.actual] for r in summary],
        ),
        "funnel": Table(
            "Funnel",
            ["Stage", "Count", "Plan per month", "Conversion from previous"],
            [
                [
                    step.label,
                    step.count,
                    "" if step.planned_per_month is None else round(step.planned_per_month, 1),
                    percent(step.conversion_from_previous),
                ]
                for step in report.funnel
            ],
        ),
        "sources": _breakdown_table("By source", "Source", report.by_source),
        "segments": _breakdown_table("By segment", "Segment", report.by_segment),
        "cohorts": Table(
            "Cohorts",
            ["Created in", "Leads", "By end of", "MQLs", "SQLs", "Won"],
            [
                [str(c.month), c.created, str(p.month), p.mqls, p.sqls, p.won]
                for c in report.cohorts
                for p in c.progress
            ],
        ),
        "reps": Table(
            "Compliance by rep",
            [
                "Rep",
                "Handoffs",
                "Windows closed",
                "Windows met",
                "Compliance",
                "Breached",
                "Attempts",
            ],
            [
                [
                    rep.name,
                    rep.handoffs,
                    rep.windows_closed,
                    rep.windows_met,
                    percent(rep.compliance),
                    rep.breached,
                    rep.attempts,
                ]
                for rep in report.by_rep
            ],
        ),
        "breaches": Table(
            "Breached handoffs",
            ["Lead", "Rep", f"Handed off ({tz})", "Due", "First touch", "How late (business time)"],
            [
                [
                    b.lead,
                    b.rep,
                    local(b.handed_off_at, tz),
                    local(b.due_at, tz),
                    local(b.first_touch_at, tz),
                    b.how_late,
                ]
                for b in review.breaches
            ],
        ),
        "reasons": Table(
            "Rejections and returns by reason", ["Decision", "Reason", "Leads"], reasons
        ),
        "trends": Table(
            "Twelve-month trends",
            ["Month", "Leads", "MQLs", "SQLs", "Breaches", "Compliance (%)"],
            [
                [label, *values]
                for label, *values in zip(
                    review.trends["labels"],
                    review.trends["leads_created"],
                    review.trends["entered_mql"],
                    review.trends["entered_sql"],
                    review.trends["breached"],
                    ["" if c is None else c for c in review.trends["compliance"]],
                    strict=True,
                )
            ],
        ),
        "actions": Table(
            "Action items",
            ["Action", "Owner", "Due", "Agreed in", "Status"],
            [
                [
                    item.text,
                    item.owner.get_full_name() or item.owner.username,
                    item.due_date.isoformat(),
                    Month.of(item.month).label,
                    f"done {local(item.done_at, tz)}" if item.done_at else "open",
                ]
                for item in review.action_items
            ],
        ),
    }


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    # A spreadsheet reads an empty cell as "no value"; the dash is for people.
    writer.writerows([["" if cell == "—" else cell for cell in row] for row in table.rows])
    return out.getvalue()


def filename(review: Review, name: str, extension: str) -> str:
    return f"review-{review.month}-{name}.{extension}"


# The review pack PDF ---------------------------------------------------------------------


def _rowset(table: Table) -> dict:
    return {
        "title": table.title,
        "columns": table.columns,
        "items": [{"values": [str(v) for v in row]} for row in table.rows],
    }


def _section(pdf: SlaPdf, title: str, *, new_page: bool = False) -> None:
    if new_page or pdf.will_page_break(40):
        pdf.add_page()
    pdf.line_of(title, 15, "B", gap=2)


def review_pdf(review: Review) -> bytes:
    """The pack handed round before the meeting: figures, breaches, notes and open actions."""
    pdf = SlaPdf(f"{review.agreement_name}, review of {review.month.label}")
    pdf.set_title(pdf.t(f"Monthly review: {review.month.label}"))
    pdf.add_page()
    pdf.line_of(f"Monthly review: {review.month.label}", 20, "B", gap=2)
    pdf.line_of(
        f"{review.agreement_name} · judged by {review.version_label} · times in {review.time_zone}",
        10,
    )
    pdf.line_of(
        f"Figures as of {local(review.as_of, review.time_zone)}; made "
        f"{local(review.generated_at, review.time_zone)}",
        9,
        "I",
        gap=5,
    )
    every = tables(review)

    _section(pdf, "Scorecard")
    report = review.report
    pdf_rowset(
        pdf,
        _rowset(
            Table(
                "Shared goals, over each goal's period to date",
                ["Goal", "Owner", "Target", "Actual", "Status", "Detail"],
                [
                    [
                        g.name,
                        g.owner,
                        with_unit(g.target, g.unit),
                        with_unit(g.actual, g.unit),
                        STATUS_LABELS.get(g.status, g.status),
                        g.detail,
                    ]
                    for g in report.goals
                ],
            )
        ),
    )
    pdf_rowset(
        pdf,
        _rowset(
            Table(
                "KPIs",
                ["KPI", "Owner", "Target", "Actual", "Status", "Last month", "Change"],
                [
                    [
                        k.name,
                        k.owner,
                        with_unit(k.target, k.unit),
                        with_unit(k.actual, k.unit),
                        STATUS_LABELS.get(k.status, k.status),
                        with_unit(k.previous, k.unit),
                        change(k)[1],
                    ]
                    for k in report.kpis
                ],
            )
        ),
    )

    _section(pdf, "What each side promised and did")
    summary = summary_rows(review)
    for side, title in (
        ("marketing", "Marketing promised / delivered"),
        ("sales", "Sales promised / did"),
    ):
        pdf_rowset(
            pdf,
            _rowset(
                Table(
                    title,
                    ["Measure", "Promised", "Actual"],
                    [[r.measure, r.promised, r.actual] for r in summary if r.side == side],
                )
            ),
        )

    _section(pdf, "Funnel and compliance", new_page=True)
    for name in ("funnel", "reps", "reasons"):
        pdf_rowset(pdf, _rowset(every[name]))
    _section(pdf, "Breaches")
    pdf_rowset(pdf, _rowset(every["breaches"]))

    _section(pdf, "Meeting notes", new_page=True)
    if review.notes:
        pdf.line_of(review.notes, 10, gap=2)
        pdf.line_of(review.notes_updated, 8, "I", gap=4)
    else:
        pdf.line_of("No notes yet.", 9, "I", gap=4)
    actions = every["actions"]
    pdf_rowset(
        pdf,
        _rowset(
            Table(
                "Open action items",
                actions.columns[:-1],
                [
                    row[:-1]
                    for item, row in zip(review.action_items, actions.rows, strict=True)
                    if item.done_at is None
                ],
            )
        ),
    )
    return bytes(pdf.output())
