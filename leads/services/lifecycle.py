"""Stages after sales accepts a lead: the CRM reports opportunities and won deals."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agreements.selectors import lead_version_in_force
from slaportal.events import event_emit

from ..models import STAGE_ORDER, Lead, Stage, StageChange

CRM_STAGES = (Stage.OPPORTUNITY, Stage.CUSTOMER)


def lead_stage_advance(
    *,
    lead: Lead,
    stage: str,
    reason: str = "",
    deal_value: Decimal | None = None,
    by=None,
    job: str = "",
    now=None,
) -> Lead:
    """Move an accepted lead forward to opportunity or customer (won), recording why.

    Stages only move forward here; earlier stages belong to scoring and the handoff.
    """
    now = now or timezone.now()
    if stage not in CRM_STAGES:
        raise ValidationError(
            {
                "stage": "Only opportunity and customer are set from outside; "
                "earlier stages follow the SLA's rules."
            }
        )
    if deal_value is not None and stage != Stage.CUSTOMER:
        raise ValidationError({"deal_value": "A deal value belongs to a won deal (customer)."})
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if STAGE_ORDER[lead.stage] < STAGE_ORDER[Stage.SQL]:
            raise ValidationError(
                {
                    "stage": f"{lead} is {lead.get_stage_display()}: sales must "
                    "accept it (SQL) before it becomes an opportunity."
                }
            )
        if STAGE_ORDER[stage] <= STAGE_ORDER[lead.stage]:
            raise ValidationError({"stage": f"{lead} is already {lead.get_stage_display()}."})
        label = "Won" if stage == Stage.CUSTOMER else "Opportunity opened"
        StageChange.objects.create(
            lead=lead,
            from_stage=lead.stage,
            to_stage=stage,
            at=now,
            by=by,
            job=job,
            reason=reason or f"{label} (reported by the CRM)",
            version=lead_version_in_force(lead=lead, at=now),
        )
        lead.stage = stage
        setattr(lead, f"{stage}_at", now)
        if deal_value is not None:
            lead.deal_value = deal_value
        lead.updated_at = now
        lead.save()
        event_emit("lead.stage_changed", lead, now=now)
    return lead
