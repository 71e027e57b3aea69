"""The REST API: who may call what, every validation error, and the lead engine behind it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agreements import services as sla
from agreements.models import FitRule, HandoffPolicy, InterestRule, QualificationSettings
from leads.models import Lead, LeadEvent, Stage
from leads.services.handoffs import handoff_manual
from leads.services.ingestion import lead_upsert
from leads.services.pipeline import pipeline_run
from slaportal.roles import Role
from tests.factories import UserFactory

LEADS = "/api/v1/leads/"
EVENTS = "/api/v1/events/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def detail(pk: int) -> str:
    return f"{LEADS}{pk}/"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def event(email="ana@example.com", type="page_view", **extra) -> dict:
    item = {"email": email, "type": type, "occurred_at": iso(timezone.now() - timedelta(hours=1))}
    return {**item, **extra}


def counts() -> tuple[int, int]:
    return Lead.objects.count(), LeadEvent.objects.count()


@pytest.fixture
def integration(db):
    return UserFactory(username="webform", role=Role.INTEGRATION)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="otto", first_name="Otto", role=Role.SALES_REP)


@pytest.fixture
def a_lead(db):
    lead, _ = lead_upsert(email="lia@example.com", fields={"first_name": "Lia"})
    return lead


@pytest.fixture
def owned_leads(published, sales_rep, other_rep, sales_manager):
    """One lead handed to each rep by round robin, through the product's handoff service."""
    first, _ = lead_upsert(email="first@example.com", fields={})
    second, _ = lead_upsert(email="second@example.com", fields={})
    handoff_manual(lead=first, version=published, by=sales_manager)
    handoff_manual(lead=second, version=published, by=sales_manager)
    leads = {lead.owner.username: lead for lead in Lead.objects.select_related("owner")}
    assert set(leads) == {"rita", "otto"}
    return leads


