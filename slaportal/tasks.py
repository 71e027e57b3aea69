"""Celery tasks of the project itself."""

from celery import shared_task

from .outbox import outbox_deliver


@shared_task
def deliver_outbox() -> int:
    """Safe to run twice and at once: each run claims rows the others have not locked."""
    return outbox_deliver()
