import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args) -> None:
    """Send a task after the transaction commits; if the broker is down, the beat catches up."""

    def send():
        try:
            current_app.send_task(task_name, args=args, retry=False)
        except Exception:  # noqa: BLE001 - a broker outage must not fail the request
            logger.warning(
                "Could not enqueue %s; the periodic job will pick it up", task_name, exc_info=True
            )

    transaction.on_commit(send)
