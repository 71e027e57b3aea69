"""The KPI engine: a month's figures from the daily rollups only (DailyFigure, DailyValue,
VisitorCount), never from leads, handoffs or events, so a month costs the same few queries
at any size. What is not additive (medians, cadence met) was measured at rollup time.

Rates are fractions 0..1 and None when their denominator is zero; the page shows them as %.

One agreement's report reads that agreement's rows; "all agreements" reads every row, so its
counts are sums and its rates and medians are recomputed over the summed numerators,
denominators and values, never averaged from the agreements' rates. Targets are each
agreement's own: "all" judges a KPI against a target only when every agreement holds it to the
same target and thresholds, and otherwise shows the combined figure without a colour beside
each agreement's figure and status (`combined_kpis`).
"""

import dataclasses
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from agreements.funnel import plan_from
from agreements.models import Agreement, AgreementVersion, FunnelPlan, Goal, Kpi, Metric, Team
from slaportal.numbers import number, percent

from .models import DailyFigure, DailyValue, VisitorCount
from .periods import Month
from .rollups import (
    ATTEMPT_GAP,
    COHORT_METRICS,
    SPEED_TO_LEAD,
    STAGE_METRICS,
    VELOCITY_STAGES,
    velocity_metric,
)
from .segments import LABELS as SEGMENT_LABELS
from .selectors import review_version

FUNNEL = [
    ("visitor", _("Visitors"), None),
    ("lead", _("Leads"), "leads_created"),
    ("mql", _("MQLs"), "entered_mql"),
    ("sql", _("SQLs"), "entered_sql"),
    ("opportunity", _("Opportunities"), "entered_opportunity"),
    ("customer", _("Won"), "entered_customer"),
]
# Labels and notes in the report are lazy: a cached report reads in each reader's language.


def ratio(numerator, denominator) -> float | None:
    return None if not denominator else numerator / denominator


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


@dataclass
class FunnelStep:
    stage: str
    label: str
    count: int
    conversion_from_previous: float | None
    planned_per_month: float | None = None


@dataclass
class Breakdown:
    """The funnel of one source or one segment."""

    key: str
    label: str
    leads: int = 0
    mqls: int = 0
    sqls: int = 0
    opportunities: int = 0
    won: int = 0


@dataclass
class CohortMonth:
    month: Month
    mqls: int
    sqls: int
    won: int


@dataclass
class Cohort:
    """Leads created in one month, and how many had reached each stage by each later month."""

    month: Month
    created: int
    progress: list[CohortMonth]


@dataclass
class RepCompliance:
    rep_id: int
    name: str
    handoffs: int
    windows_closed: int
    windows_met: int
    breached: int
    attempts: int

    @property
    def compliance(self) -> float | None:
        return ratio(self.windows_met, self.windows_closed)


@dataclass
class Status:
    """A figure judged against its target: green, amber, red, or grey without data."""

    name: str
    metric: str
    owner: str
    target: float
    actual: float | None
    unit: str
    status: str
    previous: float | None = None
    detail: str = ""
    # A goal's pace (share of the plan so far) and forecast for its period, as numbers; `note`
    # is what `detail` says beyond them (an estimate's basis, or why there is no figure).
    pace: float | None = None
    forecast: float | None = None
    note: str = ""
    # A KPI's thresholds, so "all agreements" can tell whether its agreements agree on them.
    amber: float | None = None
    red: float | None = None
    higher_is_better: bool | None = None
    # The agreement a goal or KPI belongs to, when the review shows several.
    agreement: str = ""
    # On "all agreements": each agreement's own figure and status behind the combined one.
    parts: list["Status"] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        if self.actual is None or self.previous is None:
            return None
        return self.actual - self.previous


