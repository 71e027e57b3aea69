"""By keyboard: the first Tab reaches the skip link, which takes focus past the menu."""

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
