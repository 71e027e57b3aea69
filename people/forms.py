from django import forms
from django.utils.translation import gettext_lazy as _

from leads.forms import PersonChoiceField

from .models import OnAbsence
from .role_labels import ROLE_LABELS
from .selectors import sales_reps
from .services import GIVABLE_ROLES

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in GIVABLE_ROLES]
LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _moment(label):
    return forms.DateTimeField(
        label=label,
        input_formats=LOCAL_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class _ProfileFields(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    team = forms.CharField(label=_("Team"), max_length=80, required=False)
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=1,
        max_value=10000,
        required=False,
        help_text=_("Most open leads at once; blank for no limit."),
    )


class InviteForm(_ProfileFields):
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    field_order = ["email", "first_name", "last_name", "role", "team", "capacity"]


class UserEditForm(_ProfileFields):
    is_active = forms.BooleanField(label=_("Active (may log in)"), required=False)


class AbsenceForm(forms.Form):
    rep = PersonChoiceField(
        queryset=sales_reps(),
        label=_("Rep"),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose a sales rep.")},
    )
    starts_at = _moment(_("From"))
    ends_at = _moment(_("Until"))
    reason = forms.CharField(label=_("Reason"), max_length=200)
    on_start = forms.ChoiceField(
        label=_("Their open leads when it starts"), choices=OnAbsence.choices
    )

    def __init__(self, *args, manager: bool, default_policy: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on_start"].initial = default_policy
        if not manager:
            # A rep's absence is their own; the SLA's default decides about their leads.
            del self.fields["rep"]
            del self.fields["on_start"]

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The absence must end after it starts."))
        return cleaned


class AssignForm(forms.Form):
    rep = PersonChoiceField(
        queryset=sales_reps().filter(is_active=True),
        label=_("Give to"),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose an active sales rep.")},
    )
