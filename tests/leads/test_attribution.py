"""Attribution written down and kept (issue 8, item 3): a breach, a met deadline and every
attempt belong to the rep who held the lead at that moment, and reassigning the lead later
changes no one's figures; the reassignment is on the lead's timeline with who, when and why.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from kpis.drilldown import figure_handoffs
from kpis.periods import Month
from kpis.rollups import rollup_day
from kpis.selectors import month_report
from leads.models import Handoff, HandoffAssignment, Notification
from leads.services import handoffs as hs
from slaportal.outbox import outbox_deliver
from slaportal.roles import Role
from tests.factories import UserFactory
from tests.kpis.conftest import arrive, at, publish_october_sla

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
OCT = Month(2026, 10)
LATER = datetime(2026, 10, 20, 12, tzinfo=SP)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(LATER, tick=False):
        yield


@pytest.fixture
def rafael(db):
    return UserFactory(
        username="rafael", first_name="Rafael", last_name="Lima", role=Role.SALES_REP
    )


@pytest.fixture
def rita(rafael):
    # Made after Rafael, so round robin gives the first lead to him.
    return UserFactory(username="rita", first_name="Rita", last_name="Souza", role=Role.SALES_REP)


@pytest.fixture
def sla(agreement, draft, marketing_manager, sales_manager, rafael, rita):
    return publish_october_sla(draft, marketing_manager, sales_manager)


@pytest.fixture
def handoff(sla, rafael):
    """Handed to Rafael on Tuesday 6 October at 10:00; first touch due 14:00."""
    arrive("lead@x.com", at(6, 10))
    handoff = Handoff.objects.get(lead__email="lead@x.com")
    assert handoff.rep == rafael and handoff.due_at == at(6, 14)
    return handoff


def by_rep(month=OCT) -> dict[str, dict[str, int]]:
    rollup_day(day=date(2026, 10, 6))
    return {
        rep.name: {
            "handoffs": rep.handoffs,
            "windows_closed": rep.windows_closed,
            "windows_met": rep.windows_met,
            "breached": rep.breached,
            "attempts": rep.attempts,
        }
        for rep in month_report(month=month).by_rep
    }


def breached_by(rep) -> int:
    return figure_handoffs(OCT, "breached", rep_id=rep.pk).count()


def test_a_reassigned_breached_lead_keeps_its_breach_with_the_first_rep(
    handoff, rafael, rita, sales_manager
):
    hs.breaches_flag(now=at(6, 14, 30))
    before = by_rep()
    assert before["Rafael Lima"]["breached"] == 1

    hs.handoff_reassign(
        handoff=handoff, rep=rita, by=sales_manager, reason="Rafael is away", now=at(6, 15)
    )
    handoff.refresh_from_db()
    assert (handoff.rep, handoff.breach_rep) == (rita, rafael)
    after = by_rep()
    assert after == before
    assert after["Rafael Lima"] == {
        "handoffs": 1,
        "windows_closed": 1,
        "windows_met": 0,
        "breached": 1,
        "attempts": 0,
    }
    assert "Rita Souza" not in after
    # The leads behind the figures agree with the figures.
    assert (breached_by(rafael), breached_by(rita)) == (1, 0)


def test_a_breach_flagged_late_still_blames_the_rep_who_held_the_lead_at_its_deadline(
    handoff, rafael, rita, sales_manager
):
    # Nobody flagged it by 14:00; the manager gives the lead to Rita at 15:00.
    hs.handoff_reassign(handoff=handoff, rep=rita, by=sales_manager, now=at(6, 15))
    assert hs.breaches_flag(now=at(6, 15, 5)).breached == [handoff.pk]
    handoff.refresh_from_db()
    assert handoff.breach_rep == rafael
    figures = by_rep()
    assert figures["Rafael Lima"]["breached"] == 1
    assert figures.get("Rita Souza", {}).get("breached", 0) == 0
    # The notice names the rep it blames and reaches him, the rep who holds it now, the manager.
    outbox_deliver()
    notices = Notification.objects.filter(key=f"breach:{handoff.pk}")
    assert {notice.user for notice in notices} == {rafael, rita, sales_manager}
    assert all("(rep Rafael Lima)" in notice.message for notice in notices)


def test_a_late_first_touch_after_reassignment_is_the_first_reps_breach(
    handoff, rafael, rita, sales_manager
):
    hs.handoff_reassign(handoff=handoff, rep=rita, by=sales_manager, now=at(6, 15))
    hs.attempt_log(
        handoff=handoff, channel="phone", disposition="connected", by=rita, now=at(6, 16)
    )
    handoff.refresh_from_db()
    assert (handoff.breach_rep, handoff.response_rep) == (rafael, rita)
    figures = by_rep()
    assert figures["Rafael Lima"]["breached"] == 1
    assert figures["Rafael Lima"]["windows_closed"] == 1
    # Rita made the attempt, so it is hers; the window she did not hold is not.
    assert figures["Rita Souza"]["attempts"] == 1
    assert figures["Rita Souza"]["windows_closed"] == 0


def test_a_lead_reassigned_before_its_deadline_is_the_new_reps_to_meet(
    handoff, rafael, rita, sales_manager
):
    hs.handoff_reassign(handoff=handoff, rep=rita, by=sales_manager, now=at(6, 11))
    hs.breaches_flag(now=at(6, 14, 30))
    handoff.refresh_from_db()
    assert handoff.breach_rep == rita
    figures = by_rep()
    assert figures["Rita Souza"]["breached"] == 1
    # Rafael was handed the lead; the breach is not his.
    assert figures["Rafael Lima"]["handoffs"] == 1
    assert figures["Rafael Lima"]["breached"] == 0


def test_a_met_deadline_and_each_attempt_stay_with_who_held_the_lead(
    handoff, rafael, rita, sales_manager
):
    hs.attempt_log(
        handoff=handoff, channel="phone", disposition="connected", by=rafael, now=at(6, 11)
    )
    hs.handoff_reassign(handoff=handoff, rep=rita, by=sales_manager, now=at(6, 12))
    # A manager logs Rita's call for her: it is still Rita's attempt.
    hs.attempt_log(
        handoff=handoff, channel="phone", disposition="connected", by=sales_manager, now=at(6, 13)
    )
    figures = by_rep()
    assert figures["Rafael Lima"] == {
        "handoffs": 1,
        "windows_closed": 1,
        "windows_met": 1,
        "breached": 0,
        "attempts": 1,
    }
    assert figures["Rita Souza"]["attempts"] == 1
    assert figures["Rita Souza"]["windows_met"] == 0


def test_the_reassignment_is_on_the_timeline_with_who_when_and_why(
    handoff, rita, sales_manager, client_for
):
    client = client_for(sales_manager)
    response = client.post(
        reverse("leads:reassign", args=[handoff.pk]),
        {"rep": rita.pk, "reason": "Rafael is on leave this week"},
    )
    assert response.status_code == 302
    (assignment,) = HandoffAssignment.objects.filter(handoff=handoff)
    assert (assignment.from_rep.username, assignment.to_rep, assignment.by) == (
        "rafael",
        rita,
        sales_manager,
    )
    assert assignment.at == LATER
    page = client.get(handoff.lead.get_absolute_url()).content.decode()
    assert "Reassigned from Rafael Lima to Rita Souza" in page
    assert "Rafael is on leave this week" in page
    assert "by Sergio" in page
    # The handoff still says who it was first given to.
    assert "Handed to Rafael Lima" in page and "Handed to Rita" not in page


def test_a_reason_over_300_characters_is_refused_and_nothing_changes(
    handoff, rafael, rita, sales_manager, client_for
):
    client = client_for(sales_manager)
    client.post(reverse("leads:reassign", args=[handoff.pk]), {"rep": rita.pk, "reason": "x" * 301})
    with pytest.raises(ValidationError, match="300 characters"):
        hs.handoff_reassign(handoff=handoff, rep=rita, by=sales_manager, reason="x" * 301)
    handoff.refresh_from_db()
    assert handoff.rep == rafael
    assert not HandoffAssignment.objects.exists()


def test_a_rep_cannot_reassign(handoff, rafael, rita, client_for):
    response = client_for(rafael).post(
        reverse("leads:reassign", args=[handoff.pk]), {"rep": rita.pk}
    )
    assert response.status_code == 403
    assert not HandoffAssignment.objects.exists()
