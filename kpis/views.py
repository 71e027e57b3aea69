"""The monthly review: the month's figures, the leads behind each, the meeting's record, exports.

Every role reads; only the two managers write the notes and action items or propose a change.
The page reads the month's report and the twelve-month trends once per request, so its number
of queries does not grow with the leads, the reps or the action items.

The review shows one agreement (`?agreement=ID`) or all of them (no parameter): every link,
export and form of the page carries the choice. The meeting's record (notes, action items, a
proposed change) belongs to an agreement: on "all" with several agreements the page lists
every agreement's action items and asks to pick one to write.
"""

import functools
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from agreements.models import Agreement, CadenceStep, HandoffPolicy, ReturnReason
from agreements.services import amendment_start
from discussions.services import thread_open
from leads.models import Handoff
from leads.selectors import CADENCE_REASONS, leads_visible_to, paused_time_by_rep
from slaportal.roles import MANAGERS, READERS, Role, has_role, role_required
from slaportal.workspace import workspace_currency

from . import exports, forms, services
from .chart_text import chart_texts
from .charts import review_charts
from .drilldown import FIGURES, HANDOFF_FIGURES, figure_handoffs, figure_leads
from .exports import BreachRow, Review
from .models import ActionItem, ReviewMeeting
from .periods import Month
from .ritual import meeting_next
from .rollups import review_time_zone
from .segments import LABELS as SEGMENT_LABELS
from .selectors import (
    REPORT_CACHE_SECONDS,
    last_closed_month,
    month_report,
    month_trends,
    review_agreement_parse,
    review_agreements,
)

FIGURE_PAGE_SIZE = 50
STATUS_BADGES = {
    "green": "text-bg-success",
    "amber": "text-bg-warning",
    "red": "text-bg-danger",
    "grey": "text-bg-secondary",
    "mixed": "text-bg-light border",
}
# The figure whose leads explain each catalogue metric of a KPI.
KPI_FIGURES = {
    "leads": "leads_created",
    "visitor_to_lead_rate": "leads_created",
    "mqls": "entered_mql",
    "lead_to_mql_rate": "entered_mql",
    "sqls": "entered_sql",
    "mql_to_sql_rate": "entered_sql",
    "opportunities": "entered_opportunity",
    "sql_to_opportunity_rate": "entered_opportunity",
    "won_deals": "entered_customer",
    "opportunity_to_win_rate": "entered_customer",
    "new_revenue": "entered_customer",
    "mql_acceptance_rate": "accepted",
    "sla_compliance": "windows_closed",
    "speed_to_lead": "handoffs",
    "attempts_per_lead": "handoffs",
}


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as error:
        raise Http404(str(error)) from None


def _today(time_zone: str, now: datetime | None = None):
    return timezone.localtime(now or timezone.now(), ZoneInfo(time_zone)).date()


def _agreement_param(request) -> Agreement | None:
    """`?agreement=` of a download or a figure's leads: the agreement, or None for all."""
    try:
        return review_agreement_parse(request.GET.get("agreement"))
    except ValueError as error:
        raise Http404(str(error)) from None


def _query(agreement: Agreement | None, **params) -> str:
    """A link's query string: its own parameters plus the agreement shown, if one is."""
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if value is not None:
            query[name] = value
    if agreement is not None:
        query["agreement"] = agreement.pk
    return "?" + query.urlencode() if query else ""


def _review_url(month: Month, agreement: Agreement | None, anchor: str = "") -> str:
    return reverse("kpis:review", args=[str(month)]) + _query(agreement) + anchor


def _meeting_agreement(agreement: Agreement | None) -> Agreement | None:
    """The agreement whose meeting record the review shows and writes: the one shown, or on
    "all" the only agreement there is; None on "all" with several (or none)."""
    if agreement is not None:
        return agreement
    agreements = Agreement.objects.order_by("id")[:2]
    return agreements[0] if len(agreements) == 1 else None


# Loading the month ------------------------------------------------------------------------


# The page lists the month's first breaches; the rest are one click away (the breached figure's
# list, breaches.csv, the PDF). At a million leads a month has thousands, and rendering them
# all would cost the page seconds.
PAGE_BREACHES = 50


