"""Consent and nurture entry: unsubscribes stop nurture at once, managers export and erase
a lead's personal data (audited), new leads below MQL enter the "below MQL" track, and the
score breakdown names and replays the version that produced the score."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agreements import models as am
from agreements import services as sla_services
from leads.delivery import MemoryDelivery
from leads.models import AuditEntry, ContactAttempt, Lead, LeadEvent, NurtureEnrollment, Stage
from leads.services.consent import erased_email
from leads.services.handoffs import attempt_log
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.nurture import nurture_advance, nurture_enrol
from leads.services.pipeline import pipeline_run
from slaportal.outbox import outbox_deliver

pytestmark = pytest.mark.django_db


def new_lead(email="ana@example.com", *, title="Analyst", events=("pricing_page_view",)):
    now = timezone.now()
    lead, _ = lead_upsert(
        email=email,
        fields={"first_name": "Ana", "last_name": "Souza", "title": title, "phone": "+55 11 9"},
        now=now,
    )
    events_ingest(
        events=[
            EventInput(email=email, type=t, occurred_at=now, properties={"page": "/pricing"})
            for t in events
        ],
        now=now,
    )
    return lead


def below_mql_track(version):
    return am.NurtureTrack.objects.get(version=version, entry_condition="below_mql")


# Item 6: the "new lead below MQL" entry ---------------------------------------------------------


def test_a_new_lead_below_mql_is_enrolled_in_the_below_mql_track_once(sla, clock):
    lead = new_lead()
    result = pipeline_run()
    enrollment = NurtureEnrollment.objects.get(lead=lead)
    assert result.nurtured == 1
    assert enrollment.track == below_mql_track(sla)
    assert enrollment.automatic and enrollment.completed_at is None
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NURTURING
    # Idempotent: more activity and a full re-score enrol nobody twice.
    events_ingest(
        events=[EventInput(email=lead.email, type="page_view", occurred_at=timezone.now())],
        now=timezone.now(),
    )
    assert pipeline_run().nurtured == 0
    assert pipeline_run(all_leads=True).nurtured == 0
    assert NurtureEnrollment.objects.filter(lead=lead).count() == 1


def test_leads_that_reach_mql_or_are_handed_off_are_not_enrolled(sla, handoff):
    assert not NurtureEnrollment.objects.filter(lead=handoff.lead).exists()


def test_a_nurtured_new_lead_that_crosses_mql_is_promoted_and_leaves_the_track(sla, clock):
    lead = new_lead(title="IT Director")  # fit 20, interest 5: below MQL (10 + 10)
    pipeline_run()
    assert NurtureEnrollment.objects.get(lead=lead).completed_at is None
    events_ingest(
        events=[EventInput(email=lead.email, type="pricing_page_view", occurred_at=timezone.now())]
        * 1,
        now=timezone.now(),
    )
    events_ingest(
        events=[
            EventInput(
                email=lead.email,
                type="pricing_page_view",
                occurred_at=timezone.now() + timedelta(seconds=1),
            )
        ],
        now=timezone.now(),
    )
    pipeline_run()
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    assert NurtureEnrollment.objects.get(lead=lead).completed_at is not None


# Item 7: unsubscribe --------------------------------------------------------------------------


def test_an_unsubscribe_stops_nurture_at_once_and_marks_the_lead(sla, clock, settings):
    settings.NURTURE_DELIVERY_BACKEND = "leads.delivery.MemoryDelivery"
    MemoryDelivery.sent.clear()
    lead = new_lead()
    pipeline_run()
    enrollment = NurtureEnrollment.objects.get(lead=lead)
    events_ingest(
        events=[EventInput(email=lead.email, type="unsubscribe", occurred_at=timezone.now())],
        now=timezone.now(),
    )
    # Before the pipeline has even run, the due step is not sent.
    assert nurture_advance(now=timezone.now() + timedelta(days=30)) == 0
    assert MemoryDelivery.sent == []
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None

    assert pipeline_run().unsubscribed == 1
    lead.refresh_from_db()
    assert lead.unsubscribed_at == timezone.now()
    assert lead.status == Lead.Status.OPEN
    assert pipeline_run(all_leads=True).unsubscribed == 0  # marked once


def test_a_step_due_before_an_unsubscribe_is_not_sent_after_it(sla, clock, settings):
    """The step was claimed and queued in the outbox; the unsubscribe arrived before delivery."""
    settings.NURTURE_DELIVERY_BACKEND = "leads.delivery.MemoryDelivery"
    MemoryDelivery.sent.clear()
    lead = new_lead()
    pipeline_run()
    assert nurture_advance(now=timezone.now() + timedelta(days=30)) == 1
    events_ingest(
        events=[EventInput(email=lead.email, type="unsubscribe", occurred_at=timezone.now())],
        now=timezone.now(),
    )
    outbox_deliver()
    assert MemoryDelivery.sent == []


def test_the_pipeline_ends_an_unsubscribed_leads_enrolment(sla, clock):
    lead = new_lead()
    pipeline_run()
    events_ingest(
        events=[EventInput(email=lead.email, type="unsubscribe", occurred_at=timezone.now())],
        now=timezone.now(),
    )
    pipeline_run()
    assert not NurtureEnrollment.objects.filter(lead=lead, completed_at__isnull=True).exists()


def test_an_unsubscribed_lead_is_never_enrolled_again(sla, clock, sales_rep):
    lead = new_lead(events=("unsubscribe",))
    pipeline_run()
    lead.refresh_from_db()
    assert lead.unsubscribed_at is not None
    assert not NurtureEnrollment.objects.filter(lead=lead).exists()
    track = am.NurtureTrack.objects.get(version=sla, name="Re-engagement")
    assert nurture_enrol(lead=lead, track=track, automatic=True) is None
    with pytest.raises(ValidationError, match="unsubscribed"):
        nurture_enrol(lead=lead, track=track, automatic=False, by=sales_rep)


def test_the_lead_page_shows_the_unsubscribe(sla, clock, client_for, viewer):
    lead = new_lead(events=("unsubscribe",))
    pipeline_run()
    page = client_for(viewer).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Unsubscribed" in page


# Item 7: export and erasure ---------------------------------------------------------------------


def test_a_manager_exports_everything_held_about_a_lead_and_it_is_audited(
    handoff, client_for, marketing_manager
):
    attempt_log(
        handoff=handoff, channel="phone", disposition="no_answer", note="Rang", by=handoff.rep
    )
    response = client_for(marketing_manager).get(reverse("leads:export", args=[handoff.lead_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["lead"]["email"] == handoff.lead.email
    assert set(data) >= {
        "lead",
        "events",
        "stage_changes",
        "handoffs",
        "contact_attempts",
        "nurture_enrolments",
        "notifications",
    }
    assert {e["type"] for e in data["events"]} == {"pricing_page_view", "demo_request"}
    assert data["handoffs"][0]["rep__username"] == handoff.rep.username
    assert data["contact_attempts"][0]["note"] == "Rang"
    assert data["notifications"]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.lead_id, entry.by) == ("export", handoff.lead_id, marketing_manager)


def test_a_manager_erases_a_lead_keeping_its_counts(handoff, client_for, sales_manager):
    lead = handoff.lead
    attempt_log(
        handoff=handoff, channel="phone", disposition="no_answer", note="Ana's cell", by=handoff.rep
    )
    stage, events, attempts = lead.stage, lead.events.count(), ContactAttempt.objects.count()
    response = client_for(sales_manager).post(
        reverse("leads:erase", args=[lead.pk]), {"confirm": "erase"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.email == erased_email(lead.pk) == f"erased-{lead.pk}@invalid"
    assert (lead.first_name, lead.last_name, lead.phone, lead.title) == ("", "", "", "")
    assert lead.attributes == {}
    assert lead.unsubscribed_at is not None
    assert all(e.properties == {} for e in LeadEvent.objects.filter(lead=lead))
    assert ContactAttempt.objects.get().note == ""
    assert "Ana" not in " ".join(lead_notifications(lead))
    # What the figures count stays.
    assert lead.stage == stage and lead.handoffs.count() == 1 and lead.company == "Globex"
    assert lead.events.count() == events and ContactAttempt.objects.count() == attempts
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.lead_id, entry.by) == ("erase", lead.pk, sales_manager)


def lead_notifications(lead):
    from leads.models import Notification

    return list(Notification.objects.filter(lead=lead).values_list("message", flat=True))


def test_erasure_asks_for_confirmation_and_only_by_post(handoff, client_for, marketing_manager):
    client = client_for(marketing_manager)
    url = reverse("leads:erase", args=[handoff.lead_id])
    assert client.get(url).status_code == 405
    response = client.post(url, {}, follow=True)
    assert "Tick the confirmation" in response.content.decode()
    assert Lead.objects.get(pk=handoff.lead_id).email == handoff.lead.email
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("role", ["sales_rep", "viewer"])
def test_reps_and_viewers_may_not_export_or_erase(handoff, client_for, request, role):
    user = request.getfixturevalue(role)
    client = client_for(user)
    lead = handoff.lead
    assert client.get(reverse("leads:export", args=[lead.pk])).status_code == 403
    response = client.post(reverse("leads:erase", args=[lead.pk]), {"confirm": "erase"})
    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).email == lead.email
    assert not AuditEntry.objects.exists()


def test_anonymous_users_are_sent_to_log_in(handoff, client_for):
    response = client_for(None).get(reverse("leads:export", args=[handoff.lead_id]))
    assert response.status_code == 302


# Item 4: the breakdown follows the version that scored the lead -------------------------------


def test_the_breakdown_names_and_replays_the_scoring_and_handoff_versions(
    handoff, sla, client_for, viewer, marketing_manager, sales_manager
):
    lead = Lead.objects.get(pk=handoff.lead_id)
    assert lead.scored_version == sla
    # Version 2 doubles the demo request's points and is published; the lead is not rescored.
    draft = sla_services.amendment_start(agreement=sla.agreement, by=marketing_manager)
    am.InterestRule.objects.filter(version=draft, event_type="demo_request").update(points=60)
    sla_services.version_submit(version=draft, by=marketing_manager, change_note="v2")
    sla_services.version_approve(version=draft, by=marketing_manager, side="marketing")
    sla_services.version_approve(version=draft, by=sales_manager, side="sales")
    page = client_for(viewer).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Scored by v1, the version its handoff is measured against" in page
    assert "+30" in page and "+60" not in page
