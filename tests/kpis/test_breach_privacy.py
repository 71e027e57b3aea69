"""Reps see only their own leads in the review's breached handoffs (issue 7, item 5): on the
page, in breaches.csv and in the PDF pack; managers and viewers see the whole team's."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis import exports
from kpis.rollups import rollup_backfill
from leads.services import handoffs as hs
from slaportal.roles import Role
from tests.factories import UserFactory

from .conftest import arrive, at

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
BOTH = {"l2@x.com", "rui-lead@x.com"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=SP), tick=False):
        yield


@pytest.fixture
def rui(db):
    return UserFactory(username="rui", first_name="Rui", last_name="Alves", role=Role.SALES_REP)


@pytest.fixture
def two_reps_breached(october, rui):
    """Rita's l2@x.com breached on 6 October (fixture); Rui's lead breaches on the 20th."""
    arrive("rui-lead@x.com", at(20, 10))
    hs.breaches_flag(now=at(20, 15))
    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 10, 31))
    return october


@pytest.fixture
def as_user(client_for, request):
    return lambda name: client_for(request.getfixturevalue(name))


def page_leads(client) -> set[str]:
    response = client.get("/review/2026-10/")
    return {breach.lead for breach in response.context["review"].breaches}


def csv_leads(client) -> set[str]:
    text = client.get("/review/2026-10/breaches.csv").content.decode()[1:]
    return {row["lead"] for row in csv.DictReader(io.StringIO(text))}


def pdf_leads(client, monkeypatch) -> set[str]:
    seen = {}
    render = exports.review_pdf

    def spy(review):
        seen["rows"] = exports.tables(review)["breaches"].rows
        return render(review)

    monkeypatch.setattr(exports, "review_pdf", spy)
    assert client.get("/review/2026-10/pack.pdf").content.startswith(b"%PDF")
    return {row[0] for row in seen["rows"]}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rep", {"l2@x.com"}),
        ("rui", {"rui-lead@x.com"}),
        ("sales_manager", BOTH),
        ("marketing_manager", BOTH),
        ("viewer", BOTH),
    ],
)
def test_breached_handoffs_list_only_the_leads_a_user_may_see(
    two_reps_breached, as_user, monkeypatch, who, expected
):
    client = as_user(who)
    assert page_leads(client) == expected
    assert csv_leads(client) == expected
    assert pdf_leads(client, monkeypatch) == expected
    html = client.get("/review/2026-10/").content.decode()
    for hidden in BOTH - expected:
        assert hidden not in html


def test_a_rep_still_sees_the_teams_breach_count(two_reps_breached, as_user):
    # The figures are the team's; only the leads' identities are private.
    response = as_user("rep").get("/review/2026-10/")
    assert response.context["report"].totals["breached"] == 2
