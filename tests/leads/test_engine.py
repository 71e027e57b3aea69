"""The lead engine end to end through its services: scoring, handoff, timers, returns, nurture."""

import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from agreements import models as am
from agreements import services as agreement_services
from leads.delivery import MemoryDelivery
from leads.models import ContactAttempt, Handoff, Lead, LeadEvent, Notification, NurtureEnrollment
from leads.services import handoffs as hs
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.nurture import nurture_advance, nurture_enrol
from leads.services.pipeline import pipeline_run
from slaportal.outbox import outbox_deliver
from slaportal.roles import Role
from tests.factories import UserFactory

SP = ZoneInfo("America/Sao_Paulo")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SP)


MON = date(2026, 12, 14)  # a Monday; Friday the 25th is a holiday
T0 = at(MON, 8)


@pytest.fixture
def reps(db):
    return [UserFactory(username=name, role=Role.SALES_REP) for name in ("rep_a", "rep_b", "rep_c")]


@pytest.fixture
def sla(agreement, draft, marketing_manager, sales_manager, reps):
    """A published SLA with the article's shape, effective from T0."""
    v = draft
    am.FitRule.objects.create(
        version=v, attribute="title", operator="contains", value="director", points=20
    )
    am.FitRule.objects.create(
        version=v, attribute="company_size", operator="gt", value="100", points=10
    )
    am.InterestRule.objects.create(
        version=v, event_type="pricing_page_view", points=10, max_occurrences=3
    )
    am.InterestRule.objects.create(version=v, event_type="demo_request", points=40)
    am.QualificationSettings.objects.filter(version=v).update(mql_min_fit=20, mql_min_interest=30)
    am.HandoffPolicy.objects.filter(version=v).update(
        trigger_on_score=True,
        trigger_events=["demo_request"],
        required_fields=["email"],
        response_target_hours=4,
        at_risk_share=75,
        accept_window_hours=8,
        return_after_attempts=3,
        return_after_days=10,
        notify_email=False,
    )
    am.BusinessCalendar.objects.filter(version=v).update(time_zone="America/Sao_Paulo")
    am.Holiday.objects.create(version=v, date=date(2026, 12, 25), name="Christmas")
    track = am.NurtureTrack.objects.create(version=v, name="Re-engagement", reps_may_enrol=True)
    locked = am.NurtureTrack.objects.create(version=v, name="Marketing only", reps_may_enrol=False)
    for position, (wait, offer) in enumerate([(2, "Case study"), (5, "Webinar invite")]):
        am.NurtureStep.objects.create(
            version=v,
            track=track,
            position=position,
            journey_stage="consideration",
            offer=offer,
            wait_days=wait,
        )
    am.ReturnReason.objects.create(
        version=v, code="no_response", label="No response", nurture_track=track
    )
    am.ReturnReason.objects.create(version=v, code="bad_fit", label="Bad fit")
    am.DispositionCode.objects.create(version=v, code="no_answer", label="No answer")
    am.DispositionCode.objects.create(
        version=v, code="connected", label="Connected", is_conversation=True
    )
    with time_machine.travel(T0, tick=False):
        agreement_services.version_submit(version=v, by=marketing_manager, change_note="v1")
        agreement_services.version_approve(version=v, by=marketing_manager, side="marketing")
        agreement_services.version_approve(version=v, by=sales_manager, side="sales")
    v.refresh_from_db()
    v.track, v.locked_track = track, locked
    return v


def hot_lead(email="ana@globex.com", now=T0, **extra):
    fields = {"first_name": "Ana", "title": "Marketing Director", "company_size": 500, **extra}
    lead, _ = lead_upsert(email=email, fields=fields, now=now)
    return lead


def demo_request(email, now, external_id=None):
    return events_ingest(
        events=[
            EventInput(email=email, type="demo_request", occurred_at=now, external_id=external_id)
        ],
        now=now,
    )


