from celery import shared_task

from .rollups import rollup_recent


@shared_task
def rollup_recent_days() -> int:
    """Re-roll the last 31 days: attempts and decisions keep landing on recent handoffs."""
    return rollup_recent()
