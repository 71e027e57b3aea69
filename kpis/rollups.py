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

from django.db import connection, transaction
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce as _Coalesce
from django.db.models.functions import Lag, TruncDate, TruncMonth
from django.utils import timezone

from leads.models import ContactAttempt, Handoff, HandoffAssignment, Lead, StageChange
from slaportal.clock import sla_in_force

from .models import DailyFigure, DailyValue, RollupStamp
from .periods import Month, day_start
from .segments import segment_case

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
    """The time zone the review's days and months are bounded in: the first agreement's
    calendar's. One zone for every agreement, so each agreement's month covers the same
    instants and "all agreements" is exactly the sum of its agreements' figures (a regional
    agreement's business-hours clocks still run in its own calendar).

    That first agreement's version in force is the workspace's (slaportal.clock.sla_in_force,
    cached, and held for the request): the review asks for the zone several times a page.
    """
    in_force = sla_in_force()
    return in_force.time_zone if in_force.version_id is not None else "UTC"


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


FIGURE_COLUMNS = ["day", "metric", "agreement_id", "rep_id", "source", "segment", "key", "value"]
VALUE_COLUMNS = ["day", "metric", "agreement_id", "value"]
# Which agreement a figure belongs to: a handoff's (its attempts', its decisions') is the
# agreement of the version it was handed off under, whose promise it is measured against,
# even if the lead has since moved into another agreement's scope; a lead's figures (created,
# stages, cohorts, velocity) belong to the agreement governing the lead.
HANDOFF_AGREEMENT = "version__agreement"
LEAD_AGREEMENT = "agreement"


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
    # Plain tuples in FIGURE_COLUMNS / VALUE_COLUMNS order: a backfill writes hundreds of
    # thousands, and model instances would cost more to build than the rows cost to store.
    figures: list[tuple] = []
    values: list[tuple] = []

    def day_of(column):
        return TruncDate(column, tzinfo=zone)

    def add(metric, groups, agreement_field, rep_field=None, source_field=None, key_field=None):
        for group in groups:
            if group["n"]:
                figures.append(
                    (
                        group["day"],
                        metric,
                        group[agreement_field],
                        group.get(rep_field) if rep_field else None,
                        (group.get(source_field) or "") if source_field else "",
                        group.get("segment") or "",
                        (group.get(key_field) or "") if key_field else "",
                        int(group["n"]),
                    )
                )

    add(
        "leads_created",
        Lead.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=day_of("created_at"), segment=segment_case("company_size"))
        .values("day", "source", "segment", LEAD_AGREEMENT)
        .annotate(n=Count("id")),
        LEAD_AGREEMENT,
        source_field="source",
    )
    # A lead enters a stage once: a lead returned and re-qualified is not a second MQL.
    entries = list(
        first_entries()
        .filter(at__gte=start, at__lt=end)
        .annotate(day=day_of("at"), segment=segment_case("lead__company_size"))
        .values("day", "to_stage", "lead__source", "lead__owner", "segment", "lead__agreement")
        .annotate(n=Count("lead", distinct=True))
    )
    won = (
        first_entries()
        .filter(at__gte=start, at__lt=end, to_stage="customer", lead__deal_value__isnull=False)
        .annotate(day=day_of("at"))
        .values("day", "lead__source", "lead__owner", "lead__agreement")
        .annotate(n=Sum("lead__deal_value"))
    )
    add("won_value", won, "lead__agreement", rep_field="lead__owner", source_field="lead__source")
    for stage, metric in STAGE_METRICS.items():
        add(
            metric,
            [g for g in entries if g["to_stage"] == stage],
            "lead__agreement",
            rep_field="lead__owner",
            source_field="lead__source",
        )

    handoffs = Handoff.objects.filter(handed_off_at__gte=start, handed_off_at__lt=end).annotate(
        day=day_of("handed_off_at")
    )
    add(
        "handoffs",
        handoffs.annotate(accountable=accountable_rep("handoffs"))
        .values("day", "accountable", "lead__source", HANDOFF_AGREEMENT)
        .annotate(n=Count("id")),
        HANDOFF_AGREEMENT,
        rep_field="accountable",
        source_field="lead__source",
    )
    add(
        "handoff_attempts",
        handoffs.annotate(accountable=Coalesce(F("attempts__rep"), F("rep")))
        .values("day", "accountable", HANDOFF_AGREEMENT)
        .annotate(n=Count("attempts")),
        HANDOFF_AGREEMENT,
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
        .values("day", "accountable", HANDOFF_AGREEMENT)
        .annotate(n=Count("id")),
        HANDOFF_AGREEMENT,
        rep_field="accountable",
    )
    add(
        "windows_met",
        closed.filter(first_touch_at__lte=F("due_at"))
        .annotate(accountable=accountable_rep("windows_met"))
        .values("day", "accountable", HANDOFF_AGREEMENT)
        .annotate(n=Count("id")),
        HANDOFF_AGREEMENT,
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
        fields = ["day", "accountable", HANDOFF_AGREEMENT] + ([key] if key else [])
        add(
            metric,
            happened.annotate(accountable=accountable_rep(metric))
            .values(*fields)
            .annotate(n=Count("id")),
            HANDOFF_AGREEMENT,
            rep_field="accountable",
            key_field=key,
        )
    for metric, extra in (("attempts", {}), ("conversations", {"is_conversation": True})):
        attempts = ContactAttempt.objects.filter(at__gte=start, at__lt=end, **extra)
        # An attempt belongs to the rep who held the lead when it was made.
        add(
            metric,
            attempts.annotate(day=day_of("at"), accountable=Coalesce(F("rep"), F("handoff__rep")))
            .values("day", "accountable", "handoff__version__agreement")
            .annotate(n=Count("id")),
            "handoff__version__agreement",
            rep_field="accountable",
        )
    # Cohorts: leads by the day they reached a stage and the month they were created in.
    for metric, column in COHORT_METRICS.items():
        for group in (
            Lead.objects.filter(**{f"{column}__gte": start, f"{column}__lt": end})
            .annotate(day=day_of(column), cohort=TruncMonth("created_at", tzinfo=zone))
            .values("day", "cohort", LEAD_AGREEMENT)
            .annotate(n=Count("id"))
        ):
            cohort = group["cohort"]
            key = f"{cohort.year:04d}-{cohort.month:02d}"
            figures.append(
                (group["day"], metric, group[LEAD_AGREEMENT], None, "", "", key, group["n"])
            )
    met = _cadence_met(handoffs, now=now, time_zone=time_zone)
    figures.extend(
        (day, "cadence_met", agreement_id, None, "", "", "", n)
        for (day, agreement_id), n in met.items()
        if n
    )
    values.extend(_speed_to_lead(start, end, day_of))
    values.extend(_velocity(start, end, day_of))
    values.extend(_attempt_gaps(start, end, day_of))
    return _store(first, last, figures, values, compare=compare, now=now)


def _speed_to_lead(start, end, day_of) -> list[tuple]:
    """Business minutes from handoff to first touch, on the day of the touch."""
    return [
        (day, SPEED_TO_LEAD, agreement_id, float(minutes))
        for day, agreement_id, minutes in Handoff.objects.filter(
            first_touch_at__gte=start,
            first_touch_at__lt=end,
            response_business_minutes__isnull=False,
        )
        .annotate(day=day_of("first_touch_at"))
        .values_list("day", HANDOFF_AGREEMENT, "response_business_minutes")
    ]


def _velocity(start, end, day_of) -> list[tuple]:
    """Days each lead spent in a stage, on the day it left the stage."""
    values = []
    for stage, (entered, left) in VELOCITY_STAGES.items():
        rows = (
            Lead.objects.filter(
                **{f"{left}__gte": start, f"{left}__lt": end, f"{entered}__isnull": False}
            )
            .annotate(day=day_of(left), span=_span(entered, left))
            .values_list("day", LEAD_AGREEMENT, "span")
        )
        metric = velocity_metric(stage)
        values.extend(
            (day, metric, agreement_id, span.total_seconds() / 86400)
            for day, agreement_id, span in rows
        )
    return values


def _attempt_gaps(start, end, day_of) -> list[tuple]:
    """Hours between a handoff's consecutive attempts, on the day the lead was handed off."""
    previous = Window(Lag("at"), partition_by=[F("handoff")], order_by=[F("at").asc()])
    rows = (
        ContactAttempt.objects.filter(
            handoff__handed_off_at__gte=start, handoff__handed_off_at__lt=end
        )
        .annotate(day=day_of("handoff__handed_off_at"), previous_at=previous)
        .annotate(gap=_span("previous_at", "at"))
        .filter(previous_at__isnull=False)
        .values_list("day", "handoff__version__agreement", "gap")
    )
    return [
        (day, ATTEMPT_GAP, agreement_id, gap.total_seconds() / 3600)
        for day, agreement_id, gap in rows
    ]


def _span(since: str, until: str):
    """until - since as a duration, computed by the database (a timedelta in Python)."""
    return ExpressionWrapper(F(until) - F(since), output_field=DurationField())


def _cadence_met(handoffs, *, now: datetime, time_zone: str) -> dict[tuple[date, int], int]:
    """Per day and agreement, the handoffs whose attempts kept up with the cadence steps due.

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
        HANDOFF_AGREEMENT,
        "version",
        "handed_off_at",
        "accepted_at",
        "returned_at",
        "attempts_made",
        "conversations",
    )
    met: dict[tuple[date, int], int] = defaultdict(int)
    steps_by_version, calendars, judged = {}, {}, {}
    for row in rows:
        day, agreement_id, version_id, handed_off_at, accepted_at, returned_at, *counted = row
        made, conversations = counted
        if conversations:
            met[day, agreement_id] += 1
            continue
        if version_id not in steps_by_version:
            steps_by_version[version_id] = list(
                CadenceStep.objects.filter(version_id=version_id).order_by("position", "id")
            )
            calendars[version_id] = version_calendar(
                version=AgreementVersion.objects.get(pk=version_id)
            )
        steps = steps_by_version[version_id]
        # As many attempts as steps keeps up whatever is due: no arithmetic needed.
        if made >= len(steps):
            met[day, agreement_id] += 1
            continue
        month = Month.of(day)
        if month not in judged:
            month_end = day_start(month.next.first_day, time_zone)
            judged[month] = min(month_end - timedelta(microseconds=1), now)
        closed = min(filter(None, [accepted_at, returned_at, judged[month]]))
        due, kept_up = 0, True
        for step in steps:
            if step.offset_unit == "business_hours":
                at = add_business_time(
                    handed_off_at, timedelta(hours=step.offset), calendars[version_id]
                )
            else:
                at = add_business_days(handed_off_at, step.offset, calendars[version_id])
            due += at <= closed
            if due > made:  # behind already; later steps can only add to what is due
                kept_up = False
                break
        met[day, agreement_id] += kept_up
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
        _insert(DailyFigure, FIGURE_COLUMNS, figures)
        _insert(DailyValue, VALUE_COLUMNS, values)
        rollup_stamp_bump(months=changed, now=now)
        RollupStamp.objects.filter(month__in=[m.first_day for m in months]).update(rolled_up_at=now)
    return len(figures) + len(values)


def _insert(model, columns: list[str], rows) -> None:
    """Plain rows into a rollup table: COPY on PostgreSQL, executemany elsewhere. A year's
    backfill writes hundreds of thousands of rows, and bulk_create spends longer preparing
    them field by field than the database takes to store them."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))


def _changed_months(in_range, figures, values) -> set[Month]:
    old, new = defaultdict(list), defaultdict(list)
    for table, rows in (("f", figures), ("v", values)):
        for row in rows:
            new[Month.of(row[0])].append((table, *row))
    for table, model, columns in (
        ("f", DailyFigure, FIGURE_COLUMNS),
        ("v", DailyValue, VALUE_COLUMNS),
    ):
        for row in model.objects.filter(**in_range).values_list(*columns):
            old[Month.of(row[0])].append((table, *row))
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
            month=month.first_day, defaults={"token": uuid.uuid4().hex, "rolled_up_at": now}
        )


def rollup_recent(*, days: int = 31, today: date | None = None) -> int:
    """The periodic job: re-roll the last `days` days, where late attempts and decisions land."""
    time_zone = review_time_zone()
    today = today or timezone.localtime(timezone.now(), timezone=_zone(time_zone)).date()
    return rollup_range(first=today - timedelta(days=days - 1), last=today, time_zone=time_zone)


def rollup_backfill(*, since: date | None = None, until: date | None = None) -> int:
    """Every day from the first lead (or `since`) to today: for a new install or a fix.

    A quarter at a time: each statement scans its tables' range once for three months (a
    month at a time repeats the joins' fixed costs twelve times a year), while the values
    held in memory stay bounded (a quarter's at a million leads: well under 500 MB).
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
        last = min(Month.of(day).next.next.last_day, until)
        written += rollup_range(first=day, last=last, time_zone=time_zone, now=now, compare=False)
        day = last + timedelta(days=1)
    return written


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
