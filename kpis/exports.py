"""The monthly review as tables people take away: CSV per table and the review pack PDF.

Everything here renders a `Review` the view has already loaded, so the page, the CSVs and the
PDF show the same figures from the same queries, and these functions need no database.
"""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from agreements.exports import SlaPdf, pdf_rowset
from slaportal import numbers
from slaportal.csv_files import csv_write

from .metrics import MonthReport, Status
from .periods import Month

CURRENCY_UNITS = {"$", "US$", "R$", "€", "£", "USD", "BRL", "EUR", "GBP"}
STATUS_LABELS = {
    "green": _("On track"),
    "amber": _("At risk"),
    "red": _("Off track"),
    "grey": _("No data"),
    # "All agreements", where the agreements hold a KPI to different targets: each agreement's
    # own status stands beside the combined figure.
    "mixed": _("Targets differ by agreement"),
}
VELOCITY_LABELS = {
    "lead": _("Lead → MQL"),
    "mql": _("MQL → SQL"),
    "sql": _("SQL → opportunity"),
    "opportunity": _("Opportunity → won"),
}
SIDE_LABELS = {"marketing": _("Marketing"), "sales": _("Sales")}
DECISION_LABELS = {"rejected": _("Rejected"), "returned": _("Returned")}
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
            return gettext("returned untouched") if self.returned_at else gettext("not touched yet")
        if self.late_business_minutes is None:
            return gettext("late")
        return gettext("%(duration)s late") % {"duration": duration(self.late_business_minutes)}

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
    """1234.5 -> "1,234.5" / "1.234,5"; whole numbers without decimals; "—" for None."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return numbers.number(value, 0)
    return numbers.number(value, decimals)


def percent(rate: float | None) -> str:
    """A fraction 0..1 as a percentage; "—" when there was nothing to divide by."""
    if rate is None:
        return "—"
    share = round(rate * 100, 1)
    return numbers.percent(share, 0 if share.is_integer() else 1)


def hours(minutes: float | None) -> str:
    return "—" if minutes is None else hours_text(minutes / 60)


def hours_text(value: float) -> str:
    return pgettext("hours", "%(hours)s h") % {"hours": numbers.number(value, 1)}


def duration(minutes: float) -> str:
    minutes = round(minutes)
    if minutes < 60:
        return pgettext("duration", "%(minutes)s min") % {"minutes": minutes}
    whole, rest = divmod(minutes, 60)
    if rest:
        return pgettext("duration", "%(hours)s h %(minutes)02d min") % {
            "hours": numbers.number(whole, 0),
            "minutes": rest,
        }
    return pgettext("duration", "%(hours)s h") % {"hours": numbers.number(whole, 0)}


def money(value: float) -> str:
    """Revenue in the workspace's currency, cents only when there are any."""
    return numbers.money(value, decimals=0 if float(value).is_integer() else 2)


def with_unit(value: float | None, unit: str, metric: str = "") -> str:
    if value is None:
        return "—"
    if unit == "%":
        return numbers.percent(value, 0)
    if unit == "h":
        return hours_text(value)
    if unit in CURRENCY_UNITS or metric == "new_revenue":
        return money(value)
    return f"{number(value, 2)} {unit}".strip()


def change(status: Status) -> tuple[str, str]:
    """The change from last month as (arrow, text): percentage points for rates."""
    delta = status.change
    if delta is None:
        return "", "—"
    size = round(abs(delta), 1)
    # The sign follows the change as written: a change that rounds to nothing is "±0.0",
    # never "−0.0".
    if size == 0:
        delta = 0
    arrow = "up" if delta > 0 else "down" if delta < 0 else "flat"
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    if status.unit == "h":
        text = hours_text(size)
    elif status.unit == "%":
        digits = 0 if size.is_integer() and delta != 0 else 1
        text = pgettext("percentage points", "%(points)s pp") % {
            "points": numbers.number(size, digits)
        }
    elif status.metric == "new_revenue" or status.unit in CURRENCY_UNITS:
        text = money(size)
    else:
        text = number(size)
    return arrow, f"{sign}{text}"


def local(moment: datetime | None, time_zone: str) -> str:
    """A moment in the SLA's zone: "04 Nov 2026 10:00" / "04/11/2026 10h00"."""
    if moment is None:
        return "—"
    local_moment = timezone.localtime(moment, ZoneInfo(time_zone))
    return date_format(local_moment, pgettext("date and time format", "d M Y H:i"))


