"""Clock pauses (issue 11): the buyer asked to be contacted later, so the SLA clock stands
still until then in business hours. The deadline moves by the business time paused, the
breach scan leaves the handoff alone during its pause and flags it after, response times
count the pause out, and every pause is recorded with who, why, from and until."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from agreements import models as m
from agreements.business_hours import Calendar, business_time_between
from leads.models import Handoff, HandoffPause
from leads.pause_clock import deadline_after_pause, paused_time
from leads.selectors import paused_time_by_rep
from leads.services.handoffs import attempt_log, breaches_flag
from leads.services.pauses import handoff_pause

from .conftest import MONDAY_9

TUESDAY = MONDAY_9 + timedelta(days=1)


# The pure arithmetic, against agreements.business_hours ------------------------------------

CALENDARS = [
    Calendar("UTC", frozenset(range(5)), time(9), time(18)),
    Calendar(
        "America/Sao_Paulo",
        frozenset(range(5)),
        time(8, 30),
        time(17, 30),
        frozenset({datetime(2026, 3, 4).date()}),
    ),
    Calendar("America/New_York", frozenset({0, 2, 4}), time(2, 30), time(11)),
]
BASE = datetime(2026, 3, 1, tzinfo=UTC)
minutes = st.integers(min_value=0, max_value=60 * 24 * 20)


@settings(max_examples=300, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    start=minutes,
    deadline=minutes,
    length=st.integers(min_value=1, max_value=60 * 24 * 10),
)
def test_a_pause_moves_the_deadline_by_exactly_the_business_time_paused(
    calendar, start, deadline, length
):
    start_at = BASE + timedelta(minutes=start)
    deadline_at = BASE + timedelta(minutes=deadline)
    until = start_at + timedelta(minutes=length)

    moved = deadline_after_pause(deadline_at, start=start_at, until=until, calendar=calendar)

    if deadline_at <= start_at:
        assert moved == deadline_at  # a pause never rescues a deadline already past
    else:
        assert moved >= until
        assert business_time_between(start_at, moved, calendar) == paused_time(
            start=start_at, until=until, calendar=calendar
        ) + business_time_between(start_at, deadline_at, calendar)


# The service -------------------------------------------------------------------------------


def _pause(handoff, *, hours_from_now=None, until=None, reason="Buyer at a trade fair", by):
    until = until or timezone.now() + timedelta(hours=hours_from_now)
    return handoff_pause(handoff=handoff, until=until, reason=reason, by=by)


def test_a_pause_moves_the_deadlines_and_is_recorded(handoff, sales_rep, clock):
    # Handed off Monday 09:00, first touch due 13:00 (4 business hours, 09-18 UTC).
    assert handoff.due_at == MONDAY_9 + timedelta(hours=4)
    clock.move_to(MONDAY_9 + timedelta(hours=1), tick=False)

    pause = _pause(handoff, until=TUESDAY + timedelta(hours=1), by=sales_rep)

    handoff.refresh_from_db()
    # Paused Mon 10:00-18:00 and Tue 09:00-10:00: 9 business hours; 3 were left.
    assert pause.business_minutes == 9 * 60
    assert handoff.due_at == TUESDAY + timedelta(hours=4)
    assert handoff.paused_until == TUESDAY + timedelta(hours=1)
    assert handoff.paused_business_minutes == 9 * 60
    assert (pause.by, pause.rep, pause.reason) == (sales_rep, sales_rep, "Buyer at a trade fair")
    assert pause.starts_at == MONDAY_9 + timedelta(hours=1)


def test_a_paused_handoff_does_not_breach_during_its_pause_and_does_after(
    handoff, sales_rep, clock
):
    clock.move_to(MONDAY_9 + timedelta(hours=1), tick=False)
    _pause(handoff, until=TUESDAY + timedelta(hours=1), by=sales_rep)

    # The old deadline (Monday 13:00) passes, and the pause's end: no breach yet.
    for moment in (MONDAY_9 + timedelta(hours=5), TUESDAY + timedelta(hours=2, minutes=59)):
        clock.move_to(moment, tick=False)
        assert handoff.pk not in breaches_flag().breached
        assert Handoff.objects.get(pk=handoff.pk).breached_at is None

    clock.move_to(TUESDAY + timedelta(hours=4, minutes=1), tick=False)
    assert handoff.pk in breaches_flag().breached
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.BREACHED
    assert handoff.breached_at == TUESDAY + timedelta(hours=4)


def test_an_at_risk_handoff_paused_stays_at_risk_but_its_deadline_moves(handoff, sales_rep, clock):
    clock.move_to(MONDAY_9 + timedelta(hours=3, minutes=30), tick=False)
    breaches_flag()
    assert Handoff.objects.get(pk=handoff.pk).status == Handoff.Status.AT_RISK

    _pause(handoff, hours_from_now=2, by=sales_rep)

    clock.move_to(MONDAY_9 + timedelta(hours=4, minutes=30), tick=False)
    assert handoff.pk not in breaches_flag().breached
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.AT_RISK
    assert handoff.due_at == MONDAY_9 + timedelta(hours=6)


def test_response_time_counts_the_pause_out(handoff, sales_rep, clock):
    clock.move_to(MONDAY_9 + timedelta(hours=1), tick=False)
    _pause(handoff, until=MONDAY_9 + timedelta(hours=3), by=sales_rep)
    clock.move_to(MONDAY_9 + timedelta(hours=5), tick=False)

    attempt_log(handoff=handoff, channel="phone", disposition="connected", by=sales_rep)

    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.MET  # due 15:00 after the 2-hour pause
    assert handoff.response_business_minutes == 3 * 60  # 5 hours less 2 paused


def test_a_touch_during_a_pause_ends_the_pause_there(handoff, sales_rep, clock):
    clock.move_to(MONDAY_9 + timedelta(hours=1), tick=False)
    pause = _pause(handoff, until=MONDAY_9 + timedelta(hours=5), by=sales_rep)
    clock.move_to(MONDAY_9 + timedelta(hours=2), tick=False)

    attempt_log(handoff=handoff, channel="phone", disposition="connected", by=sales_rep)

    pause.refresh_from_db()
    handoff.refresh_from_db()
    assert pause.until == MONDAY_9 + timedelta(hours=2)
    assert pause.business_minutes == 60
    assert handoff.response_business_minutes == 60


@pytest.mark.parametrize(
    ("setup", "until_hours", "message"),
    [
        ("off", 2, "does not allow pausing"),
        ("short", 6, "allows at most 4"),
        ("", -1, "has passed"),
    ],
)
def test_a_pause_is_refused_with_a_clear_message_and_nothing_stored(
    handoff, sales_rep, sla, setup, until_hours, message
):
    if setup == "off":
        m.HandoffPolicy.objects.filter(version=sla).update(pauses_allowed=False)
    if setup == "short":
        m.HandoffPolicy.objects.filter(version=sla).update(max_pause_hours=4)
    due = handoff.due_at

    with pytest.raises(ValidationError, match=message):
        _pause(handoff, hours_from_now=until_hours, by=sales_rep)

    assert not HandoffPause.objects.exists()
    assert Handoff.objects.get(pk=handoff.pk).due_at == due


def test_a_pause_needs_a_reason(handoff, sales_rep):
    with pytest.raises(ValidationError, match="Say why"):
        _pause(handoff, hours_from_now=2, reason="  ", by=sales_rep)
    assert not HandoffPause.objects.exists()


def test_another_rep_may_not_pause_a_reps_handoff(handoff, other_rep):
    with pytest.raises(PermissionDenied):
        _pause(handoff, hours_from_now=2, by=other_rep)
    assert not HandoffPause.objects.exists()


def test_paused_time_per_rep_for_a_month(handoff, sales_rep, clock):
    clock.move_to(MONDAY_9 + timedelta(hours=1), tick=False)
    _pause(handoff, until=MONDAY_9 + timedelta(hours=4), by=sales_rep)

    rows = paused_time_by_rep(
        bounds=(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    )

    assert [(row["rep_id"], row["pauses"], row["hours"]) for row in rows] == [
        (sales_rep.pk, 1, 3.0)
    ]
    assert (
        paused_time_by_rep(
            bounds=(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
        )
        == []
    )


# Pages -------------------------------------------------------------------------------------


def test_the_pause_page_pauses_and_the_queue_and_timeline_show_it(
    handoff, sales_rep, client_for, clock
):
    client = client_for(sales_rep)
    url = f"/leads/handoffs/{handoff.pk}/pause/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"until": "2026-03-02T16:00", "reason": "Call after lunch"})

    assert response.status_code == 302
    assert HandoffPause.objects.get().reason == "Call after lunch"
    queue = client.get("/leads/queue/").content.decode()
    assert 'data-testid="paused"' in queue
    assert "Clock paused until" in queue
    lead_page = client.get(handoff.lead.get_absolute_url()).content.decode()
    assert "Call after lunch" in lead_page
    assert "kind-pause" in lead_page


def test_the_pause_page_refuses_bad_input_and_stores_nothing(handoff, sales_rep, client_for):
    client = client_for(sales_rep)
    url = f"/leads/handoffs/{handoff.pk}/pause/"
    for data in (
        {"until": "2026-03-01T10:00", "reason": "Too late"},  # in the past
        {"until": "not a date", "reason": "x"},
        {"until": "2026-03-02T16:00", "reason": ""},
    ):
        response = client.post(url, data)
        assert response.status_code == 400
        assert "Nothing was saved" in response.content.decode()
    assert not HandoffPause.objects.exists()


def test_the_pause_page_is_refused_to_other_roles_and_other_reps(
    handoff, client_for, viewer, marketing_manager, other_rep
):
    url = f"/leads/handoffs/{handoff.pk}/pause/"
    assert client_for(viewer).get(url).status_code == 403
    assert client_for(marketing_manager).get(url).status_code == 403
    assert client_for(other_rep).get(url).status_code == 404
    assert (
        client_for(other_rep).post(url, {"until": "2026-03-02T16:00", "reason": "x"}).status_code
        == 404
    )
    assert client_for(None).get(url).status_code == 302
    assert not HandoffPause.objects.exists()


def test_the_review_shows_paused_time_per_rep(handoff, sales_rep, viewer, client_for, clock):
    clock.move_to(MONDAY_9 + timedelta(hours=1), tick=False)
    _pause(handoff, until=MONDAY_9 + timedelta(hours=4), by=sales_rep)

    page = client_for(viewer).get("/review/2026-03/").content.decode()

    assert 'id="paused-time"' in page
    assert "3.0" in page
