"""POST /api/v1/activities/: a CRM's calls and e-mails become attempts, as if logged here."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads.models import ContactAttempt, Handoff
from leads.selectors import lead_timeline
from leads.services.handoffs import attempt_log
from slaportal.roles import Role
from tests.factories import UserFactory

ACTIVITIES = "/api/v1/activities/"


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def integration(db):
    return UserFactory(
        username="hubspot-sync", first_name="HubSpot", last_name="", role=Role.INTEGRATION
    )


@pytest.fixture
def handoff(hand_off, clock):
    """Handed off at 09:00; the CRM reports at 10:00 (a call at 09:30 is in time)."""
    made = hand_off()
    clock.shift(timedelta(hours=1))
    return made


def activity(handoff, number=1, **extra) -> dict:
    item = {
        "external_id": f"call-{number}",
        "email": handoff.lead.email,
        "rep": "rita",
        "channel": "phone",
        "direction": "outbound",
        "disposition": "connected",
        "occurred_at": iso(timezone.now() - timedelta(minutes=30)),
        "note": "Booked a demo.",
    }
    return {**item, **extra}


def test_an_activity_in_time_marks_the_handoff_met_like_an_attempt_logged_in_the_app(
    integration, hand_off, clock
):
    by_api, in_app = hand_off(), hand_off()
    clock.shift(timedelta(hours=1))
    response = api(integration).post(ACTIVITIES, [activity(by_api)], format="json")
    attempt_log(handoff=in_app, channel="phone", disposition="connected", by=in_app.rep)

    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 1
    [result] = response.json()["results"]
    assert result["duplicate"] is False and result["handoff_id"] == by_api.pk
    by_api.refresh_from_db()
    in_app.refresh_from_db()
    assert by_api.status == in_app.status == Handoff.Status.MET
    # At the time the call happened, not when it was reported.
    assert by_api.first_touch_at == timezone.now() - timedelta(minutes=30)
    assert by_api.response_business_minutes == 30
    attempt = ContactAttempt.objects.get(external_id="call-1")
    assert attempt.is_conversation and attempt.rep_id == by_api.rep_id
    assert (attempt.source, attempt.source_name) == ("api", "HubSpot")


def test_a_late_activity_is_a_breach_and_the_earliest_of_a_batch_is_the_first_touch(
    integration, handoff, clock
):
    clock.shift(timedelta(hours=5))  # the 4 business hours ran out at 13:00
    late, later = timezone.now() - timedelta(minutes=50), timezone.now() - timedelta(minutes=10)
    batch = [
        activity(handoff, 1, occurred_at=iso(later)),
        activity(handoff, 2, occurred_at=iso(late), disposition="no_answer"),
    ]
    assert api(integration).post(ACTIVITIES, batch, format="json").status_code == 201
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.BREACHED
    assert handoff.first_touch_at == late
    assert handoff.attempts.count() == 2


def test_a_repeated_batch_answers_the_same_attempts_and_stores_nothing(integration, handoff):
    batch = [activity(handoff, 1), activity(handoff, 2, disposition="no_answer")]
    first = api(integration).post(ACTIVITIES, batch, format="json").json()
    again = api(integration).post(ACTIVITIES, batch, format="json")

    assert again.status_code == 201
    assert again.json()["created"] == 0 and again.json()["duplicates"] == 2
    assert [r["attempt_id"] for r in again.json()["results"]] == [
        r["attempt_id"] for r in first["results"]
    ]
    assert all(r["duplicate"] for r in again.json()["results"])
    assert ContactAttempt.objects.count() == 2


def test_an_activity_may_name_the_lead_by_id_and_the_rep_by_email(integration, handoff):
    item = activity(handoff, rep="RITA@example.com")
    del item["email"]
    item["lead_id"] = handoff.lead_id
    response = api(integration).post(ACTIVITIES, [item], format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "nobody@example.com"}, "email", "No lead has the e-mail nobody@example.com."),
        ({"rep": "zed"}, "rep", "No active user has the username or e-mail 'zed'."),
        ({"channel": "fax"}, "channel", "Unknown channel 'fax'."),
        ({"disposition": "gone_fishing"}, "disposition", "'gone_fishing' is not a disposition"),
        ({"direction": "sideways"}, "direction", "Use inbound or outbound."),
        ({"occurred_at": "2026-03-03T09:00:00Z"}, "occurred_at", "In the future"),
        ({"occurred_at": "2026-03-02T08:00:00Z"}, "occurred_at", "Before the lead was handed"),
        ({"rep": "rafael"}, "rep", "does not hold this lead"),
    ],
)
def test_one_bad_activity_refuses_the_batch_by_index_and_field(
    integration, handoff, other_rep, change, field, message
):
    batch = [activity(handoff, 1), activity(handoff, 2, **change)]
    response = api(integration).post(ACTIVITIES, batch, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["1"]
    assert message in errors["1"][field][0]
    assert not ContactAttempt.objects.exists()
    handoff.refresh_from_db()
    assert handoff.first_touch_at is None


def test_a_lead_without_an_open_handoff_is_refused(integration, handoff, sla):
    from leads.services.ingestion import lead_upsert

    lead, _ = lead_upsert(email="cold@example.com", fields={})
    response = api(integration).post(
        ACTIVITIES, [activity(handoff, 1, email=lead.email)], format="json"
    )
    assert response.status_code == 400
    assert "has no open handoff" in response.json()["errors"]["0"]["email"][0]


def test_a_batch_repeating_an_external_id_is_refused(integration, handoff):
    batch = [activity(handoff, 1), activity(handoff, 1)]
    response = api(integration).post(ACTIVITIES, batch, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["1"]["external_id"] == ["Repeats the external_id of item 0."]


def test_a_batch_of_1001_activities_is_refused_whole(integration, handoff):
    batch = [activity(handoff, number) for number in range(1001)]
    response = api(integration).post(ACTIVITIES, batch, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "errors": {"batch": ["Send at most 1,000 activities per request; this batch has 1,001."]}
    }
    assert not ContactAttempt.objects.exists()


def test_reps_may_not_post_activities(sales_rep, handoff):
    response = api(sales_rep).post(ACTIVITIES, [activity(handoff)], format="json")
    assert response.status_code == 403


def test_the_timeline_says_the_attempt_came_through_the_api(integration, handoff):
    item = activity(handoff, integration="Pipedrive")
    api(integration).post(ACTIVITIES, [item], format="json")
    attempt_log(handoff=handoff, channel="email", disposition="no_answer", by=handoff.rep)

    titles = [entry.title for entry in lead_timeline(handoff.lead).items if entry.kind == "attempt"]
    assert "Phone: Connected via API (Pipedrive)" in titles
    assert "Email: No answer" in titles


def test_the_schema_documents_the_activity_batch(viewer):
    schema = api(viewer).get("/api/schema/", {"format": "json"}).json()
    body = schema["paths"]["/api/v1/activities/"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["type"] == "array"


def test_a_batch_of_1000_activities_is_stored_in_a_fixed_number_of_queries(
    integration, handoff, django_assert_max_num_queries
):
    batch = [activity(handoff, number, disposition="no_answer") for number in range(1000)]
    client = api(integration)
    with django_assert_max_num_queries(30):
        response = client.post(ACTIVITIES, batch, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 1000
    assert handoff.attempts.count() == 1000