@pytest.mark.django_db
def test_a_demo_request_with_good_fit_is_scored_handed_off_and_due_in_business_hours(sla, reps):
    # Friday 16:00 in São Paulo: two business hours left that day, two on Monday.
    friday = at(date(2026, 12, 18), 16)
    hot_lead(now=friday)
    demo_request("ana@globex.com", friday)
    result = pipeline_run(now=friday)
    assert (result.scored, result.handed_off) == (1, 1)
    lead = Lead.objects.get()
    assert (lead.fit_score, lead.interest_score, lead.stage) == (30, 40, "mql")
    assert lead.owner in reps and lead.status == "handed_off"
    handoff = lead.handoffs.get()
    assert handoff.version == sla and handoff.trigger == "event"
    assert handoff.trigger_detail == "demo_request"
    assert handoff.due_at == at(date(2026, 12, 21), 11)
    assert handoff.at_risk_at == at(date(2026, 12, 21), 10)
    assert lead.stage_changes.filter(to_stage="mql").exists()
    outbox_deliver()  # notices are delivered after commit
    assert Notification.objects.filter(user=lead.owner, key=f"handoff:{handoff.pk}").exists()


@pytest.mark.django_db
def test_due_at_skips_the_holiday(sla):
    thursday = at(date(2026, 12, 24), 17)  # Friday 25th is Christmas
    hot_lead(now=thursday)
    demo_request("ana@globex.com", thursday)
    pipeline_run(now=thursday)
    assert Handoff.objects.get().due_at == at(date(2026, 12, 28), 12)


@pytest.mark.django_db
def test_crossing_the_mql_threshold_by_score_records_the_reason(sla):
    lead = hot_lead()
    events_ingest(events=[EventInput("ana@globex.com", "pricing_page_view", T0)] * 3, now=T0)
    pipeline_run(now=T0)
    lead.refresh_from_db()
    assert lead.stage == "mql" and lead.score == 60
    change = lead.stage_changes.get(to_stage="mql")
    assert "reached the MQL threshold" in change.reason and change.job == "score_leads"
    assert change.version == sla
    assert lead.handoffs.get().trigger == "score"


@pytest.mark.django_db
def test_scoring_is_incremental(sla):
    hot_lead("a@x.com")
    hot_lead("b@x.com", title="Analyst", company_size=5)
    assert pipeline_run(now=T0).scored == 2
    assert pipeline_run(now=T0).scored == 0
    events_ingest(events=[EventInput("b@x.com", "pricing_page_view", T0)], now=T0)
    assert pipeline_run(now=T0).scored == 1


@pytest.mark.django_db
def test_resending_an_event_with_its_external_id_is_a_no_op(sla):
    assert demo_request("new@x.com", T0, external_id="form-1").created == 1
    again = demo_request("new@x.com", T0, external_id="form-1")
    assert (again.created, again.duplicates) == (0, 1)
    assert LeadEvent.objects.count() == 1 and Lead.objects.count() == 1


@pytest.mark.django_db
def test_emails_are_unique_ignoring_case(sla):
    first, created = lead_upsert(email="Ana@Globex.com", fields={"title": "CEO"}, now=T0)
    second, created_again = lead_upsert(
        email="ana@globex.COM", fields={"company": "Globex"}, now=T0
    )
    assert created and not created_again and first.pk == second.pk
    second.refresh_from_db()
    assert (second.title, second.company) == ("CEO", "Globex")


@pytest.mark.django_db
def test_round_robin_is_fair_and_skips_inactive_reps(sla, reps):
    reps[1].is_active = False
    reps[1].save()
    for index in range(4):
        hot_lead(f"lead{index}@x.com")
        demo_request(f"lead{index}@x.com", T0 + timedelta(minutes=index))
        pipeline_run(now=T0 + timedelta(minutes=index))
    owners = list(Handoff.objects.order_by("handed_off_at").values_list("rep__username", flat=True))
    assert owners == ["rep_a", "rep_c", "rep_a", "rep_c"]