@dataclass
class MonthReport:
    month: Month
    time_zone: str
    funnel: list[FunnelStep]
    totals: dict[str, int]
    by_rep: list[RepCompliance]
    sla_compliance: float | None
    speed_to_lead_minutes: dict[str, float | None]
    attempts_per_lead: float | None
    attempt_spacing_hours: float | None
    cadence_met_share: float | None
    mql_acceptance_rate: float | None
    mqls_planned: float | None
    rejections_by_reason: dict[str, int]
    returns_by_reason: dict[str, int]
    velocity_days: dict[str, dict[str, float | None]]
    # The instant the figures stand at: the month's last instant once it has ended, else now.
    judged_at: datetime | None = None
    # The running month: its figures are "so far" and will still change.
    partial: bool = False
    # When the month's days were last rolled up: its figures are as of then.
    rolled_up_at: datetime | None = None
    by_source: list[Breakdown] = field(default_factory=list)
    by_segment: list[Breakdown] = field(default_factory=list)
    cohorts: list[Cohort] = field(default_factory=list)
    version: AgreementVersion | None = None
    plan: FunnelPlan | None = None
    kpis: list[Status] = field(default_factory=list)
    goals: list[Status] = field(default_factory=list)
    # The agreement whose rows these are; None for all agreements together.
    agreement_id: int | None = None
    agreement_name: str = ""
    # On "all agreements", how many agreements it adds up (each with its own targets).
    agreements_count: int = 0
    # The key it is cached under (kpis.selectors.month_report), None if it is not: what the
    # review's rendered figures are cached under too.
    cache_key: str | None = None


def _of(model, agreement):
    """The rollup rows of one agreement, or of all of them."""
    rows = model.objects.all()
    return rows if agreement is None else rows.filter(agreement=agreement)


def _figures(month: Month, agreement=None) -> dict[str, int]:
    rows = (
        _of(DailyFigure, agreement)
        .filter(day__gte=month.first_day, day__lte=month.last_day)
        .values("metric")
        .annotate(total=Sum("value"))
    )
    return defaultdict(int, {row["metric"]: row["total"] for row in rows})


# Rollup metrics the report reads but does not show among its totals.
ROLLUP_ONLY = {"cadence_met", *COHORT_METRICS}


def _values(month: Month, agreement=None) -> dict[str, list[float]]:
    """The month's measured values behind each median, in one range scan."""
    values: dict[str, list[float]] = defaultdict(list)
    for metric, value in (
        _of(DailyValue, agreement)
        .filter(day__gte=month.first_day, day__lte=month.last_day)
        .values_list("metric", "value")
    ):
        values[metric].append(value)
    # Business minutes are whole minutes: shown as they were measured, not as floats.
    values[SPEED_TO_LEAD] = [int(minutes) for minutes in values[SPEED_TO_LEAD]]
    return values


def month_version(judged_at, *, agreement: Agreement | None = None):
    """A month is judged by the promise in force at its end (or now, for the current month);
    before the first version took effect, by the one in force now."""
    return review_version(judged_at, agreement=agreement) or review_version(agreement=agreement)


def _visitors(month: Month) -> int:
    return (
        VisitorCount.objects.filter(day__gte=month.first_day, day__lte=month.last_day).aggregate(
            total=Sum("visitors")
        )["total"]
        or 0
    )


def funnel_for(figures: dict[str, int], visitors: int | None) -> list[FunnelStep]:
    """The funnel; from leads on when `visitors` is None (one agreement: website visitors are
    counted for the workspace, not per agreement, so an agreement has no visitor step)."""
    steps, previous = [], None
    for stage, label, metric in FUNNEL:
        if metric is None and visitors is None:
            continue
        count = visitors if metric is None else figures[metric]
        steps.append(
            FunnelStep(stage, label, count, None if previous is None else ratio(count, previous))
        )
        previous = count
    return steps


