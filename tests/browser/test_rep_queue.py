"""A rep's morning: log in, see the queue ordered by urgency, log an attempt, the SLA is met."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agreements import models as am
from leads.models import Handoff
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import pipeline_run
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def handed_off(draft, published, sales_rep):
    """A published SLA where a demo request hands the lead to sales, and one such lead."""
    am.HandoffPolicy.objects.filter(version=published).update(
        trigger_events=["demo_request"], required_fields=[], notify_email=False
    )
    am.DispositionCode.objects.create(
        version=published, code="connected", label="Connected", is_conversation=True
    )
    lead_upsert(
        email="ana@globex.com",
        fields={"first_name": "Ana", "last_name": "Lima", "company": "Globex", "title": "CMO"},
    )
    events_ingest(events=[EventInput("ana@globex.com", "demo_request", occurred_at=timezone.now())])
    pipeline_run()
    return Handoff.objects.get()


def test_rep_logs_an_attempt_from_the_queue_and_the_handoff_is_met(
    page, live_server, login, handed_off, sales_rep
):
    assert handed_off.rep == sales_rep
    login(page, live_server, "rita")
    page.locator("nav").get_by_role("link", name="My queue").click()
    row = page.locator(f"#handoff-{handed_off.pk}")
    expect(row).to_contain_text("Ana Lima")
    expect(row).to_contain_text("Globex")
    row.get_by_role("link", name="Log attempt").click()
    row = page.locator(f"#handoff-{handed_off.pk}")
    row.get_by_text("Phone", exact=True).click()
    row.locator("select[name=disposition]").select_option("connected")
    row.get_by_role("button", name="Save attempt").click()
    expect(page.locator(f"#handoff-{handed_off.pk}")).to_contain_text("in time")
    screenshot(page, "rep-queue-after-attempt")
    handed_off.refresh_from_db()
    assert handed_off.status == "met" and handed_off.first_touch_at is not None
    assert handed_off.attempts.count() == 1
