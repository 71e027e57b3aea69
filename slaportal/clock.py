"""One clock for people: every time shown is in the SLA calendar's time zone and says so.

The zone is the business-hours calendar of the version in force of the workspace's default
agreement (its first one when none is the default), so a deadline reads the same on the lead page,
in the queue, in a notification, in its e-mail and in an export. `SlaTimeZoneMiddleware`
activates it for each request, which makes every `|date` in a template local; the
`local_time` filter (`{% load clock %}`) and the `local_time()` function below print the one
format with its zone label: "Tue 1 Dec 2026 12:49 (America/Sao_Paulo)".

The API is not affected: DRF writes ISO 8601 with the UTC offset of the moment.
"""

import functools
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.signals import post_delete, post_save
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

from .cache_tolerant import cache_delete, cache_get, cache_set

# The one format of a moment, per language: "Tue 1 Dec 2026 14:30" / "ter 01/12/2026 14h30".
DATE_TIME_FORMATS = {"en": "D j M Y H:i", "pt-br": r"D d/m/Y H\hi"}
TIME_FORMATS = {"en": "H:i", "pt-br": r"H\hi"}


def _portuguese(language: str | None) -> bool:
    return (language or "").lower().startswith("pt")


def date_time_format(language: str | None = None) -> str:
    language = language or translation.get_language()
    return DATE_TIME_FORMATS["pt-br" if _portuguese(language) else "en"]


def time_format(language: str | None = None) -> str:
    language = language or translation.get_language()
    return TIME_FORMATS["pt-br" if _portuguese(language) else "en"]


def sla_time_zone_name(*, at: datetime | None = None) -> str:
    """The zone name of the calendar in force; the setting when there is none.

    Now (no `at`): read through the cache (see sla_in_force), so a page pays no query for it.
    """
    if at is None:
        return sla_in_force().time_zone
    return _sla_in_force_read(at=at).time_zone


@dataclass(frozen=True)
class InForce:
    """The workspace's version in force (its id and publication instant, None when there is
    none) and its calendar's zone: what every page about no lead in particular shows."""

    version_id: int | None
    published_at: datetime | None
    time_zone: str


# Bump the suffix when InForce changes shape: processes share the cache.
IN_FORCE_KEY = "sla:in-force:v1"
# A bound on staleness should a change ever bypass the signals below (QuerySet.update).
IN_FORCE_SECONDS = 300


# What sla_in_force answered for the request under way (set by SlaTimeZoneMiddleware): a page
# asks again for its stage labels, and each ask was a round trip to the shared cache.
_in_force_for_request: ContextVar["InForce | None"] = ContextVar("sla_in_force", default=None)


def sla_in_force() -> InForce:
    """The version in force now and its zone, from the cache.

    Every signed-in page activates the zone (SlaTimeZoneMiddleware), and the queue labels its
    stages by this version: a query for each request, for an answer that changes when a
    version is published (or a scheduled one takes effect). The entry is dropped when a
    version, its scope settings or its calendar are saved or deleted, and expires when the
    next scheduled version takes effect.
    """
    held = _in_force_for_request.get()
    if held is not None:
        return held
    cached = cache_get(IN_FORCE_KEY)
    now = timezone.now()
    if cached is not None and (cached[1] is None or now < cached[1]):
        return cached[0]
    in_force = _sla_in_force_read(at=now)
    next_change = _next_effective_at(after=now)
    seconds = IN_FORCE_SECONDS
    if next_change is not None:
        seconds = max(1, min(seconds, int((next_change - now).total_seconds()) + 1))
    cache_set(IN_FORCE_KEY, (in_force, next_change), timeout=seconds)
    return in_force


def sla_in_force_forget(**_) -> None:
    """Drops the cached version in force, now and once the transaction commits (another
    process could read the old row in between)."""
    _in_force_for_request.set(None)  # the rest of this request reads it afresh
    cache_delete(IN_FORCE_KEY)
    transaction.on_commit(lambda: cache_delete(IN_FORCE_KEY))


