"""GET /api/v1/kpis/: the monthly review's figures as JSON, checked against the October fixture."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from slaportal.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
KPIS = "/api/v1/kpis/"
NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture(autouse=True)
def frozen_now():
    # Goals are judged as of now: their pace and forecast depend on the day.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def integration(db):
    return UserFactory(username="webform", role=Role.INTEGRATION)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def october_figures(user):
    response = api(user).get(KPIS, {"month": "2026-10"})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_funnel_matches_the_hand_computed_october(october, viewer):
    body = october_figures(viewer)

    assert body["month"] == "2026-10"
    assert body["time_zone"] == "America/Sao_Paulo"
    assert [(s["stage"], s["count"]) for s in body["funnel"]] == [
        ("visitor", 1000),
        ("lead", 5),
        ("mql", 3),
        ("sql", 1),
        ("opportunity", 0),
        ("customer", 0),
    ]
    conversions = [s["conversion_from_previous"] for s in body["funnel"]]
    assert conversions == [None, 0.005, 0.6, pytest.approx(1 / 3), 0.0, None]


def test_sales_and_marketing_rates_are_fractions_of_one(october, viewer):
    body = october_figures(viewer)

    assert body["sla_compliance"] == 0.5
    assert body["speed_to_lead_minutes"] == {"median": 180, "p90": 300}
    assert body["attempts_per_lead"] == pytest.approx(2 / 3)
    assert body["mql_acceptance_rate"] == 0.5
    assert body["rejections_by_reason"] == {"bad_fit": 1}


def test_the_goal_shows_its_target_progress_and_status(october, viewer):
    (goal,) = october_figures(viewer)["goals"]

    assert goal["name"] == "60 MQLs in Q4"
    assert goal["metric"] == "mqls"
    assert (goal["target"], goal["actual"], goal["unit"]) == (60, 3, "MQLs")
    assert goal["status"] == "red"
    assert "forecast" in goal["detail"]


def test_percent_kpis_are_given_as_fractions_and_hours_stay_hours(october, viewer):
    kpis = {k["metric"]: k for k in october_figures(viewer)["kpis"]}

    compliance, speed = kpis["sla_compliance"], kpis["speed_to_lead"]
    assert (compliance["target"], compliance["actual"], compliance["unit"]) == (
        0.9,
        0.5,
        "fraction",
    )
    assert compliance["status"] == "red"
    assert compliance["previous"] is None and compliance["change"] is None
    assert (speed["target"], speed["actual"], speed["unit"], speed["status"]) == (
        2,
        3,
        "h",
        "amber",
    )


def test_an_empty_month_has_zero_counts_and_null_rates(october, viewer):
    response = api(viewer).get(KPIS, {"month": "2026-12"})

    body = response.json()
    assert [s["count"] for s in body["funnel"]] == [0] * 6
    assert [s["conversion_from_previous"] for s in body["funnel"]] == [None] * 6
    assert body["sla_compliance"] is None and body["mql_acceptance_rate"] is None
    assert body["attempts_per_lead"] is None
    assert body["speed_to_lead_minutes"] == {"median": None, "p90": None}
    assert {k["status"] for k in body["kpis"]} == {"grey"}
    assert all(k["actual"] is None for k in body["kpis"])


def test_without_any_sla_the_month_still_answers_with_zeros(viewer):
    body = october_figures(viewer)

    assert [s["count"] for s in body["funnel"]] == [0] * 6
    assert (body["goals"], body["kpis"], body["time_zone"]) == ([], [], "UTC")


@pytest.mark.parametrize(
    "query,message",
    [
        ({}, "Give the month as ?month=YYYY-MM, e.g. 2026-10."),
        ({"month": ""}, "Give the month as ?month=YYYY-MM, e.g. 2026-10."),
        ({"month": "2026-13"}, "'2026-13' is not a month: the month must be 01 to 12."),
        ({"month": "2026-00"}, "'2026-00' is not a month: the month must be 01 to 12."),
        ({"month": "2026-1"}, "'2026-1' is not a month: use YYYY-MM, e.g. 2026-11."),
        ({"month": "abc"}, "'abc' is not a month: use YYYY-MM, e.g. 2026-11."),
        ({"month": "2026-10-01"}, "'2026-10-01' is not a month: use YYYY-MM, e.g. 2026-11."),
        ({"month": "1999-12"}, "'1999-12' is out of range: choose a year from 2000 to 2100."),
    ],
)
def test_a_missing_malformed_or_impossible_month_is_a_400_with_a_message(viewer, query, message):
    response = api(viewer).get(KPIS, query)

    assert response.status_code == 400
    assert response.json() == {"month": [message]}


@pytest.mark.parametrize(
    "who",
    ["marketing_manager", "sales_manager", "sales_rep", "viewer", "integration", "superuser"],
)
def test_every_role_reads_the_figures_by_token(request, who):
    user = request.getfixturevalue(who)

    assert api(user).get(KPIS, {"month": "2026-10"}).status_code == 200


def test_a_signed_in_browser_reads_them_by_session(client_for, viewer):
    assert client_for(viewer).get(KPIS, {"month": "2026-10"}).status_code == 200


def test_a_user_without_a_role_is_refused(no_role_user):
    response = api(no_role_user).get(KPIS, {"month": "2026-10"})

    assert response.status_code == 403
    assert response.json() == {"detail": "Your role does not allow this."}


def test_anonymous_callers_are_asked_for_a_token(db):
    response = api().get(KPIS, {"month": "2026-10"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert client.get(KPIS, {"month": "2026-10"}).status_code == 401


def test_the_figures_are_read_only(marketing_manager):
    assert api(marketing_manager).post(KPIS, {}, format="json").status_code == 405


def test_the_schema_documents_the_month_and_the_response(viewer):
    api = APIClient()
    api.force_login(viewer)  # the schema is served to logged-in users and tokens only
    schema = api.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/kpis/"]["get"]
    month, agreement = sorted(operation["parameters"], key=lambda p: p["name"] != "month")
    assert (month["name"], month["in"], month["required"]) == ("month", "query", True)
    assert (agreement["name"], agreement["in"], agreement.get("required", False)) == (
        "agreement",
        "query",
        False,
    )
    assert "unknown id is refused with 400" in agreement["description"]
    assert "400" in operation["responses"]
    report = schema["components"]["schemas"]["MonthReport"]["properties"]
    for name in (
        "funnel",
        "sla_compliance",
        "speed_to_lead_minutes",
        "attempts_per_lead",
        "mql_acceptance_rate",
        "goals",
        "kpis",
    ):
        assert name in report
