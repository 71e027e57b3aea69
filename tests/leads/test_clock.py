"""One clock: every page, notification and e-mail shows a moment in the SLA calendar's zone
and names it; the API gives ISO 8601 with an offset.

The SLA runs on São Paulo time (UTC−3). The lead arrives Monday 2 March 2026 at 09:00 UTC,
06:00 in São Paulo, before business hours: its 4 business hours run 09:00–13:00 local, so
first touch is due at 13:00 São Paulo time (16:00 UTC) on every page that shows it.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from agreements import models as am
from agreements import services
from leads.models import Notification
from slaportal.clock import local_time
from tests.leads.conftest import MONDAY_9

pytestmark = pytest.mark.django_db

ZONE = "America/Sao_Paulo"
DUE = "Mon 2 Mar 2026 13:00 (America/Sao_Paulo)"
ARRIVED = "Mon 2 Mar 2026 06:00 (America/Sao_Paulo)"


@pytest.fixture
def sao_paulo_sla(sla):
    am.BusinessCalendar.objects.filter(version=sla).update(time_zone=ZONE)
    return sla


@pytest.fixture
def sp_handoff(sao_paulo_sla, hand_off, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return hand_off()


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_one_format_names_the_zone():
    moment = datetime(2026, 12, 1, 15, 49, tzinfo=ZoneInfo("UTC"))
    assert local_time(moment, zone=ZONE) == "Tue 1 Dec 2026 12:49 (America/Sao_Paulo)"
    assert local_time(moment, zone=ZONE, time_only=True) == "12:49 (America/Sao_Paulo)"
    assert local_time(None) == ""
    with timezone.override(ZoneInfo(ZONE)):
        rendered = Template("{% load clock %}{{ t|local_time }}").render(Context({"t": moment}))
    assert rendered == "Tue 1 Dec 2026 12:49 (America/Sao_Paulo)"


def test_every_page_shows_the_deadline_in_the_slas_zone(
    sp_handoff, client_for, sales_rep, sales_manager, marketing_manager
):
    handoff = sp_handoff
    assert handoff.due_at == datetime(2026, 3, 2, 16, 0, tzinfo=ZoneInfo("UTC"))
    lead_url = reverse("leads:detail", args=[handoff.lead_id])

    lead_page = page(client_for(marketing_manager), lead_url)
    # The card (the queue row) and the timeline agree, and so does the lead's creation time.
    assert f"First touch due {DUE}" in lead_page
    assert f"First touch due {DUE} under" in lead_page
    assert f'Created</dt><dd class="col-7">{ARRIVED}' in lead_page

    assert f"First touch due {DUE}" in page(client_for(sales_rep), reverse("leads:queue"))
    assert f"due {DUE}" in page(client_for(sales_manager), reverse("leads:team"))

    notifications = page(client_for(sales_rep), reverse("leads:notifications"))
    assert f"first touch due {DUE}." in notifications  # the message
    assert ARRIVED in notifications  # its stamp


def test_notifications_and_their_e_mails_carry_the_same_local_time(sp_handoff, sales_rep):
    message = Notification.objects.get(user=sales_rep, key__startswith="handoff:").message
    assert message.endswith(f"first touch due {DUE}.")
    [email] = [m for m in mail.outbox if sales_rep.email in m.to]
    assert f"first touch due {DUE}." in email.subject and DUE in email.body


def test_sign_off_and_history_show_local_times(sao_paulo_sla, client_for, viewer):
    client = client_for(viewer)
    version_page = page(client, sao_paulo_sla.get_absolute_url())
    assert f"{ARRIVED} — Published" in version_page
    history = page(client, reverse("agreements:history", args=[sao_paulo_sla.agreement_id]))
    assert ARRIVED in history
    assert "2 Mar 2026 09:00" not in history  # no UTC time left


def test_the_review_states_its_zone(sao_paulo_sla, client_for, viewer):
    review = page(client_for(viewer), "/review/2026-03/")
    assert f"times in {ZONE}" in review
    assert "2 Mar 2026 06:00" in review


def test_the_api_gives_iso_8601_with_an_offset(sp_handoff, client_for, marketing_manager):
    body = client_for(marketing_manager).get(f"/api/v1/leads/{sp_handoff.lead_id}/").json()
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() is not None
    assert created == MONDAY_9


def test_the_sla_document_exports_give_the_effective_time_in_its_zone(
    clock, agreement, draft, marketing_manager, sales_manager, client_for
):
    am.BusinessCalendar.objects.filter(version=draft).update(time_zone=ZONE)
    services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    services.version_approve(version=draft, by=marketing_manager, side="marketing")
    services.version_approve(version=draft, by=sales_manager, side="sales")
    markdown = client_for(marketing_manager).get(
        reverse("agreements:markdown", args=[agreement.pk, draft.pk])
    )
    assert f"effective {ARRIVED}" in markdown.content.decode()


@pytest.mark.parametrize("language", ["en-us", "pt-br"])
def test_the_fast_format_is_the_one_django_would_print(language):
    from datetime import timedelta

    from django.utils import formats, translation

    from slaportal.clock import date_time_format, time_format

    zone = ZoneInfo("America/Sao_Paulo")
    moment = datetime(2026, 1, 1, 0, 5, tzinfo=ZoneInfo("UTC"))
    with translation.override(language):
        for step in range(0, 400 * 24, 7):  # every weekday and month, all hours
            value = moment + timedelta(hours=step)
            local = timezone.localtime(value, zone)
            assert local_time(value, zone=zone) == (
                f"{formats.date_format(local, date_time_format())} (America/Sao_Paulo)"
            )
            assert local_time(value, zone=zone, time_only=True) == (
                f"{formats.date_format(local, time_format())} (America/Sao_Paulo)"
            )
