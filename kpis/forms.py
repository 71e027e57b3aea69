"""Forms of the monthly review: the meeting's notes, its action items, a proposed SLA change."""

from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from slaportal.roles import READERS


def action_item_owners():
    """Anyone who can read the review can own an action: active users holding a role."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=READERS) | Q(is_superuser=True))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class ReviewNotesForm(forms.Form):
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=_("Meeting notes"),
        help_text=_("What was discussed and decided in this month's review."),
    )


class ActionItemForm(forms.Form):
    text = forms.CharField(
        max_length=300,
        label=_("Action"),
        error_messages={"required": _("Say what has to be done.")},
    )
    owner = OwnerChoiceField(queryset=None, label=_("Owner"), empty_label=_("Choose who owns it"))
    due_date = forms.DateField(
        label=_("Due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter the due date as YYYY-MM-DD, e.g. 2026-11-30.")},
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["owner"].queryset = action_item_owners()

    def clean_due_date(self):
        due = self.cleaned_data["due_date"]
        # An action agreed today that is already overdue is a typo, not a plan.
        if due < self.today:
            raise forms.ValidationError(
                gettext("The due date has passed: choose %(today)s or later.")
                % {"today": self.today.isoformat()}
            )
        return due


def _part_choices():
    from agreements.parts import PARTS

    return [(p.slug, f"{p.number}. {p.title}" if p.number else p.title) for p in PARTS]


class ProposeChangeForm(forms.Form):
    # The part the change concerns: the amendment gets a thread there. Left out (an older
    # form), the thread goes on the KPIs, which the review measures.
    part = forms.ChoiceField(
        choices=_part_choices, required=False, initial="kpis", label=_("Part it concerns")
    )
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("What should change in the SLA, and why"),
        error_messages={"required": _("Describe the change you propose.")},
    )

    def clean_part(self):
        return self.cleaned_data.get("part") or "kpis"