def _breaches(
    month: Month, user, *, limit: int | None = None, agreement=None
) -> tuple[list[BreachRow], int]:
    """The month's breached handoffs this user may see (the first `limit`), and their count."""
    breached = figure_handoffs(month, "breached", agreement=agreement)
    # A rep reads the team's figures but only their own leads' e-mails, as everywhere else.
    if not has_role(user, *MANAGERS, Role.VIEWER):
        breached = breached.filter(lead__in=leads_visible_to(user).values("pk"))
    ordered = breached.order_by("breached_at", "id")
    if limit is None:
        handoffs = list(ordered.select_related("lead", "rep", "breach_rep"))
    else:
        # The page's ids first (the breached_at index, in order), then those rows with their
        # lead and reps: joining the month's thousands of breaches before sorting them cost
        # the page 19 ms of the database's time at a million leads.
        ids = list(ordered.values_list("pk", flat=True)[: limit + 1])
        handoffs = list(
            Handoff.objects.filter(pk__in=ids)
            .select_related("lead", "rep", "breach_rep")
            .order_by("breached_at", "id")
        )
    if limit is None or len(handoffs) <= limit:
        total = len(handoffs)
    else:
        handoffs, total = handoffs[:limit], breached.count()
    targets = dict(
        HandoffPolicy.objects.filter(version_id__in={h.version_id for h in handoffs}).values_list(
            "version_id", "response_target_hours"
        )
    )
    rows = []
    for handoff in handoffs:
        breach_rep = handoff.breach_rep or handoff.rep
        target = targets.get(handoff.version_id)
        late = None
        if handoff.response_business_minutes is not None and target is not None:
            late = max(handoff.response_business_minutes - float(target) * 60, 0)
        rows.append(
            BreachRow(
                lead_id=handoff.lead_id,
                lead=handoff.lead.email,
                # The breach stays with the rep who held the lead at its deadline.
                rep=breach_rep.get_full_name() or breach_rep.username,
                rep_id=breach_rep.pk,
                handoff_id=handoff.pk,
                handed_off_at=handoff.handed_off_at,
                due_at=handoff.due_at,
                first_touch_at=handoff.first_touch_at,
                late_business_minutes=late,
                returned_at=handoff.returned_at,
            )
        )
    return rows, total


def _reason_labels(shown: Agreement | None) -> dict[str, str]:
    """Why handoffs went back, by code: the cadence's own reasons (it returns leads with no
    response or no progress whatever the version says), then the versions' reasons, older
    versions too, since a handoff keeps the reason of the version it ran under."""
    reasons = (
        ReturnReason.objects.filter(version__agreement=shown) if shown else ReturnReason.objects
    )
    return {
        **{code: str(label) for code, label in CADENCE_REASONS.items()},
        **dict(reasons.order_by("version_id", "id").values_list("code", "label")),
    }


def _action_items(agreement, month: Month, time_zone: str) -> list[ActionItem]:
    """Items agreed in this month or earlier that were still open when it began: open ones carry
    over, and ones closed since then show as done. Every agreement's with `agreement` None."""
    start = month.bounds(time_zone)[0]
    items = ActionItem.objects.filter(month__lte=month.first_day)
    if agreement is not None:
        items = items.filter(agreement=agreement)
    items = items.filter(Q(done_at__isnull=True) | Q(done_at__gte=start)).select_related(
        "owner", "agreement"
    )
    return sorted(items, key=lambda item: (item.done_at is not None, item.due_date, item.pk))