@pytest.mark.django_db
def test_territory_rules_assign_by_country_and_fall_back_to_round_robin(sla, reps):
    am.HandoffPolicy.objects.filter(version=sla).update(assignment_method="territory")
    am.TerritoryRule.objects.create(version=sla, field="country", value="BR, PT", rep=reps[2])
    hot_lead("br@x.com", country="BR")
    hot_lead("us@x.com", country="US")
    for email in ("br@x.com", "us@x.com"):
        demo_request(email, T0)
    pipeline_run(now=T0)
    assert Lead.objects.get(email="br@x.com").owner == reps[2]
    assert Lead.objects.get(email="us@x.com").owner == reps[0]


@pytest.mark.django_db
def test_a_lead_missing_required_fields_is_not_handed_off_and_marketing_is_told(sla):
    am.HandoffPolicy.objects.filter(version=sla).update(required_fields=["email", "company"])
    hot_lead()
    demo_request("ana@globex.com", T0)
    pipeline_run(now=T0)
    assert not Handoff.objects.exists()
    outbox_deliver()  # notices are delivered after commit
    assert Notification.objects.get(user=sla.agreement.marketing_manager).message.endswith(
        "lacks company."
    )


@pytest.mark.django_db
def test_a_lead_that_lacked_a_field_is_handed_off_on_its_earlier_demo_request_once_it_has_it(
    sla,
):
    am.HandoffPolicy.objects.filter(version=sla).update(required_fields=["email", "company"])
    hot_lead()
    demo_request("ana@globex.com", T0)
    assert pipeline_run(now=T0).handed_off == 0
    # New attributes and no new event: the conversion that counts is the earlier one.
    hot_lead(now=T0 + timedelta(hours=1), company="Globex")
    assert pipeline_run(now=T0 + timedelta(hours=1)).handed_off == 1
    handoff = Handoff.objects.get()
    assert (handoff.trigger, handoff.trigger_detail) == ("event", "demo_request")


@pytest.mark.django_db
def test_marketing_is_told_of_each_lead_lacking_a_field_in_its_language_read_once(sla):
    from django.test.utils import CaptureQueriesContext

    am.HandoffPolicy.objects.filter(version=sla).update(required_fields=["email", "company"])
    for email in ("ana@globex.com", "bia@globex.com", "caio@globex.com"):
        hot_lead(email)
        demo_request(email, T0)
    with CaptureQueriesContext(connection) as queries:
        assert pipeline_run(now=T0).handed_off == 0
    preferences = [q for q in queries.captured_queries if "people_preferences" in q["sql"]]
    assert len(preferences) == 1
    outbox_deliver()
    assert Notification.objects.filter(user=sla.agreement.marketing_manager).count() == 3


@pytest.mark.django_db
def test_a_batch_looks_up_the_conversions_of_only_the_leads_that_have_one(sla):
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's RETURNING cannot say which leads have a conversion")
    converting = hot_lead("ana@globex.com")
    browsing = hot_lead("bia@globex.com")
    demo_request("ana@globex.com", T0)
    events_ingest(events=[EventInput("bia@globex.com", "pricing_page_view", T0)], now=T0)
    with CaptureQueriesContext(connection) as queries:
        result = pipeline_run(now=T0)
    assert (result.scored, result.handed_off) == (2, 1)
    lookups = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "leads_leadevent"') and "demo_request" in q["sql"]
    ]
    assert len(lookups) == 1
    assert f"'{{{converting.pk}}}'" in lookups[0] and str(browsing.pk) not in lookups[0]


def handed_off(now=T0):
    hot_lead(now=now)
    demo_request("ana@globex.com", now)
    pipeline_run(now=now)
    return Handoff.objects.get()


