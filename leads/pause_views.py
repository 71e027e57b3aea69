"""The rep records that the buyer asked to be contacted later: the SLA clock pauses."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agreements.models import HandoffPolicy
from slaportal.clock import local_time
from slaportal.roles import Role, has_role, role_required

from .models import Handoff
from .services.pauses import REASON_MAX, handoff_pause


class PauseForm(forms.Form):
    until = forms.DateTimeField(
        label=gettext_lazy("The buyer asked to be contacted on"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        max_length=REASON_MAX,
        help_text=gettext_lazy(
            "Shown on the lead's timeline, e.g. “Back from a trade fair on Tuesday”."
        ),
    )


@role_required(Role.SALES_REP, Role.SALES_MANAGER)
@require_http_methods(["GET", "POST"])
def pause(request, pk):
    handoffs = Handoff.objects.select_related("lead", "version", "rep")
    if not has_role(request.user, Role.SALES_MANAGER):
        handoffs = handoffs.filter(rep=request.user)  # another rep's handoff is 404
    handoff = get_object_or_404(handoffs, pk=pk)
    policy = HandoffPolicy.objects.filter(version=handoff.version).first()
    status = 200
    if request.method == "POST":
        form = PauseForm(request.POST)
        if form.is_valid():
            try:
                made = handoff_pause(
                    handoff=handoff,
                    until=form.cleaned_data["until"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error.messages)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("The clock is paused until %(until)s; first touch now due %(due)s.")
                    % {
                        "until": local_time(made.until),
                        "due": local_time(Handoff.objects.get(pk=handoff.pk).due_at),
                    },
                )
                url = reverse("leads:queue")
                if handoff.rep_id and handoff.rep_id != request.user.pk:
                    url = f"{url}?rep={handoff.rep_id}"
                return redirect(url)
        status = 400
    else:
        form = PauseForm()
    return render(
        request,
        "leads/pause.html",
        {
            "handoff": handoff,
            "policy": policy,
            "form": form,
            "pauses": handoff.pauses.select_related("by").order_by("starts_at"),
        },
        status=status,
    )