def _sla_in_force_read(*, at: datetime) -> InForce:
    from agreements.models import AgreementVersion, BusinessCalendar
    from agreements.selectors import workspace_version_query

    # The default agreement's version (its first agreement's when none is the default).
    version = (
        AgreementVersion.objects.filter(
            pk=Subquery(workspace_version_query(at=at).values("pk")[:1])
        )
        .annotate(
            zone=Subquery(
                BusinessCalendar.objects.filter(version=OuterRef("pk")).values("time_zone")[:1]
            )
        )
        .values_list("pk", "published_at", "zone")
        .first()
    )
    if version is None:
        return InForce(None, None, settings.TIME_ZONE)
    pk, published_at, zone = version
    return InForce(pk, published_at, zone or settings.TIME_ZONE)


def _next_effective_at(*, after: datetime) -> datetime | None:
    from agreements.models import AgreementVersion

    return (
        AgreementVersion.objects.filter(
            status=AgreementVersion.Status.PUBLISHED, effective_at__gt=after
        )
        .order_by("effective_at")
        .values_list("effective_at", flat=True)
        .first()
    )


for _sender in (
    "agreements.AgreementVersion",
    "agreements.ScopeSettings",
    "agreements.BusinessCalendar",
):
    post_save.connect(sla_in_force_forget, sender=_sender, dispatch_uid=f"sla-in-force-{_sender}")
    post_delete.connect(
        sla_in_force_forget, sender=_sender, dispatch_uid=f"sla-in-force-del-{_sender}"
    )


def zone_of(value: str | tzinfo | None) -> tzinfo:
    """A tzinfo from a zone name, a tzinfo, or None (the active zone)."""
    if value is None:
        return timezone.get_current_timezone()
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")
    return value


def zone_label(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def local_time(
    value: datetime | None,
    *,
    zone: str | tzinfo | None = None,
    time_only: bool = False,
    language: str | None = None,
) -> str:
    """The moment in `zone` (default: the active zone) with the zone named, e.g.
    "Tue 1 Dec 2026 12:49 (America/Sao_Paulo)"; "" for None. `language` (default: the active
    one) spares a page of rows asking for the active language for each of its ~130 times."""
    if value is None:
        return ""
    tz = zone_of(zone)
    local = timezone.localtime(value, tz) if timezone.is_aware(value) else value
    language = language or translation.get_language()
    if time_only:
        separator = "h" if _portuguese(language) else ":"
        shown = f"{local.hour:02d}{separator}{local.minute:02d}"  # time_format()
    else:
        shown = _date_time(local, language)
    return f"{shown} ({zone_label(tz)})"


def _date_time(local: datetime, language: str | None) -> str:
    """formats.date_format(local, date_time_format()), built from the language's day and
    month names: a queue page prints some 130 of these, and the general formatter cost a
    tenth of its rendering. tests/leads/test_clock.py holds the two to the same text."""
    weekdays, months = _names(language)
    if _portuguese(language):
        return (
            f"{weekdays[local.weekday()]} {local.day:02d}/{local.month:02d}/{local.year:04d} "
            f"{local.hour:02d}h{local.minute:02d}"
        )
    return (
        f"{weekdays[local.weekday()]} {local.day} {months[local.month]} {local.year:04d} "
        f"{local.hour:02d}:{local.minute:02d}"
    )


@functools.lru_cache(maxsize=32)
def _names(language: str | None) -> tuple[list[str], dict[int, str]]:
    # The format's D and M, as django.utils.dateformat spells them.
    return (
        [str(WEEKDAYS_ABBR[day]) for day in range(7)],
        {month: str(MONTHS_3[month]).title() for month in range(1, 13)},
    )


class SlaTimeZoneMiddleware:
    """Shows the request's times in the SLA calendar's zone.

    Not for the API: machines read UTC ("Z"), which is ISO 8601 with an offset and the same
    whichever zone the SLA moves to. Nor for anonymous visitors: the login page shows no time.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or user is None or not user.is_authenticated:
            return self.get_response(request)
        in_force = sla_in_force()
        held = _in_force_for_request.set(in_force)
        timezone.activate(zone_of(in_force.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            _in_force_for_request.reset(held)