def _load_review(
    month: Month, *, now, user, breach_limit: int | None = None, shown: Agreement | None = None
) -> tuple[Review, object]:
    """The page, its PDF and its CSVs: the month's one report (as the API reads it) plus what
    only the meeting needs, with the breached leads this user may see. `shown` is the
    agreement the review shows, None for all; the second value returned is the agreement
    whose meeting record it shows (None on "all" with several agreements)."""
    report = month_report(month=month, now=now, agreement=shown)
    breaches, breaches_total = _breaches(month, user, limit=breach_limit, agreement=shown)
    as_of = report.judged_at
    series = month_trends(month=month, agreement=shown)
    agreement = _meeting_agreement(shown)
    # "All" of several agreements: each is judged by its own version, side by side.
    review_several = shown is None and agreement is None and report.agreements_count > 1
    # The promises the month is held to: the version the report was judged by (none of its
    # own on "all" with several agreements, each of which keeps its own).
    version = report.version
    policy = HandoffPolicy.objects.filter(version=version).first() if version else None
    plan = report.plan
    meeting = None
    if agreement is not None:
        meeting = (
            ReviewMeeting.objects.filter(agreement=agreement, month=month.first_day)
            .select_related("updated_by")
            .first()
        )
    notes_updated = ""
    if meeting and meeting.updated_at:
        who = gettext("someone")
        if meeting.updated_by:
            who = meeting.updated_by.get_full_name() or meeting.updated_by.username
        notes_updated = gettext("Saved by %(who)s, %(when)s") % {
            "who": who,
            "when": exports.local(meeting.updated_at, report.time_zone),
        }
    review = Review(
        month=month,
        report=report,
        trends=series,
        agreement_name=_scope_name(shown, agreement),
        agreement_id=shown.pk if shown else None,
        version_label=version.label
        if version
        else gettext("each agreement's own version in force")
        if review_several
        else gettext("no version in force"),
        response_target_hours=float(policy.response_target_hours) if policy else None,
        accept_window_hours=float(policy.accept_window_hours) if policy else None,
        cadence_steps=CadenceStep.objects.filter(version=version).count() if version else 0,
        planned_rates={"lead_to_mql_rate": float(plan.lead_to_mql_rate)} if plan else {},
        reason_labels=_reason_labels(shown),
        breaches=breaches,
        breaches_total=breaches_total,
        notes=meeting.notes if meeting else "",
        notes_updated=notes_updated,
        action_items=_action_items(agreement or shown, month, report.time_zone),
        as_of=as_of,
        generated_at=now,
    )
    return review, agreement


def _scope_name(shown: Agreement | None, meeting_agreement: Agreement | None) -> str:
    if shown is not None:
        return shown.name
    if meeting_agreement is not None:
        return meeting_agreement.name
    if Agreement.objects.exists():
        return gettext("All agreements")
    return gettext("No agreement yet")


def _figure_url(month: Month, figure: str, query: str = "", agreement_id=None) -> str:
    """A figure's leads; `query` is "?name=value" or empty."""
    if agreement_id is not None:
        query = (query + "&" if query else "?") + f"agreement={agreement_id}"
    return reverse("kpis:figure", args=[str(month), figure]) + query


def _scorecard(review: Review) -> dict:
    def row(status, link=None):
        badge = STATUS_BADGES.get(status.status, STATUS_BADGES["grey"])
        label = exports.STATUS_LABELS.get(status.status, status.status)
        arrow, change = exports.change(status)
        return {
            "status": status,
            "badge": badge,
            "label": label,
            "arrow": arrow,
            "change": change,
            "target": exports.with_unit(status.target, status.unit, status.metric),
            "actual": exports.with_unit(status.actual, status.unit, status.metric),
            "previous": exports.with_unit(status.previous, status.unit, status.metric),
            "link": link,
        }

    month = review.month
    kpis = []
    for kpi in review.report.kpis:
        link = None
        if kpi.metric in KPI_FIGURES:
            link = _figure_url(month, KPI_FIGURES[kpi.metric], agreement_id=review.agreement_id)
        kpis.append(row(kpi, link))
        # "All agreements": each agreement's own figure and status under the combined one.
        kpis[-1]["parts"] = [row(part) for part in kpi.parts] if len(kpi.parts) > 1 else []
    return {"goals": [row(goal) for goal in review.report.goals], "kpis": kpis}


def _chart_data(review: Review) -> dict:
    """The charts' series (shared with the PDF pack) plus the figure each bar opens."""
    data, month = review_charts(review), review.month
    metric_of = {
        "lead": "leads_created",
        "mql": "entered_mql",
        "sql": "entered_sql",
        "opportunity": "entered_opportunity",
        "customer": "entered_customer",
    }
    # Codes and ids only make the links; the page's JSON carries what the charts draw.
    stages, rep_ids = data["funnel"].pop("stages"), data["reps"].pop("ids")
    shown = review.agreement_id
    data["funnel"]["links"] = [
        _figure_url(month, metric_of[stage], agreement_id=shown) for stage in stages
    ]
    data["reps"]["links"] = [
        _figure_url(month, "windows_closed", f"?rep={rep_id}", agreement_id=shown)
        for rep_id in rep_ids
    ]
    return data


