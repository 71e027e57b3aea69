"""Lead-engine fixtures: a published SLA that hands off on a demo request, reps, and leads
handed to them through ingestion and the pipeline, on a frozen clock.

The draft is filled with the ORM, as the demo does (nothing is signed yet); it is then
submitted and approved through the services, so version 1 is published like a real one.
"""

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from agreements import models as m
from agreements import services as sla_services
from leads.models import Handoff
from leads.services.handoffs import handoff_reassign
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import pipeline_run
from slaportal.outbox import outbox_deliver
from slaportal.roles import Role
from tests.factories import UserFactory

# A Monday morning, inside business hours (Mon–Fri 09:00–18:00 UTC).
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(MONDAY_9, tick=False)
    return time_machine


def _rows(model, version, rows):
    return [
        model.objects.create(version=version, position=position, **row)
        for position, row in enumerate(rows)
    ]


@pytest.fixture
def sla(clock, agreement, marketing_manager, sales_manager):
    """Version 1 in force: 4 business hours to first touch, 8 to accept or reject."""
    draft = agreement.versions.get()
    m.HandoffPolicy.objects.filter(version=draft).update(
        trigger_on_score=True,
        trigger_events=["demo_request"],
        allow_manual=True,
        required_fields=[],
        response_target_hours=Decimal(4),
        at_risk_share=75,
        accept_window_hours=Decimal(8),
        return_after_attempts=6,
        return_after_days=14,
    )
    m.QualificationSettings.objects.filter(version=draft).update(
        mql_min_fit=10, mql_min_interest=10
    )
    _rows(
        m.FitRule,
        draft,
        [
            {"attribute": "title", "operator": "contains", "value": "director", "points": 20},
            {"attribute": "company_size", "operator": "gt", "value": "50", "points": 10},
        ],
    )
    _rows(
        m.InterestRule,
        draft,
        [
            {"event_type": "demo_request", "points": 30},
            {"event_type": "pricing_page_view", "points": 5},
        ],
    )
    re_engage, education = _rows(
        m.NurtureTrack,
        draft,
        [
            {"name": "Re-engagement", "entry_condition": "on_return", "reps_may_enrol": True},
            {"name": "Education", "entry_condition": "below_mql", "reps_may_enrol": False},
        ],
    )
    for position, track in enumerate([re_engage, education]):
        m.NurtureStep.objects.create(
            version=draft,
            track=track,
            position=position,
            journey_stage="awareness",
            offer=f"{track.name} e-book",
            wait_days=3,
        )
    _rows(
        m.ReturnReason,
        draft,
        [
            {"code": "not_ready", "label": "Not ready to buy", "nurture_track": re_engage},
            {"code": "bad_fit", "label": "Not a fit", "nurture_track": education},
            {"code": "wrong_contact", "label": "Wrong contact", "nurture_track": None},
        ],
    )
    _rows(
        m.CadenceStep,
        draft,
        [
            {"channel": "phone", "offset": 1, "offset_unit": "business_hours"},
            {"channel": "email", "offset": 1, "offset_unit": "business_days"},
            {"channel": "phone", "offset": 3, "offset_unit": "business_days"},
        ],
    )
    _rows(
        m.DispositionCode,
        draft,
        [
            {"code": "connected", "label": "Connected", "is_conversation": True},
            {"code": "no_answer", "label": "No answer", "is_conversation": False},
            {"code": "left_voicemail", "label": "Left a voicemail", "is_conversation": False},
        ],
    )
    sla_services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    sla_services.version_approve(version=draft, by=marketing_manager, side="marketing")
    sla_services.version_approve(version=draft, by=sales_manager, side="sales")
    draft.refresh_from_db()
    return draft


@pytest.fixture
def other_rep(db):
    return UserFactory(username="rafael", first_name="Rafael", role=Role.SALES_REP)


@pytest.fixture
def hand_off(sla, sales_rep, sales_manager):
    """Hand a new lead to a rep the way production does: the lead and its demo request
    arrive, the pipeline scores them and the trigger fires; then, if round robin picked
    someone else, the sales manager reassigns it."""
    numbers = count(1)

    def make(rep=None, *, first_name=None, company="Globex", title="IT Director", events=None):
        number = next(numbers)
        now = timezone.now()
        email = f"lead{number}@example.com"
        lead, _ = lead_upsert(
            email=email,
            fields={
                "first_name": first_name or f"Lead{number}",
                "last_name": "Silva",
                "title": title,
                "company": company,
                "company_size": 120,
            },
            now=now,
        )
        events_ingest(
            events=[
                EventInput(email=email, type=event_type, occurred_at=now)
                for event_type in (events or ["pricing_page_view", "demo_request"])
            ],
            now=now,
        )
        pipeline_run(now=now)
        handoff = Handoff.objects.get(lead=lead, accepted_at=None, returned_at=None)
        rep = rep or sales_rep
        if handoff.rep_id != rep.pk:
            handoff_reassign(handoff=handoff, rep=rep, by=sales_manager, now=now)
            handoff.refresh_from_db()
        outbox_deliver()  # the notices, as the delivery task would after the commit
        return handoff

    return make


@pytest.fixture
def handoff(hand_off):
    return hand_off()
