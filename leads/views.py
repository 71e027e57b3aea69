"""Pages of the lead engine: the rep's queue and its actions, the lead page, the leads list,
the sales manager's team view and the in-app notifications.

Queue actions answer htmx with the handoff's row re-rendered in place; without htmx they
fall back to a full page with the same row and form, then redirect to the queue.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agreements.selectors import lead_version_in_force
from slaportal.clock import local_time
from slaportal.numbers import number
from slaportal.roles import MANAGERS, READERS, Role, has_role, role_required

from . import forms
from .models import Handoff, Lead, Stage
from .selectors import (
    handoffs_page,
    lead_page,
    lead_timeline,
    leads_search,
    leads_visible_to,
    notifications_for,
    queue_row,
    queue_rows,
    rep_loads,
    sales_reps,
    stage_labels,
    timeline_cursor_parse,
)
from .services.consent import lead_data_export, lead_erase
from .services.handoffs import (
    attempt_log,
    handoff_accept,
    handoff_manual,
    handoff_reassign,
    handoff_reject,
    handoff_return,
)
from .services.notifications import notifications_mark_read
from .services.pipeline import current_version

PAGE_SIZE = 25
TEAM_PAGE_SIZE = 50
ACTORS = (Role.SALES_REP, Role.SALES_MANAGER)


def _name(user) -> str:
    return user.get_full_name() or user.username


def _error_messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return error.messages
    return [str(error) or _("You may not do this.")]


# The rep queue -----------------------------------------------------------------------------


@role_required(Role.SALES_REP, *MANAGERS)
@require_safe
def queue(request):
    """A rep's own queue; managers pick whose queue to look at with ?rep=<id>."""
    user = request.user
    rep = user if has_role(user, Role.SALES_REP) else None
    rep_form = None
    if has_role(user, *MANAGERS):
        rep_form = forms.QueueRepForm(request.GET)
        if not rep_form.is_valid():
            raise Http404("No such sales rep.")
        rep = rep_form.cleaned_data["rep"] or rep or sales_reps().first()
        rep_form = forms.QueueRepForm(initial={"rep": rep})
    now = timezone.now()
    page = None
    rows = []
    if rep is not None:
        page = handoffs_page(rep=rep, number=request.GET.get("page"), per_page=PAGE_SIZE, now=now)
        rows = queue_rows(page.object_list, now=now)
    return render(
        request,
        "leads/queue.html",
        {
            "rep": rep,
            "own_queue": rep == user,
            "rep_form": rep_form,
            "page": page,
            "rows": rows,
            "can_act": _may_act_for(user, rep),
        },
    )


def _may_act_for(user, rep) -> bool:
    if rep is None:
        return False
    if has_role(user, Role.SALES_MANAGER):
        return True
    return rep.pk == user.pk and has_role(user, Role.SALES_REP)


def _actionable_handoff(request, pk) -> Handoff:
    """A rep acts on their own handoffs only (another rep's is 404); a sales manager on any."""
    handoffs = Handoff.objects.select_related("lead", "version__agreement", "rep")
    if not has_role(request.user, Role.SALES_MANAGER):
        handoffs = handoffs.filter(rep=request.user)
    return get_object_or_404(handoffs, pk=pk)


def _queue_url(handoff: Handoff, user) -> str:
    url = reverse("leads:queue")
    return url if handoff.rep_id == user.pk else f"{url}?rep={handoff.rep_id}"


def _row_response(request, handoff: Handoff, *, action=None, form=None, notice="", error=""):
    return _render_row(
        request,
        handoff,
        queue_row(handoff.pk),
        action=action,
        form=form,
        notice=notice,
        error=error,
    )