def month_report_build(
    month: Month,
    *,
    now: datetime,
    time_zone: str,
    with_previous: bool = True,
    version=None,
    previous_report=None,
    agreement: Agreement | None = None,
    agreement_reports=None,
) -> MonthReport:
    """The month's figures as they stood at its last instant once it has ended, else as they
    stand `now`. Readers go through kpis.selectors.month_report, so all get the same answer.

    `agreement` None reads every agreement's rows ("all"). `version`, if given, is the one
    review_version resolves for the month (the selector has it already); `previous_report(
    month, now)` supplies last month's report for the KPIs' comparison (the selector reads it
    from the cache); `agreement_reports()`, for "all", each agreement's own report (whose KPIs
    and goals carry their own targets)."""
    start, end = month.bounds(time_zone)
    # A closed month reads the same whenever and wherever it is asked for.
    judged_at = min(end - timedelta(microseconds=1), now)
    parts = []
    if agreement is None:
        from .selectors import review_agreements

        everyone = review_agreements()
        if len(everyone) == 1:
            # One agreement: "all" is that agreement's review, judged by its version.
            version = month_version(judged_at, agreement=everyone[0])
        else:
            # Several: each is judged by its own version, side by side; "all" has none.
            if with_previous and everyone:
                parts = agreement_reports() if agreement_reports else _agreement_reports(month, now)
            # An agreement with no version in force has no targets to stand beside the others.
            parts = [(each, part) for each, part in parts if part.version is not None]
            version = parts[0][1].version if len(parts) == 1 else None
    elif version is None:
        # A month is judged by the promise in force at its end (or now, for the current
        # month); before the first version took effect, by the one in force now. Resolved
        # once here because every figure below needs it.
        version = month_version(judged_at, agreement=agreement)
    plan = FunnelPlan.objects.filter(version=version).first() if version else None
    figures = _figures(month, agreement)
    visitors = _visitors(month) if agreement is None else None
    values = _values(month, agreement)
    touched = values[SPEED_TO_LEAD]
    reps = _rep_compliance(month, agreement)
    report = MonthReport(
        month=month,
        time_zone=time_zone,
        funnel=funnel_for(figures, visitors),
        totals={k: v for k, v in figures.items() if k not in ROLLUP_ONLY}
        | ({"visitors": visitors} if visitors is not None else {}),
        by_rep=reps,
        sla_compliance=ratio(figures["windows_met"], figures["windows_closed"]),
        speed_to_lead_minutes={
            "median": statistics.median(touched) if touched else None,
            "p90": percentile(touched, 0.9),
        },
        attempts_per_lead=ratio(figures["handoff_attempts"], figures["handoffs"]),
        attempt_spacing_hours=statistics.median(values[ATTEMPT_GAP])
        if values[ATTEMPT_GAP]
        else None,
        # Judged when the days were rolled up: as of the month's end once it has ended.
        cadence_met_share=ratio(figures["cadence_met"], figures["handoffs"]),
        mql_acceptance_rate=ratio(figures["accepted"], figures["accepted"] + figures["rejected"]),
        mqls_planned=_mqls_planned(plan),
        rejections_by_reason=_by_key(month, "rejected", agreement),
        returns_by_reason=_by_key(month, "returned", agreement),
        velocity_days={
            stage: {
                "median": statistics.median(days) if days else None,
                "p90": percentile(days, 0.9),
            }
            for stage in VELOCITY_STAGES
            for days in [values[velocity_metric(stage)]]
        },
        judged_at=judged_at,
        partial=start <= now < end,
        version=version,
        plan=plan,
        agreement_id=agreement.pk if agreement else None,
        agreement_name=agreement.name if agreement else "",
        agreements_count=len(parts),
    )
    _plan_against_actuals(report.funnel, plan)
    if agreement is None and plan is None and len(parts) > 1:
        _plans_summed(report, [r for _, r in parts])
    if with_previous:
        report.by_source, report.by_segment = breakdowns(month, agreement)
        report.cohorts = cohorts(month, time_zone=time_zone, agreement=agreement)
    if not with_previous:
        previous = None
    elif previous_report is not None:
        previous = previous_report(month.previous, judged_at)
    else:
        previous = month_report_build(
            month.previous,
            now=judged_at,
            time_zone=time_zone,
            with_previous=False,
            agreement=agreement,
        )
    if len(parts) > 1:
        # Several agreements: the combined figure beside each agreement's own target.
        report.kpis = combined_kpis(report, previous=previous, parts=parts) if parts else []
        report.goals = [
            dataclasses.replace(goal, agreement=each.name)
            for each, part in parts
            for goal in part.goals
        ]
    else:
        report.kpis = kpi_statuses(report, previous=previous)
        report.goals = (
            goal_statuses(
                now=judged_at, version=version, time_zone=time_zone, plan=plan, agreement=agreement
            )
            if with_previous
            else []
        )
    return report


def _agreement_reports(month: Month, now: datetime) -> list:
    from .selectors import month_report, review_agreements

    return [
        (each, month_report(month=month, now=now, agreement=each)) for each in review_agreements()
    ]


