"""Jobs survive a dead worker and a dead broker: a full rescore and a CSV import resume, the
sweeper finds what was left behind, and nothing is stored twice.

A worker killed half-way is played here by an exception raised from inside the job; the fault
suite (tests/faults) does it for real with kill -9.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from leads import tasks
from leads.models import ImportJob, Lead, LeadEvent, RescoreRun
from leads.services import imports, pipeline
from leads.services.imports import MAX_ATTEMPTS, import_create, import_run, imports_to_resume
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import pipeline_run
from slaportal import queue

START = "/leads/import/"
CONFIRM = "/leads/import/confirm/"


class WorkerKilled(BaseException):
    """Stands for kill -9: not an Exception, so no handler in the job catches it."""


@pytest.fixture
def sent(monkeypatch):
    """What the sweeper and the services send to the broker."""
    messages = []
    monkeypatch.setattr(tasks, "enqueue", lambda name, *args: messages.append((name, *args)))
    monkeypatch.setattr(imports, "enqueue", lambda name, *args: messages.append((name, *args)))
    return messages


def _leads(count: int) -> None:
    now = timezone.now()
    for number in range(count):
        title = "IT Director" if number % 2 else "Analyst"
        lead_upsert(
            email=f"p{number}@example.com",
            fields={"title": title, "company_size": 10 + number * 20},
            now=now,
        )
    events_ingest(
        events=[
            EventInput(email=f"p{number}@example.com", type="pricing_page_view", occurred_at=now)
            for number in range(0, count, 3)
        ],
        now=now,
    )


def _scores() -> dict[int, tuple[int, int, int, str]]:
    return {
        pk: rest
        for pk, *rest in Lead.objects.values_list(
            "pk", "fit_score", "interest_score", "score", "stage"
        )
    }


# Celery as its documentation advises --------------------------------------------------------


def test_celery_hands_back_the_message_of_a_dead_worker_and_never_runs_a_task_twice_at_once():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    # Redis redelivers an unacknowledged message after the visibility timeout: it must outlast
    # any task, which the hard time limit guarantees.
    visibility = settings._VISIBILITY_TIMEOUT
    assert visibility > settings.CELERY_TASK_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert "leads.tasks.sweep_stuck_work" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


# The full rescore ---------------------------------------------------------------------------


def test_a_full_rescore_killed_half_way_is_finished_by_the_next_scoring_run(sla, monkeypatch, sent):
    _leads(12)
    pipeline_run()
    clean = _scores()
    # New rules or decay: scores on record are stale until the rescore reaches them.
    Lead.objects.update(fit_score=0, interest_score=0, score=0)
    monkeypatch.setattr(pipeline, "RESCORE_CHUNK_MIN", 5)
    real_score = pipeline.leads_score_changed
    ranges = []

    def dies_on_the_second_range(**kwargs):
        ranges.append(kwargs["id_range"])
        if len(ranges) == 2:
            raise WorkerKilled
        return real_score(**kwargs)

    monkeypatch.setattr(pipeline, "leads_score_changed", dies_on_the_second_range)
    with pytest.raises(WorkerKilled):
        tasks.rescore_all_leads()

    # The first range committed with the run's cursor; the run itself is on record, durably.
    first = Lead.objects.order_by("pk")[:5]
    assert [(lead.fit_score, lead.interest_score, lead.score) for lead in first] == [
        tuple(clean[lead.pk][:3]) for lead in first
    ]
    run = RescoreRun.objects.get()
    assert (run.last_id, run.finished_at) == (first[4].pk, None)
    assert not Lead.objects.filter(needs_scoring=True).exists()  # no lead row was marked
    assert tasks.sweep_stuck_work() == {"imports": 0, "scoring": True}
    assert sent == [("leads.tasks.score_new_activity",)]

    monkeypatch.setattr(pipeline, "leads_score_changed", real_score)
    assert tasks.score_new_activity() == 7

    assert _scores() == clean
    assert RescoreRun.objects.get().finished_at is not None
    assert tasks.sweep_stuck_work() == {"imports": 0, "scoring": False}


def test_a_full_rescore_writes_only_the_rows_whose_score_changed(sla):
    _leads(30)
    before = timezone.now()
    pipeline_run(now=before)
    stale = set(Lead.objects.exclude(score=0).order_by("pk").values_list("pk", flat=True)[:4])
    Lead.objects.filter(pk__in=stale).update(score=0, fit_score=0)
    later = before + timedelta(minutes=5)

    result = pipeline_run(now=later, all_leads=True)

    assert result.scored == 4
    assert set(Lead.objects.filter(scored_at=later).values_list("pk", flat=True)) == stale
    assert Lead.objects.filter(scored_at=before).count() == 26
    assert not RescoreRun.objects.filter(finished_at__isnull=True).exists()
    assert all(total == fit + interest for _, fit, interest, total, _ in _rows())


def test_a_new_full_rescore_supersedes_an_unfinished_one(sla):
    _leads(6)
    pipeline_run()
    old = pipeline.rescore_start(now=timezone.now())

    pipeline_run(all_leads=True)

    old.refresh_from_db()
    assert old.finished_at is not None
    assert RescoreRun.objects.filter(finished_at__isnull=True).count() == 0


def _rows():
    return Lead.objects.values_list("pk", "fit_score", "interest_score", "score", "stage")


# The CSV import -----------------------------------------------------------------------------

EVENTS_HEADER = "email,type,occurred_at,external_id\n"


def _events_csv(rows: int) -> str:
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    lines = (f"p{n % 40}@example.com,pricing_page_view,{at},ext-{n}\n" for n in range(rows))
    return EVENTS_HEADER + "".join(lines)


def _background_import(user, rows=1200) -> ImportJob:
    job, outcome = import_create(
        kind="events", filename="big.csv", content=_events_csv(rows), by=user
    )
    assert outcome is None
    return job


def test_an_import_killed_while_storing_is_retried_by_the_sweeper_and_stored_once(
    sla, marketing_manager, monkeypatch, sent, time_machine
):
    job = _background_import(marketing_manager)
    real_ingest = imports.events_ingest
    calls = []

    def dies_after_storing_some(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            return real_ingest(**kwargs)
        raise WorkerKilled

    monkeypatch.setattr(imports, "events_ingest", dies_after_storing_some)
    with pytest.raises(WorkerKilled):
        import_run(import_id=job.pk)
    monkeypatch.setattr(imports, "events_ingest", real_ingest)

    job.refresh_from_db()
    # The run died inside the store transaction: nothing of it was kept.
    assert (job.status, job.attempts, LeadEvent.objects.count()) == ("importing", 1, 0)
    # A live run renews its claim, so a redelivered message leaves it alone at first.
    assert import_run(import_id=job.pk).status == "importing"
    assert imports_to_resume() == []

    time_machine.shift(timedelta(seconds=settings.IMPORT_CLAIM_SECONDS + 1))
    sent.clear()
    assert tasks.sweep_stuck_work()["imports"] == 1
    assert sent == [("leads.tasks.run_import", str(job.pk))]
    outcome = tasks.run_import(str(job.pk))

    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed_rows) == ("done", 2, 1200)
    assert outcome is None  # the task returns nothing; the job row is the record
    assert LeadEvent.objects.count() == 1200
    assert LeadEvent.objects.values("external_id").distinct().count() == 1200
    # Done is final: another redelivery or sweep stores nothing more.
    assert import_run(import_id=job.pk).status == "done"
    assert imports_to_resume() == []
    assert LeadEvent.objects.count() == 1200


def test_an_import_confirmed_while_the_broker_is_down_is_pending_and_started_by_the_sweeper(
    sla,
    marketing_manager,
    client_for,
    monkeypatch,
    time_machine,
    django_capture_on_commit_callbacks,
):
    sent = []

    def broker_down(name, args=None, **kwargs):
        sent.append((name, *args))
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(queue.current_app, "send_task", broker_down)
    manager = client_for(marketing_manager)
    file = SimpleUploadedFile("big.csv", _events_csv(600).encode(), content_type="text/csv")
    token = manager.post(START, {"kind": "events", "file": file}).context["token"]

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(CONFIRM, {"token": token}, follow=True)

    assert response.status_code == 200
    assert b"The import is queued and will start shortly." in response.content
    job = ImportJob.objects.get()
    assert (job.status, job.claimed_at) == ("pending", None)
    assert sent == [("leads.tasks.run_import", str(job.pk))]
    # Within the grace the task may still be on its way.
    assert imports_to_resume() == []

    time_machine.shift(timedelta(seconds=settings.IMPORT_PENDING_GRACE_SECONDS + 1))
    assert imports_to_resume() == [job.pk]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_stuck_work()  # the broker is still down: it tries again next minute
    assert sent[-1] == ("leads.tasks.run_import", str(job.pk))
    import_run(import_id=job.pk)

    job.refresh_from_db()
    assert job.status == "done"
    assert LeadEvent.objects.count() == 600


def test_an_import_whose_runs_keep_dying_is_refused_after_the_last_attempt(
    sla, marketing_manager, sent
):
    job = _background_import(marketing_manager)
    ImportJob.objects.filter(pk=job.pk).update(
        status="importing", attempts=MAX_ATTEMPTS, claimed_at=timezone.now() - timedelta(days=1)
    )

    outcome = import_run(import_id=job.pk)

    job.refresh_from_db()
    assert job.status == outcome.status == "failed"
    assert f"stopped {MAX_ATTEMPTS} times" in job.errors[0]["message"]
    assert LeadEvent.objects.count() == 0
    assert imports_to_resume() == []


def test_a_run_that_lost_its_claim_stores_nothing(sla, marketing_manager, monkeypatch, sent):
    job = _background_import(marketing_manager)
    real_validator = imports._validator

    def another_run_takes_over(kind, columns):
        validate = real_validator(kind, columns)

        def wrapped(rows):
            # A second run claims the import while this one is still validating.
            ImportJob.objects.filter(pk=job.pk).update(attempts=7)
            return validate(rows)

        return wrapped

    monkeypatch.setattr(imports, "_validator", another_run_takes_over)
    import_run(import_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("validating", 7)
    assert LeadEvent.objects.count() == 0


# Redis down in the browser ------------------------------------------------------------------


@pytest.fixture
def cache_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for method in ("get", "set", "delete"):
        monkeypatch.setattr(cache, method, refuse)


def test_the_import_preview_works_while_redis_is_down_and_says_the_file_cannot_wait(
    sla, marketing_manager, client_for, cache_down
):
    manager = client_for(marketing_manager)
    file = SimpleUploadedFile("few.csv", _events_csv(3).encode(), content_type="text/csv")

    response = manager.post(START, {"kind": "events", "file": file})

    assert response.status_code == 200
    assert response.context["preview"].ok
    assert response.context["token"] is None
    assert b"cannot be held for confirmation right now" in response.content
    assert CONFIRM.encode() not in response.content
    assert not ImportJob.objects.exists()


def test_confirming_while_redis_is_down_is_refused_with_a_message(
    sla, marketing_manager, client_for, cache_down
):
    response = client_for(marketing_manager).post(CONFIRM, {"token": "abc"}, follow=True)

    assert response.status_code == 200
    assert b"no longer waiting to be confirmed" in response.content
    assert not ImportJob.objects.exists()


def test_enqueue_survives_a_broker_outage(monkeypatch, db, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused.")

    monkeypatch.setattr(queue.current_app, "send_task", broker_down)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queue.enqueue("leads.tasks.score_new_activity")  # no exception: the sweeper catches up

    assert len(callbacks) == 1


def test_batches_stored_while_a_scoring_run_is_queued_queue_no_other(monkeypatch, db):
    from leads.services import ingestion

    queued = []
    monkeypatch.setattr(ingestion, "enqueue", lambda name, *args: queued.append(name))
    cache.delete(ingestion.SCORING_QUEUED_KEY)
    now = timezone.now()

    def batch(email):
        events_ingest(events=[EventInput(email=email, type="page_view", occurred_at=now)], now=now)

    for index in range(3):
        batch(f"b{index}@example.com")
    lead_upsert(email="c@example.com", fields={})
    assert queued == ["leads.tasks.score_new_activity"]

    tasks.score_new_activity()  # the run starts: what arrives now needs a run of its own
    batch("d@example.com")
    assert queued == ["leads.tasks.score_new_activity"] * 2
    cache.delete(ingestion.SCORING_QUEUED_KEY)


def test_a_batch_queues_scoring_when_the_cache_is_down(monkeypatch, db):
    from leads.services import ingestion

    queued = []
    monkeypatch.setattr(ingestion, "enqueue", lambda name, *args: queued.append(name))

    def cache_down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(ingestion.cache, "add", cache_down)
    now = timezone.now()
    for email in ("e@example.com", "f@example.com"):
        events_ingest(events=[EventInput(email=email, type="page_view", occurred_at=now)], now=now)
    assert queued == ["leads.tasks.score_new_activity"] * 2
