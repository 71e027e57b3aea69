"""Daily rollups: each day's additive figures, computed with grouped SQL and stored whole.

`rollup_day` replaces one day's rows in a transaction, so running it again (the periodic job
re-rolls recent days while attempts and decisions still land on them) is an upsert.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce as _Coalesce
from django.utils import timezone

from agreements.models import BusinessCalendar
from leads.models import ContactAttempt, Handoff, HandoffAssignment, Lead, StageChange

from .models import DailyFigure
from .periods import day_start
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


def rollup_day(*, day: date, time_zone: str | None = None, now=None) -> int:
    """Recompute and store one local day's figures; returns how many rows were written.

    A response window counts as closed only once its deadline has passed (`now`).
    """
    time_zone = time_zone or review_time_zone()
    now = now or timezone.now()
    start, end = day_start(day, time_zone), day_start(day + timedelta(days=1), time_zone)
    rows: list[DailyFigure] = []

    def add(metric, groups, rep_field=None, source_field=None, key_field=None):
        for group in groups:
            if group["n"]:
                rows.append(
                    DailyFigure(
                        day=day,
                        metric=metric,
                        value=int(group["n"]),
                        rep_id=group.get(rep_field) if rep_field else None,
                        source=(group.get(source_field) or "") if source_field else "",
                        segment=group.get("segment") or "",
                        key=(group.get(key_field) or "") if key_field else "",
                    )
                )

    in_day = {"gte": start, "lt": end}
    add(
        "leads_created",
        Lead.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(segment=segment_case("company_size"))
        .values("source", "segment")
        .annotate(n=Count("id")),
        source_field="source",
    )
    # A lead enters a stage once: a lead returned and re-qualified is not a second MQL.
    entries = (
        first_entries()
        .filter(at__gte=start, at__lt=end)
        .annotate(segment=segment_case("lead__company_size"))
        .values("to_stage", "lead__source", "lead__owner", "segment")
        .annotate(n=Count("lead", distinct=True))
    )
    won = (
        first_entries()
        .filter(at__gte=start, at__lt=end, to_stage="customer", lead__deal_value__isnull=False)
        .values("lead__source", "lead__owner")
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

    handoffs = Handoff.objects.filter(**{f"handed_off_at__{k}": v for k, v in in_day.items()})
    add(
        "handoffs",
        handoffs.annotate(accountable=accountable_rep("handoffs"))
        .values("accountable", "lead__source")
        .annotate(n=Count("id")),
        rep_field="accountable",
        source_field="lead__source",
    )
    add(
        "handoff_attempts",
        handoffs.annotate(accountable=Coalesce(F("attempts__rep"), F("rep")))
        .values("accountable")
        .annotate(n=Count("attempts")),
        rep_field="accountable",
    )
    # A lead sales handed back before its deadline, untouched, is not a missed response.
    closed = Handoff.objects.filter(due_at__gte=start, due_at__lt=min(end, now)).exclude(
        first_touch_at__isnull=True, returned_at__lte=F("due_at")
    )
    add(
        "windows_closed",
        closed.annotate(accountable=accountable_rep("windows_closed"))
        .values("accountable")
        .annotate(n=Count("id")),
        rep_field="accountable",
    )
    add(
        "windows_met",
        closed.filter(first_touch_at__lte=F("due_at"))
        .annotate(accountable=accountable_rep("windows_met"))
        .values("accountable")
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
        )
        fields = ["accountable", key] if key else ["accountable"]
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
            attempts.annotate(accountable=Coalesce(F("rep"), F("handoff__rep")))
            .values("accountable")
            .annotate(n=Count("id")),
            rep_field="accountable",
        )
    with transaction.atomic():
        DailyFigure.objects.filter(day=day).delete()
        DailyFigure.objects.bulk_create(rows)
    return len(rows)


def rollup_recent(*, days: int = 31, today: date | None = None) -> int:
    """The periodic job: re-roll the last `days` days, where late attempts and decisions land."""
    time_zone = review_time_zone()
    today = today or timezone.localtime(timezone.now(), timezone=_zone(time_zone)).date()
    return sum(rollup_day(day=today - timedelta(days=n), time_zone=time_zone) for n in range(days))


def rollup_backfill(*, since: date | None = None, until: date | None = None) -> int:
    """Every day from the first lead (or `since`) to today: for a new install or a fix."""
    time_zone = review_time_zone()
    until = until or timezone.localtime(timezone.now(), timezone=_zone(time_zone)).date()
    if since is None:
        first = Lead.objects.order_by("created_at").values_list("created_at", flat=True).first()
        if first is None:
            return 0
        since = timezone.localtime(first, timezone=_zone(time_zone)).date()
    written, day = 0, since
    while day <= until:
        written += rollup_day(day=day, time_zone=time_zone)
        day += timedelta(days=1)
    return written


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