def _plans_summed(report: MonthReport, parts: list[MonthReport]) -> None:
    """All agreements' reverse-funnel needs added up: what the company needs a month in all.
    A stage no agreement plans stays unplanned."""
    needs: dict[str, float] = defaultdict(float)
    planned = set()
    for part in parts:
        for step in part.funnel:
            if step.planned_per_month is not None:
                needs[step.stage] += step.planned_per_month
                planned.add(step.stage)
    for step in report.funnel:
        step.planned_per_month = needs[step.stage] if step.stage in planned else None
    mqls = [part.mqls_planned for part in parts if part.mqls_planned is not None]
    report.mqls_planned = sum(mqls) if mqls else None


def combined_kpis(
    report: MonthReport, *, previous: MonthReport | None, parts: list[tuple[Agreement, MonthReport]]
) -> list[Status]:
    """ "All agreements": one row per KPI any agreement sets, with the combined figure
    (recomputed from the summed rollups). It is judged against a target only when every
    agreement sets that KPI with the same target, direction and thresholds; otherwise its
    status is "mixed" and it carries no target, and each agreement's own figure, target and
    status stand beside it, which is what the room acts on."""
    rows: dict[str, list[tuple[Agreement, Status]]] = {}
    for each, part in parts:
        for status in part.kpis:
            rows.setdefault(status.metric, []).append((each, status))
    statuses = []
    for metric, entries in rows.items():
        first = entries[0][1]
        terms = {(s.target, s.amber, s.red, s.higher_is_better) for _, s in entries}
        shared = len(entries) == len(parts) and len(terms) == 1
        actual = _combined_value(report, metric, [part for _, part in parts])
        owners = {s.owner for _, s in entries}
        statuses.append(
            Status(
                name=first.name,
                metric=metric,
                owner=first.owner if len(owners) == 1 else Team.SHARED.label,
                target=first.target if shared else None,
                actual=actual,
                unit=first.unit,
                status=rag(
                    actual,
                    target=first.target,
                    amber=first.amber,
                    red=first.red,
                    higher_is_better=first.higher_is_better,
                )
                if shared
                else "mixed",
                previous=_combined_value(previous, metric, []) if previous else None,
                note="" if shared else _("targets differ by agreement"),
                amber=first.amber if shared else None,
                red=first.red if shared else None,
                higher_is_better=first.higher_is_better if shared else None,
                parts=[dataclasses.replace(s, agreement=each.name) for each, s in entries],
            )
        )
    return statuses


def _combined_value(report: MonthReport, metric: str, parts: list[MonthReport]) -> float | None:
    if metric == Metric.NEW_REVENUE and parts and not report.totals.get("won_value"):
        # Without deal values each agreement estimates with its own plan's deal size.
        estimates = [revenue(part.totals, part.plan)[0] for part in parts]
        known = [value for value in estimates if value is not None]
        return sum(known) if known else None
    return metric_value(report, metric)


PLAN_STAGES = {
    "Leads": "lead",
    "MQLs": "mql",
    "SQLs": "sql",
    "Opportunities": "opportunity",
    "Won deals": "customer",
}
BREAKDOWN_FIELDS = {
    "leads_created": "leads",
    "entered_mql": "mqls",
    "entered_sql": "sqls",
    "entered_opportunity": "opportunities",
    "entered_customer": "won",
}


def _plan_against_actuals(funnel: list[FunnelStep], plan: FunnelPlan | None) -> None:
    """Each stage's monthly need from the reverse-funnel plan, beside what the month did."""
    if plan is None:
        return
    result = plan_from(plan)
    needed = {PLAN_STAGES[step.stage]: float(step.per_month) for step in result.steps}
    for step in funnel:
        step.planned_per_month = needed.get(step.stage)


def breakdowns(month: Month, agreement=None) -> tuple[list[Breakdown], list[Breakdown]]:
    """The month's funnel by source and by segment, in one query over the rollups."""
    rows = (
        _of(DailyFigure, agreement)
        .filter(day__gte=month.first_day, day__lte=month.last_day, metric__in=BREAKDOWN_FIELDS)
        .values("metric", "source", "segment")
        .annotate(total=Sum("value"))
    )
    by_source: dict[str, Breakdown] = {}
    by_segment: dict[str, Breakdown] = {}
    for row in rows:
        name = BREAKDOWN_FIELDS[row["metric"]]
        source = by_source.setdefault(
            row["source"], Breakdown(row["source"], row["source"] or "(no source)")
        )
        segment = by_segment.setdefault(
            row["segment"],
            Breakdown(row["segment"], SEGMENT_LABELS.get(row["segment"], row["segment"] or "—")),
        )
        for breakdown in (source, segment):
            setattr(breakdown, name, getattr(breakdown, name) + row["total"])
    order = [slug for slug in SEGMENT_LABELS]
    return (
        sorted(by_source.values(), key=lambda b: (-b.leads, b.label)),
        sorted(
            by_segment.values(), key=lambda b: order.index(b.key) if b.key in order else len(order)
        ),
    )