# The rendered figures of a month (scorecard, compliance, charts, tables, breakdowns) are kept
# in each process's fragment cache for as long as the report they show.
FIGURES_CACHE_SECONDS = REPORT_CACHE_SECONDS


def _figures_key(review: Review) -> str | None:
    """What the page's figures are a function of, None when nothing is worth keeping.

    The report's own cache key names the month, the agreement, the version(s) it is judged
    by, the time zone, the day (a running month) and the stamps of every rollup it read, the
    twelve months' trends included. The rest of the figures' text is the agreement's name,
    the workspace's currency and the language ({% cache %} adds the language as a vary_on).
    Nothing in them depends on who reads: the breached handoffs (a rep sees only their own
    leads), the paused time and the meeting's record are read for every request.
    """
    key = review.report.cache_key
    if not key:
        return None
    return f"{key}:{review.agreement_name}:{workspace_currency()}"


def _figures_context(review: Review, month: Month) -> dict:
    """The figures' context, each value computed when the template first reads it: a page
    whose figures come from the fragment cache builds none of them."""

    def compliance_sides():
        summary = exports.summary_rows(review)
        for row in summary:
            row.href = (
                _figure_url(month, row.figure, row.query, agreement_id=review.agreement_id)
                if row.figure
                else ""
            )
        return [
            (
                "marketing",
                gettext("Marketing promised / delivered"),
                [row for row in summary if row.side == "marketing"],
                "bi-megaphone",
            ),
            (
                "sales",
                gettext("Sales promised / did"),
                [row for row in summary if row.side == "sales"],
                "bi-telephone",
            ),
        ]

    chart_data = functools.cache(lambda: _chart_data(review))
    figures = {
        "velocity_rows": lambda: _velocity_rows(review),
        "scorecard": lambda: _scorecard(review),
        "compliance_sides": compliance_sides,
        "funnel_rows": lambda: _funnel_rows(review),
        "breakdown_tables": lambda: [
            (gettext("By source"), _breakdown_rows(review.report.by_source), "source"),
            (
                gettext("By segment (company size)"),
                _breakdown_rows(review.report.by_segment),
                "segment",
            ),
        ],
        "cohort_months": lambda: [c.month for c in review.report.cohorts],
        "cohort_rows": lambda: _cohort_rows(review),
        "rep_rows": lambda: [
            {"rep": rep, "compliance": exports.percent(rep.compliance)}
            for rep in review.report.by_rep
        ],
        "reason_rows": lambda: _reason_rows(review),
        "chart_data": chart_data,
        "chart_texts": lambda: chart_texts(chart_data()),
    }
    # A template calls a callable each time it reads the name: each is computed once.
    return {name: functools.cache(value) for name, value in figures.items()}


def _render_review(
    request,
    month: Month,
    *,
    shown: Agreement | None = None,
    notes_form=None,
    item_form=None,
    propose_form=None,
):
    now = timezone.now()
    review, agreement = _load_review(
        month, now=now, user=request.user, breach_limit=PAGE_BREACHES, shown=shown
    )
    agreements = review_agreements()
    can_write = agreement is not None and has_role(request.user, *MANAGERS)
    today = _today(review.time_zone, now)
    if can_write:
        notes_form = notes_form or forms.ReviewNotesForm(initial={"notes": review.notes})
        item_form = item_form or forms.ActionItemForm(today=today)
        propose_form = propose_form or forms.ProposeChangeForm()
    current = Month.of(today)
    figures_key = _figures_key(review)
    return render(
        request,
        "kpis/review.html",
        {
            "review": review,
            "report": review.report,
            "month": month,
            "month_str": str(month),
            "is_current_month": month == current,
            "is_partial": review.report.partial,
            "current_month": current,
            "current_month_str": str(current),
            "last_closed_month": current.previous,
            "paused_time": paused_time_by_rep(
                bounds=month.bounds(review.time_zone), agreement=shown
            ),
            **_figures_context(review, month),
            # Seconds 0 when there is no key: {% cache %} then keeps nothing.
            "figures_key": figures_key,
            "figures_seconds": FIGURES_CACHE_SECONDS if figures_key else 0,
            "csv_tables": list(exports.CSV_TITLES.items()),
            "can_write": can_write,
            "next_meeting": meeting_next(agreement=agreement, now=now) if agreement else None,
            "today": today,
            "notes_form": notes_form,
            "item_form": item_form,
            "propose_form": propose_form,
            "has_agreement": bool(agreements),
            # The selector: all agreements, or one; every link and form below keeps the choice.
            "agreements": agreements,
            "shown": shown,
            "meeting_agreement": agreement,
            "agreement_query": _query(shown),
            "agreement_param": f"&agreement={shown.pk}" if shown else "",
        },
    )


