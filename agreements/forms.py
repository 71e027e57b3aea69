"""Forms of the SLA editor: one ModelForm per part model, each validating its own input.

Row forms are used in model formsets (see agreements.parts); settings forms edit a part's
single record. Every error names the field it belongs to.
"""

from zoneinfo import available_timezones

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from slaportal.roles import Role

from . import models as m
from .scoring import LEAD_ATTRIBUTES
from .text import normalise_text

# Goals measured as a rate: a target of 0 % is a typo, never a goal.
RATE_METRICS = {metric for metric in m.Metric.values if metric.endswith("_rate")} | {
    m.Metric.SLA_COMPLIANCE
}
WEEKDAYS = list(WEEKDAYS_ABBR.items())
LEAD_FIELD_LABELS = {
    "email": _("Email"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "phone": _("Phone"),
    "title": _("Title"),
    "company_size": _("Company size"),
    "industry": _("Industry"),
    "country": _("Country"),
    "source": _("Source"),
}
LEAD_FIELDS = [
    (name, LEAD_FIELD_LABELS.get(name) or name.replace("_", " ").capitalize())
    for name in ("email", "first_name", "last_name", "phone", *LEAD_ATTRIBUTES)
]


def event_type_choices(version) -> list[tuple[str, str]]:
    """Built-in event types plus the ones this version's managers added."""
    choices = list(m.EventType.choices)
    settings = m.QualificationSettings.objects.filter(version=version).first()
    for slug in settings.custom_event_types if settings else []:
        choices.append((slug, slug.replace("_", " ").capitalize()))
    return choices


def reps_queryset():
    return (
        get_user_model()
        .objects.filter(groups__name=Role.SALES_REP, is_active=True)
        .order_by("first_name", "username")
    )


class PartForm(forms.ModelForm):
    """Base: knows its version, renders fields without a <form> tag, compact text areas."""

    def __init__(self, *args, version=None, **kwargs):
        self.version = version
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs.setdefault("rows", 2)

    def _post_clean(self):
        # Before the instance is built: a part saved unchanged from the browser (CRLF) must
        # store exactly the text it had (LF), or the diff shows a change nobody made.
        for name, value in self.cleaned_data.items():
            if isinstance(value, str):
                self.cleaned_data[name] = normalise_text(value)
        super()._post_clean()


class RowForm(PartForm):
    """A formset row; its position is set from its place on the page."""

    # Column widths by field name, where the widget's default (see templatetags/part_rows)
    # does not fit what the field holds.
    widths: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Rows repeat: help under every field would bury the values, so it becomes a tooltip.
        for field in self.fields.values():
            if field.help_text:
                field.widget.attrs.setdefault("title", field.help_text)
                field.help_text = ""


class GoalForm(RowForm):
    widths = {"name": "wide", "metric": "wide", "unit": "narrow", "owner": "narrow"}

    class Meta:
        model = m.Goal
        fields = [
            "name",
            "metric",
            "target",
            "unit",
            "period_start",
            "period_end",
            "owner",
            "rationale",
        ]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {
            "name": _("Name"),
            "metric": _("Metric"),
            "target": _("Target"),
            "unit": _("Unit"),
            "period_start": _("Period start"),
            "period_end": _("Period end"),
            "owner": _("Owner"),
            "rationale": _("Rationale"),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period must end on or after its start."))
        if cleaned.get("metric") in RATE_METRICS and cleaned.get("target") == 0:
            self.add_error(
                "target", _("A rate goal of 0 % promises nothing: enter a rate above 0.")
            )
        return cleaned


class FunnelPlanForm(PartForm):
    class Meta:
        model = m.FunnelPlan
        fields = [
            "revenue_target",
            "average_deal_size",
            "months",
            "opportunity_to_win_rate",
            "sql_to_opportunity_rate",
            "mql_to_sql_rate",
            "lead_to_mql_rate",
        ]
        labels = {
            "revenue_target": _("Revenue target"),
            "average_deal_size": _("Average deal size"),
            "months": _("Months"),
            "opportunity_to_win_rate": _("Opportunity → won (%)"),
            "sql_to_opportunity_rate": _("SQL → opportunity (%)"),
            "mql_to_sql_rate": _("MQL → SQL (%)"),
            "lead_to_mql_rate": _("Lead → MQL (%)"),
        }

    def clean(self):
        cleaned = super().clean()
        for name in (
            "opportunity_to_win_rate",
            "sql_to_opportunity_rate",
            "mql_to_sql_rate",
            "lead_to_mql_rate",
        ):
            rate = cleaned.get(name)
            if rate is not None and not 0 <= rate <= 100:
                self.add_error(name, _("A conversion rate is a percentage between 0 and 100."))
            elif rate == 0 and self._planner_in_use(cleaned):
                # Dividing by a 0 % rate has no answer: the plan would vanish from the SLA.
                self.add_error(
                    name,
                    _(
                        "A conversion rate of 0 % leaves the plan without an answer: enter a "
                        "percentage above 0, up to 100."
                    ),
                )
        for name in ("revenue_target", "average_deal_size"):
            amount = cleaned.get(name)
            if amount is not None and amount < 0:
                self.add_error(name, _("This amount cannot be negative."))
        return cleaned

    @staticmethod
    def _planner_in_use(cleaned) -> bool:
        """An untouched planner (every input 0) is allowed; a half-filled one is not."""
        return any(
            cleaned.get(name)
            for name in (
                "revenue_target",
                "average_deal_size",
                "opportunity_to_win_rate",
                "sql_to_opportunity_rate",
                "mql_to_sql_rate",
                "lead_to_mql_rate",
            )
        )


class TermForm(RowForm):
    class Meta:
        model = m.Term
        fields = ["term", "meaning"]
        labels = {"term": _("Term"), "meaning": _("Meaning")}


class StageForm(RowForm):
    class Meta:
        model = m.Stage
        fields = ["kind", "slug", "label", "description"]
        labels = {
            "kind": _("Kind"),
            "slug": _("Slug"),
            "label": _("Label"),
            "description": _("Description"),
        }


class FitRuleForm(RowForm):
    class Meta:
        model = m.FitRule
        fields = ["attribute", "custom_attribute", "operator", "value", "points"]
        labels = {
            "attribute": _("Attribute"),
            "custom_attribute": _("Custom attribute"),
            "operator": _("Operator"),
            "value": _("Value"),
            "points": _("Points"),
        }

    def clean(self):
        cleaned = super().clean()
        attribute, operator = cleaned.get("attribute"), cleaned.get("operator")
        value = (cleaned.get("value") or "").strip()
        if attribute == m.FitRule.Attribute.CUSTOM and not cleaned.get("custom_attribute"):
            self.add_error("custom_attribute", _("Name the custom attribute this rule reads."))
        if operator and operator != m.FitRule.Operator.IS_SET and not value:
            self.add_error("value", _("This operator needs a value to compare with."))
        if operator in (m.FitRule.Operator.GREATER_THAN, m.FitRule.Operator.LESS_THAN):
            try:
                float(value)
            except ValueError:
                self.add_error("value", _("'greater than' and 'less than' need a number."))
        return cleaned


class InterestRuleForm(RowForm):
    event_type = forms.ChoiceField(label=_("Event type"))

    class Meta:
        model = m.InterestRule
        fields = ["event_type", "property_key", "property_value", "points", "max_occurrences"]
        labels = {
            "property_key": _("Property key"),
            "property_value": _("Property value"),
            "points": _("Points"),
            "max_occurrences": _("Max occurrences"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].choices = event_type_choices(self.version)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("property_value") and not cleaned.get("property_key"):
            self.add_error("property_key", _("Name the property the value is matched against."))
        return cleaned


class QualificationSettingsForm(PartForm):
    custom_event_types = forms.CharField(
        required=False,
        label=_("Custom event types"),
        help_text=_("Your own event types, as slugs separated by commas (e.g. trial_started)."),
    )

    class Meta:
        model = m.QualificationSettings
        fields = [
            "mql_min_fit",
            "mql_min_interest",
            "mql_min_total",
            "decay_half_life_days",
            "sql_criteria",
            "custom_event_types",
        ]
        labels = {
            "mql_min_fit": _("MQL when fit is at least"),
            "mql_min_interest": _("… and interest is at least"),
            "mql_min_total": _("… or the total is at least"),
            "decay_half_life_days": _("Interest half-life (days)"),
            "sql_criteria": _("SQL criteria"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["custom_event_types"] = ", ".join(self.instance.custom_event_types)

    def clean_custom_event_types(self):
        raw = self.cleaned_data.get("custom_event_types") or ""
        slugs = [part.strip() for part in raw.split(",") if part.strip()]
        field = forms.SlugField()
        for slug in slugs:
            try:
                field.clean(slug)
            except ValidationError as error:
                raise ValidationError(
                    gettext(
                        "'%(slug)s' is not a valid event type name: use letters, "
                        "numbers, underscores or hyphens."
                    )
                    % {"slug": slug}
                ) from error
            if slug in m.EventType.values:
                raise ValidationError(
                    gettext("'%(slug)s' is already a built-in event type.") % {"slug": slug}
                )
        return list(dict.fromkeys(slugs))


class HandoffPolicyForm(PartForm):
    trigger_events = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Trigger events"),
        help_text=_("Any of these hands the lead to sales at once."),
    )
    required_fields = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=LEAD_FIELDS,
        label=_("Required fields"),
        help_text=_("A lead is handed over only with these filled in."),
    )

    class Meta:
        model = m.HandoffPolicy
        fields = [
            "trigger_on_score",
            "trigger_events",
            "allow_manual",
            "required_fields",
            "notify_in_app",
            "notify_email",
            "response_target_hours",
            "at_risk_share",
            "accept_window_hours",
            "assignment_method",
            "named_owner",
            "return_after_attempts",
            "return_after_days",
            "pauses_allowed",
            "max_pause_hours",
            "on_absence",
        ]
        labels = {
            "trigger_on_score": _("Hand off when the lead reaches the MQL threshold"),
            "allow_manual": _("Managers may hand off a lead by hand"),
            "notify_in_app": _("Notify the rep in the app"),
            "notify_email": _("Notify the rep by email"),
            "response_target_hours": _("First-touch target (business hours)"),
            "at_risk_share": _("At-risk warning at (% of the window)"),
            "accept_window_hours": _("Accept or reject within (business hours)"),
            "assignment_method": _("Assignment method"),
            "named_owner": _("Named owner"),
            "return_after_attempts": _("Return after attempts without a conversation"),
            "return_after_days": _("Return after days without progress"),
            "pauses_allowed": _("Reps may pause the clock when the buyer asks to wait"),
            "max_pause_hours": _("Longest pause (business hours)"),
            "on_absence": _("When a rep's absence starts, their open leads"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trigger_events"].choices = event_type_choices(self.version)
        self.fields["named_owner"].queryset = reps_queryset()
        # Left out of a post (an older client): the part keeps what it has.
        for name in ("max_pause_hours", "on_absence"):
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in ("max_pause_hours", "on_absence"):
            if cleaned.get(name) in (None, "") and name not in self.errors:
                cleaned[name] = getattr(self.instance, name)
        method = cleaned.get("assignment_method")
        if method == m.HandoffPolicy.Assignment.NAMED_OWNER and not cleaned.get("named_owner"):
            self.add_error("named_owner", _("Choose the rep who owns every handed-off lead."))
        if not (
            cleaned.get("trigger_on_score")
            or cleaned.get("trigger_events")
            or cleaned.get("allow_manual")
        ):
            self.add_error("trigger_on_score", _("Choose at least one way a lead is handed off."))
        return cleaned


class TerritoryRuleForm(RowForm):
    class Meta:
        model = m.TerritoryRule
        fields = ["field", "value", "rep"]
        labels = {"field": _("Field"), "value": _("Value"), "rep": _("Rep")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = reps_queryset()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("field") == m.TerritoryRule.Field.COMPANY_SIZE_MIN:
            try:
                int(cleaned.get("value") or "")
            except ValueError:
                self.add_error("value", _("Company size is a whole number of employees."))
        return cleaned


class ReturnReasonForm(RowForm):
    class Meta:
        model = m.ReturnReason
        fields = ["code", "label", "nurture_track"]
        labels = {"code": _("Code"), "label": _("Label"), "nurture_track": _("Nurture track")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nurture_track"].queryset = m.NurtureTrack.objects.filter(version=self.version)


class NurtureTrackForm(RowForm):
    class Meta:
        model = m.NurtureTrack
        fields = ["name", "entry_condition", "reps_may_enrol", "description"]
        labels = {
            "name": _("Name"),
            "entry_condition": _("Entry condition"),
            "reps_may_enrol": _("Reps may enrol"),
            "description": _("Description"),
        }


class NurtureStepForm(RowForm):
    class Meta:
        model = m.NurtureStep
        fields = ["track", "journey_stage", "offer", "channel", "wait_days"]
        labels = {
            "track": _("Track"),
            "journey_stage": _("Journey stage"),
            "offer": _("Offer"),
            "channel": _("Channel"),
            "wait_days": _("Wait days"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = m.NurtureTrack.objects.filter(version=self.version)
        self.fields["track"].help_text = _("Save a new track first, then add its steps.")


class CadenceStepForm(RowForm):
    class Meta:
        model = m.CadenceStep
        fields = ["channel", "offset", "offset_unit"]
        labels = {"channel": _("Channel"), "offset": _("Offset"), "offset_unit": _("Offset unit")}


class DispositionCodeForm(RowForm):
    class Meta:
        model = m.DispositionCode
        fields = ["code", "label", "is_conversation"]
        labels = {"code": _("Code"), "label": _("Label"), "is_conversation": _("Is conversation")}


class KpiForm(RowForm):
    widths = {"metric": "wider", "owner": "narrow"}

    class Meta:
        model = m.Kpi
        fields = [
            "metric",
            "target",
            "direction",
            "owner",
            "amber_threshold",
            "red_threshold",
            "review_frequency",
        ]
        labels = {
            "metric": _("Metric"),
            "target": _("Target"),
            "direction": _("Direction"),
            "owner": _("Owner"),
            "amber_threshold": _("Amber threshold"),
            "red_threshold": _("Red threshold"),
            "review_frequency": _("Review frequency"),
        }

    def clean(self):
        cleaned = super().clean()
        target, amber, red = (
            cleaned.get(k) for k in ("target", "amber_threshold", "red_threshold")
        )
        if None in (target, amber, red):
            return cleaned
        if cleaned.get("direction") == m.Kpi.Direction.HIGHER:
            if not red <= amber <= target:
                self.add_error(
                    "amber_threshold",
                    _("When higher is better, the thresholds go red ≤ amber ≤ target."),
                )
        elif not red >= amber >= target:
            self.add_error(
                "amber_threshold",
                _("When lower is better, the thresholds go red ≥ amber ≥ target."),
            )
        return cleaned


class ReviewScheduleForm(PartForm):
    class Meta:
        model = m.ReviewSchedule
        fields = ["business_day", "starts_at", "attendees"]
        widgets = {
            "starts_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "attendees": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True)
        self.fields["attendees"].queryset = people.order_by("first_name", "last_name", "username")
        self.fields["attendees"].label_from_instance = lambda u: u.get_full_name() or u.username


# Zones named by region and city ("America/Sao_Paulo"), plus UTC: the legacy aliases ("Japan",
# "Zulu", "US/Central") name the same clocks and only lengthen the list.
REGIONS = {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe"}
REGIONS |= {"Indian", "Pacific"}
TIME_ZONES = [
    *sorted(tz for tz in available_timezones() if "/" in tz and tz.split("/")[0] in REGIONS),
    "UTC",
]


class BusinessCalendarForm(PartForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[(tz, tz) for tz in TIME_ZONES])
    working_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = m.BusinessCalendar
        fields = ["time_zone", "working_days", "day_start", "day_end", "holiday_country"]
        widgets = {
            "day_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "day_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {
            "day_start": _("Day start"),
            "day_end": _("Day end"),
            "holiday_country": _("Country for public holidays (ISO code, e.g. BR, US)"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A calendar saved with an alias keeps it until someone picks another zone.
        current = self.instance.time_zone
        if current and current not in TIME_ZONES and current in available_timezones():
            self.fields["time_zone"].choices = [(current, current)] + [
                (tz, tz) for tz in TIME_ZONES
            ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("day_start"), cleaned.get("day_end")
        if start and end and end <= start:
            self.add_error("day_end", _("The working day must end after it starts."))
        return cleaned

    def clean_holiday_country(self):
        import holidays

        code = (self.cleaned_data.get("holiday_country") or "").strip().upper()
        if code and code not in holidays.list_supported_countries():
            raise ValidationError(
                gettext("'%(code)s' is not a country the holiday calendar knows.") % {"code": code}
            )
        return code


class ScopeSettingsForm(PartForm):
    class Meta:
        model = m.ScopeSettings
        fields = ["priority", "is_default"]


class ScopeRuleForm(RowForm):
    class Meta:
        model = m.ScopeRule
        fields = ["attribute", "custom_attribute", "operator", "value"]

    def clean(self):
        cleaned = super().clean()
        attribute, operator = cleaned.get("attribute"), cleaned.get("operator")
        value = (cleaned.get("value") or "").strip()
        Operator = m.ScopeRule.Operator
        if attribute == m.FitRule.Attribute.CUSTOM and not cleaned.get("custom_attribute"):
            self.add_error("custom_attribute", _("Name the custom attribute this rule reads."))
        if attribute != m.FitRule.Attribute.CUSTOM and cleaned.get("custom_attribute"):
            self.add_error(
                "custom_attribute", _("Only a custom attribute rule names a custom attribute.")
            )
        if operator and operator != Operator.IS_SET and not value:
            self.add_error("value", _("This operator needs a value to compare with."))
        if operator in (Operator.IN, Operator.NOT_IN) and value:
            if not [option for option in value.split(",") if option.strip()]:
                self.add_error("value", _("List at least one value, separated by commas."))
        if operator in (Operator.AT_LEAST, Operator.LESS_THAN) and value:
            try:
                float(value)
            except ValueError:
                self.add_error("value", _("'at least' and 'less than' need a number."))
        return cleaned


class HolidayForm(RowForm):
    class Meta:
        model = m.Holiday
        fields = ["date", "name"]
        labels = {"date": _("Date"), "name": _("Name")}
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}


class SubmitForm(forms.Form):
    change_note = forms.CharField(
        label=_("Change note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What changes in this version and why; shown in the history."),
    )
    effective_at = forms.DateTimeField(
        label=_("Effective at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for 'as soon as both managers approve'."),
    )


class AgreementForm(forms.ModelForm):
    class Meta:
        model = m.Agreement
        fields = ["name", "marketing_team", "sales_team", "marketing_manager", "sales_manager"]
        labels = {
            "name": _("Name"),
            "marketing_team": _("Marketing team"),
            "sales_team": _("Sales team"),
            "marketing_manager": _("Marketing manager"),
            "sales_manager": _("Sales manager"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["marketing_manager"].queryset = users.filter(
            groups__name=Role.MARKETING_MANAGER
        )
        self.fields["sales_manager"].queryset = users.filter(groups__name=Role.SALES_MANAGER)


class ScorePreviewForm(forms.Form):
    """A sample lead typed in by a manager to see which rules give which points."""

    title = forms.CharField(label=_("Title"), required=False)
    company_size = forms.IntegerField(label=_("Company size"), required=False, min_value=0)
    industry = forms.CharField(label=_("Industry"), required=False)
    country = forms.CharField(label=_("Country"), required=False)
    source = forms.CharField(label=_("Source"), required=False)

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event_fields = []
        for slug, label in event_type_choices(version):
            name = f"events_{slug}"
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=1000,
                label=label,
                widget=forms.NumberInput(attrs={"placeholder": "0"}),
            )
            self.event_fields.append((slug, name))


class RevisionForm(forms.Form):
    """The part's revision the editor page was loaded at, posted back in a hidden field.

    Saving against another revision is a conflict; a post without one (a stale or hand-made
    form) is refused rather than guessed.
    """

    revision = forms.IntegerField(
        min_value=0,
        error_messages={
            "required": _("The form is missing its revision; reload the page."),
            "invalid": _("The form's revision is not a number; reload the page."),
            "min_value": _("The form's revision is not valid; reload the page."),
        },
    )