@pytest.mark.django_db
def test_first_touch_before_due_is_met_and_accept_makes_an_sql(sla):
    handoff = handed_off(at(MON, 10))
    hs.attempt_log(
        handoff=handoff, channel="phone", disposition="connected", by=handoff.rep, now=at(MON, 11)
    )
    handoff.refresh_from_db()
    assert handoff.status == "met" and handoff.first_touch_at == at(MON, 11)
    assert handoff.response_business_minutes == 60
    hs.handoff_accept(handoff=handoff, by=handoff.rep, now=at(MON, 12))
    lead = handoff.lead
    lead.refresh_from_db()
    assert lead.stage == "sql" and lead.sql_at == at(MON, 12) and lead.status == "accepted"
    assert lead.stage_changes.filter(to_stage="sql", by=handoff.rep).exists()


@pytest.mark.django_db
def test_an_unknown_disposition_is_refused_and_nothing_is_stored(sla):
    handoff = handed_off()
    with pytest.raises(ValidationError, match="not a disposition code"):
        hs.attempt_log(handoff=handoff, channel="phone", disposition="nope", by=handoff.rep)
    assert not ContactAttempt.objects.exists()


@pytest.mark.django_db
def test_another_rep_cannot_act_on_a_handoff(sla, reps):
    handoff = handed_off()
    other = next(rep for rep in reps if rep != handoff.rep)
    with pytest.raises(PermissionDenied):
        hs.handoff_accept(handoff=handoff, by=other)
    handoff.refresh_from_db()
    assert handoff.accepted_at is None


