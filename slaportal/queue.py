import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args) -> None:
    """Send a task after the transaction commits; if the broker is down, the beat catches up.

    Within one transaction the same task with the same arguments is sent once: an import of
    700 leads needs one scoring run, not 700.
    """
    key = (task_name, args)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        pending = getattr(connection, "_sla_pending_tasks", None)
        if pending is None or not connection.run_on_commit:
            pending = connection._sla_pending_tasks = set()
        if key in pending:
            return
        pending.add(key)

    def send():
        getattr(connection, "_sla_pending_tasks", set()).discard(key)
        try:
            current_app.send_task(task_name, args=args, retry=False)
        except Exception:  # noqa: BLE001 - a broker outage must not fail the request
            logger.warning(
                "Could not enqueue %s; the periodic job will pick it up", task_name, exc_info=True
            )

    transaction.on_commit(send)