def cohorts(month: Month, *, time_zone: str, count: int = 6, agreement=None) -> list[Cohort]:
    """Leads created in each of the last `count` months, and where they stood at the end of
    each month since (cumulative: a lead that reached SQL also counts as having been an MQL).

    From the rollups: leads_created per creation month, and the cohort_* figures, which
    count each lead on the local day it reached the stage under its creation month."""
    months = month.trailing(count)
    created = defaultdict(int)
    for row in (
        _of(DailyFigure, agreement)
        .filter(day__gte=months[0].first_day, day__lte=month.last_day, metric="leads_created")
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(total=Sum("value"))
    ):
        created[Month.of(row["month"])] = row["total"]
    reached: dict[tuple[str, str, Month], int] = defaultdict(int)
    for row in (
        _of(DailyFigure, agreement)
        .filter(
            day__lte=month.last_day, metric__in=COHORT_METRICS, key__in=[str(m) for m in months]
        )
        .annotate(month=TruncMonth("day"))
        .values("metric", "key", "month")
        .annotate(total=Sum("value"))
    ):
        reached[(row["metric"], row["key"], Month.of(row["month"]))] = row["total"]

    def by_end_of(metric: str, cohort_month: Month, later_month: Month) -> int:
        return sum(
            total
            for (m, key, when), total in reached.items()
            if m == metric and key == str(cohort_month) and when <= later_month
        )

    result = []
    for cohort_month in months:
        later = [m for m in months if m >= cohort_month]
        result.append(
            Cohort(
                cohort_month,
                created[cohort_month],
                [
                    CohortMonth(
                        later_month,
                        by_end_of("cohort_mql", cohort_month, later_month),
                        by_end_of("cohort_sql", cohort_month, later_month),
                        by_end_of("cohort_won", cohort_month, later_month),
                    )
                    for later_month in later
                ],
            )
        )
    return result


def _rep_compliance(month: Month, agreement=None) -> list[RepCompliance]:
    rows = (
        _of(DailyFigure, agreement)
        .filter(
            day__gte=month.first_day,
            day__lte=month.last_day,
            rep__isnull=False,
            metric__in=["handoffs", "windows_closed", "windows_met", "breached", "attempts"],
        )
        .values("rep", "metric")
        .annotate(total=Sum("value"))
    )
    per_rep: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        per_rep[row["rep"]][row["metric"]] += row["total"]
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=per_rep)}
    return sorted(
        (
            RepCompliance(
                pk,
                users[pk].get_full_name() or users[pk].username,
                m["handoffs"],
                m["windows_closed"],
                m["windows_met"],
                m["breached"],
                m["attempts"],
            )
            for pk, m in per_rep.items()
        ),
        key=lambda rep: rep.name,
    )


def _by_key(month: Month, metric: str, agreement=None) -> dict[str, int]:
    rows = (
        _of(DailyFigure, agreement)
        .filter(day__gte=month.first_day, day__lte=month.last_day, metric=metric)
        .values("key")
        .annotate(total=Sum("value"))
    )
    return {row["key"] or "unspecified": row["total"] for row in rows.order_by("-total", "key")}


def _mqls_planned(plan: FunnelPlan | None) -> float | None:
    if plan is None:
        return None
    result = plan_from(plan)
    step = next((s for s in result.steps if s.stage == "MQLs"), None)
    return float(step.per_month) if step else None


# Judging figures against targets ---------------------------------------------------------


def rag(actual: float | None, *, target, amber, red, higher_is_better: bool) -> str:
    """Green until the figure reaches the amber threshold, red once it reaches the red one."""
    if actual is None:
        return "grey"
    if higher_is_better:
        return "red" if actual <= red else "amber" if actual <= amber else "green"
    return "red" if actual >= red else "amber" if actual >= amber else "green"


