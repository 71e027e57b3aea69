"""The monthly review in a real browser: the charts are drawn, figures lead to their leads, and
a manager's action item is ticked off in place."""

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from slaportal.roles import Role
from tests.factories import UserFactory
from tests.kpis.conftest import build_october, publish_october_sla

from .conftest import screenshot

pytestmark = pytest.mark.browser

SP = ZoneInfo("America/Sao_Paulo")
CHARTS = ["funnel-chart", "trends-chart", "reps-chart", "reasons-chart"]
ALL_CHARTS_DRAWN = (
    "ids => ids.every(id => typeof Chart !== 'undefined'"
    " && Chart.getChart(document.getElementById(id)) !== undefined)"
)


@pytest.fixture
def viewer(role_groups):
    return UserFactory(username="vera", first_name="Vera", role=Role.VIEWER)


@pytest.fixture
def rep(role_groups):
    return UserFactory(username="rita", first_name="Rita", last_name="Souza", role=Role.SALES_REP)


@pytest.fixture
def october(agreement, draft, marketing_manager, sales_manager, rep):
    """The hand-computed October 2026 of tests/kpis/conftest.py, built on transactional_db so
    the live server sees it: five leads, three handoffs (met, breached, rejected)."""
    version = publish_october_sla(draft, marketing_manager, sales_manager)
    build_october(rep)
    return version


def page_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_a_viewer_opens_october_and_sees_every_chart_drawn(
    page, live_server, login, october, viewer
):
    errors = page_errors(page)
    login(page, live_server, "vera")
    page.locator("nav").get_by_role("link", name="Monthly review").click()
    expect(page).to_have_url(re.compile(r"/review/\d{4}-\d{2}/$"))
    page.wait_for_function(ALL_CHARTS_DRAWN, arg=CHARTS)

    page.locator("#month-picker").fill("2026-10")
    page.get_by_role("button", name="Go", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/review/2026-10/")
    expect(page.locator("h1")).to_have_text("Monthly review: October 2026")

    page.wait_for_function(ALL_CHARTS_DRAWN, arg=CHARTS)
    for chart in CHARTS:
        assert page.evaluate(
            f"() => Chart.getChart(document.querySelector('#{chart}')) !== undefined"
        )
    assert page.evaluate("() => Chart.getChart('funnel-chart').data.datasets[0].data") == [
        5,
        3,
        1,
        0,
        0,
    ]
    assert page.evaluate("() => Chart.getChart('reps-chart').data.labels") == ["Rita Souza"]
    assert page.evaluate("() => Chart.getChart('trends-chart').data.datasets[3].data.at(-1)") == 50
    # A viewer reads: no forms to write notes, actions or amendments.
    expect(page.locator("#notes-form, #action-form, #propose-form")).to_have_count(0)
    expect(page.locator("#sales-summary")).to_contain_text("1 of 2 windows met")
    screenshot(page, "review")

    page.locator("#funnel-table").get_by_role("link", name="5", exact=True).click()
    expect(page.locator("h1")).to_have_text("Leads created in October 2026: 5 leads")
    expect(page.locator("#figure-leads tbody tr")).to_have_count(5)
    assert errors == []


def test_an_empty_month_still_draws_its_charts(page, live_server, login, october, viewer):
    errors = page_errors(page)
    login(page, live_server, "vera")
    page.goto(f"{live_server.url}/review/2027-03/")
    page.wait_for_function(ALL_CHARTS_DRAWN, arg=CHARTS)
    assert page.evaluate("() => Chart.getChart('reps-chart').data.labels") == []
    screenshot(page, "review-empty-month")
    assert errors == []


def test_a_manager_adds_an_action_item_and_ticks_it_off_in_place(
    page, live_server, login, october, viewer
):
    login(page, live_server, "marina")
    page.goto(f"{live_server.url}/review/2026-10/")
    page.get_by_label("Action").fill("Coach Rita on first touch")
    page.get_by_label("Owner").select_option(label="Rita Souza")
    page.get_by_label("Due date").fill("2099-01-31")
    page.get_by_role("button", name="Add").click()
    row = page.locator("#actions-table tr.action-item").filter(has_text="Coach Rita")
    expect(row).to_contain_text("open")

    page.evaluate("window.__noReload = true")
    row.get_by_role("button", name="Done").click()
    expect(row).to_have_class(re.compile(r"action-done"))
    expect(row.get_by_role("button", name="Reopen")).to_be_visible()
    assert page.evaluate("window.__noReload === true"), "the page reloaded instead of swapping"
    screenshot(page, "review-manager")
