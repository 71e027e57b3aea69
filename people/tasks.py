"""Celery tasks: thin, idempotent wrappers over the services, safe to run twice."""

from celery import shared_task

from .services import absences_apply, waiting_assign


@shared_task
def apply_absences() -> int:
    """Absences that started: their on-start policy, once each."""
    return len(absences_apply())


@shared_task
def assign_waiting() -> int:
    """Unassigned handoffs to reps who became available (back from leave, below capacity)."""
    return len(waiting_assign())