# Who may call what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [("get", LEADS), ("post", LEADS), ("get", detail(1)), ("post", EVENTS)],
)
def test_anonymous_requests_get_401_with_the_token_challenge(db, method, url):
    response = getattr(api(), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_gets_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    assert client.get(LEADS).status_code == 401


@pytest.mark.parametrize("who", ["marketing_manager", "sales_manager", "integration", "superuser"])
def test_managers_integrations_and_superusers_may_post_leads_and_events(request, who):
    client = api(request.getfixturevalue(who))

    assert client.post(LEADS, {"email": f"{who}@example.com"}, format="json").status_code == 201
    response = client.post(EVENTS, [event(f"{who}-2@example.com")], format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("who", ["sales_rep", "viewer", "no_role_user"])
def test_reps_viewers_and_users_without_a_role_may_not_post(request, who):
    client = api(request.getfixturevalue(who))

    assert client.post(LEADS, {"email": "x@example.com"}, format="json").status_code == 403
    assert client.post(EVENTS, [event("x@example.com")], format="json").status_code == 403
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "who", ["marketing_manager", "sales_manager", "viewer", "integration", "superuser"]
)
def test_managers_viewers_and_integrations_read_every_lead(request, who, owned_leads):
    client = api(request.getfixturevalue(who))

    response = client.get(LEADS)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    for lead in owned_leads.values():
        assert client.get(detail(lead.pk)).status_code == 200


def test_a_user_without_a_role_may_not_read(no_role_user, a_lead):
    client = api(no_role_user)

    assert client.get(LEADS).status_code == 403
    assert client.get(detail(a_lead.pk)).status_code == 403


def test_a_reps_token_sees_only_that_reps_leads(sales_rep, owned_leads):
    client = api(sales_rep)

    listed = client.get(LEADS).json()
    assert [row["email"] for row in listed["results"]] == ["first@example.com"]
    assert client.get(detail(owned_leads["rita"].pk)).status_code == 200
    assert client.get(detail(owned_leads["otto"].pk)).status_code == 404


def test_an_unowned_lead_is_404_for_a_rep(sales_rep, a_lead):
    assert api(sales_rep).get(detail(a_lead.pk)).status_code == 404


def test_form_encoded_posts_are_refused(marketing_manager):
    response = api(marketing_manager).post(LEADS, {"email": "ana@example.com"})

    assert response.status_code == 415
    assert counts() == (0, 0)


# POST /leads/ ------------------------------------------------------------------------------


def test_posting_a_lead_creates_it_and_answers_with_its_scores(integration):
    payload = {
        "email": "Ana@Example.com",
        "first_name": "Ana",
        "last_name": "Souza",
        "title": "Head of Marketing",
        "company": "Acme",
        "company_size": 250,
        "industry": "SaaS",
        "country": "br",
        "source": "website",
        "attributes": {"seats": 40},
    }

    response = api(integration).post(LEADS, payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {"id", "email", "stage", "fit_score", "interest_score", "score", "owner"} <= set(body)
    assert body["stage"] == "lead"
    assert body["owner"] is None
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.title, lead.company_size, lead.country) == ("Head of Marketing", 250, "BR")
    assert lead.attributes == {"seats": 40}
    assert lead.stage_changes.get().to_stage == Stage.LEAD


def test_posting_a_known_email_in_other_case_updates_the_same_lead(integration):
    client = api(integration)
    first = client.post(LEADS, {"email": "Ana@Example.com", "title": "Analyst"}, format="json")
    client.post(LEADS, {"email": "ana@example.com", "attributes": {"a": 1}}, format="json")

    again = client.post(
        LEADS,
        {"email": "ANA@EXAMPLE.COM", "company": "Acme", "attributes": {"b": 2}},
        format="json",
    )

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    lead = Lead.objects.get()
    # Fields left out keep their value; attributes merge.
    assert (lead.title, lead.company) == ("Analyst", "Acme")
    assert lead.attributes == {"a": 1, "b": 2}


def test_null_text_fields_are_taken_as_blank(integration):
    response = api(integration).post(
        LEADS, {"email": "ana@example.com", "title": None, "country": None}, format="json"
    )

    assert response.status_code == 201
    assert Lead.objects.get().title == ""


@pytest.mark.parametrize(
    "payload, field, message",
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"first_name": "Ana"}, "email", "required"),
        ({"email": "ana@example.com", "company_size": "many"}, "company_size", "valid integer"),
        ({"email": "ana@example.com", "company_size": -1}, "company_size", "greater than"),
        ({"email": "ana@example.com", "company_size": 2.5}, "company_size", "valid integer"),
        ({"email": "ana@example.com", "company_size": True}, "company_size", "valid integer"),
        ({"email": "ana@example.com", "country": "BRA"}, "country", "two-letter"),
        ({"email": "ana@example.com", "country": "1B"}, "country", "two-letter"),
        ({"email": "ana@example.com", "title": ["x"]}, "title", "valid string"),
        ({"email": "ana@example.com", "title": "x" * 201}, "title", "no more than 200"),
        ({"email": "ana@example.com", "attributes": ["x"]}, "attributes", "JSON object"),
        ({"email": "ana@example.com", "attributes": "x"}, "attributes", "JSON object"),
        ({"email": "ana@example.com", "compnay": "Acme"}, "compnay", "Unknown field"),
    ],
)
def test_invalid_leads_get_400_by_field_and_store_nothing(integration, payload, field, message):
    response = api(integration).post(LEADS, payload, format="json")

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert counts() == (0, 0)


def test_a_lead_body_that_is_not_an_object_gets_400(integration):
    response = api(integration).post(LEADS, [{"email": "ana@example.com"}], format="json")

    assert response.status_code == 400
    assert counts() == (0, 0)


# POST /events/ -----------------------------------------------------------------------------


def test_events_create_unknown_leads_and_count_what_they_did(integration, a_lead):
    batch = [
        event("LIA@example.com", "pricing_page_view", properties={"plan": "pro"}),
        event("new@example.com", "demo_request", external_id="form-1"),
        event("new@example.com", "page_view"),
    ]

    response = api(integration).post(EVENTS, batch, format="json")

    assert response.status_code == 201
    assert response.json() == {
        "created": 3,
        "duplicates": 0,
        "leads_created": 1,
        "duplicate_indexes": [],
    }
    assert counts() == (2, 3)
    assert a_lead.events.get().properties == {"plan": "pro"}
    assert Lead.objects.get(email="new@example.com").events.count() == 2


