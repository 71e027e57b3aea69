"""The leads behind each figure of the review, read from the source tables.

Every number on the review links here, and the tests hold the rollups to these lists: a
figure is right when it counts exactly the leads this returns.
"""

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import Handoff, Lead

from .periods import Month
from .rollups import STAGE_METRICS, accountable_rep, first_entries, review_time_zone
from .segments import LABELS as SEGMENT_LABELS
from .segments import segment_filter

FIGURES = {
    "leads_created": _("Leads created"),
    "entered_mql": _("Leads that became MQLs"),
    "entered_sql": _("Leads that became SQLs"),
    "entered_opportunity": _("Leads that became opportunities"),
    "entered_customer": _("Leads won"),
    "handoffs": _("Leads handed to sales"),
    "windows_closed": _("Handoffs whose response window closed"),
    "windows_met": _("Handoffs touched within the target"),
    "breached": _("Handoffs breached"),
    "accepted": _("MQLs accepted by sales"),
    "rejected": _("MQLs rejected by sales"),
    "returned": _("Leads returned to marketing"),
}


# Figures counted on handoffs: filed under their version's agreement, not the lead's.
HANDOFF_FIGURES = {
    "handoffs",
    "windows_closed",
    "windows_met",
    "breached",
    "accepted",
    "rejected",
    "returned",
}


def figure_handoffs(
    month: Month, figure: str, *, rep_id=None, key=None, now=None, agreement=None
) -> QuerySet:
    start, end = month.bounds(review_time_zone())
    now = now or timezone.now()
    handoffs = Handoff.objects.all()
    if agreement is not None:
        # As the rollups file it: under the agreement of the version it was handed off under.
        handoffs = handoffs.filter(version__agreement=agreement)
    if rep_id:
        # The same rep the rollups credit: who held the lead when the figure happened.
        handoffs = handoffs.alias(accountable=accountable_rep(figure)).filter(accountable=rep_id)
    if figure == "handoffs":
        return handoffs.filter(handed_off_at__gte=start, handed_off_at__lt=end)
    if figure in ("windows_closed", "windows_met"):
        closed = handoffs.filter(due_at__gte=start, due_at__lt=min(end, now)).exclude(
            first_touch_at__isnull=True, returned_at__lte=F("due_at")
        )
        return closed.filter(first_touch_at__lte=F("due_at")) if figure == "windows_met" else closed
    if figure == "breached":
        return handoffs.filter(breached_at__gte=start, breached_at__lt=end)
    if figure == "accepted":
        return handoffs.filter(accepted_at__gte=start, accepted_at__lt=end)
    if figure in ("rejected", "returned"):
        decided = handoffs.filter(
            returned_at__gte=start, returned_at__lt=end, rejected_at__isnull=figure == "returned"
        )
        return decided.filter(return_reason=key) if key else decided
    raise KeyError(figure)


def figure_leads(
    month: Month,
    figure: str,
    *,
    rep_id=None,
    source=None,
    key=None,
    segment=None,
    now=None,
    agreement=None,
) -> QuerySet:
    """The leads a figure counts (distinct), ordered for a readable list; of one agreement's
    rows when `agreement` is given."""
    if figure not in FIGURES:
        raise KeyError(figure)
    start, end = month.bounds(review_time_zone())
    leads = Lead.objects.all()
    if source is not None:
        leads = leads.filter(source=source)
    if segment in SEGMENT_LABELS:
        leads = leads.filter(segment_filter("company_size", segment))
    if agreement is not None and figure not in HANDOFF_FIGURES:
        leads = leads.filter(agreement=agreement)
    if figure == "leads_created":
        return leads.filter(created_at__gte=start, created_at__lt=end).order_by("created_at")
    if figure in STAGE_METRICS.values():
        stage = next(s for s, m in STAGE_METRICS.items() if m == figure)
        entered = first_entries().filter(to_stage=stage, at__gte=start, at__lt=end)
        leads = leads.filter(pk__in=entered.values("lead"))
        if rep_id:
            leads = leads.filter(owner_id=rep_id)
        return leads.distinct().order_by("email")
    handoffs = figure_handoffs(month, figure, rep_id=rep_id, key=key, now=now, agreement=agreement)
    return leads.filter(handoffs__in=handoffs).distinct().order_by("email")
