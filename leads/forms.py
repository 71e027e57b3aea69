"""Input of the rep queue, the team view and the lead list.

The choices a rep may pick (dispositions, return reasons, nurture tracks) come from the SLA
version the handoff was made under, so a form bound to one handoff refuses another
version's codes before any service is called.
"""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Channel, DispositionCode, NurtureTrack, ReturnReason

from .models import Handoff, Lead, Stage
from .selectors import sales_reps
from .services.handoffs import active_reps

NOTE_WIDGET = forms.Textarea(
    attrs={"rows": 2, "placeholder": gettext_lazy("What happened, what's next")}
)


def _note_field(required: bool = False) -> forms.CharField:
    return forms.CharField(
        required=required,
        max_length=2000,
        widget=NOTE_WIDGET,
        label=gettext_lazy("Note"),
        strip=True,
    )


class HandoffForm(forms.Form):
    def __init__(self, *args, handoff: Handoff, **kwargs):
        self.handoff = handoff
        super().__init__(*args, **kwargs)


class AttemptForm(HandoffForm):
    channel = forms.ChoiceField(
        choices=Channel.choices, widget=forms.RadioSelect, label=gettext_lazy("Channel")
    )
    disposition = forms.ChoiceField(label=gettext_lazy("Outcome"))
    note = _note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = DispositionCode.objects.filter(version_id=self.handoff.version_id).order_by(
            "position", "id"
        )
        self.fields["disposition"].choices = [("", _("Choose the outcome…"))] + [
            (code.code, code.label) for code in codes
        ]


class ReturnForm(HandoffForm):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"))
    note = _note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = (
            ReturnReason.objects.filter(version_id=self.handoff.version_id)
            .select_related("nurture_track")
            .order_by("position", "id")
        )
        self.fields["reason"].choices = [("", _("Choose a reason…"))] + [
            (
                reason.code,
                _("%(reason)s → nurture “%(track)s”")
                % {"reason": reason.label, "track": reason.nurture_track.name}
                if reason.nurture_track
                else reason.label,
            )
            for reason in reasons
        ]


# Reasons that describe a cadence run to its end: a lead rejected inside the accept window has
# not been through the cadence, so they are no honest reason to reject it.
CADENCE_REASON_CODES = frozenset({"no_response", "no_progress"})


class RejectForm(ReturnForm):
    """The return reasons that fit a lead not worked yet; the service enforces the accept
    window."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [
            (code, label)
            for code, label in self.fields["reason"].choices
            if code not in CADENCE_REASON_CODES
        ]


class NurtureForm(HandoffForm):
    track = forms.ModelChoiceField(
        queryset=NurtureTrack.objects.none(),
        empty_label=gettext_lazy("Choose a track…"),
        label=gettext_lazy("Nurture track"),
        error_messages={
            "invalid_choice": gettext_lazy(
                "The SLA does not let reps enrol leads in that track; "
                "choose one of the tracks listed."
            )
        },
    )
    note = _note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = NurtureTrack.objects.filter(
            version_id=self.handoff.version_id, reps_may_enrol=True
        ).order_by("position", "id")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class ReassignForm(forms.Form):
    rep = PersonChoiceField(
        queryset=active_reps(),
        empty_label=None,
        label=gettext_lazy("Give to"),
        error_messages={"invalid_choice": gettext_lazy("Choose an active sales rep.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        required=False,
        max_length=300,
        help_text=gettext_lazy(
            "Shown on the lead's timeline, e.g. “Rafael is on leave this week”."
        ),
    )


class LeadSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=gettext_lazy("Search"))
    stage = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Stage"),
        choices=[("", gettext_lazy("Any stage")), *Stage.choices],
    )
    status = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Any status")), *Lead.Status.choices],
    )

    def __init__(self, *args, stage_labels: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if stage_labels:
            self.fields["stage"].choices = [("", _("Any stage")), *stage_labels.items()]


class QueueRepForm(forms.Form):
    rep = PersonChoiceField(
        queryset=sales_reps(), required=False, empty_label=None, label=gettext_lazy("Rep")
    )
