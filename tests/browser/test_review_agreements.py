"""The review of several agreements in a real browser: the selector switches between all
agreements and one, and the choice stays in the URL."""

import re

import pytest
from playwright.sync_api import expect

from slaportal.roles import Role
from tests.factories import UserFactory
from tests.kpis.conftest import build_october, publish_october_sla
from tests.kpis.test_many_agreements import build_enterprise

from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def two_agreements(agreement, draft, marketing_manager, sales_manager, role_groups):
    rep = UserFactory(username="rita", first_name="Rita", last_name="Souza", role=Role.SALES_REP)
    version = publish_october_sla(draft, marketing_manager, sales_manager)
    build_october(rep)
    # Otto joins after Acme's October: its leads are all Rita's, as in tests/kpis.
    otto = UserFactory(username="otto", first_name="Otto", last_name="Lima", role=Role.SALES_REP)
    return build_enterprise(version, marketing_manager, sales_manager, rep, otto)


def test_a_manager_switches_the_review_between_all_agreements_and_one(
    page, live_server, login, two_agreements
):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "marina")
    page.goto(f"{live_server.url}/review/2026-10/")
    expect(page.locator("#all-agreements-note")).to_be_visible()
    expect(page.locator("#kpis-table .kpi-part")).to_have_count(4)
    screenshot(page, "review-all-agreements")

    page.get_by_label("Agreement", exact=True).select_option(label="Enterprise SLA")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/review/2026-10/\?agreement={two_agreements.pk}$"))
    expect(page.locator("#funnel-table")).to_contain_text("Leads")
    expect(page.locator("#notes-form")).to_be_visible()
    screenshot(page, "review-one-agreement")
    # The month picker keeps the agreement.
    page.locator("#month-picker").fill("2026-09")
    page.locator("#month-picker").press("Enter")
    expect(page).to_have_url(re.compile(rf"/review/2026-09/\?agreement={two_agreements.pk}$"))
    assert errors == []
