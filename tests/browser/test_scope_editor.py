"""A manager edits an agreement's scope and the preview follows the rules as typed."""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Lead
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_the_scope_preview_follows_the_rules_as_typed(
    page, live_server, login, agreement, draft, marketing_manager
):
    now = timezone.now()
    for index, size in enumerate([5000, 1200, 40, 10, None]):
        Lead.objects.create(
            email=f"l{index}@example.com",
            email_normalised=f"l{index}@example.com",
            company_size=size,
            created_at=now,
            updated_at=now,
            lead_at=now,
        )
    login(page, live_server, "marina")
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "scope"])
    page.goto(f"{live_server.url}{url}")
    preview = page.get_by_test_id("scope-preview")
    expect(preview).to_contain_text("This scope covers 5 of 5 current leads.")
    page.get_by_role("button", name="Add a rule").click()
    page.locator("#id_scoperule-0-attribute").select_option("company_size")
    page.locator("#id_scoperule-0-operator").select_option("at_least")
    page.locator("#id_scoperule-0-value").fill("1000")
    expect(preview).to_contain_text("This scope covers 2 of 5 current leads.")
    expect(preview).to_contain_text("3 leads are covered by no agreement.")
    screenshot(page, "scope-editor")
