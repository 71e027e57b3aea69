"""The monthly review in a real browser: the charts are drawn, figures lead to their leads, and
a manager's action item is ticked off in place."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from agreements import models as am
from agreements import services as agreement_services
from kpis.models import VisitorCount
from kpis.rollups import rollup_backfill
from leads.models import Handoff
from leads.services import handoffs as hs
from slaportal.roles import Role
from tests.factories import UserFactory
from tests.kpis.conftest import arrive, at

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
    v = draft
    am.InterestRule.objects.create(version=v, event_type="demo_request", points=50)
    am.QualificationSettings.objects.filter(version=v).update(mql_min_fit=100, mql_min_interest=100)
    am.HandoffPolicy.objects.filter(version=v).update(
        trigger_on_score=False,
        trigger_events=["demo_request"],
        required_fields=[],
        response_target_hours=4,
        accept_window_hours=8,
        notify_email=False,
    )
    am.BusinessCalendar.objects.filter(version=v).update(time_zone="America/Sao_Paulo")
    am.ReturnReason.objects.create(version=v, code="bad_fit", label="Bad fit")
    am.DispositionCode.objects.create(
        version=v, code="connected", label="Connected", is_conversation=True
    )
    am.FunnelPlan.objects.filter(version=v).update(
        revenue_target=1_200_000,
        average_deal_size=20_000,
        months=12,
        opportunity_to_win_rate=25,
        sql_to_opportunity_rate=50,
        mql_to_sql_rate=40,
        lead_to_mql_rate=20,
    )
    am.Kpi.objects.create(
        version=v,
        metric="sla_compliance",
        target=90,
        direction="higher",
        owner="sales",
        amber_threshold=80,
        red_threshold=60,
        position=0,
    )
    am.Kpi.objects.create(
        version=v,
        metric="speed_to_lead",
        target=2,
        direction="lower",
        owner="sales",
        amber_threshold=3,
        red_threshold=4,
        position=1,
    )
    am.Goal.objects.create(
        version=v,
        name="60 MQLs in Q4",
        metric="mqls",
        target=60,
        unit="MQLs",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31),
    )
    with time_machine.travel(datetime(2026, 9, 1, 9, tzinfo=SP), tick=False):
        agreement_services.version_submit(version=v, by=marketing_manager, change_note="v1")
        agreement_services.version_approve(version=v, by=marketing_manager, side="marketing")
        agreement_services.version_approve(version=v, by=sales_manager, side="sales")

    def handoff(email):
        return Handoff.objects.get(lead__email=email)

    VisitorCount.objects.create(day=date(2026, 10, 5), source="website", visitors=1000)
    arrive("l5@x.com", at(30, 23, 30, month=9), demo=False)
    arrive("l1@x.com", at(5, 10))
    hs.attempt_log(
        handoff=handoff("l1@x.com"), channel="phone", disposition="connected", by=rep, now=at(5, 11)
    )
    hs.handoff_accept(handoff=handoff("l1@x.com"), by=rep, now=at(5, 12))
    arrive("l2@x.com", at(6, 10))
    hs.breaches_flag(now=at(6, 14, 30))
    hs.attempt_log(
        handoff=handoff("l2@x.com"), channel="phone", disposition="connected", by=rep, now=at(6, 15)
    )
    arrive("l3@x.com", at(7, 10), source="webinar")
    hs.handoff_reject(handoff=handoff("l3@x.com"), reason="bad_fit", by=rep, now=at(7, 11))
    arrive("l4@x.com", at(8, 10), demo=False)
    arrive("l6@x.com", at(31, 22), demo=False)
    rollup_backfill(since=date(2026, 9, 1), until=date(2026, 12, 31))
    return v


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
    page.get_by_role("button", name="Go").click()
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
