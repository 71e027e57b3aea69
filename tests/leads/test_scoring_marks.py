"""Scoring marks: ingestion marks known leads without rewriting them, and the scoring run
scores the marked leads, writing each lead row once (issue 9, ingestion speed).

Runs on SQLite and PostgreSQL: ingestion has its own statement for the mark on each.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from leads import tasks
from leads.models import Lead, LeadEvent, ScoringMark
from leads.services import ingestion, pipeline
from leads.services.consent import lead_erase
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import leads_waiting_for_scoring, pipeline_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(sla):
    """A lead scored yesterday, with nothing waiting."""
    lead, _ = lead_upsert(email="known@example.com", fields={"title": "Analyst"})
    pipeline_run()
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(days=1))
    lead.refresh_from_db()
    assert (lead.needs_scoring, lead.interest_score) == (False, 0)
    return lead


def pricing_views(*emails, now=None, prefix="e"):
    now = now or timezone.now()
    return events_ingest(
        events=[
            EventInput(
                email=email,
                type="pricing_page_view",
                occurred_at=now,
                external_id=f"{prefix}-{number}",
            )
            for number, email in enumerate(emails)
        ],
        now=now,
    )


def test_a_known_lead_with_new_activity_is_marked_and_its_row_left_alone(known):
    before = Lead.objects.values().get(pk=known.pk)
    pricing_views("Known@Example.com")
    assert Lead.objects.values().get(pk=known.pk) == before
    assert list(ScoringMark.objects.values_list("lead_id", flat=True)) == [known.pk]
    assert leads_waiting_for_scoring()


def test_the_scoring_run_scores_the_new_activity_and_takes_the_mark(known, clock):
    pricing_views("known@example.com")
    clock.shift(timedelta(minutes=5))
    run_at = timezone.now()
    updated = known.updated_at
    assert pipeline_run().scored == 1
    known.refresh_from_db()
    # 5 points for the pricing page; the lead's own record did not change.
    assert (known.interest_score, known.needs_scoring) == (5, False)
    assert (known.scored_at, known.updated_at) == (run_at, updated)
    assert not ScoringMark.objects.exists()
    assert not leads_waiting_for_scoring()
    assert pipeline_run().scored == 0


def test_several_batches_for_one_lead_leave_one_mark_and_one_scoring(known):
    pricing_views("known@example.com", prefix="a")
    pricing_views("known@example.com", "KNOWN@example.com", prefix="b")
    assert ScoringMark.objects.count() == 1
    assert LeadEvent.objects.filter(lead=known).count() == 3
    assert pipeline_run().scored == 1
    assert Lead.objects.get(pk=known.pk).interest_score == 15


def test_a_lead_with_a_mark_and_new_attributes_is_scored_once(known):
    pricing_views("known@example.com")
    lead_upsert(email="known@example.com", fields={"title": "IT Director"})
    assert pipeline_run().scored == 1
    known.refresh_from_db()
    assert (known.fit_score, known.interest_score, known.needs_scoring) == (20, 5, False)


def test_a_lead_another_run_holds_keeps_its_mark_for_the_next_run(known, monkeypatch):
    """The claim skips a lead that is locked elsewhere; its mark must survive that run."""
    real_claim = pipeline._claim
    monkeypatch.setattr(pipeline, "_claim", lambda leads, governing: [])
    pricing_views("known@example.com")
    assert pipeline_run().scored == 0
    assert ScoringMark.objects.filter(pk=known.pk).exists()
    monkeypatch.setattr(pipeline, "_claim", real_claim)
    assert pipeline_run().scored == 1
    assert not ScoringMark.objects.exists()


def test_the_mark_of_a_lead_deleted_in_sql_is_dropped_by_the_run(known):
    """No foreign key: a lead deleted behind Django's back leaves its mark, which the run
    drops without marking anything."""
    from django.db import connection

    pricing_views("known@example.com")
    with connection.cursor() as cursor:
        for table in ("leadevent", "stagechange", "nurtureenrollment", "notification"):
            cursor.execute(f"DELETE FROM leads_{table} WHERE lead_id = %s", [known.pk])
        cursor.execute("DELETE FROM leads_lead WHERE id = %s", [known.pk])
    assert ScoringMark.objects.exists()
    assert pipeline_run().scored == 0
    assert not ScoringMark.objects.exists()


def test_a_resent_batch_marks_nothing(known):
    pricing_views("known@example.com")
    pipeline_run()
    result = pricing_views("known@example.com")
    assert (result.created, result.duplicates) == (0, 1)
    assert not ScoringMark.objects.exists()


def test_a_batch_that_fails_stores_neither_its_events_nor_its_marks(known, monkeypatch):
    def disk_full(rows, *, received_at):
        raise OSError("disk full")

    monkeypatch.setattr(ingestion, "_events_insert", disk_full)
    with pytest.raises(OSError):
        pricing_views("known@example.com", "new@example.com")
    assert not ScoringMark.objects.exists()
    assert not Lead.objects.filter(email_normalised="new@example.com").exists()


def test_the_sweeper_asks_for_a_scoring_run_when_only_marks_wait(known, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks, "enqueue", lambda name, *args: sent.append(name))
    pricing_views("known@example.com")
    assert not Lead.objects.filter(needs_scoring=True).exists()
    assert tasks.sweep_stuck_work()["scoring"] is True
    assert sent == ["leads.tasks.score_new_activity"]


def test_an_erased_lead_loses_its_mark_and_is_not_rescored(known, marketing_manager):
    """An erasure keeps the lead's scores as the figures counted them: activity marked just
    before it must not bring the lead back to the scoring run."""
    pricing_views("known@example.com")
    lead_erase(lead=known, by=marketing_manager)
    assert not ScoringMark.objects.exists()
    pipeline_run()
    known.refresh_from_db()
    assert (known.needs_scoring, known.interest_score) == (False, 0)


def test_a_deleted_lead_takes_its_mark_with_it(known):
    pricing_views("known@example.com")
    known.delete()
    assert not ScoringMark.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_marks_a_run_holds_are_skipped_by_another_and_come_back_if_it_dies(sla):
    """A run takes its marks by deleting them in its batch's transaction: a second run at the
    same time skips them (it scores nothing twice), and a run that dies before committing
    leaves them where they were, for the next run."""
    leads = [lead_upsert(email=f"m{n}@example.com", fields={})[0] for n in range(3)]
    pipeline_run()
    pricing_views(*(lead.email for lead in leads))
    assert ScoringMark.objects.count() == 3
    taken, second_run_done = threading.Event(), threading.Event()
    held: list[int] = []

    def dying_run():
        try:
            with transaction.atomic():
                held.extend(pipeline._marks_take(after=0))
                taken.set()
                second_run_done.wait(timeout=30)
                raise RuntimeError("the worker dies before the batch commits")
        except RuntimeError:
            pass
        finally:
            connections.close_all()

    thread = threading.Thread(target=dying_run)
    thread.start()
    assert taken.wait(timeout=30)
    try:
        assert pipeline_run().scored == 0  # every mark is held by the dying run
    finally:
        second_run_done.set()
        thread.join()
    assert sorted(held) == sorted(lead.pk for lead in leads)
    assert ScoringMark.objects.count() == 3
    assert pipeline_run().scored == 3
    assert not ScoringMark.objects.exists()