def _render_row(request, handoff, row, *, action=None, form=None, notice="", error=""):
    context = {
        "row": row,
        "handoff": handoff,
        "action": action,
        "action_url": reverse(f"leads:{action}", args=[handoff.pk]) if action else "",
        "form": form,
        "notice": notice,
        "error": error,
        "can_act": True,
        "queue_url": _queue_url(handoff, request.user),
    }
    if row is None:
        handoff.refresh_from_db()
        template = "leads/partials/queue_row_closed.html"
    else:
        template = "leads/partials/queue_row.html"
    if request.htmx:
        return render(request, template, context)
    return render(request, "leads/handoff_action.html", {**context, "row_template": template})


def _handoff_action(request, pk, *, action, form_class, perform):
    """GET shows the action's form in the row; POST validates, calls the service, and
    re-renders the row, or the form with the reason nothing was stored."""
    handoff = _actionable_handoff(request, pk)
    if request.method == "GET":
        row = queue_row(handoff.pk)
        if row is None:
            return _render_row(request, handoff, row)
        # The cadence says which channel comes next; preselecting it saves the rep a click.
        initial = {"channel": row.next_step.channel} if row.next_step else {}
        form = form_class(handoff=handoff, initial=initial)
        return _render_row(request, handoff, row, action=action, form=form)
    if request.method != "POST":
        raise Http404
    form = form_class(request.POST, handoff=handoff)
    if form.is_valid():
        try:
            notice = perform(request, handoff, form)
        except (ValidationError, PermissionDenied) as error:
            for message in _error_messages(error):
                form.add_error(None, message)
        else:
            if not request.htmx:
                messages.success(request, notice)
                return redirect(_queue_url(handoff, request.user))
            return _row_response(request, handoff, notice=notice)
    return _row_response(request, handoff, action=action, form=form)


def _log_attempt(request, handoff, form) -> str:
    data = form.cleaned_data
    attempt_log(
        handoff=handoff,
        channel=data["channel"],
        disposition=data["disposition"],
        note=data["note"],
        by=request.user,
    )
    outcome = dict(form.fields["disposition"].choices).get(data["disposition"])
    return _("Attempt logged: %(outcome)s.") % {"outcome": outcome}


@role_required(*ACTORS)
@require_http_methods(["GET", "POST"])
def attempt(request, pk):
    return _handoff_action(
        request,
        pk,
        action="attempt",
        form_class=forms.AttemptForm,
        perform=_log_attempt,
    )


def _reject(request, handoff, form) -> str:
    data = form.cleaned_data
    handoff_reject(handoff=handoff, reason=data["reason"], note=data["note"], by=request.user)
    return _("%(lead)s was rejected back to marketing.") % {"lead": handoff.lead}


@role_required(*ACTORS)
@require_http_methods(["GET", "POST"])
def reject(request, pk):
    return _handoff_action(
        request, pk, action="reject", form_class=forms.RejectForm, perform=_reject
    )


def _return(request, handoff, form) -> str:
    data = form.cleaned_data
    handoff_return(handoff=handoff, reason=data["reason"], note=data["note"], by=request.user)
    return _("%(lead)s was returned to marketing.") % {"lead": handoff.lead}


@role_required(*ACTORS)
@require_http_methods(["GET", "POST"])
def return_lead(request, pk):
    return _handoff_action(
        request, pk, action="return", form_class=forms.ReturnForm, perform=_return
    )


def _enrol(request, handoff, form) -> str:
    data = form.cleaned_data
    track = data["track"]
    handoff_return(
        handoff=handoff, reason="nurture", note=data["note"], by=request.user, track=track
    )
    return _("%(lead)s went back to marketing, enrolled in “%(track)s”.") % {
        "lead": handoff.lead,
        "track": track.name,
    }


@role_required(*ACTORS)
@require_http_methods(["GET", "POST"])
def nurture(request, pk):
    return _handoff_action(
        request, pk, action="nurture", form_class=forms.NurtureForm, perform=_enrol
    )


