"""Wording slips on the rep's and the manager's pages (issue 12)."""

import pytest
from django.urls import reverse

from agreements import models as m
from leads.models import Handoff, HandoffAssignment, Notification
from slaportal.outbox import outbox_deliver

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_score_trigger_is_explained_once(handoff, sales_rep, client_for):
    Handoff.objects.filter(pk=handoff.pk).update(
        trigger=Handoff.Trigger.SCORE, trigger_detail="Reached the MQL threshold"
    )
    page = client_for(sales_rep).get(reverse("leads:queue")).content.decode()
    assert "Reached the MQL threshold" in page
    assert "(Reached the MQL threshold)" not in page


def test_an_event_trigger_still_names_its_event(handoff, sales_rep, client_for):
    Handoff.objects.filter(pk=handoff.pk).update(
        trigger=Handoff.Trigger.EVENT, trigger_detail="demo_request"
    )
    page = client_for(sales_rep).get(reverse("leads:queue")).content.decode()
    assert "Conversion event" in page and "(Demo request)" in page


def test_reject_does_not_offer_the_reasons_of_a_finished_cadence(handoff, sales_rep, client_for):
    m.ReturnReason.objects.create(
        version=handoff.version,
        position=9,
        code="no_response",
        label="No response after the full cadence",
    )
    client = client_for(sales_rep)
    reject = client.get(reverse("leads:reject", args=[handoff.pk]), **HTMX).content.decode()
    assert "Not ready to buy" in reject
    assert "No response after the full cadence" not in reject
    # Returning a lead after the cadence still offers it.
    back = client.get(reverse("leads:return", args=[handoff.pk]), **HTMX).content.decode()
    assert "No response after the full cadence" in back
    refused = client.post(
        reverse("leads:reject", args=[handoff.pk]), {"reason": "no_response"}, **HTMX
    )
    assert "Select a valid choice" in refused.content.decode()
    handoff.refresh_from_db()
    assert handoff.returned_at is None


def test_reassigning_to_the_rep_who_holds_the_lead_says_so_and_changes_nothing(
    handoff, sales_rep, sales_manager, client_for
):
    assignments = HandoffAssignment.objects.count()
    notices = Notification.objects.count()
    page = (
        client_for(sales_manager)
        .post(reverse("leads:reassign", args=[handoff.pk]), {"rep": sales_rep.pk}, **HTMX)
        .content.decode()
    )
    assert f"{handoff.lead} is already with Rita" in page and "nothing changed" in page
    assert "given to" not in page
    outbox_deliver()
    assert HandoffAssignment.objects.count() == assignments
    assert Notification.objects.count() == notices


def test_home_says_leads_with_sales(handoff, sales_manager, client_for):
    page = client_for(sales_manager).get("/").content.decode()
    assert "Leads with sales" in page and "sales's" not in page


def test_the_lead_history_keeps_the_mql_capitals_and_names_its_jobs(handoff, sales_rep, client_for):
    Handoff.objects.filter(pk=handoff.pk).update(trigger=Handoff.Trigger.SCORE, trigger_detail="")
    page = client_for(sales_rep).get(reverse("leads:detail", args=[handoff.lead_id])).content
    page = page.decode()
    assert "reached the MQL threshold" in page and "reached the mql threshold" not in page
    assert "by job " not in page


def test_a_nurture_steps_codes_read_as_labels():
    from leads.selectors import _describe_properties

    assert _describe_properties(
        {"offer": "E-book", "channel": "email", "journey_stage": "consideration"}
    ) == ("offer: E-book, channel: Email, journey stage: Consideration")