def test_an_event_sent_twice_with_one_external_id_is_stored_once(integration):
    client = api(integration)
    item = event(type="demo_request", external_id="crm-42")

    first = client.post(EVENTS, [item], format="json")
    second = client.post(EVENTS, [item, {**item, "type": "page_view"}], format="json")

    assert first.json() == {
        "created": 1,
        "duplicates": 0,
        "leads_created": 1,
        "duplicate_indexes": [],
    }
    assert second.status_code == 201
    assert second.json() == {
        "created": 0,
        "duplicates": 2,
        "leads_created": 0,
        "duplicate_indexes": [0, 1],
    }
    assert counts() == (1, 1)


def test_a_blank_external_id_is_no_id(integration):
    client = api(integration)

    client.post(EVENTS, [event(external_id=""), event(external_id=None)], format="json")

    assert LeadEvent.objects.filter(external_id__isnull=True).count() == 2


@pytest.mark.parametrize(
    "bad, field, message",
    [
        (
            {"type": "foo"},
            "type",
            "Unknown event type 'foo'. Known: contact_sales, content_download",
        ),
        ({"type": ["page_view"]}, "type", "valid string"),
        ({"email": "nobody-at-example"}, "email", "valid email"),
        ({"email": None}, "email", "may not be null"),
        ({"occurred_at": "yesterday"}, "occurred_at", "wrong format"),
        ({"occurred_at": "2026-13-40T10:00:00Z"}, "occurred_at", "wrong format"),
        ({"occurred_at": 1764000000}, "occurred_at", "wrong format"),
        (
            {"occurred_at": "2026-11-26T14:00:00"},
            "occurred_at",
            "Include a time zone, e.g. 2026-11-26T14:00:00Z",
        ),
        ({"occurred_at": "2026-11-26"}, "occurred_at", "Include a time zone"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at", "in the future"),
        ({"properties": ["plan", "pro"]}, "properties", "JSON object"),
        ({"properties": "plan=pro"}, "properties", "JSON object"),
        ({"external_id": "x" * 201}, "external_id", "no more than 200"),
        ({"occurred_at": None}, "occurred_at", "may not be null"),
        ({"campaign": "fall"}, "campaign", "Unknown field. Put custom data in properties."),
    ],
)
def test_one_bad_event_refuses_the_whole_batch_by_index_and_field(integration, bad, field, message):
    batch = [event("good@example.com"), {**event("other@example.com"), **bad}, event()]

    response = api(integration).post(EVENTS, batch, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["1"]
    assert message in " ".join(errors["1"][field])
    assert counts() == (0, 0)


def test_a_missing_field_is_reported_for_its_item(integration):
    batch = [event(), {"email": "ana@example.com", "type": "page_view"}, {"type": "x"}]

    errors = api(integration).post(EVENTS, batch, format="json").json()["errors"]

    assert errors["1"] == {"occurred_at": ["This field is required."]}
    assert set(errors["2"]) == {"email", "type", "occurred_at"}
    assert counts() == (0, 0)


def test_an_item_that_is_not_an_object_is_reported_by_index(integration):
    response = api(integration).post(EVENTS, [event(), "page_view"], format="json")

    assert response.status_code == 400
    assert "1" in response.json()["errors"]
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "body, message",
    [
        ([], "The list is empty"),
        ({"email": "ana@example.com", "type": "page_view"}, "Send a JSON list of events."),
        ("page_view", "Send a JSON list of events."),
    ],
)
def test_an_empty_batch_or_no_list_gets_400(integration, body, message):
    response = api(integration).post(EVENTS, body, format="json")

    assert response.status_code == 400
    assert message in response.json()["errors"]["batch"][0]
    assert counts() == (0, 0)


def test_a_batch_of_1001_events_gets_400_and_stores_nothing(integration):
    batch = [event(f"p{i}@example.com") for i in range(1001)]

    response = api(integration).post(EVENTS, batch, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["batch"] == [
        "Send at most 1,000 events per request; this batch has 1,001."
    ]
    assert counts() == (0, 0)


def test_a_batch_of_1000_events_is_stored(integration):
    batch = [event(f"p{i % 10}@example.com", external_id=f"e{i}") for i in range(1000)]

    response = api(integration).post(EVENTS, batch, format="json")

    assert response.json() == {
        "created": 1000,
        "duplicates": 0,
        "leads_created": 10,
        "duplicate_indexes": [],
    }


def test_event_types_come_from_the_sla_in_force(
    agreement, draft, marketing_manager, sales_manager, integration
):
    QualificationSettings.objects.filter(version=draft).update(custom_event_types=["trial_start"])
    client = api(integration)

    # Only a draft has it so far.
    assert client.post(EVENTS, [event(type="trial_start")], format="json").status_code == 400
    publish(draft, marketing_manager, sales_manager)

    assert client.post(EVENTS, [event(type="trial_start")], format="json").status_code == 201


# GET /leads/ -------------------------------------------------------------------------------


def test_the_list_filters_by_stage_owner_and_updated_since(owned_leads, marketing_manager):
    later, _ = lead_upsert(email="later@example.com", fields={})
    Lead.objects.filter(pk=later.pk).update(updated_at=timezone.now() + timedelta(hours=2))
    client = api(marketing_manager)

    def emails(**params):
        response = client.get(LEADS, params)
        assert response.status_code == 200, response.json()
        return {row["email"] for row in response.json()["results"]}

    assert emails(stage="mql") == {"first@example.com", "second@example.com"}
    assert emails(stage="lead") == {"later@example.com"}
    assert emails(owner="otto") == {"second@example.com"}
    assert emails(owner="nobody") == set()
    since = iso(timezone.now() + timedelta(hours=1))
    assert emails(updated_since=since) == {"later@example.com"}
    # A '+' left unescaped in a query string arrives as a space.
    since = (timezone.now() + timedelta(hours=1)).isoformat()
    assert emails(updated_since=since.replace("+", " ")) == {"later@example.com"}


@pytest.mark.parametrize(
    "params, field, message",
    [
        (
            {"stage": "hot"},
            "stage",
            "Unknown stage 'hot'. Choose one of: lead, mql, sql, opportunity, customer.",
        ),
        ({"updated_since": "last week"}, "updated_since", "wrong format"),
        ({"updated_since": "2026-11-26T14:00:00"}, "updated_since", "Include a time zone"),
    ],
)
def test_bad_filters_get_400_naming_what_is_allowed(viewer, params, field, message):
    response = api(viewer).get(LEADS, params)

    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_the_list_is_paginated(marketing_manager):
    for index in range(25):
        lead_upsert(email=f"p{index}@example.com", fields={})
    client = api(marketing_manager)

    first = client.get(LEADS, {"page_size": 20}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert len(second["results"]) == 5
    assert second["next"] is None
    seen = {row["id"] for row in first["results"] + second["results"]}
    assert len(seen) == 25
    assert len(client.get(LEADS).json()["results"]) == 25  # default page size 50


def test_the_list_takes_a_fixed_number_of_queries(
    published, sales_rep, other_rep, sales_manager, viewer, django_assert_max_num_queries
):
    for index in range(20):
        lead, _ = lead_upsert(email=f"p{index}@example.com", fields={})
        handoff_manual(lead=lead, version=published, by=sales_manager)
    client = api(viewer)

    # Token and user, roles, count, page with owners, stage labels.
    with django_assert_max_num_queries(6):
        response = client.get(LEADS, {"page_size": 20})

    assert len(response.json()["results"]) == 20
    assert {row["owner"] for row in response.json()["results"]} == {"rita", "otto"}


def test_stage_labels_come_from_the_sla_in_force(published, a_lead, viewer):
    row = api(viewer).get(LEADS).json()["results"][0]

    assert (row["stage"], row["stage_label"]) == ("lead", "Lead")
    assert api(viewer).get(detail(a_lead.pk)).json()["stage_label"] == "Lead"


def test_without_an_sla_in_force_stages_keep_their_default_labels(a_lead, viewer):
    body = api(viewer).get(detail(a_lead.pk)).json()

    assert body["stage_label"] == "Lead"
    assert body["score_breakdown"] == []
    assert body["handoff"] is None


# The lead engine through the API -----------------------------------------------------------


def publish(version, marketing_manager, sales_manager):
    sla.version_submit(version=version, by=marketing_manager, change_note="Rules")
    sla.version_approve(version=version, by=marketing_manager, side="marketing")
    sla.version_approve(version=version, by=sales_manager, side="sales")


def sla_with_demo_trigger(draft, marketing_manager, sales_manager):
    """A good fit and a demo request make an MQL, and a demo request goes to sales at once."""
    FitRule.objects.create(
        version=draft, attribute="title", operator="contains", value="head", points=20
    )
    FitRule.objects.create(
        version=draft, attribute="company_size", operator="lt", value="10", points=-15
    )
    InterestRule.objects.create(version=draft, event_type="demo_request", points=30)
    QualificationSettings.objects.filter(version=draft).update(mql_min_fit=15, mql_min_interest=20)
    HandoffPolicy.objects.filter(version=draft).update(
        trigger_events=["demo_request"], response_target_hours=4
    )
    publish(draft, marketing_manager, sales_manager)


# A Friday afternoon in the SLA's default calendar (Mon–Fri, 9:00–18:00 UTC).
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def test_done_when_a_posted_lead_with_a_demo_request_is_scored_and_handed_to_a_rep(
    agreement, draft, marketing_manager, sales_manager, sales_rep, integration
):
    with time_machine.travel(FRIDAY_4PM, tick=False):
        sla_with_demo_trigger(draft, marketing_manager, sales_manager)
        client = api(integration)
        posted = client.post(
            LEADS,
            {"email": "ana@acme.com", "title": "Head of Growth", "company_size": 300},
            format="json",
        )
        demo = {"email": "ana@acme.com", "type": "demo_request", "occurred_at": iso(FRIDAY_4PM)}
        assert client.post(EVENTS, [demo], format="json").status_code == 201

        pipeline_run()

        body = client.get(detail(posted.json()["id"])).json()
    assert body["stage"] == "mql"
    assert body["owner"] == "rita"
    assert (body["fit_score"], body["interest_score"], body["score"]) == (20, 30, 50)
    assert {(line["kind"], line["points"]) for line in body["score_breakdown"]} == {
        ("fit", 20),
        ("interest", 30),
    }
    handoff = body["handoff"]
    assert handoff["rep"] == "rita"
    assert handoff["status"] == "open"
    assert parse_datetime(handoff["handed_off_at"]) == FRIDAY_4PM
    # Four business hours: 16:00–18:00 on Friday, then 9:00–11:00 on Monday.
    assert parse_datetime(handoff["due_at"]) == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    # The rep's own token now finds the lead in the rep's list.
    rows = api(sales_rep).get(LEADS).json()["results"]
    assert [row["email"] for row in rows] == ["ana@acme.com"]


def test_the_score_breakdown_names_each_rule(
    agreement, draft, marketing_manager, sales_manager, integration
):
    sla_with_demo_trigger(draft, marketing_manager, sales_manager)
    client = api(integration)
    posted = client.post(LEADS, {"email": "bo@tiny.io", "company_size": 3}, format="json")
    client.post(EVENTS, [event("bo@tiny.io", "demo_request")] * 2, format="json")

    breakdown = client.get(detail(posted.json()["id"])).json()["score_breakdown"]

    assert breakdown == [
        {
            "rule": "Company size (employees) less than 10",
            "kind": "fit",
            "points": -15,
            "occurrences": 1,
        },
        {"rule": "Demo request", "kind": "interest", "points": 60, "occurrences": 2},
    ]


def test_the_schema_documents_the_event_batch_as_a_list(viewer):
    api = APIClient()
    api.force_login(viewer)  # the schema is served to logged-in users and tokens only
    schema = api.get("/api/schema/", {"format": "json"}).json()

    body = schema["paths"]["/api/v1/events/"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["type"] == "array"
    assert "/api/v1/leads/{id}/" in schema["paths"]


def test_the_lead_detail_takes_the_same_queries_for_5_and_80_events(
    published, a_lead, viewer, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(viewer)

    def queries_for_detail() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail(a_lead.pk)).status_code == 200
        return len(queries)

    client.post(EVENTS, [event(email=a_lead.email) for _ in range(5)], format="json")
    queries_for_detail()  # the version's rules are read once per process, then memoised
    few = queries_for_detail()
    client.post(EVENTS, [event(email=a_lead.email) for _ in range(75)], format="json")
    with django_assert_max_num_queries(15):
        assert queries_for_detail() == few
