"""Rep availability (issue 11): assignment skips reps who are away or at capacity, in the
single and the bulk path and in every method; with nobody available a handoff waits
unassigned (its clock running) and the sales manager is told once; an absence's on-start
policy is applied once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agreements import models as m
from leads.models import Handoff, HandoffAssignment, Lead
from leads.services.handoffs import HandoffRequest, handoff_create, handoffs_create_bulk
from leads.services.ingestion import lead_upsert
from people.models import Absence, OnAbsence, RepProfile
from people.services import absence_create, absences_apply, waiting_assign
from slaportal.models import OutboxMessage


def _lead(number: int, **fields) -> Lead:
    lead, _ = lead_upsert(
        email=f"avail{number}@example.com",
        fields={"first_name": f"Ana{number}", "company": "Initech", **fields},
        now=timezone.now(),
    )
    return lead


def _away(rep, by, *, hours_from=-1, hours_to=48, on_start=OnAbsence.KEEP):
    now = timezone.now()
    return absence_create(
        rep=rep,
        starts_at=now + timedelta(hours=hours_from),
        ends_at=now + timedelta(hours=hours_to),
        reason="Holiday",
        on_start=on_start,
        by=by,
        now=now - timedelta(hours=2),
    )


def _notice_keys(prefix: str) -> list[str]:
    return list(
        OutboxMessage.objects.filter(key__contains=prefix, channel="in_app").values_list(
            "key", flat=True
        )
    )


def test_a_rep_marked_away_gets_no_new_leads(sla, sales_rep, other_rep, sales_manager):
    _away(sales_rep, sales_manager)
    now = timezone.now()

    made = [handoff_create(lead=_lead(n), version=sla, trigger="manual", now=now) for n in range(4)]

    assert {handoff.rep_id for handoff in made} == {other_rep.pk}


def test_a_rep_away_is_skipped_in_the_bulk_path_too(sla, sales_rep, other_rep, sales_manager):
    _away(other_rep, sales_manager)
    requests = [HandoffRequest(_lead(n).pk, "score") for n in range(5)]

    made = handoffs_create_bulk(requests=requests, version=sla, now=timezone.now())

    assert len(made) == 5
    assert {handoff.rep_id for handoff in made} == {sales_rep.pk}


def test_an_absence_that_has_not_started_does_not_skip_the_rep(sla, sales_rep, sales_manager):
    _away(sales_rep, sales_manager, hours_from=2)

    made = handoff_create(lead=_lead(1), version=sla, trigger="manual", now=timezone.now())

    assert made.rep_id == sales_rep.pk


def test_a_rep_at_capacity_is_skipped_in_bulk_counting_the_batch(sla, sales_rep, other_rep):
    RepProfile.objects.create(user=sales_rep, capacity=2)
    requests = [HandoffRequest(_lead(n).pk, "score") for n in range(6)]

    made = handoffs_create_bulk(requests=requests, version=sla, now=timezone.now())

    reps = [handoff.rep_id for handoff in made]
    assert reps.count(sales_rep.pk) == 2
    assert reps.count(other_rep.pk) == 4


def test_a_rep_at_capacity_is_skipped_one_handoff_at_a_time(sla, sales_rep, other_rep):
    RepProfile.objects.create(user=other_rep, capacity=1)
    now = timezone.now()

    reps = [
        handoff_create(lead=_lead(n), version=sla, trigger="manual", now=now).rep_id
        for n in range(4)
    ]

    assert reps.count(other_rep.pk) == 1
    assert reps.count(sales_rep.pk) == 3


@pytest.mark.parametrize("method", ["named_owner", "territory"])
def test_named_owner_and_territory_skip_an_away_rep(
    sla, sales_rep, other_rep, sales_manager, method
):
    m.HandoffPolicy.objects.filter(version=sla).update(
        assignment_method=method, named_owner=sales_rep
    )
    m.TerritoryRule.objects.create(version=sla, field="country", value="PT", rep=sales_rep)
    _away(sales_rep, sales_manager)

    made = handoff_create(
        lead=_lead(1, country="PT"), version=sla, trigger="manual", now=timezone.now()
    )

    assert made.rep_id == other_rep.pk


def test_with_nobody_available_the_handoff_waits_unassigned_and_the_manager_is_told_once(
    sla, sales_rep, other_rep, sales_manager, clock
):
    for rep in (sales_rep, other_rep):
        _away(rep, sales_manager, hours_to=3)
    now = timezone.now()

    handoff = handoff_create(lead=_lead(1), version=sla, trigger="manual", now=now)

    assert handoff.rep is None
    assert handoff.handed_off_at == now  # the clock runs from when it was created
    assert handoff.due_at == now + timedelta(hours=4)
    assert Lead.objects.get(pk=handoff.lead_id).owner is None
    keys = _notice_keys(f"unassigned:{handoff.pk}")
    assert keys == [f"in_app:{sales_manager.pk}:unassigned:{handoff.pk}"]
    # Still nobody: the job assigns nothing and tells nobody again.
    assert waiting_assign(now=now + timedelta(minutes=5)) == []
    assert len(_notice_keys(f"unassigned:{handoff.pk}")) == 1

    # Back from the absence: the job gives it to an available rep, deadline unchanged.
    later = now + timedelta(hours=3, minutes=1)
    clock.move_to(later, tick=False)
    assert waiting_assign(now=later) == [handoff.pk]
    handoff.refresh_from_db()
    assert handoff.rep_id in {sales_rep.pk, other_rep.pk}
    assert handoff.due_at == now + timedelta(hours=4)
    assert Lead.objects.get(pk=handoff.lead_id).owner_id == handoff.rep_id
    assert waiting_assign(now=later) == []  # safe to run twice


def test_bulk_with_everyone_at_capacity_waits_unassigned_with_one_notice_each(
    sla, sales_rep, other_rep, sales_manager
):
    for rep in (sales_rep, other_rep):
        RepProfile.objects.create(user=rep, capacity=1)
    requests = [HandoffRequest(_lead(n).pk, "score") for n in range(4)]

    made = handoffs_create_bulk(requests=requests, version=sla, now=timezone.now())

    assert len(made) == 4
    waiting = [handoff for handoff in made if handoff.rep_id is None]
    assert len(waiting) == 2
    assert sorted(_notice_keys("unassigned:")) == sorted(
        f"in_app:{sales_manager.pk}:unassigned:{handoff.pk}" for handoff in waiting
    )


def test_an_unassigned_handoff_breaches_and_tells_the_manager(sla, sales_rep, sales_manager):
    from leads.services.handoffs import breaches_flag

    RepProfile.objects.create(user=sales_rep, capacity=1)
    handoff_create(lead=_lead(1), version=sla, trigger="manual", now=timezone.now())
    waiting = handoff_create(lead=_lead(2), version=sla, trigger="manual", now=timezone.now())
    assert waiting.rep is None

    result = breaches_flag(now=timezone.now() + timedelta(days=2))

    assert waiting.pk in result.breached
    assert f"in_app:{sales_manager.pk}:breach:{waiting.pk}" in _notice_keys("breach:")


def _held(rep, sla, count_):
    now = timezone.now()
    made = []
    for n in range(count_):
        handoff = handoff_create(lead=_lead(100 + n), version=sla, trigger="manual", now=now)
        Handoff.objects.filter(pk=handoff.pk).update(rep=rep)
        made.append(handoff.pk)
    return made


def test_an_absence_set_to_reassign_moves_the_reps_open_leads_once(
    sla, sales_rep, other_rep, sales_manager, clock
):
    held = _held(sales_rep, sla, 2)
    absence = _away(sales_rep, sales_manager, hours_from=1, on_start=OnAbsence.REASSIGN)
    assert absences_apply() == []  # not started yet

    clock.move_to(timezone.now() + timedelta(hours=1), tick=False)
    assert absences_apply() == [absence.pk]
    assert absences_apply() == []  # once

    assert set(Handoff.objects.filter(pk__in=held).values_list("rep_id", flat=True)) == {
        other_rep.pk
    }
    assert HandoffAssignment.objects.filter(handoff_id__in=held).count() == 2
    assert "Holiday" in HandoffAssignment.objects.filter(handoff_id__in=held).first().reason


def test_an_absence_set_to_keep_leaves_the_reps_leads(sla, sales_rep, other_rep, sales_manager):
    held = _held(sales_rep, sla, 2)
    _away(sales_rep, sales_manager, on_start=OnAbsence.KEEP)

    absences_apply()

    assert set(Handoff.objects.filter(pk__in=held).values_list("rep_id", flat=True)) == {
        sales_rep.pk
    }
    assert not HandoffAssignment.objects.filter(handoff_id__in=held).exists()


def test_reassigning_with_nobody_available_puts_the_leads_in_the_unassigned_queue(
    sla, sales_rep, other_rep, sales_manager
):
    held = _held(sales_rep, sla, 1)
    _away(other_rep, sales_manager)
    _away(sales_rep, sales_manager, on_start=OnAbsence.REASSIGN)

    absences_apply()

    assert Handoff.objects.get(pk=held[0]).rep is None
    assert _notice_keys(f"unassigned:{held[0]}")


def test_a_reps_own_absence_takes_the_slas_default_policy(sla, sales_rep, sales_manager):
    m.HandoffPolicy.objects.filter(version=sla).update(on_absence="keep")
    now = timezone.now()

    absence = absence_create(
        rep=sales_rep,
        starts_at=now,
        ends_at=now + timedelta(days=1),
        reason="Dentist",
        on_start=OnAbsence.REASSIGN,  # a rep may not choose: the SLA's default applies
        by=sales_rep,
    )

    assert absence.on_start == OnAbsence.KEEP
    assert Absence.objects.count() == 1