@role_required(*ACTORS)
@require_POST
def accept(request, pk):
    handoff = _actionable_handoff(request, pk)
    try:
        handoff_accept(handoff=handoff, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        message = " ".join(_error_messages(error))
        if not request.htmx:
            messages.error(request, message)
            return redirect(_queue_url(handoff, request.user))
        return _row_response(request, handoff, error=message)
    notice = _("Accepted: %(lead)s is now a sales qualified lead.") % {"lead": handoff.lead}
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_queue_url(handoff, request.user))
    return _row_response(request, handoff, notice=notice)


@role_required(*ACTORS)
@require_safe
def handoff_row(request, pk):
    """htmx: the row as it is, e.g. when a rep cancels a form they opened."""
    return _row_response(request, _actionable_handoff(request, pk))


# The lead page and the leads list -----------------------------------------------------------


@role_required(*READERS)
@require_safe
def lead_detail(request, pk):
    """The lead page; `?before=` pages the timeline back (htmx asks for the entries only)."""
    user = request.user
    lead = get_object_or_404(
        leads_visible_to(user).select_related("owner", "scored_version__agreement", "agreement"),
        pk=pk,
    )
    before = timeline_cursor_parse(request.GET.get("before"))
    if request.htmx and before is not None:
        return render(
            request,
            "leads/partials/timeline_page.html",
            {"lead": lead, "timeline": lead_timeline(lead, before=before)},
        )
    data = lead_page(lead, now=timezone.now(), before=before)
    active = data.active
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            # The SLA's zone, which the clock middleware made the request's.
            "time_zone": timezone.get_current_timezone_name(),
            "stage_label": data.stage_label,
            "in_force": data.in_force,
            "explanations": data.explanations,
            "timeline": data.timeline,
            "enrollments": data.enrollments,
            "row": data.row,
            "can_act": bool(active) and _may_act_for(user, active.rep),
            "queue_url": _queue_url(active, user) if active else "",
            # An accepted lead belongs to sales' pipeline: handing it over again would
            # restart the SLA clock on a lead sales already owns.
            "can_hand_off": has_role(user, *MANAGERS)
            and active is None
            and lead.stage in (Stage.LEAD, Stage.MQL)
            and data.in_force is not None,
        },
    )


@role_required(*MANAGERS)
@require_POST
def lead_hand_off(request, pk):
    lead = get_object_or_404(leads_visible_to(request.user), pk=pk)
    # Under the lead's own agreement: its rules, its rep and its deadline.
    version = lead_version_in_force(lead=lead)
    if version is None:
        messages.error(
            request,
            _("No SLA version governing this lead is in force: nothing to hand it off under."),
        )
        return redirect(lead)
    try:
        handoff = handoff_manual(lead=lead, version=version, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(_error_messages(error)))
    else:
        messages.success(
            request,
            _("Handed to %(rep)s; first touch due %(due)s.")
            % {"rep": _name(handoff.rep), "due": local_time(handoff.due_at)},
        )
    return redirect(lead)


@role_required(*MANAGERS)
@require_safe
def lead_export(request, pk):
    """Everything held about the lead as a JSON download (a data subject's access request)."""
    lead = get_object_or_404(Lead, pk=pk)
    data = lead_data_export(lead=lead, by=request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}.json"'
    return response


@role_required(*MANAGERS)
@require_POST
def lead_erase_view(request, pk):
    lead = get_object_or_404(Lead, pk=pk)
    if request.POST.get("confirm") != "erase":
        messages.error(request, _("Tick the confirmation to erase this lead's personal data."))
        return redirect(lead)
    lead_erase(lead=lead, by=request.user)
    messages.success(
        request,
        _("Personal data of lead %(id)s erased; its counts in the figures stay.") % {"id": lead.pk},
    )
    return redirect(lead)


