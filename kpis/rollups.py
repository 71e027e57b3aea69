"""Daily rollups: each day's figures, computed with grouped SQL and stored whole.

`rollup_range` replaces a range of days' rows in one transaction, so running it again (the
periodic job re-rolls recent days while attempts and decisions still land on them) is an
upsert. Each metric is one statement over the whole range, grouped by the local day in the
SLA's time zone (`TruncDate(tzinfo=…)`: `(col AT TIME ZONE tz)::date` on PostgreSQL), over
indexed time columns (leads migration 0008): a year's backfill is a few dozen statements,
not twenty per day.

Besides the additive DailyFigure rows it stores what the review would otherwise compute
from leads and handoffs at request time: the values behind its medians (DailyValue), the
handoffs that kept the cadence (the business-hours arithmetic runs here, once per handoff,
not on every page view) and the cohorts' progress. Whenever a month's rows change, its
RollupStamp gets a new token, which is what a closed month's cached report is keyed on.
"""

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce as _Coalesce
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from agreements.models import BusinessCalendar
from leads.models import ContactAttempt, Handoff, HandoffAssignment, Lead, StageChange

from .models import DailyFigure, DailyValue, RollupStamp
from .periods import Month, day_start
from .segments import segment_case
from .selectors import review_version

STAGE_METRICS = {
    "mql": "entered_mql",
    "sql": "entered_sql",
    "opportunity": "entered_opportunity",
    "customer": "entered_customer",
}


def Coalesce(*expressions):  # noqa: N802 - reads like the SQL function it wraps
    # A user id from a foreign key or from a subquery's primary key: the same integer.
    return _Coalesce(*expressions, output_field=IntegerField())


def handed_rep():
    """The rep a handoff was first given to: the first reassignment's "from", else its rep."""
    first = HandoffAssignment.objects.filter(handoff=OuterRef("pk")).order_by("at", "id")
    return Coalesce(Subquery(first.values("from_rep")[:1]), F("rep"))


def accountable_rep(figure: str):
    """Who a handoff figure belongs to: the rep who held the lead at that moment, as recorded
    when it happened, so reassigning the lead later changes no one's figures. Handoffs closed
    (accepted, rejected, returned) cannot be reassigned, so their rep is the one who decided."""
    if figure == "handoffs":
        return handed_rep()
    if figure == "windows_closed":
        # A window that closed late belongs to who held the lead at the deadline; one met,
        # to who touched it; one not yet flagged, to the current rep (a reassignment after
        # the deadline would have settled it).
        return Coalesce(F("breach_rep"), F("response_rep"), F("rep"))
    if figure == "windows_met":
        return Coalesce(F("response_rep"), F("rep"))
    if figure == "breached":
        return Coalesce(F("breach_rep"), F("rep"))
    return F("rep")


def review_time_zone() -> str:
    version = review_version()
    calendar = BusinessCalendar.objects.filter(version=version).first() if version else None
    return calendar.time_zone if calendar else "UTC"


def first_entries():
    """Stage changes that are the lead's first entry into that stage."""
    earlier = StageChange.objects.filter(
        lead=OuterRef("lead"), to_stage=OuterRef("to_stage"), at__lt=OuterRef("at")
    )
    return StageChange.objects.filter(to_stage__in=STAGE_METRICS).exclude(Exists(earlier))


# Stages a lead passes through, as (the column it entered at, the column it left at): the
# review's "days in stage" for leads that left the stage in the month.
VELOCITY_STAGES = {
    "lead": ("created_at", "mql_at"),
    "mql": ("mql_at", "sql_at"),
    "sql": ("sql_at", "opportunity_at"),
    "opportunity": ("opportunity_at", "customer_at"),
}
# Cohorts: a lead counts toward its creation month's cohort from the day it reached the stage.
COHORT_METRICS = {"cohort_mql": "mql_at", "cohort_sql": "sql_at", "cohort_won": "customer_at"}
# DailyValue metrics.
SPEED_TO_LEAD = "speed_to_lead_minutes"
ATTEMPT_GAP = "attempt_gap_hours"


def velocity_metric(stage: str) -> str:
    return f"days_in_{stage}"


def rollup_day(*, day: date, time_zone: str | None = None, now=None) -> int:
    """Recompute and store one local day's figures; returns how many rows were written."""
    return rollup_range(first=day, last=day, time_zone=time_zone, now=now)


