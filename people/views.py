"""Pages for people: the managers' user list (invite, role, active, team, capacity), absences,
and the sales manager's queue of leads waiting with no rep available."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leads.models import Handoff
from leads.services.handoffs import ACTIVE
from slaportal.numbers import number
from slaportal.roles import MANAGERS, Role, has_role, role_required

from . import forms
from .models import Absence
from .role_labels import role_label
from .selectors import absences_visible_to, workspace_users
from .services import (
    absence_cancel,
    absence_create,
    absence_default_policy,
    handoff_assign,
    user_invite,
    user_update,
    waiting_assign,
)

User = get_user_model()


def _messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return list(error.messages)
    return [str(error)]


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _role_of(user) -> str:
    names = {group.name for group in user.groups.all()}
    return next((role for role in Role.values if role in names), "")


def _people_page(request, *, invite_form=None, status=200):
    users = list(workspace_users())
    for person in users:
        person.role = _role_of(person)
        person.role_label = role_label(person.role) if person.role else ""
        person.profile = getattr(person, "rep_profile", None)
    return render(
        request,
        "people/index.html",
        {"people": users, "invite_form": invite_form or forms.InviteForm()},
        status=status,
    )


@role_required(*MANAGERS)
@require_safe
def index(request):
    return _people_page(request)


@role_required(*MANAGERS)
@require_POST
def invite(request):
    form = forms.InviteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = user_invite(
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                team=data["team"],
                capacity=data["capacity"],
                by=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(email)s was invited: they will get an e-mail to choose a password.")
                % {"email": user.email},
            )
            return redirect("people:index")
    return _people_page(request, invite_form=form, status=400)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def edit(request, pk):
    person = get_object_or_404(workspace_users(), pk=pk)
    profile = getattr(person, "rep_profile", None)
    if request.method == "POST":
        form = forms.UserEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user_update(
                    user=person,
                    role=data["role"],
                    is_active=data["is_active"],
                    team=data["team"],
                    capacity=data["capacity"],
                    by=request.user,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, _("%(name)s was saved.") % {"name": person.get_full_name() or person}
                )
                return redirect("people:index")
        status = 400
    else:
        form = forms.UserEditForm(
            initial={
                "role": _role_of(person),
                "is_active": person.is_active,
                "team": profile.team if profile else "",
                "capacity": profile.capacity if profile else None,
            }
        )
        status = 200
    return render(request, "people/edit.html", {"person": person, "form": form}, status=status)


# Absences ------------------------------------------------------------------------------------


def _absences_page(request, *, form=None, status=200):
    now = timezone.now()
    manager = has_role(request.user, Role.SALES_MANAGER)
    if form is None:
        form = forms.AbsenceForm(manager=manager, default_policy=absence_default_policy())
    return render(
        request,
        "people/absences.html",
        {
            "form": form,
            "absences": absences_visible_to(request.user, now=now),
            "is_sales_manager_here": manager,
            "now": now,
        },
        status=status,
    )


@role_required(Role.SALES_MANAGER, Role.SALES_REP)
@require_http_methods(["GET", "POST"])
def absences(request):
    if request.method == "GET":
        return _absences_page(request)
    manager = has_role(request.user, Role.SALES_MANAGER)
    if not manager and request.POST.get("rep") not in (None, "", str(request.user.pk)):
        raise PermissionDenied(_("A rep sets absences only for themselves."))
    form = forms.AbsenceForm(request.POST, manager=manager, default_policy=absence_default_policy())
    if form.is_valid():
        data = form.cleaned_data
        try:
            absence_create(
                rep=data.get("rep") or request.user,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                reason=data["reason"],
                on_start=data.get("on_start"),
                by=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The absence was saved."))
            return redirect("people:absences")
    return _absences_page(request, form=form, status=400)


@role_required(Role.SALES_MANAGER, Role.SALES_REP)
@require_POST
def absence_delete(request, pk):
    absence = get_object_or_404(Absence, pk=pk)
    absence_cancel(absence=absence, by=request.user)
    messages.success(request, _("The absence was cancelled."))
    return redirect("people:absences")


# The unassigned queue ------------------------------------------------------------------------


@role_required(Role.SALES_MANAGER)
@require_safe
def unassigned(request):
    waiting = (
        Handoff.objects.filter(ACTIVE, rep__isnull=True)
        .select_related("lead", "version__agreement")
        .order_by("due_at", "id")
    )
    return render(
        request,
        "people/unassigned.html",
        {"waiting": waiting, "assign_form": forms.AssignForm(), "now": timezone.now()},
    )


@role_required(Role.SALES_MANAGER)
@require_POST
def assign(request, pk):
    handoff = get_object_or_404(Handoff.objects.select_related("lead"), pk=pk)
    form = forms.AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("rep", [_("Choose a rep.")])))
        return redirect("people:unassigned")
    try:
        handoff_assign(handoff=handoff, rep=form.cleaned_data["rep"], by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(_messages(error)))
    else:
        messages.success(request, _("%(lead)s was assigned.") % {"lead": handoff.lead})
    return redirect("people:unassigned")


@role_required(Role.SALES_MANAGER)
@require_POST
def assign_all(request):
    assigned = waiting_assign()
    messages.info(
        request,
        ngettext(
            "%(count)s waiting lead given to available reps.",
            "%(count)s waiting leads given to available reps.",
            len(assigned),
        )
        % {"count": number(len(assigned))},
    )
    return redirect("people:unassigned")
