"""The review as a ritual: the SLA's meeting, the pack the day before, reminders, KPI digests.

October 2026's SLA (tests/kpis/conftest) counts in São Paulo, Monday to Friday. November 2026
starts on a Sunday, so its third business day is Wednesday the 4th and the pack goes out on
Tuesday the 3rd.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from agreements import models as am
from agreements.business_hours import Calendar
from kpis import services
from kpis.periods import Month
from kpis.ritual import (
    business_day_before,
    kpi_digests_send,
    meeting_next,
    nth_business_day,
    period_of,
    review_pack_send,
)
from leads.models import Notification
from slaportal.outbox import outbox_deliver

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
WEEK = Calendar("America/Sao_Paulo", frozenset(range(5)), time(9), time(18))


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SP)


# The calendar arithmetic ---------------------------------------------------------------------


def test_the_nth_business_day_skips_weekends_and_holidays():
    assert nth_business_day(WEEK, Month(2026, 11), 3) == date(2026, 11, 4)
    holiday = Calendar(WEEK.time_zone, WEEK.working_days, time(9), time(18), {date(2026, 11, 2)})
    assert nth_business_day(holiday, Month(2026, 11), 3) == date(2026, 11, 5)
    # A month with fewer business days than asked meets on its last one.
    assert nth_business_day(WEEK, Month(2026, 11), 40) == date(2026, 11, 30)
    assert (
        nth_business_day(Calendar("UTC", frozenset(), time(9), time(18)), Month(2026, 11), 1)
        is None
    )


def test_the_day_before_is_a_business_day_even_across_a_month():
    assert business_day_before(WEEK, date(2026, 11, 4)) == date(2026, 11, 3)
    assert business_day_before(WEEK, date(2026, 12, 1)) == date(2026, 11, 30)
    assert business_day_before(WEEK, date(2026, 11, 2)) == date(2026, 10, 30)  # a Friday


def test_each_frequency_has_its_period():
    assert period_of("weekly", date(2026, 11, 4)) == (
        "2026-W45",
        date(2026, 11, 2),
        date(2026, 11, 8),
    )
    assert period_of("monthly", date(2026, 11, 4)) == (
        "2026-11",
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert period_of("quarterly", date(2026, 11, 4)) == (
        "2026-Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )


# The meeting and its pack --------------------------------------------------------------------


@pytest.fixture
def meeting(october, marketing_manager, rep):
    version = october.agreement.versions.get(number=1)
    schedule = am.ReviewSchedule.objects.get(version=version)
    schedule.business_day, schedule.starts_at = 3, time(10)
    schedule.save()
    schedule.attendees.set([marketing_manager, rep])
    return schedule


def test_the_sla_sets_the_next_meeting(meeting, october):
    found = meeting_next(agreement=october.agreement, now=at(2, 12))
    assert found.starts_at == at(4, 10) and found.eve == date(2026, 11, 3)
    assert found.reviews == Month(2026, 10)
    # Once it has started, the next is December's: its third business day is Thursday the 3rd.
    later = meeting_next(agreement=october.agreement, now=at(4, 11))
    assert later.starts_at == datetime(2026, 12, 3, 10, tzinfo=SP)
    assert later.reviews == Month(2026, 11)


def test_the_review_page_says_when_the_next_meeting_is(meeting, october, client_for):
    with time_machine.travel(at(2, 12), tick=False):
        page = client_for(meeting.attendees.first()).get("/review/2026-10/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="next-meeting"' in text
    assert "Next review meeting:" in text and "reviewing October 2026" in text


def test_nothing_goes_out_before_the_day_before(meeting):
    with time_machine.travel(at(2, 17), tick=False):
        assert review_pack_send() == 0


def test_the_attendees_get_the_pack_with_its_charts_once(meeting, october, rep, marketing_manager):
    with time_machine.travel(at(3, 8), tick=False):
        assert review_pack_send() == 2
        assert review_pack_send() == 0  # the next hourly run
        outbox_deliver()
    # (The fixture's own notices, such as the approval requests, are delivered too.)
    packs = [m for m in mail.outbox if "Review pack" in m.subject]
    assert sorted(m.to[0] for m in packs) == [marketing_manager.email, rep.email]
    for message in packs:
        assert message.subject == "[SLA Portal] Review pack: October 2026"
        assert "04 Nov 2026 10:00" in message.body and "/review/2026-10/" in message.body
        ((name, content, kind),) = message.attachments
        assert name == "review-2026-10-acme-sla-pack.pdf" and kind == "application/pdf"
        assert content.startswith(b"%PDF")


def test_owners_of_open_action_items_are_reminded_once(meeting, october, rep, sales_manager):
    agreement = october.agreement
    for text, owner in (("Call back l2", rep), ("Fix routing", rep), ("Report", sales_manager)):
        services.action_item_create(
            agreement=agreement,
            month=Month(2026, 10),
            text=text,
            owner=owner,
            due_date=date(2026, 11, 20),
            by=sales_manager,
        )
    done = services.action_item_create(
        agreement=agreement,
        month=Month(2026, 10),
        text="Done already",
        owner=sales_manager,
        due_date=date(2026, 11, 20),
        by=sales_manager,
    )
    services.action_item_done(item=done, by=sales_manager)
    with time_machine.travel(at(3, 9), tick=False):
        review_pack_send()
        review_pack_send()
        outbox_deliver()
    reminders = Notification.objects.filter(key__startswith="review-actions:")
    assert sorted(n.user_id for n in reminders) == sorted([rep.pk, sales_manager.pk])
    rita = reminders.get(user=rep).message
    assert "2 open action items" in rita and "Call back l2" in rita and "Fix routing" in rita
    assert "Done already" not in reminders.get(user=sales_manager).message
    assert any(m.to == [sales_manager.email] and "Report" in m.body for m in mail.outbox)


def test_no_pack_without_a_meeting_in_the_sla(october):
    am.ReviewSchedule.objects.all().delete()
    with time_machine.travel(at(3, 9), tick=False):
        assert review_pack_send() == 0


# The KPI digests -----------------------------------------------------------------------------


def test_each_kpi_is_digested_at_its_own_frequency_once(october, sales_manager, marketing_manager):
    version = october.agreement.versions.get(number=1)
    am.Kpi.objects.filter(version=version, metric="speed_to_lead").update(review_frequency="weekly")
    with time_machine.travel(at(2, 10), tick=False):
        assert kpi_digests_send() == 2  # the sales manager: a weekly and a monthly digest
        assert kpi_digests_send() == 0
        outbox_deliver()
    digests = [m for m in mail.outbox if "KPI digest" in m.subject]
    subjects = sorted(m.subject for m in digests)
    assert subjects == [
        "[SLA Portal] KPI digest (monthly, 2026-11)",
        "[SLA Portal] KPI digest (weekly, 2026-W45)",
    ]
    assert all(m.to == [sales_manager.email] for m in digests)
    monthly = next(m for m in digests if "monthly" in m.subject).body
    assert "SLA compliance: 50% against a target of 90% (Off track)" in monthly
    assert "October 2026" in monthly and "Speed to lead" not in monthly
    weekly = next(m for m in digests if "weekly" in m.subject).body
    assert "Speed to lead" in weekly and "November 2026" in weekly

    # The next week brings the next weekly digest, and no second monthly one.
    with time_machine.travel(at(9, 10), tick=False):
        assert kpi_digests_send() == 1


def test_beat_runs_both_jobs_hourly(meeting):
    from django.conf import settings

    from kpis import tasks

    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["kpis.tasks.send_review_pack"] == 3600
    assert schedule["kpis.tasks.send_kpi_digests"] == 3600
    with time_machine.travel(at(3, 9), tick=False):
        assert tasks.send_review_pack() == 2 and tasks.send_review_pack() == 0
