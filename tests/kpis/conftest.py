"""October 2026 in São Paulo, hand-computed: the fixture behind the KPI engine's tests."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from agreements import models as am
from agreements import services as agreement_services
from kpis.models import VisitorCount
from kpis.rollups import rollup_backfill
from leads.services import handoffs as hs
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import pipeline_run
from slaportal.roles import Role
from tests.factories import UserFactory

SP = ZoneInfo("America/Sao_Paulo")


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour, minute), tzinfo=SP)


@pytest.fixture
def rep(db):
    return UserFactory(username="rita", first_name="Rita", last_name="Souza", role=Role.SALES_REP)


@pytest.fixture
def sla(agreement, draft, marketing_manager, sales_manager, rep):
    return publish_october_sla(draft, marketing_manager, sales_manager)


def publish_october_sla(draft, marketing_manager, sales_manager):
    """Version 1, in force since 1 September 2026: a demo request hands a lead to sales."""
    v = draft
    am.InterestRule.objects.create(version=v, event_type="demo_request", points=50)
    am.QualificationSettings.objects.filter(version=v).update(mql_min_fit=100, mql_min_interest=100)
    am.HandoffPolicy.objects.filter(version=v).update(
        trigger_on_score=False,
        trigger_events=["demo_request"],
        required_fields=[],
        response_target_hours=4,
        accept_window_hours=8,
        notify_email=False,
    )
    am.BusinessCalendar.objects.filter(version=v).update(time_zone="America/Sao_Paulo")
    am.ReturnReason.objects.create(version=v, code="bad_fit", label="Bad fit")
    am.DispositionCode.objects.create(
        version=v, code="connected", label="Connected", is_conversation=True
    )
    am.FunnelPlan.objects.filter(version=v).update(
        revenue_target=1_200_000,
        average_deal_size=20_000,
        months=12,
        opportunity_to_win_rate=25,
        sql_to_opportunity_rate=50,
        mql_to_sql_rate=40,
        lead_to_mql_rate=20,
    )
    am.Kpi.objects.create(
        version=v,
        metric="sla_compliance",
        target=90,
        direction="higher",
        owner="sales",
        amber_threshold=80,
        red_threshold=60,
        position=0,
    )
    am.Kpi.objects.create(
        version=v,
        metric="speed_to_lead",
        target=2,
        direction="lower",
        owner="sales",
        amber_threshold=3,
        red_threshold=4,
        position=1,
    )
    am.Goal.objects.create(
        version=v,
        name="60 MQLs in Q4",
        metric="mqls",
        target=60,
        unit="MQLs",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31),
    )
    with time_machine.travel(datetime(2026, 9, 1, 9, tzinfo=SP), tick=False):
        agreement_services.version_submit(version=v, by=marketing_manager, change_note="v1")
        agreement_services.version_approve(version=v, by=marketing_manager, side="marketing")
        agreement_services.version_approve(version=v, by=sales_manager, side="sales")
    v.refresh_from_db()
    return v


def arrive(email: str, when: datetime, source="website", demo=True):
    lead_upsert(email=email, fields={"source": source, "first_name": email[:2]}, now=when)
    if demo:
        events_ingest(events=[EventInput(email, "demo_request", when)], now=when)
    pipeline_run(now=when)


@pytest.fixture
def october(sla, rep):
    build_october(rep)
    return sla


def build_october(rep):
    """Five October leads (one arriving at 22:00 on the 31st, which is November in UTC) and one
    September lead at 23:30 on the 30th (October in UTC); three handoffs: met and accepted,
    breached, rejected."""
    VisitorCount.objects.create(day=date(2026, 10, 5), source="website", visitors=1000)
    arrive("l5@x.com", at(30, 23, 30, month=9), demo=False)
    arrive("l1@x.com", at(5, 10))
    hs.attempt_log(
        handoff=_handoff("l1@x.com"),
        channel="phone",
        disposition="connected",
        by=rep,
        now=at(5, 11),
    )
    hs.handoff_accept(handoff=_handoff("l1@x.com"), by=rep, now=at(5, 12))
    arrive("l2@x.com", at(6, 10))
    hs.breaches_flag(now=at(6, 14, 30))
    hs.attempt_log(
        handoff=_handoff("l2@x.com"),
        channel="phone",
        disposition="connected",
        by=rep,
        now=at(6, 15),
    )
    arrive("l3@x.com", at(7, 10), source="webinar")
    hs.handoff_reject(handoff=_handoff("l3@x.com"), reason="bad_fit", by=rep, now=at(7, 11))
    arrive("l4@x.com", at(8, 10), demo=False)
    arrive("l6@x.com", at(31, 22), demo=False)
    rollup_backfill(since=date(2026, 9, 1), until=date(2026, 12, 31))


def _handoff(email):
    from leads.models import Handoff

    return Handoff.objects.get(lead__email=email)
