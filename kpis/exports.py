"""The monthly review as tables people take away: CSV per table and the review pack PDF.

Everything here renders a `Review` the view has already loaded, so the page, the CSVs and the
PDF show the same figures from the same queries, and these functions need no database.
"""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.text import slugify

from agreements.exports import SlaPdf, pdf_rowset
from slaportal.csv_files import csv_write

from .metrics import MonthReport, Status
from .periods import Month

CURRENCY_UNITS = {"$", "US$", "R$", "€", "£", "USD", "BRL", "EUR", "GBP"}
STATUS_LABELS = {
    "green": "On track",
    "amber": "At risk",
    "red": "Off track",
    "grey": "No data",
    # "All agreements", where the agreements hold a KPI to different targets: each agreement's
    # own status stands beside the combined figure.
    "mixed": "Targets differ by agreement",
}
VELOCITY_LABELS = {
    "lead": "Lead → MQL",
    "mql": "MQL → SQL",
    "sql": "SQL → opportunity",
    "opportunity": "Opportunity → won",
}
# Units of the raw CSV values: rates are fractions 0..1 as in the API, never "60%".
FRACTION = "fraction"


@dataclass
class BreachRow:
    lead_id: int
    lead: str
    rep: str
    rep_id: int
    handoff_id: int
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

    @property
    def state(self) -> str:
        """How late, as a code a spreadsheet can filter on."""
        if self.first_touch_at is None:
            return "returned_untouched" if self.returned_at else "untouched"
        return "touched_late"


@dataclass
class SummaryRow:
    """One line of the two-sided compliance summary: what a side promised and what it did."""

    side: str
    measure: str
    promised: str
    actual: str
    figure: str | None = None
    query: str = ""
    # The same line as raw values for the CSV: numbers, rates as fractions, units apart.
    actual_value: float | None = None
    unit: str = ""
    promised_value: float | None = None
    promised_unit: str = ""
    promised_basis: str = ""
    out_of: float | None = None


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
    # How many breaches this user may see in all; the page lists only the first of them.
    breaches_total: int | None = None
    # The agreement shown; None for all agreements together.
    agreement_id: int | None = None

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
    unit = {"%": " pp", "h": " h"}.get(status.unit, "")
    size = f"{abs(delta):.1f}" if status.unit == "h" else number(abs(delta))
    # The sign follows the change as written: a change that rounds to nothing is "±0.0",
    # never "−0.0".
    if float(size.replace(",", "")) == 0:
        delta = 0
    arrow = "up" if delta > 0 else "down" if delta < 0 else "flat"
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return arrow, f"{sign}{size}{unit}"


def local(moment: datetime | None, time_zone: str) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment, ZoneInfo(time_zone)).strftime("%d %b %Y %H:%M")


# The review's tables ---------------------------------------------------------------------


def raw(value: float | None, unit: str) -> tuple[float | None, str]:
    """A figure in the unit the page writes it in (% for rates), as a CSV's value and unit."""
    if unit == "%":
        return (None if value is None else round(value / 100, 12)), FRACTION
    if unit == "h":
        return value, "hours"
    return value, unit


