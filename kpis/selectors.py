"""Reads the review shares: which version a month is judged by, and the month's one report.

The review page, its PDF and CSVs and GET /api/v1/kpis/ all read `month_report`, so a figure
asked for in two places is the same figure.
"""

from datetime import datetime

from django.utils import timezone

from agreements.selectors import version_in_force, workspace_agreement


def review_version(at=None):
    agreement = workspace_agreement()
    return version_in_force(agreement=agreement, at=at) if agreement else None


def month_report(*, month, now: datetime | None = None):
    """The month's report "as of" its end once it has ended, "so far" (partial) while it runs."""
    # Imported here: the KPI engine and the rollups read review_version from this module.
    from .metrics import month_report_build
    from .rollups import review_time_zone

    return month_report_build(month, now=now or timezone.now(), time_zone=review_time_zone())


def last_closed_month(*, now: datetime | None = None):
    """The month the review opens on: the last one that has ended in the SLA's time zone."""
    from .periods import Month
    from .rollups import review_time_zone

    zone = review_time_zone()
    today = timezone.localtime(now or timezone.now(), _zone(zone)).date()
    return Month.of(today).previous


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