def _velocity_rows(review: Review) -> list[dict]:
    days = review.report.velocity_days
    return [
        {"label": label, "median": days[stage]["median"], "p90": days[stage]["p90"]}
        for stage, label in exports.VELOCITY_LABELS.items()
    ]


def _reason_rows(review: Review) -> list[dict]:
    report = review.report
    return [
        {
            "decision": decision,
            "label": review.reason(code),
            "count": count,
            "link": _figure_url(
                review.month,
                figure,
                f"?key={code}" if code != "unspecified" else "",
                agreement_id=review.agreement_id,
            ),
        }
        for decision, figure, counts in (
            (gettext("Rejected"), "rejected", report.rejections_by_reason),
            (gettext("Returned"), "returned", report.returns_by_reason),
        )
        for code, count in counts.items()
    ]


def _breakdown_rows(breakdowns) -> list[dict]:
    return [
        {
            "key": b.key,
            "label": b.label,
            "cells": [
                ("leads_created", b.leads),
                ("entered_mql", b.mqls),
                ("entered_sql", b.sqls),
                ("entered_opportunity", b.opportunities),
                ("entered_customer", b.won),
            ],
            "conversion": exports.percent(b.mqls / b.leads if b.leads else None),
        }
        for b in breakdowns
    ]


def _cohort_rows(review: Review) -> list[dict]:
    months = [c.month for c in review.report.cohorts]
    rows = []
    for cohort in review.report.cohorts:
        progress = {p.month: p for p in cohort.progress}
        cells = []
        for month in months:
            cell = progress.get(month)
            if cell is not None:
                share = cell.mqls / cohort.created if cohort.created else None
                cell = {
                    "mqls": cell.mqls,
                    "sqls": cell.sqls,
                    "won": cell.won,
                    "mql_share": exports.percent(share),
                }
            cells.append(cell)
        rows.append(
            {
                "month": cohort.month,
                "month_str": str(cohort.month),
                "created": cohort.created,
                "cells": cells,
            }
        )
    return rows


def _funnel_rows(review: Review) -> list[dict]:
    metric_of = {
        "lead": "leads_created",
        "mql": "entered_mql",
        "sql": "entered_sql",
        "opportunity": "entered_opportunity",
        "customer": "entered_customer",
    }
    return [
        {
            "step": step,
            "conversion": exports.percent(step.conversion_from_previous),
            "link": _figure_url(
                review.month, metric_of[step.stage], agreement_id=review.agreement_id
            )
            if step.stage in metric_of
            else None,
        }
        for step in review.report.funnel
    ]


# Pages ------------------------------------------------------------------------------------


@role_required(*READERS)
@require_safe
def review_current(request):
    """The last closed month in the SLA's time zone (a month one day old would alarm a meeting
    for nothing; "this month so far" is one click away), or the month the picker asked for."""
    try:
        shown = review_agreement_parse(request.GET.get("agreement"))
    except ValueError as error:
        messages.error(request, str(error))
        shown = None
    picked = request.GET.get("month")
    if picked is not None:
        try:
            return redirect(_review_url(Month.parse(picked), shown))
        except ValueError as error:
            messages.error(request, str(error))
    return redirect(_review_url(last_closed_month(), shown))


