"""Stages after sales accepts a lead: the CRM reports opportunities and won deals."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
                "stage": _(
                    "Only opportunity and customer are set from outside; "
                    "earlier stages follow the SLA's rules."
                )
            }
        )
    if deal_value is not None and stage != Stage.CUSTOMER:
        raise ValidationError({"deal_value": _("A deal value belongs to a won deal (customer).")})
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if STAGE_ORDER[lead.stage] < STAGE_ORDER[Stage.SQL]:
            raise ValidationError(
                {
                    "stage": _(
                        "%(lead)s is %(stage)s: sales must accept it (SQL) before it becomes "
                        "an opportunity."
                    )
                    % {"lead": lead, "stage": lead.get_stage_display()}
                }
            )
        if STAGE_ORDER[stage] <= STAGE_ORDER[lead.stage]:
            raise ValidationError(
                {
                    "stage": _("%(lead)s is already %(stage)s.")
                    % {"lead": lead, "stage": lead.get_stage_display()}
                }
            )
        if not reason:
            from slaportal.language import in_team_language

            with in_team_language():
                if stage == Stage.CUSTOMER:
                    reason = _("Won (reported by the CRM)")
                else:
                    reason = _("Opportunity opened (reported by the CRM)")
        StageChange.objects.create(
            lead=lead,
            from_stage=lead.stage,
            to_stage=stage,
            at=now,
            by=by,
            job=job,
            reason=reason,
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
