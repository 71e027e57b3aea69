"""Availability and pauses in Chromium (issue 11): the people pages, an absence, the
unassigned queue, and a rep pausing the clock from the queue. Screenshots for people."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agreements import models as am
from leads.models import Handoff
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import pipeline_run
from people.models import RepProfile
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def _hand_off(version, email="ana@globex.com"):
    lead_upsert(
        email=email,
        fields={"first_name": "Ana", "last_name": "Lima", "company": "Globex", "title": "CMO"},
    )
    events_ingest(events=[EventInput(email, "demo_request", occurred_at=timezone.now())])
    pipeline_run()
    return Handoff.objects.get(lead__email=email)


@pytest.fixture
def sla(draft, published):
    am.HandoffPolicy.objects.filter(version=published).update(
        trigger_events=["demo_request"], required_fields=[], notify_email=False
    )
    return published


def test_a_sales_manager_manages_people_absences_and_the_unassigned_queue(
    page, live_server, login, sla, sales_manager, sales_rep
):
    RepProfile.objects.create(user=sales_rep, team="SMB", capacity=1)
    _hand_off(sla, "first@globex.com")  # Rita is now at capacity
    waiting = _hand_off(sla)
    assert waiting.rep is None

    login(page, live_server, "sergio")
    page.goto(f"{live_server.url}/people/")
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    page.locator("#id_email").fill("nina@example.com")
    page.locator("#id_first_name").fill("Nina")
    page.locator("#id_role").select_option("Sales rep")
    page.locator("#id_team").fill("Enterprise")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("body")).to_contain_text("nina@example.com was invited")
    screenshot(page, "people-index")

    page.goto(f"{live_server.url}/people/absences/")
    page.locator("#id_rep").select_option(label="Rita " + sales_rep.last_name)
    page.locator("#id_starts_at").fill("2030-01-06T09:00")
    page.locator("#id_ends_at").fill("2030-01-10T18:00")
    page.locator("#id_reason").fill("Holiday in the mountains")
    page.get_by_role("button", name="Save absence").click()
    expect(page.locator("body")).to_contain_text("Holiday in the mountains")
    screenshot(page, "people-absences")

    page.goto(f"{live_server.url}/people/unassigned/")
    expect(page.locator(f"#waiting-{waiting.pk}")).to_contain_text("Ana Lima")
    screenshot(page, "people-unassigned")


def test_a_rep_pauses_the_clock_from_the_queue(page, live_server, login, sla, sales_rep):
    handoff = _hand_off(sla)
    assert handoff.rep == sales_rep
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/leads/queue/")
    page.locator(f"#handoff-{handoff.pk}").get_by_role("link", name="Buyer asked to wait").click()
    # Three days on at noon: some business hours, and fewer than the SLA's longest pause (40).
    until = (timezone.localtime() + timezone.timedelta(days=3)).replace(hour=12, minute=0)
    page.locator("#id_until").fill(until.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_reason").fill("At a trade fair until Thursday")
    screenshot(page, "pause-form")
    page.get_by_role("button", name="Pause the clock").click()
    expect(page.locator(f"#handoff-{handoff.pk} [data-testid=paused]")).to_be_visible()
    screenshot(page, "queue-paused")