@role_required(*READERS)
@require_safe
def review(request, month):
    try:
        parsed = Month.parse(month)
    except ValueError as error:
        # A typed URL deserves the reason and a working page, not a bare 404.
        messages.error(request, str(error))
        return redirect("kpis:current")
    try:
        shown = review_agreement_parse(request.GET.get("agreement"))
    except ValueError as error:
        # A stale or mistyped link still opens the month, on all agreements, saying why.
        messages.error(request, str(error))
        return redirect(_review_url(parsed, None))
    return _render_review(request, parsed, shown=shown)


@role_required(*READERS)
@require_safe
def figure(request, month, figure):
    month = _month(month)
    if figure not in FIGURES:
        raise Http404(gettext("No figure called “%(figure)s”.") % {"figure": figure})
    rep_id = request.GET.get("rep") or None
    if rep_id is not None and not rep_id.isdigit():
        raise Http404(gettext("The rep must be a user id."))
    source, key = request.GET.get("source"), request.GET.get("key") or None
    segment = request.GET.get("segment") or None
    if segment is not None and segment not in SEGMENT_LABELS:
        raise Http404(gettext("No such segment."))
    shown = _agreement_param(request)
    leads = figure_leads(
        month, figure, rep_id=rep_id, source=source, key=key, segment=segment, agreement=shown
    )
    total = leads.count()
    handoffs = None
    if figure in HANDOFF_FIGURES:
        # The review counts handoffs; a lead handed to sales twice in a month is listed once.
        counted = figure_handoffs(month, figure, rep_id=rep_id, key=key, agreement=shown)
        handoffs = (counted if source is None else counted.filter(lead__source=source)).count()
    # Reps see only their own leads everywhere else in the app; the review keeps that promise.
    visible = leads
    if not has_role(request.user, *MANAGERS, Role.VIEWER):
        visible = leads.filter(pk__in=leads_visible_to(request.user).values("pk"))
    page = Paginator(visible.select_related("owner"), FIGURE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rep = get_object_or_404(get_user_model(), pk=rep_id) if rep_id else None
    filters = []
    if rep is not None:
        filters.append(gettext("rep %(name)s") % {"name": rep.get_full_name() or rep.username})
    if source is not None:
        filters.append(
            gettext("source “%(source)s”") % {"source": source} if source else gettext("no source")
        )
    if segment:
        filters.append(gettext("segment %(segment)s") % {"segment": SEGMENT_LABELS[segment]})
    if key:
        label = _reason_labels(shown).get(key, key)
        filters.append(gettext("reason %(reason)s") % {"reason": label})
    if shown is not None:
        filters.append(gettext("agreement %(name)s") % {"name": shown.name})
    return render(
        request,
        "kpis/figure_leads.html",
        {
            "month": month,
            "month_str": str(month),
            "figure": figure,
            "figure_label": FIGURES[figure],
            "filters": filters,
            "total": total,
            "handoffs": handoffs,
            "page": page,
            "partial_view": page.paginator.count != total,
            "shown": shown,
            "agreement_query": _query(shown),
        },
    )


@require_POST
@role_required(*MANAGERS)
def notes_save(request, month):
    month = _month(month)
    shown, agreement = _meeting_target(request)
    if agreement is None:
        return redirect(_review_url(month, shown))
    form = forms.ReviewNotesForm(request.POST)
    if not form.is_valid():
        return _render_review(request, month, shown=shown, notes_form=form)
    services.review_notes_save(
        agreement=agreement, month=month, notes=form.cleaned_data["notes"], by=request.user
    )
    messages.success(
        request, gettext("Notes of the %(month)s review saved.") % {"month": month.label}
    )
    return redirect(_review_url(month, shown, "#meeting"))


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*MANAGERS)
def action_item_create(request, month):
    """Errors show where the eye is: htmx swaps the form in place with them; without
    JavaScript this URL is the form's own short page. A GET (a reload, a bookmark) goes
    back to the review's action items rather than answering 405."""
    month = _month(month)
    shown, agreement = _meeting_target(request, quiet=request.method != "POST")
    review_url = _review_url(month, shown, "#actions")
    if request.method != "POST":
        return redirect(review_url)
    if agreement is None:
        return redirect(_review_url(month, shown))
    form = forms.ActionItemForm(request.POST, today=_today(review_time_zone()))
    if not form.is_valid():
        context = {
            "item_form": form,
            "month": month,
            "month_str": str(month),
            "agreement_query": _query(shown),
        }
        if request.htmx:
            return render(request, "kpis/partials/action_item_form.html", context)
        return render(request, "kpis/action_item_page.html", context)
    services.action_item_create(
        agreement=agreement, month=month, by=request.user, **form.cleaned_data
    )
    messages.success(request, gettext("Action item added."))
    if request.htmx:
        # The new row, the carried-over list and the message belong to the whole page. From
        # the review itself that is a reload: a redirect to the same page plus "#actions"
        # would only move to the anchor.
        if urlsplit(request.htmx.current_url or "").path == urlsplit(review_url).path:
            return HttpResponseClientRefresh()
        return HttpResponseClientRedirect(review_url)
    return redirect(review_url)


