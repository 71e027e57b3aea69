"""By keyboard: the first Tab reaches the skip link, which takes focus past the menu."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_the_first_tab_offers_to_skip_the_menu_and_enter_lands_in_the_page(
    page, live_server, sales_rep
):
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/leads/queue/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring, not the browser's faint default
    screenshot(page, "keyboard-skip-link")
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


# Whole journeys by keyboard alone: Tab, Shift+Tab, Enter, Space and the arrow keys (and
# typing into a text box). After each step the test checks where the focus landed.


def _focused(page):
    return page.evaluate("() => document.activeElement")


def _is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def _tab_to(page, locator, *, key="Tab", limit=120):
    """Press Tab (or Shift+Tab) until the locator has the focus, as a person would."""
    for _ in range(limit):
        page.keyboard.press(key)
        if _is_focused(locator):
            return
    raise AssertionError(f"{key} never reached {locator}")


def _announced(page, words: str) -> None:
    expect(page.locator("#live-region")).to_contain_text(re.compile(words, re.I))


@pytest.fixture
def workspace(transactional_db, monkeypatch):
    import leads.demo
    from tests.walk import seed as _seed

    monkeypatch.setattr(leads.demo, "DEMO_LEADS", 60)
    monkeypatch.setattr(leads.demo, "DEMO_DAYS", 40)
    return _seed()


def _log_in_by_keyboard(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    _tab_to(page, page.locator("#id_username"))
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    expect(page.locator("#id_password")).to_be_focused()
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    expect(page.locator("#user-menu")).to_be_visible()


def test_a_rep_logs_an_attempt_accepts_and_returns_leads_by_keyboard_alone(
    page, live_server, workspace
):
    from leads.models import Handoff

    _log_in_by_keyboard(page, live_server, "rita")
    page.goto(f"{live_server.url}/leads/queue/")
    rows = page.locator("article[id^=handoff-]")
    assert rows.count() >= 2
    first_id = rows.nth(0).get_attribute("id")
    second_id = rows.nth(1).get_attribute("id")
    first, second = page.locator(f"#{first_id}"), page.locator(f"#{second_id}")

    # Log attempt: Enter opens the form in the row, and the focus goes to its first field.
    _tab_to(page, first.get_by_role("link", name="Log attempt"))
    page.keyboard.press("Enter")
    channel = first.locator("input[name=channel]:checked")
    expect(channel).to_be_focused()
    # The arrows pick another channel; the focus follows the choice.
    page.keyboard.press("ArrowRight")
    chosen = first.locator("input[name=channel]:checked")
    expect(chosen).to_be_focused()
    # Save without an outcome: refused, and the focus goes to the Outcome field, whose error
    # is tied to it.
    _tab_to(page, first.get_by_role("button", name="Save attempt"))
    page.keyboard.press("Enter")
    outcome = first.locator("select[name=disposition]")
    expect(outcome).to_be_focused()
    expect(outcome).to_have_attribute("aria-invalid", "true")
    described = outcome.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_contain_text("required")
    _announced(page, "Nothing was saved")
    # Pick an outcome with the arrows, Tab back past the note to Save, Space to press it.
    page.keyboard.press("ArrowDown")
    assert outcome.input_value() != ""
    _tab_to(page, first.get_by_role("button", name="Save attempt"))
    page.keyboard.press("Space")
    # Saved: the focus is back on the row, and the result is said once.
    expect(first).to_be_focused()
    expect(first.locator("[data-announce]")).to_be_visible()
    _announced(page, "Attempt logged")
    screenshot(page, "keyboard-attempt-logged")

    # Accept: from the row, Tab reaches the row's Accept; Space presses it.
    _tab_to(page, first.get_by_role("button", name="Accept"))
    page.keyboard.press("Space")
    expect(first).to_be_focused()
    expect(first).to_contain_text("Accepted")

    # Return the next lead: Enter opens the form with the focus on the reason.
    _tab_to(page, second.get_by_role("link", name="Return"))
    page.keyboard.press("Enter")
    reason = second.locator("select[name=reason]")
    expect(reason).to_be_focused()
    page.keyboard.press("ArrowDown")
    # Shift+Tab from the note goes back to the reason: the order of the form is the visual one.
    page.keyboard.press("Tab")
    expect(second.locator("textarea[name=note]")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(reason).to_be_focused()
    _tab_to(page, second.get_by_role("button", name="Return", exact=True))
    page.keyboard.press("Enter")
    expect(second).to_be_focused()
    expect(second).to_contain_text("Returned")
    screenshot(page, "keyboard-returned")

    pk = lambda element_id: int(element_id.rsplit("-", 1)[1])  # noqa: E731
    assert Handoff.objects.get(pk=pk(first_id)).accepted_at is not None
    assert Handoff.objects.get(pk=pk(second_id)).returned_at is not None


def test_a_manager_edits_a_part_and_submits_the_draft_by_keyboard_alone(
    page, live_server, workspace
):
    from agreements.models import AgreementVersion

    _log_in_by_keyboard(page, live_server, "marina")
    draft_url = f"/sla/{workspace.agreement}/versions/{workspace.draft}/"
    page.goto(live_server.url + draft_url)

    # The part's Edit link, then the first field of the form has a Tab stop of its own.
    _tab_to(page, page.get_by_role("link", name="Edit Shared goals"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/parts/goals/$"))
    field = page.locator("input[name=goal-0-name]")
    _tab_to(page, field)
    page.keyboard.press("Control+a")
    page.keyboard.type("Goals reviewed by keyboard")
    save = page.get_by_role("button", name="Save shared goals")
    _tab_to(page, save)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").first).to_be_visible()

    # Submit the draft: an empty change note is refused, with the focus on the note.
    page.goto(live_server.url + draft_url)
    note = page.locator("#id_change_note")
    _tab_to(page, note)
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    submit = page.get_by_role("button", name="Submit for approval")
    _tab_to(page, submit)
    page.keyboard.press("Enter")
    expect(note).to_be_focused()
    expect(note).to_have_attribute("aria-invalid", "true")
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("link", name=re.compile("Change note"))).to_be_visible()
    page.keyboard.type("Tighter first touch, agreed at the review")
    _tab_to(page, submit)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").first).to_contain_text("Submitted")
    assert AgreementVersion.objects.get(pk=workspace.draft).status == "submitted"