PERCENT_METRICS = {
    Metric.VISITOR_TO_LEAD_RATE,
    Metric.LEAD_TO_MQL_RATE,
    Metric.MQL_TO_SQL_RATE,
    Metric.SQL_TO_OPPORTUNITY_RATE,
    Metric.OPPORTUNITY_TO_WIN_RATE,
    Metric.MQL_ACCEPTANCE_RATE,
    Metric.SLA_COMPLIANCE,
}


def metric_value(report: MonthReport, metric: str) -> float | None:
    """A catalogue metric for the month, in the unit its targets are written in (% or hours)."""
    funnel = {step.stage: step for step in report.funnel}
    conversions = {
        Metric.VISITOR_TO_LEAD_RATE: "lead",
        Metric.LEAD_TO_MQL_RATE: "mql",
        Metric.MQL_TO_SQL_RATE: "sql",
        Metric.SQL_TO_OPPORTUNITY_RATE: "opportunity",
        Metric.OPPORTUNITY_TO_WIN_RATE: "customer",
    }
    counts = {
        Metric.LEADS: "lead",
        Metric.MQLS: "mql",
        Metric.SQLS: "sql",
        Metric.OPPORTUNITIES: "opportunity",
        Metric.WON_DEALS: "customer",
    }
    if metric in conversions:
        value = funnel[conversions[metric]].conversion_from_previous
    elif metric in counts:
        return float(funnel[counts[metric]].count)
    elif metric == Metric.SLA_COMPLIANCE:
        value = report.sla_compliance
    elif metric == Metric.MQL_ACCEPTANCE_RATE:
        value = report.mql_acceptance_rate
    elif metric == Metric.SPEED_TO_LEAD:
        median = report.speed_to_lead_minutes["median"]
        return None if median is None else median / 60
    elif metric == Metric.ATTEMPTS_PER_LEAD:
        return report.attempts_per_lead
    elif metric == Metric.NEW_REVENUE:
        return revenue(report.totals, report.plan)[0]
    else:
        return None
    return None if value is None else value * 100


def revenue(totals, plan: FunnelPlan | None) -> tuple[float | None, str]:
    """New revenue from the deal values the CRM reported; estimated when it reported none."""
    if totals.get("won_value"):
        return float(totals["won_value"]), ""
    if plan is None or not plan.average_deal_size or not totals.get("entered_customer"):
        return (0.0 if plan else None), ""
    estimate = float(totals["entered_customer"] * plan.average_deal_size)
    return estimate, _("estimated: won deals × the plan's average deal size")


def kpi_statuses(report: MonthReport, previous: MonthReport | None) -> list[Status]:
    version = report.version
    statuses = []
    for kpi in Kpi.objects.filter(version=version).order_by("position", "id") if version else []:
        actual = metric_value(report, kpi.metric)
        statuses.append(
            Status(
                name=Metric(kpi.metric).label,
                metric=kpi.metric,
                owner=Team(kpi.owner).label,
                target=float(kpi.target),
                actual=actual,
                unit="%"
                if kpi.metric in PERCENT_METRICS
                else "h"
                if kpi.metric == Metric.SPEED_TO_LEAD
                else "",
                status=rag(
                    actual,
                    target=kpi.target,
                    amber=float(kpi.amber_threshold),
                    red=float(kpi.red_threshold),
                    higher_is_better=kpi.direction == Kpi.Direction.HIGHER,
                ),
                previous=metric_value(previous, kpi.metric) if previous else None,
                amber=float(kpi.amber_threshold),
                red=float(kpi.red_threshold),
                higher_is_better=kpi.direction == Kpi.Direction.HIGHER,
            )
        )
    return statuses


def goal_statuses(
    *, now, version, time_zone: str, plan: FunnelPlan | None, agreement=None
) -> list[Status]:
    """Each shared goal's progress over its own period so far, its pace and forecast."""
    if version is None:
        return []
    today = timezone.localtime(now, timezone=_zone(time_zone)).date()
    statuses = []
    # Goals usually share their period (the year, the quarter): one query per period.
    totals_by_period: dict[tuple[date, date], dict[str, int]] = {}
    for goal in Goal.objects.filter(version=version).order_by("position", "id"):
        period = (goal.period_start, min(today, goal.period_end))
        if period not in totals_by_period:
            totals_by_period[period] = _period_totals(*period, agreement=agreement)
        statuses.append(_goal_status(goal, today, plan, totals_by_period[period]))
    return statuses


