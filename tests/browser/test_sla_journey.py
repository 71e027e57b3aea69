"""The SLA editor in a real browser: the amendment journey, htmx rows, previews, conflicts."""

import re

import pytest
from playwright.sync_api import expect

from agreements import models as m
from agreements.selectors import open_draft, version_in_force

from .conftest import screenshot

pytestmark = pytest.mark.browser


def alert(page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def part_url(live_server, version, slug: str) -> str:
    return f"{live_server.url}/sla/{version.agreement_id}/versions/{version.pk}/parts/{slug}/"


def log_out(page) -> None:
    page.locator("#user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#id_username")).to_be_visible()


def open_the_sla(page) -> None:
    page.locator("nav").get_by_role("link", name="The SLA", exact=True).click()


def mark_page(page) -> None:
    """A flag that survives htmx swaps but not a full page load."""
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__noReload === true"), "the page reloaded instead of swapping"


def test_manager_edits_a_part_both_approve_and_version_two_shows_the_change(
    page, live_server, login, published, agreement
):
    login(page, live_server, "sergio", "pass")
    open_the_sla(page)
    expect(page.locator("h1")).to_have_text(agreement.name)
    page.get_by_role("button", name="Start an amendment").click()
    expect(alert(page, "Draft amendment open")).to_be_visible()

    page.get_by_role("link", name="Edit Handoffs").click()
    target = page.get_by_label("First-touch target (business hours)")
    expect(target).to_have_value(re.compile(r"^4(\.0+)?$"))
    target.fill("3")
    page.get_by_role("button", name="Save handoffs").click()
    expect(alert(page, "Handoffs saved.")).to_be_visible()
    expect(page.get_by_label("First-touch target (business hours)")).to_have_value(
        re.compile(r"^3(\.0+)?$")
    )
    screenshot(page, "journey-part-editor-handoffs")

    page.get_by_role("link", name="Back to the draft").click()
    page.get_by_label("Change note").fill("Faster first touch: 3 business hours.")
    page.get_by_role("button", name="Submit for approval").click()
    expect(alert(page, "Submitted")).to_be_visible()
    page.get_by_role("button", name="Approve for sales").click()
    expect(alert(page, "Approved for sales. Waiting for the other side.")).to_be_visible()
    log_out(page)

    login(page, live_server, "marina", "pass")
    open_the_sla(page)
    page.get_by_role("link", name="Open the draft amendment").click()
    page.get_by_role("button", name="Approve for marketing").click()
    expect(alert(page, "v2 is published")).to_be_visible()

    open_the_sla(page)
    expect(page.locator(".badge", has_text="v2 · in force")).to_be_visible()
    v2 = version_in_force(agreement=agreement)
    assert v2.number == 2 and open_draft(agreement=agreement) is None

    page.get_by_role("link", name="History").click()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("h1")).to_have_text("What changed from v1 to v2")
    row = page.locator("#diff-handoff tr", has_text="First-touch target (business hours)")
    expect(row.locator("del")).to_have_text("4")
    expect(row.locator("ins")).to_have_text("3")
    screenshot(page, "journey-diff-v1-v2")


def test_adding_a_row_with_htmx_and_saving_it(page, live_server, login, draft):
    login(page, live_server, "marina", "pass")
    page.goto(part_url(live_server, draft, "qualification"))
    mark_page(page)

    page.get_by_role("button", name="Add a fit rule").click()
    rows = page.locator("#rows-fit .part-row")
    expect(rows).to_have_count(1)
    assert_not_reloaded(page)
    page.locator('[name="fit-0-attribute"]').select_option("title")
    page.locator('[name="fit-0-operator"]').select_option("contains")
    page.locator('[name="fit-0-value"]').fill("Director")
    page.locator('[name="fit-0-points"]').fill("15")
    page.get_by_role("button", name="Save lead qualification").click()
    expect(alert(page, "Lead qualification saved.")).to_be_visible()

    rule = m.FitRule.objects.get(version=draft)
    assert (rule.attribute, rule.operator, rule.value, rule.points) == (
        "title",
        "contains",
        "Director",
        15,
    )
    page.reload()
    expect(page.locator('[name="fit-0-value"]')).to_have_value("Director")

    page.locator("#rows-fit").get_by_label("Remove").check()
    page.get_by_role("button", name="Save lead qualification").click()
    expect(alert(page, "Lead qualification saved.")).to_be_visible()
    assert not m.FitRule.objects.filter(version=draft).exists()
    expect(page.locator("#rows-fit .part-row")).to_have_count(0)


