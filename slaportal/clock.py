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
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Subquery
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

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
    """The zone name of the calendar in force (one query); the setting when there is none."""
    from agreements.models import BusinessCalendar
    from agreements.selectors import workspace_version_query

    # The default agreement's calendar (its first agreement's when none is the default).
    in_force = Subquery(workspace_version_query(at=at).values("pk")[:1])
    name = (
        BusinessCalendar.objects.filter(version_id=in_force)
        .values_list("time_zone", flat=True)
        .first()
    )
    return name or settings.TIME_ZONE


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
    value: datetime | None, *, zone: str | tzinfo | None = None, time_only: bool = False
) -> str:
    """The moment in `zone` (default: the active zone) with the zone named, e.g.
    "Tue 1 Dec 2026 12:49 (America/Sao_Paulo)"; "" for None."""
    if value is None:
        return ""
    tz = zone_of(zone)
    local = timezone.localtime(value, tz) if timezone.is_aware(value) else value
    if time_only:
        separator = "h" if _portuguese(translation.get_language()) else ":"
        shown = f"{local.hour:02d}{separator}{local.minute:02d}"  # time_format()
    else:
        shown = _date_time(local)
    return f"{shown} ({zone_label(tz)})"


def _date_time(local: datetime) -> str:
    """formats.date_format(local, date_time_format()), built from the active language's day and
    month names: a queue page prints some 130 of these, and the general formatter cost a
    tenth of its rendering. tests/leads/test_clock.py holds the two to the same text."""
    language = translation.get_language()
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
        timezone.activate(zone_of(sla_time_zone_name()))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
