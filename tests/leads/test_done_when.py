"""The lead engine's promise end to end, through the API, the job and the rep's page."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agreements import models as am
from agreements import services as agreement_services
from leads.models import Handoff, Notification
from leads.services.handoffs import breaches_flag
from leads.services.pipeline import pipeline_run
from slaportal.outbox import outbox_deliver

SP = ZoneInfo("America/Sao_Paulo")
FRIDAY_5PM = datetime(2026, 12, 4, 17, tzinfo=SP)


@pytest.mark.django_db
def test_an_api_lead_with_a_demo_request_reaches_a_rep_and_breaches_once(
    draft, marketing_manager, sales_manager, sales_rep, client_for
):
    am.FitRule.objects.create(
        version=draft, attribute="title", operator="contains", value="director", points=30
    )
    am.InterestRule.objects.create(version=draft, event_type="demo_request", points=40)
    am.QualificationSettings.objects.filter(version=draft).update(
        mql_min_fit=20, mql_min_interest=30
    )
    am.HandoffPolicy.objects.filter(version=draft).update(
        trigger_events=["demo_request"],
        required_fields=["email", "company"],
        response_target_hours=4,
        notify_email=False,
    )
    am.BusinessCalendar.objects.filter(version=draft).update(time_zone="America/Sao_Paulo")
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=SP), tick=False):
        agreement_services.version_submit(version=draft, by=marketing_manager, change_note="v1")
        agreement_services.version_approve(version=draft, by=marketing_manager, side="marketing")
        agreement_services.version_approve(version=draft, by=sales_manager, side="sales")

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketing_manager).key}")
    with time_machine.travel(FRIDAY_5PM, tick=False):
        created = api.post(
            "/api/v1/leads/",
            {
                "email": "ana@globex.com",
                "first_name": "Ana",
                "title": "Marketing Director",
                "company": "Globex",
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
        events = api.post(
            "/api/v1/events/",
            [
                {
                    "email": "ana@globex.com",
                    "type": "demo_request",
                    "occurred_at": "2026-12-04T20:00:00Z",
                    "external_id": "form-42",
                }
            ],
            format="json",
        )
        assert events.status_code == 201, events.json()
        pipeline_run()  # what the score_new_activity task does after the commit

        lead = api.get(f"/api/v1/leads/{created.json()['id']}/").json()
        assert (lead["stage"], lead["fit_score"], lead["interest_score"]) == ("mql", 30, 40)
        assert lead["owner"] == sales_rep.username
        # One business hour on Friday (17–18), three on Monday from 09:00.
        assert lead["handoff"]["due_at"] == "2026-12-07T15:00:00Z"
        queue = client_for(sales_rep).get(reverse("leads:queue")).content.decode()
        assert "Ana" in queue and "Globex" in queue

    with time_machine.travel(datetime(2026, 12, 7, 12, 1, tzinfo=SP), tick=False):
        assert len(breaches_flag().breached) == 1
        assert breaches_flag().breached == []
        outbox_deliver()  # notices are delivered after commit
    handoff = Handoff.objects.get()
    assert handoff.status == "breached"
    assert Notification.objects.filter(key=f"breach:{handoff.pk}").count() == 2  # rep, manager
