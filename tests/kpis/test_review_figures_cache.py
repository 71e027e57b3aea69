"""The review's figures are rendered once per report and language, then served from each
process's fragment cache until a rollup rewrites the month. What depends on the reader or
the moment (the breached handoffs, the paused time, the meeting) is read on every request."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis import views
from kpis.rollups import rollup_backfill
from slaportal.roles import Role
from slaportal.workspace import workspace_update
from tests.factories import UserFactory

from .conftest import arrive, at
from .test_review_views import Tables, page

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def builds(monkeypatch):
    """How many times the page built its scorecard (one of the figures it caches)."""
    built = []
    scorecard = views._scorecard

    def counted(review):
        built.append(review.month)
        return scorecard(review)

    monkeypatch.setattr(views, "_scorecard", counted)
    return built


def leads_in_funnel(tables: Tables) -> str:
    return next(row[1] for row in tables.body("funnel-table") if row[0] == "Leads")


def test_a_second_view_of_the_month_reuses_its_rendered_figures(
    october, client_for, viewer, sales_manager, builds
):
    first = page(client_for(viewer))
    again = page(client_for(sales_manager))
    assert len(builds) == 1
    # The same figures; the meeting's record below them is the manager's own (they may edit).
    figures = {name for name in first.tables if name != "actions-table"}
    assert {name: again.tables[name] for name in figures} == {
        name: first.tables[name] for name in figures
    }
    assert {"funnel-table", "reps-table", "breaches-table", "velocity-table"} <= figures
    assert leads_in_funnel(again) == "5"


def test_a_rollup_that_rewrites_the_month_shows_its_new_figures(
    october, client_for, viewer, builds
):
    client = client_for(viewer)
    assert leads_in_funnel(page(client)) == "5"
    with time_machine.travel(at(9, 10), tick=False):
        arrive("l7@x.com", at(9, 10), demo=False)
    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 10, 31))
    assert leads_in_funnel(page(client)) == "6"
    assert len(builds) == 2


def test_each_language_has_its_own_figures(october, client_for, viewer, builds):
    client = client_for(viewer)
    english = client.get("/review/2026-10/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    portuguese = client.get("/review/2026-10/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Compliance by rep" in english and "Compliance by rep" not in portuguese
    assert len(builds) == 2


def test_a_new_workspace_currency_renders_the_figures_again(october, client_for, viewer, builds):
    client = client_for(viewer)
    page(client)
    workspace_update(currency="BRL")
    page(client)
    assert len(builds) == 2


def test_breaches_are_the_readers_own_even_when_a_manager_filled_the_cache(
    october, client_for, marketing_manager, rep, builds
):
    other_rep = UserFactory(username="renata", first_name="Renata", role=Role.SALES_REP)
    manager_view = page(client_for(marketing_manager))
    assert [row[0] for row in manager_view.body("breaches-table")] == ["l2@x.com"]
    other_view = page(client_for(other_rep))
    assert other_view.body("breaches-table") == [
        ["No handoff breached its first-touch target this month."]
    ]
    # The team's figures are the same for every reader, and were built once.
    assert other_view.body("reps-table") == manager_view.body("reps-table")
    assert [row[0] for row in page(client_for(rep)).body("breaches-table")] == ["l2@x.com"]
    assert len(builds) == 1


def test_a_month_with_no_rollups_is_rendered_for_every_request(sla, client_for, viewer, builds):
    client = client_for(viewer)
    page(client)
    page(client)
    assert len(builds) == 2
