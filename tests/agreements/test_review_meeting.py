"""The SLA sets its review meeting: edited with the KPIs, carried into amendments, read aloud."""

from datetime import time

import pytest
from django.urls import reverse

from agreements import models as m
from agreements import services
from agreements.summary import SlaTerms, promises_write
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def meeting_post(revision: int, **fields) -> dict:
    return {
        "revision": str(revision),
        "meeting-business_day": "3",
        "meeting-starts_at": "10:00",
        "kpi-TOTAL_FORMS": "0",
        "kpi-INITIAL_FORMS": "0",
        **fields,
    }


def test_a_new_sla_meets_on_the_third_business_day_with_both_managers(
    draft, marketing_manager, sales_manager
):
    schedule = m.ReviewSchedule.objects.get(version=draft)
    assert (schedule.business_day, schedule.starts_at) == (3, time(10))
    assert set(schedule.attendees.all()) == {marketing_manager, sales_manager}


def test_the_meeting_is_edited_with_the_kpis_and_a_stale_save_is_refused(
    agreement, draft, marketing_manager, sales_manager, client_for
):
    vera = UserFactory(username="vera", first_name="Vera")
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    page = client_for(sales_manager).get(url).content.decode()
    assert 'name="meeting-business_day"' in page and 'name="meeting-attendees"' in page

    data = meeting_post(
        0,
        **{
            "meeting-business_day": "2",
            "meeting-starts_at": "09:30",
            "meeting-attendees": [sales_manager.pk, vera.pk],
        },
    )
    assert client_for(sales_manager).post(url, data).status_code == 302
    schedule = m.ReviewSchedule.objects.get(version=draft)
    assert (schedule.business_day, schedule.starts_at) == (2, time(9, 30))
    assert set(schedule.attendees.all()) == {sales_manager, vera}

    stale = client_for(marketing_manager).post(
        url, meeting_post(0, **{"meeting-business_day": "5"})
    )
    assert stale.status_code == 200 and "Not saved" in stale.content.decode()
    assert m.ReviewSchedule.objects.get(version=draft).business_day == 2


def test_a_business_day_past_twenty_is_refused(agreement, draft, sales_manager, client_for):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    response = client_for(sales_manager).post(
        url, meeting_post(0, **{"meeting-business_day": "25"})
    )
    assert response.status_code == 200
    assert m.ReviewSchedule.objects.get(version=draft).business_day == 3


def test_an_amendment_keeps_the_meeting_and_its_attendees(
    agreement, published, marketing_manager, sales_manager
):
    vera = UserFactory(username="vera", first_name="Vera")
    m.ReviewSchedule.objects.get(version=published).attendees.add(vera)
    draft = services.amendment_start(agreement=agreement, by=marketing_manager)
    schedule = m.ReviewSchedule.objects.get(version=draft)
    assert set(schedule.attendees.all()) == {marketing_manager, sales_manager, vera}


def test_the_sla_page_and_its_summary_say_when_the_review_meets(
    agreement, published, marketing_manager, client_for
):
    page = client_for(marketing_manager).get(
        reverse("agreements:version", args=[agreement.pk, published.pk])
    )
    text = page.content.decode()
    people = " and ".join(
        sorted(u.get_full_name() for u in (marketing_manager, published.agreement.sales_manager))
    )
    assert (
        "Both sides review the numbers on the 3rd business day of each month at 10:00, with "
        f"{people}; the review pack arrives the business day before."
    ) in text
    assert "Monthly review meeting" in text and "Business day of the month" in text


def test_the_meeting_sentence_is_written_from_the_terms():
    together = promises_write(
        SlaTerms(review_business_day=1, review_time=time(9, 30), review_attendees=("Ana",))
    ).together
    assert together == (
        "Both sides review the numbers on the 1st business day of each month at 09:30, with "
        "Ana; the review pack arrives the business day before.",
    )
    assert promises_write(SlaTerms()).together == ()


def test_an_sla_published_before_meetings_existed_gets_the_default_meeting_when_amended(
    agreement, published, marketing_manager, sales_manager
):
    m.ReviewSchedule.objects.filter(version=published).delete()
    draft = services.amendment_start(agreement=agreement, by=marketing_manager)
    schedule = m.ReviewSchedule.objects.get(version=draft)
    assert schedule.business_day == 3
    assert set(schedule.attendees.all()) == {marketing_manager, sales_manager}