GOAL_FIGURES = ["leads_created", *STAGE_METRICS.values(), "won_value"]


def _period_totals(first: date, last: date, *, agreement=None) -> dict[str, int]:
    figures = _of(DailyFigure, agreement).filter(
        day__gte=first, day__lte=last, metric__in=GOAL_FIGURES
    )
    return defaultdict(
        int,
        {r["metric"]: r["total"] for r in figures.values("metric").annotate(total=Sum("value"))},
    )


def _goal_status(goal: Goal, today: date, plan: FunnelPlan | None, totals) -> Status:
    period_days = (goal.period_end - goal.period_start).days + 1
    elapsed_days = min(max((today - goal.period_start).days + 1, 0), period_days)
    elapsed = elapsed_days / period_days
    counts = {
        Metric.LEADS: "leads_created",
        Metric.MQLS: "entered_mql",
        Metric.SQLS: "entered_sql",
        Metric.OPPORTUNITIES: "entered_opportunity",
        Metric.WON_DEALS: "entered_customer",
    }
    target = float(goal.target)
    note, detail, pace, forecast = "", "", None, None
    if goal.metric in counts or goal.metric == Metric.NEW_REVENUE:
        if goal.metric == Metric.NEW_REVENUE:
            actual, note = revenue(totals, plan)
        else:
            actual = float(totals[counts[goal.metric]])
        forecast = None if actual is None or not elapsed else actual / elapsed
        status = (
            "grey"
            if forecast is None
            else ("green" if forecast >= target else "amber" if forecast >= 0.9 * target else "red")
        )
        detail = note
        if forecast is not None and target and elapsed:
            pace = actual / (target * elapsed)
            detail = goal_detail_lazy(note, pace, forecast, goal.period_end)
    else:
        actual, status = None, "grey"
        note = detail = _("tracked as a KPI on this page")
    return Status(
        name=goal.name,
        metric=goal.metric,
        owner=Team(goal.owner).label,
        target=target,
        actual=actual,
        unit=goal.unit,
        status=status,
        detail=detail,
        pace=pace,
        forecast=forecast,
        note=note,
    )


def goal_detail(note, pace: float, forecast: float, period_end: date) -> str:
    """A goal's pace and forecast in words, in the language of whoever reads it."""
    detail = gettext("pace %(pace)s of plan, forecast %(forecast)s by %(end)s") % {
        "pace": percent(pace * 100),
        "forecast": number(forecast, 0),
        "end": date_format(period_end, pgettext("date format", "d M Y")),
    }
    return f"{note}; {detail}" if note else detail


goal_detail_lazy = lazy(goal_detail, str)


def trends(months: list[Month], *, agreement=None) -> dict[str, list]:
    """Twelve-month series for the charts, one grouped query over the rollups."""
    first, last = months[0].first_day, months[-1].last_day
    rows = (
        _of(DailyFigure, agreement)
        .filter(day__gte=first, day__lte=last)
        .annotate(month=TruncMonth("day"))
        .values("month", "metric")
        .annotate(total=Sum("value"))
    )
    by_month: dict[tuple, int] = {
        (str(Month.of(r["month"])), r["metric"]): r["total"] for r in rows
    }
    series = {"labels": [m.first_day.strftime("%b %Y") for m in months]}
    for metric in ("leads_created", *STAGE_METRICS.values(), "breached", "handoffs"):
        series[metric] = [by_month.get((str(m), metric), 0) for m in months]
    series["compliance"] = [
        _percent(
            by_month.get((str(m), "windows_met"), 0), by_month.get((str(m), "windows_closed"), 0)
        )
        for m in months
    ]
    series["compliance_rate"] = [
        ratio(by_month.get((str(m), "windows_met"), 0), by_month.get((str(m), "windows_closed"), 0))
        for m in months
    ]
    return series


def _percent(numerator, denominator):
    value = ratio(numerator, denominator)
    return None if value is None else round(value * 100, 1)


def _zone(name):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