def fill_new_kpi(page, *, metric: str, target: str, amber: str, red: str, owner: str) -> None:
    page.get_by_role("button", name="Add a KPI").click()
    expect(page.locator('[name="kpi-0-metric"]')).to_be_visible()
    page.locator('[name="kpi-0-metric"]').select_option(metric)
    page.locator('[name="kpi-0-target"]').fill(target)
    page.locator('[name="kpi-0-direction"]').select_option("higher")
    page.locator('[name="kpi-0-owner"]').select_option(owner)
    page.locator('[name="kpi-0-amber_threshold"]').fill(amber)
    page.locator('[name="kpi-0-red_threshold"]').fill(red)


def test_concurrent_edit_shows_a_conflict(
    new_page, live_server, login, draft, marketing_manager, sales_manager
):
    marina, sergio = new_page(), new_page()
    login(marina, live_server, "marina", "pass")
    login(sergio, live_server, "sergio", "pass")
    # Both load the same revision before either saves.
    marina.goto(part_url(live_server, draft, "kpis"))
    sergio.goto(part_url(live_server, draft, "kpis"))

    fill_new_kpi(marina, metric="mqls", target="100", amber="80", red="60", owner="marketing")
    marina.get_by_role("button", name="Save KPIs").click()
    expect(alert(marina, "KPIs saved.")).to_be_visible()

    fill_new_kpi(sergio, metric="sla_compliance", target="95", amber="90", red="80", owner="sales")
    sergio.get_by_role("button", name="Save KPIs").click()
    conflict = sergio.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Not saved")
    # His new row waits in the chooser beside hers; nothing is saved until he chooses.
    expect(conflict).to_contain_text("SLA compliance")
    expect(conflict).to_contain_text("MQLs")
    assert list(m.Kpi.objects.filter(version=draft).values_list("metric", flat=True)) == ["mqls"]
    conflict.get_by_role("button", name="Save with these choices").click()
    expect(alert(sergio, "KPIs saved.")).to_be_visible()
    assert set(m.Kpi.objects.filter(version=draft).values_list("metric", flat=True)) == {
        "mqls",
        "sla_compliance",
    }


def test_score_preview(page, live_server, login, draft):
    m.FitRule.objects.create(
        version=draft, attribute="title", operator="contains", value="Director", points=20
    )
    m.InterestRule.objects.create(version=draft, event_type="pricing_page_view", points=5)
    login(page, live_server, "marina", "pass")
    page.goto(part_url(live_server, draft, "qualification"))
    mark_page(page)

    page.locator("#id_title").fill("Marketing Director")
    page.locator('[name="events_pricing_page_view"]').fill("3")
    page.get_by_role("button", name="Score it").click()

    preview = page.locator("#score-preview")
    expect(preview.locator("tr", has_text="Job title contains Director")).to_contain_text("20")
    expect(preview.locator("tr", has_text="Pricing page view × 3")).to_contain_text("15")
    expect(preview).to_contain_text("Total")
    expect(preview).to_contain_text("35")
    assert_not_reloaded(page)


def test_funnel_planner_updates_live(page, live_server, login, draft):
    login(page, live_server, "marina", "pass")
    page.goto(part_url(live_server, draft, "goals"))
    mark_page(page)
    plan = page.locator("#funnel-plan")
    expect(plan).to_contain_text("to see the plan")

    for name, value in {
        "revenue_target": "1000000",
        "average_deal_size": "20000",
        "months": "10",
        "opportunity_to_win_rate": "25",
        "sql_to_opportunity_rate": "50",
        "mql_to_sql_rate": "40",
        "lead_to_mql_rate": "10",
    }.items():
        page.locator(f'[name="plan-{name}"]').fill(value)

    # 1,000,000 ÷ 20,000 = 50 deals ÷ 25 % = 200 ÷ 50 % = 400 SQLs ÷ 40 % = 1,000 MQLs ÷ 10 %.
    leads = plan.locator("tr", has_text="Leads")
    expect(leads).to_contain_text("10,000")
    expect(leads).to_contain_text("1,000.0")
    expect(plan.locator("tr", has_text="MQLs")).to_contain_text("1,000")
    assert_not_reloaded(page)
    # A preview only: nothing is saved until the manager presses save.
    assert m.FunnelPlan.objects.get(version=draft).revenue_target == 0


def test_rep_reads_but_cannot_edit(page, live_server, login, published, sales_rep):
    login(page, live_server, "rita", "pass")
    open_the_sla(page)
    expect(page.locator("#part-handoff")).to_contain_text("First-touch target (business hours)")
    expect(page.locator(".badge", has_text="v1 · in force")).to_be_visible()
    expect(page.get_by_role("button", name="Start an amendment")).to_have_count(0)

    response = page.goto(part_url(live_server, published, "handoff"))
    assert response.status == 403