@pytest.mark.django_db
def test_breach_is_flagged_once_and_both_rep_and_manager_are_told_once(sla):
    handoff = handed_off(at(MON, 10))
    assert hs.breaches_flag(now=at(MON, 13)).at_risk == [handoff.pk]
    assert hs.breaches_flag(now=at(MON, 13, 30)).at_risk == []
    first = hs.breaches_flag(now=at(MON, 14, 1))
    second = hs.breaches_flag(now=at(MON, 15))
    assert first.breached == [handoff.pk] and second.breached == []
    handoff.refresh_from_db()
    assert handoff.status == "breached" and handoff.breached_at == at(MON, 14)
    outbox_deliver()  # notices are delivered after commit
    keys = list(
        Notification.objects.filter(key=f"breach:{handoff.pk}").values_list(
            "user__username", flat=True
        )
    )
    assert sorted(keys) == sorted([handoff.rep.username, "sergio"])
    hs.attempt_log(
        handoff=handoff, channel="phone", disposition="no_answer", by=handoff.rep, now=at(MON, 16)
    )
    handoff.refresh_from_db()
    assert handoff.status == "breached" and handoff.first_touch_at == at(MON, 16)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_breach_runs_flag_and_notify_once(sla):
    handoffs = []
    for index in range(5):
        hot_lead(f"c{index}@x.com")
        demo_request(f"c{index}@x.com", at(MON, 10))
    pipeline_run(now=at(MON, 10))
    handoffs = list(Handoff.objects.values_list("pk", flat=True))
    assert len(handoffs) == 5
    barrier = threading.Barrier(2)
    results = []

    def run():
        from django.db import connections

        barrier.wait()
        try:
            results.append(hs.breaches_flag(now=at(MON, 15)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flagged = sorted(pk for result in results for pk in result.breached)
    assert flagged == sorted(handoffs)
    outbox_deliver()  # notices are delivered after commit
    assert Notification.objects.filter(key__startswith="breach:").count() == 10  # rep + manager


@pytest.mark.django_db
def test_reject_within_the_accept_window_returns_the_lead_with_its_reason(sla):
    handoff = handed_off(at(MON, 10))
    hs.handoff_reject(
        handoff=handoff, reason="bad_fit", note="Student", by=handoff.rep, now=at(MON, 11)
    )
    handoff.refresh_from_db()
    assert (
        handoff.status == "returned" and handoff.rejected_at and handoff.return_reason == "bad_fit"
    )
    lead = handoff.lead
    lead.refresh_from_db()
    assert (lead.stage, lead.status, lead.owner) == ("lead", "returned", None)
    assert "Rejected by sales: Bad fit" in lead.stage_changes.first().reason


@pytest.mark.django_db
def test_reject_after_the_accept_window_is_refused(sla):
    handoff = handed_off(at(MON, 10))
    with pytest.raises(ValidationError, match="accept window closed"):
        hs.handoff_reject(
            handoff=handoff, reason="bad_fit", by=handoff.rep, now=at(MON + timedelta(days=2), 10)
        )
    handoff.refresh_from_db()
    assert handoff.returned_at is None


@pytest.mark.django_db
def test_a_returned_lead_is_not_handed_back_by_its_old_score_but_by_a_new_demo_request(sla):
    handoff = handed_off(at(MON, 10))
    hs.handoff_return(handoff=handoff, reason="bad_fit", by=handoff.rep, now=at(MON, 11))
    events_ingest(
        events=[EventInput("ana@globex.com", "pricing_page_view", at(MON, 12))], now=at(MON, 12)
    )
    assert pipeline_run(now=at(MON, 12)).handed_off == 0
    demo_request("ana@globex.com", at(MON, 13))
    assert pipeline_run(now=at(MON, 13)).handed_off == 1


@pytest.mark.django_db
def test_cadence_returns_after_attempts_without_a_conversation_into_the_reasons_track(sla):
    handoff = handed_off(at(MON, 10))
    for hour in (11, 12, 13):
        hs.attempt_log(
            handoff=handoff,
            channel="phone",
            disposition="no_answer",
            by=handoff.rep,
            now=at(MON, hour),
        )
    assert hs.cadence_apply(now=at(MON, 14)) == [handoff.pk]
    assert hs.cadence_apply(now=at(MON, 15)) == []
    handoff.refresh_from_db()
    assert handoff.return_reason == "no_response" and handoff.status == "returned"
    enrollment = NurtureEnrollment.objects.get(lead=handoff.lead)
    assert enrollment.track == sla.track and enrollment.automatic
    assert enrollment.next_step_at == at(MON, 14) + timedelta(days=2)


@pytest.mark.django_db
def test_a_conversation_stops_the_cadence_return(sla):
    handoff = handed_off(at(MON, 10))
    hs.attempt_log(
        handoff=handoff, channel="phone", disposition="connected", by=handoff.rep, now=at(MON, 11)
    )
    for hour in (12, 13, 14):
        hs.attempt_log(
            handoff=handoff,
            channel="email",
            disposition="no_answer",
            by=handoff.rep,
            now=at(MON, hour),
        )
    assert hs.cadence_apply(now=at(MON, 15)) == []


@pytest.mark.django_db
def test_cadence_returns_after_days_without_progress(sla):
    handoff = handed_off(at(MON, 10))
    assert hs.cadence_apply(now=at(MON, 10) + timedelta(days=9)) == []
    assert hs.cadence_apply(now=at(MON, 10) + timedelta(days=10)) == [handoff.pk]
    handoff.refresh_from_db()
    assert handoff.return_reason == "no_progress"


@pytest.mark.django_db
def test_nurture_advances_step_by_step_records_events_and_recycles_the_lead(sla, settings):
    settings.NURTURE_DELIVERY_BACKEND = "leads.delivery.MemoryDelivery"
    MemoryDelivery.sent.clear()
    lead = hot_lead()
    enrollment = nurture_enrol(lead=lead, track=sla.track, automatic=True, now=T0)
    assert nurture_advance(now=T0 + timedelta(days=1)) == 0
    assert nurture_advance(now=T0 + timedelta(days=2)) == 1
    assert nurture_advance(now=T0 + timedelta(days=2)) == 0  # safe to run twice
    assert MemoryDelivery.sent == []  # sent after the commit, through the outbox
    outbox_deliver()
    outbox_deliver()
    assert MemoryDelivery.sent == [(lead.email, "Case study")]
    enrollment.refresh_from_db()
    assert enrollment.steps_done == 1 and enrollment.next_step.offer == "Webinar invite"
    assert nurture_advance(now=T0 + timedelta(days=7)) == 1
    enrollment.refresh_from_db()
    lead.refresh_from_db()
    assert enrollment.completed_at == T0 + timedelta(days=7) and lead.status == "open"
    offers = list(
        LeadEvent.objects.filter(type="nurture_step")
        .order_by("occurred_at")
        .values_list("properties__offer", flat=True)
    )
    assert offers == ["Case study", "Webinar invite"]


@pytest.mark.django_db
def test_reps_may_not_enrol_in_a_track_closed_to_them(sla):
    handoff = handed_off()
    with pytest.raises(PermissionDenied):
        hs.handoff_return(handoff=handoff, reason="nurture", by=handoff.rep, track=sla.locked_track)
    handoff.refresh_from_db()
    assert handoff.returned_at is None


@pytest.mark.django_db
def test_reassign_moves_the_lead_and_tells_the_new_rep(sla, reps, sales_manager):
    handoff = handed_off()
    other = next(rep for rep in reps if rep != handoff.rep)
    hs.handoff_reassign(handoff=handoff, rep=other, by=sales_manager)
    handoff.refresh_from_db()
    assert handoff.rep == other and handoff.lead.owner == other
    outbox_deliver()  # notices are delivered after commit
    assert Notification.objects.filter(user=other, key__startswith="reassigned:").exists()


@pytest.mark.django_db
def test_only_a_sales_manager_reassigns(sla, reps):
    handoff = handed_off()
    other = next(rep for rep in reps if rep != handoff.rep)
    with pytest.raises(PermissionDenied):
        hs.handoff_reassign(handoff=handoff, rep=other, by=handoff.rep)
    handoff.refresh_from_db()
    assert handoff.rep != other


@pytest.mark.django_db
def test_an_unknown_channel_is_refused(sla):
    handoff = handed_off()
    with pytest.raises(ValidationError, match="not a channel"):
        hs.attempt_log(handoff=handoff, channel="pigeon", disposition="connected", by=handoff.rep)
    assert not ContactAttempt.objects.exists()


@pytest.mark.django_db
def test_an_accepted_lead_cannot_be_handed_off_by_hand_again(sla, sales_manager):
    handoff = handed_off()
    hs.handoff_accept(handoff=handoff, by=handoff.rep)
    with pytest.raises(ValidationError, match="already SQL"):
        hs.handoff_manual(lead=Lead.objects.get(), version=sla, by=sales_manager)


@pytest.mark.django_db
def test_notifications_give_deadlines_in_the_slas_time_zone(sla):
    friday = at(date(2026, 12, 18), 16)
    hot_lead(now=friday)
    demo_request("ana@globex.com", friday)
    pipeline_run(now=friday)
    outbox_deliver()  # notices are delivered after commit
    assert Notification.objects.get(key__startswith="handoff:").message.endswith(
        "first touch due Mon 21 Dec 2026 11:00 (America/Sao_Paulo)."
    )


@pytest.mark.django_db
def test_round_robin_takes_turns_within_one_scoring_run(sla, reps):
    for index in range(6):
        hot_lead(f"batch{index}@x.com")
        demo_request(f"batch{index}@x.com", T0)
    pipeline_run(now=T0)
    counts = sorted(Handoff.objects.values_list("rep__username", flat=True))
    assert counts == ["rep_a", "rep_a", "rep_b", "rep_b", "rep_c", "rep_c"]


@pytest.mark.django_db
def test_a_lead_handed_off_from_nurture_leaves_its_track(sla):
    lead = hot_lead()
    enrollment = nurture_enrol(lead=lead, track=sla.track, automatic=True, now=T0)
    demo_request("ana@globex.com", T0 + timedelta(hours=1))
    pipeline_run(now=T0 + timedelta(hours=1))
    enrollment.refresh_from_db()
    assert enrollment.completed_at == T0 + timedelta(hours=1)
    assert nurture_advance(now=T0 + timedelta(days=3)) == 0