@role_required(*READERS)
@require_safe
def lead_list(request):
    user = request.user
    if has_role(user, Role.SALES_REP) and not has_role(user, *MANAGERS, Role.VIEWER):
        return redirect("leads:queue")
    labels = stage_labels(version=current_version())
    form = forms.LeadSearchForm(request.GET, stage_labels=labels)
    filters = form.cleaned_data if form.is_valid() else {}
    leads = leads_search(
        user=user,
        query=filters.get("q", ""),
        stage=filters.get("stage", ""),
        status=filters.get("status", ""),
    )
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    for lead in page:
        lead.stage_label = labels.get(lead.stage, lead.stage)
    return render(request, "leads/lead_list.html", {"form": form, "page": page})


# The sales manager's team view --------------------------------------------------------------


def _rep_options(reps, selected_ids) -> dict:
    """The reassign menu's <option>s with each rep on the page selected, each built once:
    rendering every rep for every row in the template cost more than the rest of the page."""
    names = [(rep.pk, _name(rep)) for rep in reps]

    def options(selected):
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((pk, mark_safe(" selected") if pk == selected else "", name) for pk, name in names),
        )

    return {selected: options(selected) for selected in {None, *selected_ids}}


def _team_context(request, now, rows):
    loads = list(rep_loads(now=now))
    reps = [rep for rep in loads if rep.is_active]
    can_reassign = has_role(request.user, Role.SALES_MANAGER)
    for row in rows:
        row.rep_name = _name(row.handoff.rep) if row.handoff.rep_id else ""
    if can_reassign:
        options = _rep_options(reps, {row.handoff.rep_id for row in rows})
        for row in rows:
            row.rep_options = options[row.handoff.rep_id]
    return {"rows": rows, "loads": loads, "reps": reps, "can_reassign": can_reassign}


@role_required(*MANAGERS)
@require_safe
def team(request):
    now = timezone.now()
    page = handoffs_page(number=request.GET.get("page"), per_page=TEAM_PAGE_SIZE, now=now)
    rows = queue_rows(page.object_list, now=now, with_reasons=False)
    return render(request, "leads/team.html", {"page": page, **_team_context(request, now, rows)})


@role_required(Role.SALES_MANAGER)
@require_POST
def reassign(request, pk):
    handoff = get_object_or_404(Handoff.objects.select_related("lead", "rep"), pk=pk)
    form = forms.ReassignForm(request.POST)
    notice = error = ""
    if form.is_valid() and form.cleaned_data["rep"].pk == handoff.rep_id:
        # The service would do nothing; say so rather than claim a handover.
        notice = _("%(lead)s is already with %(rep)s: nothing changed.") % {
            "lead": handoff.lead,
            "rep": _name(handoff.rep),
        }
    elif form.is_valid():
        rep = form.cleaned_data["rep"]
        try:
            handoff_reassign(
                handoff=handoff,
                rep=rep,
                by=request.user,
                reason=form.cleaned_data.get("reason", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            error = " ".join(_error_messages(exc))
        else:
            notice = _("%(lead)s given to %(rep)s.") % {"lead": handoff.lead, "rep": _name(rep)}
    else:
        error = " ".join(message for errors in form.errors.values() for message in errors)
    if not request.htmx:
        if error:
            messages.error(request, _("Not reassigned: %(error)s") % {"error": error})
        else:
            messages.success(request, notice)
        return redirect("leads:team")
    now = timezone.now()
    row = queue_row(handoff.pk, now=now, with_reasons=False)
    context = {
        "row": row,
        "handoff": handoff,
        "notice": notice,
        "error": error,
        **_team_context(request, now, [row] if row else []),
    }
    return render(request, "leads/partials/team_row_swap.html", context)


# Notifications --------------------------------------------------------------------------------


@login_required
@require_safe
def notifications(request):
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "leads/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read(request):
    marked = notifications_mark_read(user=request.user)
    if marked:
        messages.success(
            request,
            ngettext(
                "Marked %(count)s notification read.",
                "Marked %(count)s notifications read.",
                marked,
            )
            % {"count": number(marked)},
        )
    return redirect("leads:notifications")