@require_POST
@role_required(*MANAGERS)
def action_item_done(request, month, pk):
    month = _month(month)
    item = get_object_or_404(ActionItem.objects.select_related("owner"), pk=pk)
    done = request.POST.get("done", "1") != "0"
    try:
        shown = review_agreement_parse(request.GET.get("agreement"))
    except ValueError:
        shown = None
    item = services.action_item_done(item=item, by=request.user, done=done)
    if request.htmx:
        time_zone = review_time_zone()
        return render(
            request,
            "kpis/partials/action_item_row.html",
            {
                "item": item,
                "month": month,
                "month_str": str(month),
                "can_write": True,
                "today": _today(time_zone),
                "time_zone": time_zone,
                "agreement_query": _query(shown),
            },
        )
    text = gettext("“%(item)s” marked done.") if done else gettext("“%(item)s” marked open.")
    messages.success(request, text % {"item": item.text})
    return redirect(_review_url(month, shown, "#actions"))


@require_POST
@role_required(*MANAGERS)
def propose_change(request, month):
    month = _month(month)
    shown, agreement = _meeting_target(request)
    if agreement is None:
        return redirect(_review_url(month, shown))
    form = forms.ProposeChangeForm(request.POST)
    if not form.is_valid():
        return _render_review(request, month, shown=shown, propose_form=form)
    note = form.cleaned_data["note"]
    with transaction.atomic():
        draft = amendment_start(
            agreement=agreement,
            by=request.user,
            note=gettext("From the %(month)s review: %(note)s")
            % {"month": month.label, "note": note},
        )
        thread = thread_open(
            version=draft,
            part=form.cleaned_data["part"],
            title=gettext("From the %(month)s review") % {"month": month.label},
            text=note,
            by=request.user,
        )
    messages.success(
        request, gettext("Draft amendment open with your proposal as a thread on the part.")
    )
    return redirect(f"{draft.get_absolute_url()}#thread-{thread.pk}")


def _meeting_target(request, *, quiet: bool = False):
    """(the agreement the review shows, the one a write of its meeting goes to): the page's
    `?agreement=`, or on "all" the only agreement; (…, None) with a message otherwise."""
    try:
        shown = review_agreement_parse(request.GET.get("agreement"))
    except ValueError as error:
        if not quiet:
            messages.error(request, str(error))
        return None, None
    agreement = _meeting_agreement(shown)
    if agreement is None and not quiet:
        if Agreement.objects.exists():
            messages.error(
                request,
                gettext(
                    "Choose an agreement first: notes, action items and proposed changes "
                    "belong to one agreement."
                ),
            )
        else:
            messages.error(request, gettext("There is no SLA yet: create the agreement first."))
    return shown, agreement


# Out of the app ---------------------------------------------------------------------------


@role_required(*READERS)
@require_safe
def review_pdf(request, month):
    review, _ = _load_review(
        _month(month), now=timezone.now(), user=request.user, shown=_agreement_param(request)
    )
    response = HttpResponse(exports.review_pdf(review), content_type="application/pdf")
    name = exports.filename(review, "pack", "pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@role_required(*READERS)
@require_safe
def review_csv(request, month, table):
    review, _ = _load_review(
        _month(month), now=timezone.now(), user=request.user, shown=_agreement_param(request)
    )
    every = exports.csv_tables(review)
    if table not in every:
        raise Http404(gettext("No table called “%(table)s”.") % {"table": table})
    response = HttpResponse(exports.table_csv(every[table]), content_type="text/csv; charset=utf-8")
    name = exports.filename(review, table, "csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