def day(value) -> str:
    """A date a person reads: "15 Dec 2026" / "15/12/2026"."""
    return date_format(value, pgettext("date format", "d M Y"))


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
            return gettext("each agreement's own (see the scorecard)")
        if kpi:
            return gettext("%(target)s (KPI target)") % {
                "target": with_unit(kpi.target, kpi.unit, kpi.metric)
            }
        return fallback

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
            gettext("MQLs delivered"),
            "—"
            if report.mqls_planned is None
            else gettext("%(count)s a month (funnel plan)")
            % {"count": number(report.mqls_planned)},
            number(funnel["mql"].count),
            "entered_mql",
            **count(funnel["mql"].count),
            promised_value=report.mqls_planned,
            promised_unit="count" if report.mqls_planned is not None else "",
            promised_basis="funnel_plan" if report.mqls_planned is not None else "",
        ),
        SummaryRow(
            "marketing",
            gettext("Leads created"),
            "—",
            number(funnel["lead"].count),
            "leads_created",
            **count(funnel["lead"].count),
        ),
        SummaryRow(
            "marketing",
            gettext("Lead → MQL conversion"),
            target(
                "lead_to_mql_rate",
                gettext("%(rate)s (funnel plan)")
                % {
                    "rate": numbers.percent(
                        planned_conversion, 0 if planned_conversion.is_integer() else 1
                    )
                }
                if planned_conversion
                else "—",
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
            gettext("MQL acceptance rate"),
            target("mql_acceptance_rate"),
            percent(report.mql_acceptance_rate),
            "accepted",
            **fraction(report.mql_acceptance_rate),
            **promised("mql_acceptance_rate"),
        ),
        SummaryRow(
            "marketing",
            gettext("MQLs rejected by sales"),
            "—",
            number(totals.get("rejected", 0)),
            "rejected",
            **count(totals.get("rejected", 0)),
        ),
    ]
    marketing += [
        SummaryRow(
            "marketing",
            gettext("Rejected: %(reason)s") % {"reason": review.reason(code)},
            "—",
            number(n),
            "rejected",
            f"?key={code}" if code != "unspecified" else "",
            **count(n),
        )
        for code, n in report.rejections_by_reason.items()
    ]
    target_hours = review.response_target_hours
    first_touch = (
        "—"
        if target_hours is None
        else gettext("within %(hours)s business h") % {"hours": number(target_hours)}
    )
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
            gettext("First touch"),
            first_touch,
            gettext("%(met)s of %(closed)s windows met")
            % {
                "met": number(totals.get("windows_met", 0)),
                "closed": number(totals.get("windows_closed", 0)),
            },
            "windows_met",
            actual_value=totals.get("windows_met", 0),
            unit="windows_met",
            out_of=totals.get("windows_closed", 0),
            **response_promise,
        ),
        SummaryRow(
            "sales",
            gettext("SLA compliance"),
            target("sla_compliance", numbers.percent(100)),
            percent(report.sla_compliance),
            "windows_closed",
            **fraction(report.sla_compliance),
            **promised("sla_compliance", 1.0, FRACTION, "full_compliance"),
        ),
        SummaryRow(
            "sales",
            gettext("Speed to lead, median"),
            target("speed_to_lead", first_touch),
            hours(speed["median"]),
            "handoffs",
            **speed_hours(speed["median"]),
            **speed_promise,
        ),
        SummaryRow(
            "sales",
            gettext("Speed to lead, 90th percentile"),
            first_touch,
            hours(speed["p90"]),
            "handoffs",
            **speed_hours(speed["p90"]),
            **response_promise,
        ),
        SummaryRow(
            "sales",
            gettext("Contact attempts per lead"),
            target(
                "attempts_per_lead",
                gettext("%(steps)s in the cadence") % {"steps": review.cadence_steps}
                if review.cadence_steps
                else "—",
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
            gettext("Time between attempts, median"),
            gettext("as the cadence spaces them"),
            "—"
            if report.attempt_spacing_hours is None
            else hours_text(report.attempt_spacing_hours),
            "handoffs",
            actual_value=report.attempt_spacing_hours,
            unit="hours",
            promised_basis="cadence",
        ),
        SummaryRow(
            "sales",
            gettext("Handoffs that kept the cadence"),
            numbers.percent(100),
            percent(report.cadence_met_share),
            "handoffs",
            **fraction(report.cadence_met_share),
            promised_value=1.0,
            promised_unit=FRACTION,
            promised_basis="cadence",
        ),
        SummaryRow(
            "sales",
            gettext("Breaches"),
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
            gettext("Leads returned to marketing"),
            gettext("with a reason"),
            number(totals.get("returned", 0)),
            "returned",
            **count(totals.get("returned", 0)),
        ),
    ]
    sales += [
        SummaryRow(
            "sales",
            gettext("Returned: %(reason)s") % {"reason": review.reason(code)},
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
                gettext("Goal"),
                f"{goal.agreement}: {goal.name}" if goal.agreement else goal.name,
                goal.owner,
                with_unit(goal.target, goal.unit, goal.metric),
                with_unit(goal.actual, goal.unit, goal.metric),
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
                with_unit(kpi.target, kpi.unit, kpi.metric),
                with_unit(kpi.actual, kpi.unit, kpi.metric),
                kpi.status,
                with_unit(kpi.previous, kpi.unit, kpi.metric) if kpi.previous is not None else "—",
                change(kpi)[1],
            ]
        )
        rows.extend(
            [
                "KPI",
                f"{kpi.name}: {part.agreement}",
                part.owner,
                with_unit(part.target, part.unit, part.metric),
                with_unit(part.actual, part.unit, part.metric),
                part.status,
                with_unit(part.previous, part.unit, part.metric)
                if part.previous is not None
                else "—",
                change(part)[1],
            ]
            for part in kpi.parts
            if len(kpi.parts) > 1
        )
    return Table(
        gettext("Scorecard"),
        [
            gettext("Kind"),
            gettext("Name"),
            gettext("Owner"),
            gettext("Target"),
            gettext("Actual"),
            gettext("Status"),
            gettext("Last month"),
            gettext("Change / detail"),
        ],
        rows,
    )


