"""One clock for people: every time shown is in the SLA calendar's time zone and says so.

The zone is the business-hours calendar of the version in force of the workspace's default
agreement (its first one when none is the default), so a deadline reads the same on the lead page,
in the queue, in a notification, in its e-mail and in an export. `SlaTimeZoneMiddleware`
activates it for each request, which makes every `|date` in a template local; the
`local_time` filter (`{% load clock %}`) and the `local_time()` function below print the one
format with its zone label: "Tue 1 Dec 2026 12:49 (America/Sao_Paulo)".

The API is not affected: DRF writes ISO 8601 with the UTC offset of the moment.
"""

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Subquery
from django.utils import formats, timezone

DATE_TIME_FORMAT = "D j M Y H:i"
TIME_FORMAT = "H:i"


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
    shown = formats.date_format(local, TIME_FORMAT if time_only else DATE_TIME_FORMAT)
    return f"{shown} ({zone_label(tz)})"


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