def rollup_range(
    *, first: date, last: date, time_zone: str | None = None, now=None, compare: bool = True
) -> int:
    """Recompute and store the figures of the local days first..last; returns the rows written.

    A response window counts as closed only once its deadline has passed (`now`), and the
    cadence of a handoff is judged as of `now` or the end of its month, whichever is first
    (the instant the review judges that month at). With `compare`, a month whose rows come
    out the same keeps its stamp, so the periodic re-roll does not empty the report cache.
    """
    time_zone = time_zone or review_time_zone()
    now = now or timezone.now()
    zone = _zone(time_zone)
    start, end = day_start(first, time_zone), day_start(last + timedelta(days=1), time_zone)
    figures: list[DailyFigure] = []
    values: list[DailyValue] = []

    def day_of(column):
        return TruncDate(column, tzinfo=zone)

    def add(metric, groups, rep_field=None, source_field=None, key_field=None):
        for group in groups:
            if group["n"]:
                figures.append(
                    DailyFigure(
                        day=group["day"],
                        metric=metric,
                        value=int(group["n"]),
                        rep_id=group.get(rep_field) if rep_field else None,
                        source=(group.get(source_field) or "") if source_field else "",
                        segment=group.get("segment") or "",
                        key=(group.get(key_field) or "") if key_field else "",
                    )
                )

    add(
        "leads_created",
        Lead.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=day_of("created_at"), segment=segment_case("company_size"))
        .values("day", "source", "segment")
        .annotate(n=Count("id")),
        source_field="source",
    )
    # A lead enters a stage once: a lead returned and re-qualified is not a second MQL.
    entries = list(
        first_entries()
        .filter(at__gte=start, at__lt=end)
        .annotate(day=day_of("at"), segment=segment_case("lead__company_size"))
        .values("day", "to_stage", "lead__source", "lead__owner", "segment")
        .annotate(n=Count("lead", distinct=True))
    )
    won = (
        first_entries()
        .filter(at__gte=start, at__lt=end, to_stage="customer", lead__deal_value__isnull=False)
        .annotate(day=day_of("at"))
        .values("day", "lead__source", "lead__owner")
        .annotate(n=Sum("lead__deal_value"))
    )
    add("won_value", won, rep_field="lead__owner", source_field="lead__source")
    for stage, metric in STAGE_METRICS.items():
        add(
            metric,
            [g for g in entries if g["to_stage"] == stage],
            rep_field="lead__owner",
            source_field="lead__source",
        )

    handoffs = Handoff.objects.filter(handed_off_at__gte=start, handed_off_at__lt=end).annotate(
        day=day_of("handed_off_at")
    )
    add(
        "handoffs",
        handoffs.annotate(accountable=accountable_rep("handoffs"))
        .values("day", "accountable", "lead__source")
        .annotate(n=Count("id")),
        rep_field="accountable",
        source_field="lead__source",
    )
    add(
        "handoff_attempts",
        handoffs.annotate(accountable=Coalesce(F("attempts__rep"), F("rep")))
        .values("day", "accountable")
        .annotate(n=Count("attempts")),
        rep_field="accountable",
    )
    # A lead sales handed back before its deadline, untouched, is not a missed response.
    closed = (
        Handoff.objects.filter(due_at__gte=start, due_at__lt=min(end, now))
        .exclude(first_touch_at__isnull=True, returned_at__lte=F("due_at"))
        .annotate(day=day_of("due_at"))
    )
    add(
        "windows_closed",
        closed.annotate(accountable=accountable_rep("windows_closed"))
        .values("day", "accountable")
        .annotate(n=Count("id")),
        rep_field="accountable",
    )
    add(
        "windows_met",
        closed.filter(first_touch_at__lte=F("due_at"))
        .annotate(accountable=accountable_rep("windows_met"))
        .values("day", "accountable")
        .annotate(n=Count("id")),
        rep_field="accountable",
    )
    # Decisions on handoffs, by rep (and reason), dated by when each happened.
    for metric, moment, extra, key in (
        ("breached", "breached_at", {}, None),
        ("accepted", "accepted_at", {}, None),
        ("rejected", "rejected_at", {}, "return_reason"),
        ("returned", "returned_at", {"rejected_at__isnull": True}, "return_reason"),
    ):
        happened = Handoff.objects.filter(
            **{f"{moment}__gte": start, f"{moment}__lt": end}, **extra
        ).annotate(day=day_of(moment))
        fields = ["day", "accountable", key] if key else ["day", "accountable"]
        add(
            metric,
            happened.annotate(accountable=accountable_rep(metric))
            .values(*fields)
            .annotate(n=Count("id")),
            rep_field="accountable",
            key_field=key,
        )
    for metric, extra in (("attempts", {}), ("conversations", {"is_conversation": True})):
        attempts = ContactAttempt.objects.filter(at__gte=start, at__lt=end, **extra)
        # An attempt belongs to the rep who held the lead when it was made.
        add(
            metric,
            attempts.annotate(day=day_of("at"), accountable=Coalesce(F("rep"), F("handoff__rep")))
            .values("day", "accountable")
            .annotate(n=Count("id")),
            rep_field="accountable",
        )
    # Cohorts: leads by the day they reached a stage and the month they were created in.
    for metric, column in COHORT_METRICS.items():
        for group in (
            Lead.objects.filter(**{f"{column}__gte": start, f"{column}__lt": end})
            .annotate(day=day_of(column), cohort=TruncMonth("created_at", tzinfo=zone))
            .values("day", "cohort")
            .annotate(n=Count("id"))
        ):
            cohort = group["cohort"]
            figures.append(
                DailyFigure(
                    day=group["day"],
                    metric=metric,
                    value=group["n"],
                    key=f"{cohort.year:04d}-{cohort.month:02d}",
                )
            )
    met = _cadence_met(handoffs, now=now, time_zone=time_zone)
    figures.extend(
        DailyFigure(day=day, metric="cadence_met", value=n) for day, n in sorted(met.items()) if n
    )
    values.extend(_speed_to_lead(start, end, day_of))
    values.extend(_velocity(start, end, day_of))
    values.extend(_attempt_gaps(start, end, day_of))
    return _store(first, last, figures, values, compare=compare, now=now)


