"""Reads of the lead engine shared by pages, the API and jobs."""

from django.utils import timezone

from agreements.scoring import Activity, ScoreResult, score_lead
from agreements.selectors import qualification_rules
from slaportal.roles import Role, has_role

from .models import Handoff, Lead
from .services.pipeline import current_version


def leads_visible_to(user):
    """Managers and viewers see every lead; a rep sees only the leads they own."""
    leads = Lead.objects.all()
    if has_role(user, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.VIEWER):
        return leads
    if has_role(user, Role.SALES_REP):
        return leads.filter(owner=user)
    return leads.none()


def handoffs_visible_to(user):
    handoffs = Handoff.objects.all()
    if has_role(user, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.VIEWER):
        return handoffs
    if has_role(user, Role.SALES_REP):
        return handoffs.filter(rep=user)
    return handoffs.none()


def open_handoff(lead: Lead) -> Handoff | None:
    return lead.handoffs.filter(accepted_at__isnull=True, returned_at__isnull=True).first()


def lead_score_breakdown(lead: Lead, *, now=None) -> ScoreResult | None:
    """Which rule gave which points, by the version in force (the same rules the SQL applies)."""
    now = now or timezone.now()
    version = current_version(now)
    if version is None:
        return None
    fit, interest, thresholds = qualification_rules(version=version)
    attributes = {
        name: getattr(lead, name)
        for name in ("title", "company_size", "industry", "country", "source")
    }
    attributes = {**lead.attributes, **attributes}
    activities = [
        Activity(e.type, e.occurred_at, e.properties)
        for e in lead.events.only("type", "occurred_at", "properties")
    ]
    return score_lead(
        attributes=attributes,
        activities=activities,
        fit_rules=fit,
        interest_rules=interest,
        thresholds=thresholds,
        now=now,
    )
