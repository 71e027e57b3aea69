"""The review as a ritual: the SLA sets the meeting, the pack and the reminders go out before it.

The SLA in force says "the Nth business day of each month at HH:MM, with these people"
(agreements.ReviewSchedule). The business day before that meeting, counted in the SLA's own
calendar, each attendee is e-mailed the pack of the month under review and each owner of an
open action item is reminded. Separately, each KPI's review frequency (weekly, monthly,
quarterly) drives a digest of those KPIs to the managers who own them.

Both jobs run every hour from beat and may run any number of times: every message's outbox
key names its meeting or period and its person, so it is written once. A job that missed the
exact day (an outage) still sends on a later run while the meeting is ahead.

With several agreements (issue 11) each runs its own ritual: its version in force sets its
meeting, its pack is that agreement's review (its figures against its own targets), its
reminders list its action items, and its KPI digests go to its own managers. A company that
meets once for everything opens the review on "all agreements"; the e-mailed packs stay per
agreement, because the targets, the attendees and the action items are.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements.business_hours import Calendar
from agreements.models import Agreement, AgreementVersion, Kpi, ReviewSchedule, Team
from agreements.selectors import version_calendar, version_in_force
from leads.services.notifications import notify
from slaportal.language import language_of
from slaportal.outbox import outbox_write

from . import exports
from .models import ActionItem
from .periods import Month

PACK = "review_pack"  # the outbox attachment kind, rendered at send time (review_pack_render)


def nth_business_day(calendar: Calendar, month: Month, n: int) -> date | None:
    """The month's Nth business day; its last one when it has fewer (a short month of holidays
    still has its meeting); None for a calendar with no working days at all."""
    days = [day for day in month.days() if calendar.is_business_day(day)]
    if not days:
        return None
    return days[min(n, len(days)) - 1]


def business_day_before(calendar: Calendar, day: date) -> date:
    for back in range(1, 32):
        earlier = day - timedelta(days=back)
        if calendar.is_business_day(earlier):
            return earlier
    return day - timedelta(days=1)


@dataclass(frozen=True)
class Meeting:
    agreement: Agreement
    version: AgreementVersion
    reviews: Month  # the month the meeting reviews: the one before the meeting's
    starts_at: datetime
    eve: date  # the business day before, when the pack goes out
    time_zone: str

    @property
    def when(self) -> str:
        return exports.local(self.starts_at, self.time_zone)


def meeting_next(*, agreement: Agreement, now: datetime) -> Meeting | None:
    """The next review meeting the SLA in force sets, or None when it sets none."""
    version = version_in_force(agreement=agreement, at=now)
    schedule = ReviewSchedule.objects.filter(version=version).first() if version else None
    if schedule is None:
        return None
    calendar = version_calendar(version=version)
    today = timezone.localtime(now, calendar.zone).date()
    for month in (Month.of(today), Month.of(today).next):
        day = nth_business_day(calendar, month, schedule.business_day)
        if day is None:
            return None
        starts_at = datetime.combine(day, schedule.starts_at, tzinfo=calendar.zone)
        if starts_at > now:
            return Meeting(
                agreement=agreement,
                version=version,
                reviews=month.previous,
                starts_at=starts_at,
                eve=business_day_before(calendar, day),
                time_zone=calendar.time_zone,
            )
    return None


def review_pack_send(*, now: datetime | None = None) -> int:
    """From the business day before each agreement's meeting: its pack to each attendee and a
    reminder to each owner of its open action items. Returns how many messages were newly
    written."""
    now = now or timezone.now()
    return sum(
        _review_pack_send(agreement=agreement, now=now)
        for agreement in Agreement.objects.order_by("id")
    )


def _review_pack_send(*, agreement: Agreement, now: datetime) -> int:
    meeting = meeting_next(agreement=agreement, now=now)
    if meeting is None or timezone.localtime(now, meeting.starts_at.tzinfo).date() < meeting.eve:
        return 0
    schedule = ReviewSchedule.objects.get(version=meeting.version)
    url = (
        settings.SITE_URL
        + reverse("kpis:review", args=[str(meeting.reviews)])
        + f"?agreement={agreement.pk}"
    )
    written = 0
    with transaction.atomic():
        for person in schedule.attendees.filter(is_active=True).exclude(email=""):
            written += outbox_write(
                channel="email",
                key=f"review-pack:{agreement.pk}:{meeting.reviews}:{person.pk}",
                payload=_pack_email(meeting, person, url),
                now=now,
            )
        open_items = (
            ActionItem.objects.filter(agreement=agreement, done_at__isnull=True)
            .select_related("owner")
            .order_by("owner_id", "due_date", "id")
        )
        by_owner: dict[int, list[ActionItem]] = {}
        for item in open_items:
            by_owner.setdefault(item.owner_id, []).append(item)
        for items in by_owner.values():
            written += notify(
                user=items[0].owner,
                key=f"review-actions:{agreement.pk}:{meeting.reviews}",
                message=_reminder(meeting, items),
                email=True,
                now=now,
            )
    return written


def _pack_email(meeting: Meeting, person, url: str) -> dict:
    with translation.override(language_of(person)):
        return _pack_email_text(meeting, person, url)


def _pack_email_text(meeting: Meeting, person, url: str) -> dict:
    month = meeting.reviews.label
    body = _(
        "The review of %(month)s meets on %(when)s (%(zone)s). The pack is attached; the "
        "review itself is at %(url)s"
    ) % {"month": month, "when": meeting.when, "zone": meeting.time_zone, "url": url}
    return {
        "to": [person.email],
        "subject": "[SLA Portal] " + _("Review pack: %(month)s") % {"month": month},
        "body": body,
        "attachments": [
            {
                "kind": PACK,
                "month": str(meeting.reviews),
                "user": person.pk,
                "agreement": meeting.agreement.pk,
            }
        ],
    }


def _reminder(meeting: Meeting, items: list[ActionItem]) -> str:
    with translation.override(language_of(items[0].owner)):
        return _reminder_text(meeting, items)


def _reminder_text(meeting: Meeting, items: list[ActionItem]) -> str:
    return ngettext(
        "The review meets on %(when)s; your open action item: %(items)s",
        "The review meets on %(when)s; your %(count)s open action items: %(items)s",
        len(items),
    ) % {
        "when": meeting.when,
        "count": len(items),
        "items": "; ".join(f"{item.text} ({exports.day(item.due_date)})" for item in items),
    }


def review_pack_render(
    *, month: str, user: int, agreement: int | None = None
) -> tuple[str, bytes, str]:
    """The pack as this attendee would download it (a rep's pack lists only their leads): the
    meeting's agreement's review; all agreements for a pack queued before there were several
    (no agreement in its attachment), or whose agreement has since been deleted."""
    # The page's own loader: the pack e-mailed and the one downloaded are the same file.
    from .views import _load_review

    person = get_user_model().objects.get(pk=user)
    shown = Agreement.objects.filter(pk=agreement).first() if agreement else None
    # Made by a job: in the attendee's language, not the worker's.
    with translation.override(language_of(person)):
        review, _agreement = _load_review(
            Month.parse(month), now=timezone.now(), user=person, shown=shown
        )
        pdf = exports.review_pdf(review)
    return exports.filename(review, "pack", "pdf"), pdf, "application/pdf"


# The KPI digests -----------------------------------------------------------------------------


def period_of(frequency: str, day: date) -> tuple[str, date, date]:
    """The period of a review frequency holding `day`: (its name, first day, last day)."""
    if frequency == Kpi.Frequency.WEEKLY:
        start = day - timedelta(days=day.weekday())
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}", start, start + timedelta(days=6)
    if frequency == Kpi.Frequency.QUARTERLY:
        first = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first, 1)
        end = Month(day.year, first + 2).last_day
        return f"{day.year}-Q{(first - 1) // 3 + 1}", start, end
    month = Month.of(day)
    return str(month), month.first_day, month.last_day


def kpi_digests_send(*, now: datetime | None = None) -> int:
    """From the first business day of each KPI's review period: the KPIs due, with their
    figure, target and status, to the managers of the side that owns them."""
    now = now or timezone.now()
    return sum(
        _kpi_digests_send(agreement=agreement, now=now)
        for agreement in Agreement.objects.select_related(
            "marketing_manager", "sales_manager"
        ).order_by("id")
    )


def _kpi_digests_send(*, agreement: Agreement, now: datetime) -> int:
    """One agreement's digests: its KPIs, judged against its own targets, to its managers."""
    from .selectors import month_report

    version = version_in_force(agreement=agreement, at=now)
    if version is None:
        return 0
    calendar = version_calendar(version=version)
    today = timezone.localtime(now, calendar.zone).date()
    # The version's KPI rows say how often each is reviewed and which side owns it.
    rows = {
        metric: (frequency, owner)
        for metric, frequency, owner in Kpi.objects.filter(version=version).values_list(
            "metric", "review_frequency", "owner"
        )
    }
    managers = {
        Team.MARKETING: [agreement.marketing_manager],
        Team.SALES: [agreement.sales_manager],
        Team.SHARED: [agreement.marketing_manager, agreement.sales_manager],
    }
    written = 0
    reports = {}
    for frequency in Kpi.Frequency:
        name, start, end = period_of(frequency, today)
        first = next(
            (
                start + timedelta(days=n)
                for n in range((end - start).days + 1)
                if calendar.is_business_day(start + timedelta(days=n))
            ),
            None,
        )
        if first is None or today < first:
            continue
        # A week is read in the running month so far; a month or a quarter is reviewed on
        # the month that has just closed.
        month = Month.of(today) if frequency == Kpi.Frequency.WEEKLY else Month.of(today).previous
        if month not in reports:
            reports[month] = month_report(month=month, now=now, agreement=agreement)
        due = [k for k in reports[month].kpis if rows.get(k.metric, ("",))[0] == frequency]
        people: dict[int, tuple[object, list]] = {}
        for kpi in due:
            for person in managers.get(rows[kpi.metric][1], managers[Team.SHARED]):
                people.setdefault(person.pk, (person, []))[1].append(kpi)
        for person, kpis in people.values():
            if not person.email:
                continue
            written += outbox_write(
                channel="email",
                key=f"kpi-digest:{agreement.pk}:{frequency}:{name}:{person.pk}",
                payload=_digest_email(frequency, name, month, kpis, person, agreement),
                now=now,
            )
    return written


def _digest_email(frequency, period: str, month: Month, kpis, person, agreement) -> dict:
    with translation.override(language_of(person)):
        return _digest_email_text(frequency, period, month, kpis, person, agreement)


def _digest_email_text(frequency, period: str, month: Month, kpis, person, agreement) -> dict:
    lines = [
        _("%(kpi)s: %(actual)s against a target of %(target)s (%(status)s)")
        % {
            "kpi": kpi.name,
            "actual": exports.with_unit(kpi.actual, kpi.unit, kpi.metric),
            "target": exports.with_unit(kpi.target, kpi.unit, kpi.metric),
            "status": exports.STATUS_LABELS.get(kpi.status, kpi.status),
        }
        for kpi in kpis
    ]
    url = (
        settings.SITE_URL + reverse("kpis:review", args=[str(month)]) + f"?agreement={agreement.pk}"
    )
    heading = _("The KPIs of %(agreement)s you review %(frequency)s, as of %(month)s:") % {
        "agreement": agreement.name,
        "frequency": Kpi.Frequency(frequency).label.lower(),
        "month": month.label,
    }
    return {
        "to": [person.email],
        "subject": "[SLA Portal] "
        + _("KPI digest (%(frequency)s, %(period)s)")
        % {"frequency": Kpi.Frequency(frequency).label.lower(), "period": period},
        "body": "\n".join([heading, "", *(f"- {line}" for line in lines), "", url]),
    }
