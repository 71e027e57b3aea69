"""Celery tasks: thin, idempotent wrappers over the services, safe to run twice."""

from celery import shared_task

from .services.handoffs import breaches_flag, cadence_apply
from .services.nurture import nurture_advance
from .services.pipeline import pipeline_run


@shared_task
def score_new_activity() -> int:
    return pipeline_run().scored


@shared_task
def rescore_all_leads() -> int:
    """Decay and new rules: every lead, in batches."""
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
