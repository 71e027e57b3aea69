"""Issue 14 end to end: two managers settle a response target inside the product.

Marina (marketing) suggests a faster first touch on the sales-owned handoff part and mentions
Sergio; Sergio sees her there, answers in the thread and accepts; both sign; the published
version's decisions show the conversation. Then two saves of one part meet in the conflict
chooser, and both edits survive.
"""

import re

import pytest
from playwright.sync_api import expect

from agreements import models as m
from agreements import services
from agreements.selectors import open_draft, version_in_force

from .conftest import screenshot

pytestmark = pytest.mark.browser


def alert(page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def open_the_sla(page) -> None:
    page.locator("nav").get_by_role("link", name="The SLA", exact=True).click()


def test_two_managers_negotiate_a_response_target_through_a_suggestion(
    new_page, live_server, login, published, agreement
):
    marina, sergio = new_page(), new_page()
    login(marina, live_server, "marina", "pass")
    open_the_sla(marina)
    marina.get_by_role("button", name="Start an amendment").click()
    expect(alert(marina, "Draft amendment open")).to_be_visible()

    suggest = marina.locator("details").filter(has=marina.locator("#s-target-handoff"))
    suggest.locator("summary").click()
    marina.locator("#s-target-handoff").select_option("s:policy-response_target_hours")
    marina.locator("#s-value-handoff").fill("2")
    marina.locator("#s-reason-handoff").fill(
        "Demo requests go cold by lunch. @sergio can sales call within **2 hours**?"
    )
    suggest.get_by_role("button", name="Suggest").click()
    expect(alert(marina, "Suggestion sent")).to_be_visible()
    expect(marina.locator(".suggestion").first).to_contain_text("4.00 → 2")

    login(sergio, live_server, "sergio", "pass")
    open_the_sla(sergio)
    sergio.get_by_role("link", name="Open the draft amendment").click()
    expect(sergio.locator("#presence")).to_contain_text("Marina")
    thread = sergio.locator(".thread").filter(has_text="Suggestion:")
    expect(thread.locator(".mention")).to_have_text("@sergio")
    expect(thread.locator("strong")).to_have_text("2 hours")
    thread.get_by_label("Reply").fill("Yes until 16:00 on Fridays; *agreed*.")
    thread.get_by_role("button", name="Reply").click()
    expect(alert(sergio, "Comment added")).to_be_visible()
    screenshot(sergio, "negotiation-draft-with-threads")
    sergio.get_by_role("button", name="Accept suggestion").click()
    expect(alert(sergio, "Suggestion accepted")).to_be_visible()
    expect(sergio.locator("#conversation")).to_contain_text("Accepted")
    draft = open_draft(agreement=agreement)
    assert m.HandoffPolicy.objects.get(version=draft).response_target_hours == 2

    sergio.get_by_label("Change note").fill("First touch within 2 business hours.")
    sergio.get_by_role("button", name="Submit for approval").click()
    expect(alert(sergio, "Submitted")).to_be_visible()
    sergio.get_by_role("button", name="Approve for sales").click()
    marina.reload()
    marina.get_by_role("button", name="Approve for marketing").click()
    expect(alert(marina, "v2 is published")).to_be_visible()

    v2 = version_in_force(agreement=agreement)
    assert v2.number == 2
    marina.get_by_role("link", name="History").first.click()
    marina.get_by_role("link", name="Decisions").first.click()
    expect(marina.locator("h1")).to_have_text("How v2 was decided")
    expect(marina.locator(".decision").first).to_contain_text("First-touch target")
    expect(marina.locator("main")).to_contain_text("Yes until 16:00 on Fridays")
    expect(marina.locator("main")).to_contain_text("Accepted")
    screenshot(marina, "negotiation-v2-decisions")


def test_two_saves_of_one_part_meet_in_the_chooser_and_both_edits_survive(
    new_page, live_server, login, published, agreement, marketing_manager
):
    draft = services.amendment_start(agreement=agreement, by=marketing_manager)
    kpi = m.Kpi.objects.create(
        version=draft,
        metric="sla_compliance",
        target=90,
        direction="higher",
        owner="sales",
        amber_threshold=80,
        red_threshold=70,
    )
    url = f"{live_server.url}/sla/{agreement.pk}/versions/{draft.pk}/parts/kpis/"
    marina, sergio = new_page(), new_page()
    login(marina, live_server, "marina", "pass")
    login(sergio, live_server, "sergio", "pass")
    marina.goto(url)
    sergio.goto(url)

    marina.locator('[name="kpi-0-target"]').fill("95")
    marina.get_by_role("button", name="Save KPIs").click()
    expect(alert(marina, "KPIs saved.")).to_be_visible()

    sergio.locator('[name="kpi-0-amber_threshold"]').fill("85")
    sergio.get_by_role("button", name="Save KPIs").click()
    chooser = sergio.locator("#conflict-form")
    expect(chooser).to_be_visible()
    expect(sergio.locator("#conflict")).to_contain_text(re.compile("Not saved: Marina"))
    expect(chooser.get_by_label("85")).to_be_checked()
    expect(chooser.get_by_label("95")).to_be_checked()
    kpi.refresh_from_db()
    assert (kpi.target, kpi.amber_threshold) == (95, 80)
    screenshot(sergio, "negotiation-conflict-chooser")

    chooser.get_by_role("button", name="Save with these choices").click()
    expect(alert(sergio, "KPIs saved.")).to_be_visible()
    kpi.refresh_from_db()
    assert (kpi.target, kpi.amber_threshold) == (95, 85)