def _speed_to_lead(start, end, day_of) -> list[DailyValue]:
    """Business minutes from handoff to first touch, on the day of the touch."""
    return [
        DailyValue(day=day, metric=SPEED_TO_LEAD, value=minutes)
        for day, minutes in Handoff.objects.filter(
            first_touch_at__gte=start,
            first_touch_at__lt=end,
            response_business_minutes__isnull=False,
        )
        .annotate(day=day_of("first_touch_at"))
        .values_list("day", "response_business_minutes")
    ]


def _velocity(start, end, day_of) -> list[DailyValue]:
    """Days each lead spent in a stage, on the day it left the stage."""
    values = []
    for stage, (entered, left) in VELOCITY_STAGES.items():
        rows = (
            Lead.objects.filter(
                **{f"{left}__gte": start, f"{left}__lt": end, f"{entered}__isnull": False}
            )
            .annotate(day=day_of(left))
            .values_list("day", entered, left)
        )
        metric = velocity_metric(stage)
        values.extend(
            DailyValue(day=day, metric=metric, value=(out - into).total_seconds() / 86400)
            for day, into, out in rows
        )
    return values


def _attempt_gaps(start, end, day_of) -> list[DailyValue]:
    """Hours between a handoff's consecutive attempts, on the day the lead was handed off."""
    values, last = [], {}
    for handoff_id, at, day in (
        ContactAttempt.objects.filter(
            handoff__handed_off_at__gte=start, handoff__handed_off_at__lt=end
        )
        .annotate(day=day_of("handoff__handed_off_at"))
        .order_by("handoff", "at")
        .values_list("handoff", "at", "day")
    ):
        if handoff_id in last:
            gap = (at - last[handoff_id]).total_seconds() / 3600
            values.append(DailyValue(day=day, metric=ATTEMPT_GAP, value=gap))
        last[handoff_id] = at
    return values