def summary_rows(review: Review) -> list[SummaryRow]:
    report = review.report
    funnel = {step.stage: step for step in report.funnel}
    kpi_targets = {k.metric: k for k in report.kpis}

    def target(metric: str, fallback: str = "—") -> str:
        kpi = kpi_targets.get(metric)
        if kpi and kpi.target is None:
            return "each agreement's own (see the scorecard)"
        return f"{with_unit(kpi.target, kpi.unit)} (KPI target)" if kpi else fallback

    def promised(metric: str, value=None, unit: str = "", basis: str = "") -> dict:
        """The KPI's target as raw values, else the fallback promise given."""
        kpi = kpi_targets.get(metric)
        if kpi and kpi.target is None:
            value, unit, basis = None, "", "each_agreement"
        elif kpi:
            value, unit = raw(kpi.target, kpi.unit)
            basis = "kpi_target"
        return {"promised_value": value, "promised_unit": unit, "promised_basis": basis}

    def count(value) -> dict:
        return {"actual_value": value, "unit": "count"}

    def fraction(value) -> dict:
        return {"actual_value": value, "unit": FRACTION}

    planned_conversion = review.planned_rates.get("lead_to_mql_rate")
    totals = report.totals
    marketing = [
        SummaryRow(
            "marketing",
            "MQLs delivered",
            "—"
            if report.mqls_planned is None
            else f"{number(report.mqls_planned)} a month (funnel plan)",
            number(funnel["mql"].count),
            "entered_mql",
            **count(funnel["mql"].count),
            promised_value=report.mqls_planned,
            promised_unit="count" if report.mqls_planned is not None else "",
            promised_basis="funnel_plan" if report.mqls_planned is not None else "",
        ),
        SummaryRow(
            "marketing",
            "Leads created",
            "—",
            number(funnel["lead"].count),
            "leads_created",
            **count(funnel["lead"].count),
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
            **fraction(funnel["mql"].conversion_from_previous),
            **promised(
                "lead_to_mql_rate",
                round(planned_conversion / 100, 12) if planned_conversion else None,
                FRACTION if planned_conversion else "",
                "funnel_plan" if planned_conversion else "",
            ),
        ),
        SummaryRow(
            "marketing",
            "MQL acceptance rate",
            target("mql_acceptance_rate"),
            percent(report.mql_acceptance_rate),
            "accepted",
            **fraction(report.mql_acceptance_rate),
            **promised("mql_acceptance_rate"),
        ),
        SummaryRow(
            "marketing",
            "MQLs rejected by sales",
            "—",
            number(totals.get("rejected", 0)),
            "rejected",
            **count(totals.get("rejected", 0)),
        ),
    ]
    marketing += [
        SummaryRow(
            "marketing",
            f"Rejected: {review.reason(code)}",
            "—",
            number(n),
            "rejected",
            f"?key={code}" if code != "unspecified" else "",
            **count(n),
        )
        for code, n in report.rejections_by_reason.items()
    ]
    target_hours = review.response_target_hours
    first_touch = "—" if target_hours is None else f"within {number(target_hours)} business h"
    response_promise = {
        "promised_value": target_hours,
        "promised_unit": "business_hours" if target_hours is not None else "",
        "promised_basis": "handoff_policy" if target_hours is not None else "",
    }
    speed = report.speed_to_lead_minutes

    def speed_hours(minutes) -> dict:
        return {
            "actual_value": None if minutes is None else minutes / 60,
            "unit": "business_hours",
        }

    speed_promise = (
        promised("speed_to_lead") if "speed_to_lead" in kpi_targets else response_promise
    )
    if speed_promise["promised_unit"] == "hours":
        speed_promise["promised_unit"] = "business_hours"
    sales = [
        SummaryRow(
            "sales",
            "First touch",
            first_touch,
            f"{totals.get('windows_met', 0)} of {totals.get('windows_closed', 0)} windows met",
            "windows_met",
            actual_value=totals.get("windows_met", 0),
            unit="windows_met",
            out_of=totals.get("windows_closed", 0),
            **response_promise,
        ),
        SummaryRow(
            "sales",
            "SLA compliance",
            target("sla_compliance", "100%"),
            percent(report.sla_compliance),
            "windows_closed",
            **fraction(report.sla_compliance),
            **promised("sla_compliance", 1.0, FRACTION, "full_compliance"),
        ),
        SummaryRow(
            "sales",
            "Speed to lead, median",
            target("speed_to_lead", first_touch),
            hours(speed["median"]),
            "handoffs",
            **speed_hours(speed["median"]),
            **speed_promise,
        ),
        SummaryRow(
            "sales",
            "Speed to lead, 90th percentile",
            first_touch,
            hours(speed["p90"]),
            "handoffs",
            **speed_hours(speed["p90"]),
            **response_promise,
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
            actual_value=report.attempts_per_lead,
            unit="attempts",
            **promised(
                "attempts_per_lead",
                review.cadence_steps or None,
                "attempts" if review.cadence_steps else "",
                "cadence" if review.cadence_steps else "",
            ),
        ),
        SummaryRow(
            "sales",
            "Time between attempts, median",
            "as the cadence spaces them",
            "—"
            if report.attempt_spacing_hours is None
            else f"{report.attempt_spacing_hours:.1f} h",
            "handoffs",
            actual_value=report.attempt_spacing_hours,
            unit="hours",
            promised_basis="cadence",
        ),
        SummaryRow(
            "sales",
            "Handoffs that kept the cadence",
            "100%",
            percent(report.cadence_met_share),
            "handoffs",
            **fraction(report.cadence_met_share),
            promised_value=1.0,
            promised_unit=FRACTION,
            promised_basis="cadence",
        ),
        SummaryRow(
            "sales",
            "Breaches",
            "0",
            number(totals.get("breached", 0)),
            "breached",
            **count(totals.get("breached", 0)),
            promised_value=0,
            promised_unit="count",
            promised_basis="handoff_policy",
        ),
        SummaryRow(
            "sales",
            "Leads returned to marketing",
            "with a reason",
            number(totals.get("returned", 0)),
            "returned",
            **count(totals.get("returned", 0)),
        ),
    ]
    sales += [
        SummaryRow(
            "sales",
            f"Returned: {review.reason(code)}",
            "—",
            number(n),
            "returned",
            f"?key={code}" if code != "unspecified" else "",
            **count(n),
        )
        for code, n in report.returns_by_reason.items()
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
                f"{goal.agreement}: {goal.name}" if goal.agreement else goal.name,
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
        rows.extend(
            [
                "KPI",
                f"{kpi.name}: {part.agreement}",
                part.owner,
                with_unit(part.target, part.unit),
                with_unit(part.actual, part.unit),
                part.status,
                with_unit(part.previous, part.unit) if part.previous is not None else "—",
                change(part)[1],
            ]
            for part in kpi.parts
            if len(kpi.parts) > 1
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
        "velocity": Table(
            "Velocity: days in each stage",
            ["Stage", "Median (days)", "90th percentile (days)"],
            [
                [
                    label,
                    number(report.velocity_days[stage]["median"]),
                    number(report.velocity_days[stage]["p90"]),
                ]
                for stage, label in VELOCITY_LABELS.items()
            ],
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


def _iso(moment: datetime | None, time_zone: str) -> str:
    """An instant as ISO 8601 with its offset, in the SLA's time zone."""
    if moment is None:
        return ""
    return timezone.localtime(moment, ZoneInfo(time_zone)).isoformat()


def _fraction(value: float | None) -> float | None:
    return None if value is None else round(value, 12)


def csv_tables(review: Review) -> dict[str, Table]:
    """The review's tables as raw values for a spreadsheet: numbers as numbers, rates as
    fractions 0..1, ISO 8601 dates and instants, units and status codes in their own columns.
    The same report as the page and the PDF, which write these values for people."""
    report, tz = review.report, review.time_zone

    def status_row(kind: str, status: Status) -> list:
        target, unit = raw(status.target, status.unit)
        actual, _ = raw(status.actual, status.unit)
        previous, _ = raw(status.previous, status.unit)
        change_value, _ = raw(status.change, status.unit)
        return [
            kind,
            status.metric,
            status.name,
            status.owner,
            unit,
            target,
            actual,
            status.status,
            previous,
            change_value,
            _fraction(status.pace),
            status.forecast,
            status.note,
            status.agreement,
        ]

    def kpi_rows(kpi: Status) -> list[list]:
        # On "all agreements", each agreement's own figure and status under the combined one.
        parts = kpi.parts if len(kpi.parts) > 1 else []
        return [status_row("kpi", kpi)] + [status_row("kpi", part) for part in parts]

    formatted = tables(review)
    return {
        "scorecard": Table(
            "Scorecard",
            [
                "kind",
                "metric",
                "name",
                "owner",
                "unit",
                "target",
                "actual",
                "status",
                "previous_month",
                "change",
                "pace",
                "forecast",
                "note",
                "agreement",
            ],
            [status_row("goal", goal) for goal in report.goals]
            + [row for kpi in report.kpis for row in kpi_rows(kpi)],
        ),
        "summary": Table(
            "Compliance summary",
            [
                "side",
                "measure",
                "actual",
                "unit",
                "out_of",
                "promised",
                "promised_unit",
                "promised_basis",
            ],
            [
                [
                    r.side,
                    r.measure,
                    r.actual_value,
                    r.unit,
                    r.out_of,
                    r.promised_value,
                    r.promised_unit,
                    r.promised_basis,
                ]
                for r in summary_rows(review)
            ],
        ),
        "funnel": Table(
            "Funnel",
            ["stage", "label", "count", "planned_per_month", "conversion_from_previous"],
            [
                [
                    step.stage,
                    step.label,
                    step.count,
                    step.planned_per_month,
                    _fraction(step.conversion_from_previous),
                ]
                for step in report.funnel
            ],
        ),
        "sources": Table(
            "By source",
            ["source", "leads", "mqls", "sqls", "opportunities", "won"],
            [[b.key, b.leads, b.mqls, b.sqls, b.opportunities, b.won] for b in report.by_source],
        ),
        "segments": Table(
            "By segment",
            ["segment", "label", "leads", "mqls", "sqls", "opportunities", "won"],
            [
                [b.key, b.label, b.leads, b.mqls, b.sqls, b.opportunities, b.won]
                for b in report.by_segment
            ],
        ),
        "cohorts": Table(
            "Cohorts",
            ["created_in", "leads", "by_end_of", "mqls", "sqls", "won"],
            formatted["cohorts"].rows,
        ),
        "reps": Table(
            "Compliance by rep",
            [
                "rep_id",
                "rep",
                "handoffs",
                "windows_closed",
                "windows_met",
                "compliance",
                "breached",
                "attempts",
            ],
            [
                [
                    rep.rep_id,
                    rep.name,
                    rep.handoffs,
                    rep.windows_closed,
                    rep.windows_met,
                    _fraction(rep.compliance),
                    rep.breached,
                    rep.attempts,
                ]
                for rep in report.by_rep
            ],
        ),
        "breaches": Table(
            "Breached handoffs",
            [
                "handoff_id",
                "lead_id",
                "lead",
                "rep_id",
                "rep",
                "handed_off_at",
                "due_at",
                "first_touch_at",
                "late_business_minutes",
                "state",
            ],
            [
                [
                    b.handoff_id,
                    b.lead_id,
                    b.lead,
                    b.rep_id,
                    b.rep,
                    _iso(b.handed_off_at, tz),
                    _iso(b.due_at, tz),
                    _iso(b.first_touch_at, tz),
                    b.late_business_minutes,
                    b.state,
                ]
                for b in review.breaches
            ],
        ),
        "reasons": Table(
            "Rejections and returns by reason",
            ["decision", "reason", "label", "leads"],
            [
                ["rejected", code, review.reason(code), n]
                for code, n in report.rejections_by_reason.items()
            ]
            + [
                ["returned", code, review.reason(code), n]
                for code, n in report.returns_by_reason.items()
            ],
        ),
        "velocity": Table(
            "Velocity: days in each stage",
            ["stage", "label", "median_days", "p90_days"],
            [
                [
                    stage,
                    label,
                    report.velocity_days[stage]["median"],
                    report.velocity_days[stage]["p90"],
                ]
                for stage, label in VELOCITY_LABELS.items()
            ],
        ),
        "trends": Table(
            "Twelve-month trends",
            ["month", "leads", "mqls", "sqls", "breaches", "compliance"],
            [
                [str(month), leads, mqls, sqls, breaches, _fraction(compliance)]
                for month, leads, mqls, sqls, breaches, compliance in zip(
                    review.month.trailing(len(review.trends["labels"])),
                    review.trends["leads_created"],
                    review.trends["entered_mql"],
                    review.trends["entered_sql"],
                    review.trends["breached"],
                    review.trends["compliance_rate"],
                    strict=True,
                )
            ],
        ),
        "actions": Table(
            "Action items",
            ["action", "owner", "due_date", "agreed_in", "status", "done_at"],
            [
                [
                    item.text,
                    item.owner.get_full_name() or item.owner.username,
                    item.due_date.isoformat(),
                    str(Month.of(item.month)),
                    "done" if item.done_at else "open",
                    _iso(item.done_at, tz),
                ]
                for item in review.action_items
            ],
        ),
    }


def table_csv(table: Table) -> str:
    """A table as CSV: None is an empty cell, which a spreadsheet reads as "no value"."""
    return csv_write([table.columns, *table.rows])


def filename(review: Review, name: str, extension: str) -> str:
    if review.agreement_id is not None:
        # One agreement's file says whose it is; "all" keeps the plain name.
        scope = slugify(review.agreement_name) or f"agreement-{review.agreement_id}"
        return f"review-{review.month}-{scope}-{name}.{extension}"
    return f"review-{review.month}-{name}.{extension}"


# The review pack PDF ---------------------------------------------------------------------


def _rowset(table: Table) -> dict:
    return {
        "title": table.title,
        "columns": table.columns,
        "items": [{"values": [str(v) for v in row]} for row in table.rows],
    }


def _section(pdf: SlaPdf, title: str, *, needs: float = 40) -> None:
    """A section's heading, on a new page when what follows it (`needs` mm) would not fit."""
    if pdf.will_page_break(needs):
        pdf.add_page()
    pdf.line_of(title, 15, "B", gap=2)


def review_pdf(review: Review) -> bytes:
    """The pack handed round before the meeting: figures, charts, breaches, notes, actions."""
    # Imported here: both modules build on this one's Review and formatting.
    from .charts import review_charts
    from .pack_charts import CHART_HEIGHT, chart_draw, review_pack_charts

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
                        f"{g.agreement}: {g.name}" if g.agreement else g.name,
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
                        f"  {k.agreement}" if k.agreement else k.name,
                        k.owner,
                        with_unit(k.target, k.unit),
                        with_unit(k.actual, k.unit),
                        STATUS_LABELS.get(k.status, k.status),
                        with_unit(k.previous, k.unit),
                        change(k)[1],
                    ]
                    for kpi in report.kpis
                    for k in [kpi, *(kpi.parts if len(kpi.parts) > 1 else [])]
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

    # The page's charts, drawn from the very series the page draws, each beside its table.
    # Sections follow on where the last one ended: a page break only when the next block
    # would not fit, so no page is left with a line or two on it.
    funnel_chart, trend_chart, reps_chart = review_pack_charts(review_charts(review))
    _section(pdf, "Funnel and compliance", needs=CHART_HEIGHT + 10)
    chart_draw(pdf, funnel_chart)
    pdf_rowset(pdf, _rowset(every["funnel"]))
    chart_draw(pdf, trend_chart)
    chart_draw(pdf, reps_chart)
    for name in ("reps", "reasons", "velocity"):
        pdf_rowset(pdf, _rowset(every[name]))
    _section(pdf, "Breaches")
    pdf_rowset(pdf, _rowset(every["breaches"]))

    _section(pdf, "Meeting notes")
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
