from celery import shared_task

from .rollups import rollup_recent


@shared_task
def rollup_recent_days() -> int:
    """Re-roll the last 31 days: attempts and decisions keep landing on recent handoffs."""
    return rollup_recent()


@shared_task
def send_review_pack() -> int:
    """The business day before the SLA's review meeting: the pack and the action reminders."""
    from .ritual import review_pack_send

    return review_pack_send()


@shared_task
def send_kpi_digests() -> int:
    """Each KPI's digest once per its review period (weekly, monthly, quarterly)."""
    from .ritual import kpi_digests_send

    return kpi_digests_send()