def _cadence_met(handoffs, *, now: datetime, time_zone: str) -> dict[date, int]:
    """Per day, the handoffs whose attempts kept up with the cadence steps already due.

    A conversation satisfies the cadence: it exists to reach the lead, not to count calls.
    A handoff still open is judged as of its month's last instant once the month has ended
    (as the review judges that month), else as of `now`.
    """
    from agreements.business_hours import add_business_days, add_business_time
    from agreements.models import AgreementVersion, CadenceStep
    from agreements.selectors import version_calendar

    rows = handoffs.annotate(
        attempts_made=Count("attempts"),
        conversations=Count("attempts", filter=Q(attempts__is_conversation=True)),
    ).values_list(
        "day",
        "version",
        "handed_off_at",
        "accepted_at",
        "returned_at",
        "attempts_made",
        "conversations",
    )
    met: dict[date, int] = defaultdict(int)
    steps_by_version, calendars, judged = {}, {}, {}
    for day, version_id, handed_off_at, accepted_at, returned_at, made, conversations in rows:
        if conversations:
            met[day] += 1
            continue
        if version_id not in steps_by_version:
            steps_by_version[version_id] = list(
                CadenceStep.objects.filter(version_id=version_id).order_by("position", "id")
            )
            calendars[version_id] = version_calendar(
                version=AgreementVersion.objects.get(pk=version_id)
            )
        steps = steps_by_version[version_id]
        if not steps:
            met[day] += 1
            continue
        month = Month.of(day)
        if month not in judged:
            month_end = day_start(month.next.first_day, time_zone)
            judged[month] = min(month_end - timedelta(microseconds=1), now)
        closed = min(filter(None, [accepted_at, returned_at, judged[month]]))
        due = 0
        for step in steps:
            if step.offset_unit == "business_hours":
                at = add_business_time(
                    handed_off_at, timedelta(hours=step.offset), calendars[version_id]
                )
            else:
                at = add_business_days(handed_off_at, step.offset, calendars[version_id])
            due += at <= closed
        met[day] += made >= due
    return met


def _store(first, last, figures, values, *, compare: bool, now) -> int:
    """Replace the days' rows; give each month whose rows changed a new stamp."""
    in_range = {"day__gte": first, "day__lte": last}
    months = {Month.of(first)}
    day = first
    while Month.of(day) != Month.of(last):
        day = Month.of(day).next.first_day
        months.add(Month.of(day))
    with transaction.atomic():
        if compare:
            changed = _changed_months(in_range, figures, values)
        else:
            changed = months
        DailyFigure.objects.filter(**in_range).delete()
        DailyValue.objects.filter(**in_range).delete()
        DailyFigure.objects.bulk_create(figures, batch_size=5000)
        DailyValue.objects.bulk_create(values, batch_size=5000)
        rollup_stamp_bump(months=changed, now=now)
    return len(figures) + len(values)


def _changed_months(in_range, figures, values) -> set[Month]:
    figure_fields = ("day", "metric", "rep_id", "source", "segment", "key", "value")
    old, new = defaultdict(list), defaultdict(list)
    for row in DailyFigure.objects.filter(**in_range).values_list(*figure_fields):
        old[Month.of(row[0])].append(("f", *row))
    for figure in figures:
        new[Month.of(figure.day)].append(("f", *(getattr(figure, f) for f in figure_fields)))
    for row in DailyValue.objects.filter(**in_range).values_list("day", "metric", "value"):
        old[Month.of(row[0])].append(("v", *row))
    for value in values:
        new[Month.of(value.day)].append(("v", value.day, value.metric, float(value.value)))
    return {
        month
        for month in old.keys() | new.keys()
        if sorted(old[month], key=repr) != sorted(new[month], key=repr)
    }


def rollup_stamp_bump(*, months, now=None) -> None:
    """A fresh token for each month: its cached report, if any, is no longer read."""
    now = now or timezone.now()
    for month in sorted(months):
        RollupStamp.objects.update_or_create(
            month=month.first_day, defaults={"token": uuid.uuid4().hex, "changed_at": now}
        )


def rollup_recent(*, days: int = 31, today: date | None = None) -> int:
    """The periodic job: re-roll the last `days` days, where late attempts and decisions land."""
    time_zone = review_time_zone()
    today = today or timezone.localtime(timezone.now(), timezone=_zone(time_zone)).date()
    return rollup_range(first=today - timedelta(days=days - 1), last=today, time_zone=time_zone)


def rollup_backfill(*, since: date | None = None, until: date | None = None) -> int:
    """Every day from the first lead (or `since`) to today: for a new install or a fix.

    A month at a time: one set of statements per month keeps memory bounded at any size.
    """
    time_zone = review_time_zone()
    until = until or timezone.localtime(timezone.now(), timezone=_zone(time_zone)).date()
    if since is None:
        first = Lead.objects.order_by("created_at").values_list("created_at", flat=True).first()
        if first is None:
            return 0
        since = timezone.localtime(first, timezone=_zone(time_zone)).date()
    now, written, day = timezone.now(), 0, since
    while day <= until:
        last = min(Month.of(day).last_day, until)
        written += rollup_range(first=day, last=last, time_zone=time_zone, now=now, compare=False)
        day = last + timedelta(days=1)
    return written


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