def _breakdown_table(title: str, name: str, breakdowns) -> Table:
    return Table(
        title,
        [
            name,
            gettext("Leads"),
            gettext("MQLs"),
            gettext("SQLs"),
            gettext("Opportunities"),
            gettext("Won"),
        ],
        [[b.label, b.leads, b.mqls, b.sqls, b.opportunities, b.won] for b in breakdowns],
    )


def tables(review: Review) -> dict[str, Table]:
    """Every table on the page, by the name its CSV is downloaded under."""
    report, tz = review.report, review.time_zone
    summary = summary_rows(review)
    reasons = [
        [gettext("Rejected"), review.reason(code), number(count)]
        for code, count in report.rejections_by_reason.items()
    ]
    reasons += [
        [gettext("Returned"), review.reason(code), number(count)]
        for code, count in report.returns_by_reason.items()
    ]
    return {
        "scorecard": _scorecard(review),
        "summary": Table(
            gettext("Compliance summary"),
            [gettext("Side"), gettext("Measure"), gettext("Promised"), gettext("Actual")],
            [[SIDE_LABELS[r.side], r.measure, r.promised, r.actual] for r in summary],
        ),
        "funnel": Table(
            gettext("Funnel"),
            [
                gettext("Stage"),
                gettext("Count"),
                gettext("Plan per month"),
                gettext("Conversion from previous"),
            ],
            [
                [
                    step.label,
                    number(step.count),
                    "" if step.planned_per_month is None else number(step.planned_per_month),
                    percent(step.conversion_from_previous),
                ]
                for step in report.funnel
            ],
        ),
        "sources": _breakdown_table(gettext("By source"), gettext("Source"), report.by_source),
        "segments": _breakdown_table(gettext("By segment"), gettext("Segment"), report.by_segment),
        "cohorts": Table(
            gettext("Cohorts"),
            [
                gettext("Created in"),
                gettext("Leads"),
                gettext("By end of"),
                gettext("MQLs"),
                gettext("SQLs"),
                gettext("Won"),
            ],
            [
                [str(c.month), c.created, str(p.month), p.mqls, p.sqls, p.won]
                for c in report.cohorts
                for p in c.progress
            ],
        ),
        "reps": Table(
            gettext("Compliance by rep"),
            [
                gettext("Rep"),
                gettext("Handoffs"),
                gettext("Windows closed"),
                gettext("Windows met"),
                gettext("Compliance"),
                gettext("Breached"),
                gettext("Attempts"),
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
            gettext("Breached handoffs"),
            [
                gettext("Lead"),
                gettext("Rep"),
                gettext("Handed off (%(zone)s)") % {"zone": tz},
                gettext("Due"),
                gettext("First touch"),
                gettext("How late (business time)"),
            ],
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
            gettext("Rejections and returns by reason"),
            [gettext("Decision"), gettext("Reason"), gettext("Leads")],
            reasons,
        ),
        "velocity": Table(
            gettext("Velocity: days in each stage"),
            [gettext("Stage"), gettext("Median (days)"), gettext("90th percentile (days)")],
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
            gettext("Twelve-month trends"),
            [
                gettext("Month"),
                gettext("Leads"),
                gettext("MQLs"),
                gettext("SQLs"),
                gettext("Breaches"),
                gettext("Compliance (%)"),
            ],
            [
                [label, number(leads), number(mqls), number(sqls), number(breached), compliance]
                for label, leads, mqls, sqls, breached, compliance in zip(
                    trend_labels(review),
                    review.trends["leads_created"],
                    review.trends["entered_mql"],
                    review.trends["entered_sql"],
                    review.trends["breached"],
                    ["" if c is None else number(c) for c in review.trends["compliance"]],
                    strict=True,
                )
            ],
        ),
        "actions": Table(
            gettext("Action items"),
            [
                gettext("Action"),
                gettext("Owner"),
                gettext("Due"),
                gettext("Agreed in"),
                gettext("Status"),
            ],
            [
                [
                    item.text,
                    item.owner.get_full_name() or item.owner.username,
                    day(item.due_date),
                    Month.of(item.month).label,
                    gettext("done %(when)s") % {"when": local(item.done_at, tz)}
                    if item.done_at
                    else gettext("open"),
                ]
                for item in review.action_items
            ],
        ),
    }


def trend_labels(review: Review) -> list[str]:
    """The trend's months as the reader's language writes them ("Nov 2026" / "nov 2026")."""
    return [m.short_label for m in review.month.trailing(len(review.trends["labels"]))]


def _iso(moment: datetime | None, time_zone: str) -> str:
    """An instant as ISO 8601 with its offset, in the SLA's time zone."""
    if moment is None:
        return ""
    return timezone.localtime(moment, ZoneInfo(time_zone)).isoformat()


def _fraction(value: float | None) -> float | None:
    return None if value is None else round(value, 12)


# The CSVs' column names, in the language of the request that downloads them.
CSV_COLUMNS = {
    "action": pgettext_lazy("CSV column", "action"),
    "actual": pgettext_lazy("CSV column", "actual"),
    "agreed_in": pgettext_lazy("CSV column", "agreed_in"),
    "agreement": pgettext_lazy("CSV column", "agreement"),
    "attempts": pgettext_lazy("CSV column", "attempts"),
    "breached": pgettext_lazy("CSV column", "breached"),
    "breaches": pgettext_lazy("CSV column", "breaches"),
    "by_end_of": pgettext_lazy("CSV column", "by_end_of"),
    "change": pgettext_lazy("CSV column", "change"),
    "compliance": pgettext_lazy("CSV column", "compliance"),
    "conversion_from_previous": pgettext_lazy("CSV column", "conversion_from_previous"),
    "count": pgettext_lazy("CSV column", "count"),
    "created_in": pgettext_lazy("CSV column", "created_in"),
    "decision": pgettext_lazy("CSV column", "decision"),
    "done_at": pgettext_lazy("CSV column", "done_at"),
    "due_at": pgettext_lazy("CSV column", "due_at"),
    "due_date": pgettext_lazy("CSV column", "due_date"),
    "first_touch_at": pgettext_lazy("CSV column", "first_touch_at"),
    "forecast": pgettext_lazy("CSV column", "forecast"),
    "handed_off_at": pgettext_lazy("CSV column", "handed_off_at"),
    "handoff_id": pgettext_lazy("CSV column", "handoff_id"),
    "handoffs": pgettext_lazy("CSV column", "handoffs"),
    "kind": pgettext_lazy("CSV column", "kind"),
    "label": pgettext_lazy("CSV column", "label"),
    "late_business_minutes": pgettext_lazy("CSV column", "late_business_minutes"),
    "lead": pgettext_lazy("CSV column", "lead"),
    "lead_id": pgettext_lazy("CSV column", "lead_id"),
    "leads": pgettext_lazy("CSV column", "leads"),
    "measure": pgettext_lazy("CSV column", "measure"),
    "median_days": pgettext_lazy("CSV column", "median_days"),
    "metric": pgettext_lazy("CSV column", "metric"),
    "month": pgettext_lazy("CSV column", "month"),
    "mqls": pgettext_lazy("CSV column", "mqls"),
    "name": pgettext_lazy("CSV column", "name"),
    "note": pgettext_lazy("CSV column", "note"),
    "opportunities": pgettext_lazy("CSV column", "opportunities"),
    "out_of": pgettext_lazy("CSV column", "out_of"),
    "owner": pgettext_lazy("CSV column", "owner"),
    "p90_days": pgettext_lazy("CSV column", "p90_days"),
    "pace": pgettext_lazy("CSV column", "pace"),
    "planned_per_month": pgettext_lazy("CSV column", "planned_per_month"),
    "previous_month": pgettext_lazy("CSV column", "previous_month"),
    "promised": pgettext_lazy("CSV column", "promised"),
    "promised_basis": pgettext_lazy("CSV column", "promised_basis"),
    "promised_unit": pgettext_lazy("CSV column", "promised_unit"),
    "reason": pgettext_lazy("CSV column", "reason"),
    "rep": pgettext_lazy("CSV column", "rep"),
    "rep_id": pgettext_lazy("CSV column", "rep_id"),
    "segment": pgettext_lazy("CSV column", "segment"),
    "side": pgettext_lazy("CSV column", "side"),
    "source": pgettext_lazy("CSV column", "source"),
    "sqls": pgettext_lazy("CSV column", "sqls"),
    "stage": pgettext_lazy("CSV column", "stage"),
    "state": pgettext_lazy("CSV column", "state"),
    "status": pgettext_lazy("CSV column", "status"),
    "target": pgettext_lazy("CSV column", "target"),
    "unit": pgettext_lazy("CSV column", "unit"),
    "windows_closed": pgettext_lazy("CSV column", "windows_closed"),
    "windows_met": pgettext_lazy("CSV column", "windows_met"),
    "won": pgettext_lazy("CSV column", "won"),
}


def _csv_columns(*names: str) -> list[str]:
    return [str(CSV_COLUMNS[name]) for name in names]


# The review's CSV downloads by file name, in the export menu's order: the menu lists them
# without building the tables.
CSV_TITLES = {
    "scorecard": _("Scorecard"),
    "summary": _("Compliance summary"),
    "funnel": _("Funnel"),
    "sources": _("By source"),
    "segments": _("By segment"),
    "cohorts": _("Cohorts"),
    "reps": _("Compliance by rep"),
    "breaches": _("Breached handoffs"),
    "reasons": _("Rejections and returns by reason"),
    "velocity": _("Velocity: days in each stage"),
    "trends": _("Twelve-month trends"),
    "actions": _("Action items"),
}


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
            str(CSV_TITLES["scorecard"]),
            _csv_columns(
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
            ),
            [status_row("goal", goal) for goal in report.goals]
            + [row for kpi in report.kpis for row in kpi_rows(kpi)],
        ),
        "summary": Table(
            str(CSV_TITLES["summary"]),
            _csv_columns(
                "side",
                "measure",
                "actual",
                "unit",
                "out_of",
                "promised",
                "promised_unit",
                "promised_basis",
            ),
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
            str(CSV_TITLES["funnel"]),
            _csv_columns(
                "stage", "label", "count", "planned_per_month", "conversion_from_previous"
            ),
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
            str(CSV_TITLES["sources"]),
            _csv_columns("source", "leads", "mqls", "sqls", "opportunities", "won"),
            [[b.key, b.leads, b.mqls, b.sqls, b.opportunities, b.won] for b in report.by_source],
        ),
        "segments": Table(
            str(CSV_TITLES["segments"]),
            _csv_columns("segment", "label", "leads", "mqls", "sqls", "opportunities", "won"),
            [
                [b.key, b.label, b.leads, b.mqls, b.sqls, b.opportunities, b.won]
                for b in report.by_segment
            ],
        ),
        "cohorts": Table(
            str(CSV_TITLES["cohorts"]),
            _csv_columns("created_in", "leads", "by_end_of", "mqls", "sqls", "won"),
            formatted["cohorts"].rows,
        ),
        "reps": Table(
            str(CSV_TITLES["reps"]),
            _csv_columns(
                "rep_id",
                "rep",
                "handoffs",
                "windows_closed",
                "windows_met",
                "compliance",
                "breached",
                "attempts",
            ),
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
            str(CSV_TITLES["breaches"]),
            _csv_columns(
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
            ),
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
            str(CSV_TITLES["reasons"]),
            _csv_columns("decision", "reason", "label", "leads"),
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
            str(CSV_TITLES["velocity"]),
            _csv_columns("stage", "label", "median_days", "p90_days"),
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
            str(CSV_TITLES["trends"]),
            _csv_columns("month", "leads", "mqls", "sqls", "breaches", "compliance"),
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
            str(CSV_TITLES["actions"]),
            _csv_columns("action", "owner", "due_date", "agreed_in", "status", "done_at"),
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

    month = review.month.label
    pdf = SlaPdf(
        gettext("%(agreement)s, review of %(month)s")
        % {"agreement": review.agreement_name, "month": month}
    )
    title = gettext("Monthly review: %(month)s") % {"month": month}
    pdf.set_title(pdf.t(title))
    pdf.add_page()
    pdf.line_of(title, 20, "B", gap=2)
    pdf.line_of(
        gettext("%(agreement)s · judged by %(version)s · times in %(zone)s")
        % {
            "agreement": review.agreement_name,
            "version": review.version_label,
            "zone": review.time_zone,
        },
        10,
    )
    pdf.line_of(
        gettext("Figures as of %(as_of)s; made %(made)s")
        % {
            "as_of": local(review.as_of, review.time_zone),
            "made": local(review.generated_at, review.time_zone),
        },
        9,
        "I",
        gap=5,
    )
    every = tables(review)

    _section(pdf, gettext("Scorecard"))
    report = review.report
    pdf_rowset(
        pdf,
        _rowset(
            Table(
                gettext("Shared goals, over each goal's period to date"),
                [
                    gettext("Goal"),
                    gettext("Owner"),
                    gettext("Target"),
                    gettext("Actual"),
                    gettext("Status"),
                    gettext("Detail"),
                ],
                [
                    [
                        f"{g.agreement}: {g.name}" if g.agreement else g.name,
                        g.owner,
                        with_unit(g.target, g.unit, g.metric),
                        with_unit(g.actual, g.unit, g.metric),
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
                gettext("KPIs"),
                [
                    gettext("KPI"),
                    gettext("Owner"),
                    gettext("Target"),
                    gettext("Actual"),
                    gettext("Status"),
                    gettext("Last month"),
                    gettext("Change"),
                ],
                [
                    [
                        f"  {k.agreement}" if k.agreement else k.name,
                        k.owner,
                        with_unit(k.target, k.unit, k.metric),
                        with_unit(k.actual, k.unit, k.metric),
                        STATUS_LABELS.get(k.status, k.status),
                        with_unit(k.previous, k.unit, k.metric),
                        change(k)[1],
                    ]
                    for kpi in report.kpis
                    for k in [kpi, *(kpi.parts if len(kpi.parts) > 1 else [])]
                ],
            )
        ),
    )

    _section(pdf, gettext("What each side promised and did"))
    summary = summary_rows(review)
    for side, title in (
        ("marketing", gettext("Marketing promised / delivered")),
        ("sales", gettext("Sales promised / did")),
    ):
        pdf_rowset(
            pdf,
            _rowset(
                Table(
                    title,
                    [gettext("Measure"), gettext("Promised"), gettext("Actual")],
                    [[r.measure, r.promised, r.actual] for r in summary if r.side == side],
                )
            ),
        )

    # The page's charts, drawn from the very series the page draws, each beside its table.
    # Sections follow on where the last one ended: a page break only when the next block
    # would not fit, so no page is left with a line or two on it.
    funnel_chart, trend_chart, reps_chart = review_pack_charts(review_charts(review))
    _section(pdf, gettext("Funnel and compliance"), needs=CHART_HEIGHT + 10)
    chart_draw(pdf, funnel_chart)
    pdf_rowset(pdf, _rowset(every["funnel"]))
    chart_draw(pdf, trend_chart)
    chart_draw(pdf, reps_chart)
    for name in ("reps", "reasons", "velocity"):
        pdf_rowset(pdf, _rowset(every[name]))
    _section(pdf, gettext("Breaches"))
    pdf_rowset(pdf, _rowset(every["breaches"]))

    _section(pdf, gettext("Meeting notes"))
    if review.notes:
        pdf.line_of(review.notes, 10, gap=2)
        pdf.line_of(review.notes_updated, 8, "I", gap=4)
    else:
        pdf.line_of(gettext("No notes yet."), 9, "I", gap=4)
    actions = every["actions"]
    pdf_rowset(
        pdf,
        _rowset(
            Table(
                gettext("Open action items"),
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
