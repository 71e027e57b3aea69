"""Celery tasks: thin, idempotent wrappers over the services, safe to run twice."""

from celery import shared_task

from slaportal.queue import enqueue

from .services.handoffs import breaches_flag, cadence_apply
from .services.ingestion import scoring_request_taken
from .services.nurture import nurture_advance
from .services.pipeline import leads_waiting_for_scoring, pipeline_run


@shared_task
def score_new_activity() -> int:
    # Before reading the marked leads: a batch stored from here on queues the next run.
    scoring_request_taken()
    return pipeline_run().scored


@shared_task
def rescore_all_leads() -> int:
    """Decay and new rules: a rescore run is recorded, then every lead is scored in committed
    ranges; if the worker dies half-way, score_new_activity finishes the run from its cursor."""
    return pipeline_run(all_leads=True).scored


@shared_task
def flag_breaches() -> dict:
    result = breaches_flag()
    return {"at_risk": len(result.at_risk), "breached": len(result.breached)}


@shared_task
def apply_cadence() -> int:
    return len(cadence_apply())


@shared_task
def advance_nurture() -> int:
    return nurture_advance()


@shared_task
def run_import(import_id: str) -> None:
    from .services.imports import import_run

    import_run(import_id=import_id)


@shared_task
def sweep_stuck_work() -> dict:
    """Resume what a dead worker or a broker outage left behind (beat runs it every minute).

    Imports confirmed while the broker was down, or whose worker died, are sent again; leads
    still marked for scoring, or a full rescore left unfinished, get a scoring run. Sending
    twice is harmless: the tasks claim their work before doing it.
    """
    from .services.imports import imports_to_resume

    resumed = imports_to_resume()
    for import_id in resumed:
        enqueue("leads.tasks.run_import", str(import_id))
    unscored = leads_waiting_for_scoring()
    if unscored:
        enqueue("leads.tasks.score_new_activity")
    return {"imports": len(resumed), "scoring": unscored}
