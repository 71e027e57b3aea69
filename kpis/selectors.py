"""Reads the review shares: which version a month is judged by, and the month's one report.

The review page, its PDF and CSVs and GET /api/v1/kpis/ all read `month_report`, so a figure
asked for in two places is the same figure. The review shows one agreement or all of them
(issue 11): one agreement's report reads its rollup rows, "all" reads every row, so its counts
are the sums of its agreements' and its rates are recomputed from the summed numerators and
denominators, never averaged.
"""

import dataclasses
import hashlib
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext

from agreements.models import Agreement
from agreements.selectors import version_in_force, workspace_agreement

# A closed month's report, cached under the stamps of the rollups it was built from. A week
# bounds what an evicted-but-unchanged month costs; the stamps, not the timeout, keep it right.
REPORT_CACHE_SECONDS = 7 * 24 * 3600


def review_version(at=None, *, agreement: Agreement | None = None):
    """The version in force `at` of `agreement` (by default the first agreement, whose
    calendar sets the review's time zone)."""
    agreement = agreement or workspace_agreement()
    return version_in_force(agreement=agreement, at=at) if agreement else None


def review_agreements() -> list[Agreement]:
    """The agreements the review can show, in the order the selector lists them."""
    return list(Agreement.objects.order_by("name", "id"))


def review_agreement_parse(value) -> Agreement | None:
    """`?agreement=` as given: empty or "all" is every agreement; an unknown or malformed id
    raises ValueError with a message for the person who typed it."""
    text = str(value or "").strip()
    if text in ("", "all"):
        return None
    if not text.isdigit() or len(text) > 18:
        raise ValueError(
            gettext(
                "'%(text)s' is not an agreement: give an agreement's id, or 'all' for every "
                "agreement."
            )
            % {"text": text[:20]}
        )
    agreement = Agreement.objects.filter(pk=int(text)).first()
    if agreement is None:
        raise ValueError(gettext("There is no agreement with id %(id)s.") % {"id": text})
    return agreement


def month_report(
    *,
    month,
    now: datetime | None = None,
    agreement: Agreement | None = None,
    time_zone: str | None = None,
):
    """The month's report "as of" its end once it has ended, "so far" (partial) while it runs.

    Built from the rollups only, and cached: the key carries the RollupStamp tokens of that
    month and every month before it (the report also reads last month's figures, the
    cohorts' earlier months and the goals' periods), the version it is judged by and the
    time zone, so a rewrite of any rollup it read makes a new key. The running month's
    figures are those of the days rolled up so far (the periodic rollup re-rolls them every
    few minutes); its key also carries the day.

    `agreement` None is "all agreements": its figures sum every agreement's rows, and its
    KPIs compare the combined figure with each agreement's own (see metrics.combined_kpis),
    which read each agreement's report through this same cache.
    """
    # Imported here: the KPI engine and the rollups read review_version from this module.
    from .metrics import month_report_build, month_version
    from .rollups import review_time_zone

    now = now or timezone.now()
    # `time_zone`: already known to a caller reading several agreements' reports.
    time_zone = time_zone or review_time_zone()

    def cached(month, now):
        """(the report if cached, its key, its version)."""
        _, end = month.bounds(time_zone)
        judged_at = min(end - timedelta(microseconds=1), now)
        if agreement:
            version = month_version(judged_at, agreement=agreement)
            version_id = version.pk if version else 0
        else:
            # "All" is judged by every agreement's version in force: a new version of any
            # of them (or a new agreement) makes a new key.
            version = None
            version_id = "-".join(
                str(v.pk if v else 0)
                for v in (month_version(judged_at, agreement=a) for a in review_agreements())
            )
        # The running month's figures are the rollups so far; of `now` they read only the
        # day (the goals' pace), so a day's key serves until a rollup changes.
        today = None if now >= end else timezone.localtime(now, _zone(time_zone)).date()
        key, rolled_up_at = _report_key(
            month, time_zone, version_id, today=today, agreement=agreement
        )
        report = cache.get(key) if key else None
        if report is not None:
            report = dataclasses.replace(
                report, judged_at=judged_at, rolled_up_at=rolled_up_at, cache_key=key
            )
        return report, key, version, rolled_up_at

    def previous_report(previous, at):
        # Last month's figures for the KPIs' comparison: its cached report, else its figures
        # alone (without its own comparison, cohorts and goals, which the KPIs do not read).
        report, _, version, _ = cached(previous, at)
        return report or month_report_build(
            previous,
            now=at,
            time_zone=time_zone,
            version=version,
            with_previous=False,
            agreement=agreement,
        )

    def agreement_reports():
        # Each agreement's own report, judged by its own version: what "all" compares with.
        return [
            (each, month_report(month=month, now=now, agreement=each, time_zone=time_zone))
            for each in review_agreements()
        ]

    report, key, version, rolled_up_at = cached(month, now)
    if report is None:
        report = month_report_build(
            month,
            now=now,
            time_zone=time_zone,
            version=version,
            previous_report=previous_report,
            agreement=agreement,
            agreement_reports=None if agreement else agreement_reports,
        )
        report.rolled_up_at = rolled_up_at
        report.cache_key = key
        if key:
            cache.set(key, report, REPORT_CACHE_SECONDS)
    return report


def month_trends(*, month, agreement: Agreement | None = None) -> dict:
    """The twelve months' series ending with `month` (the review's charts), cached like the
    report: under the rollup stamps of every month up to it."""
    from .metrics import trends
    from .rollups import review_time_zone

    key, _ = _report_key(month, review_time_zone(), 0, today="trends", agreement=agreement)
    series = cache.get(key) if key else None
    if series is None:
        series = trends(month.trailing(12), agreement=agreement)
        if key:
            cache.set(key, series, REPORT_CACHE_SECONDS)
    return series


def _report_key(month, time_zone: str, version_id, *, today=None, agreement=None):
    """(the cache key, when the month was last rolled up); no key when no rollup was ever
    stamped up to the month: nothing worth keeping."""
    from .models import RollupStamp

    stamps = list(
        RollupStamp.objects.filter(month__lte=month.first_day)
        .order_by("month")
        .values_list("month", "token", "rolled_up_at")
    )
    if not stamps:
        return None, None
    digest = hashlib.sha256("|".join(token for _, token, _ in stamps).encode()).hexdigest()[:32]
    rolled_up_at = stamps[-1][2] if stamps[-1][0] == month.first_day else None
    # "all", or the agreement's id: one agreement's report and the sum of all are kept apart.
    scope = agreement.pk if agreement else "all"
    # "v3": bump it when MonthReport changes shape, so no process unpickles an older one.
    key = (
        f"kpis:month-report:v3:{scope}:{month}:{today or 'closed'}:{time_zone}:{version_id}:"
        f"{digest}"
    )
    return key, rolled_up_at


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
