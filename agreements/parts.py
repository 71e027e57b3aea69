"""The registry of the SLA's parts: which models and forms make up each part.

Views, the copy that starts an amendment, the document (snapshot, diff, exports) and the demo
loader all walk this one registry, so adding a field or a row type to a part happens here and
in its model and form, nowhere else.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.forms import BaseModelFormSet, modelformset_factory
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import forms as f
from . import models as m

CORE_LIFECYCLE_SLUGS = ("lead", "mql", "sql", "opportunity", "customer")


class RowFormSet(BaseModelFormSet):
    """Rows of one part; `unique_fields` are checked across the rows on the page."""

    unique_fields: tuple[str, ...] = ()

    def live_forms(self):
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            yield form

    def clean(self):
        super().clean()
        for name in self.unique_fields:
            seen = set()
            for form in self.live_forms():
                value = form.cleaned_data.get(name)
                key = (form.cleaned_data.get("kind"), value) if name == "slug" else value
                if value in (None, ""):
                    continue
                if key in seen:
                    label = form.fields[name].label or name
                    form.add_error(
                        name,
                        gettext("%(label)s '%(value)s' appears twice; each must be unique.")
                        % {"label": label, "value": value},
                    )
                seen.add(key)


class StageFormSet(RowFormSet):
    unique_fields = ("slug",)

    def clean(self):
        super().clean()
        lifecycle = {
            form.cleaned_data.get("slug")
            for form in self.live_forms()
            if form.cleaned_data.get("kind") == m.Stage.Kind.LIFECYCLE
        }
        missing = [slug for slug in CORE_LIFECYCLE_SLUGS if slug not in lifecycle]
        if missing:
            raise ValidationError(
                gettext(
                    "The lifecycle must keep the stages %(stages)s (the API and the lead engine "
                    "rely on them); rename their labels instead."
                )
                % {"stages": ", ".join(missing)}
            )


@dataclass(frozen=True)
class RowSet:
    key: str
    title: str
    model: type
    form: type
    add_label: str
    unique_fields: tuple[str, ...] = ()
    formset_base: type = RowFormSet

    def queryset(self, version):
        return self.model.objects.filter(version=version).order_by("position", "id")

    def formset_class(self):
        base = type(
            f"{self.model.__name__}FormSet",
            (self.formset_base,),
            {"unique_fields": self.unique_fields or self.formset_base.unique_fields},
        )
        return modelformset_factory(
            self.model, form=self.form, formset=base, extra=0, can_delete=True
        )

    def formset(self, version, data=None):
        return self.formset_class()(
            data, queryset=self.queryset(version), prefix=self.key, form_kwargs={"version": version}
        )

    def fields(self) -> list[str]:
        return list(self.form._meta.fields)


@dataclass(frozen=True)
class SettingsBlock:
    key: str
    title: str
    model: type
    form: type

    def instance(self, version):
        instance, _ = self.model.objects.get_or_create(version=version)
        return instance

    def bound_form(self, version, data=None):
        return self.form(data, instance=self.instance(version), prefix=self.key, version=version)

    def fields(self) -> list[str]:
        return list(self.form._meta.fields)


@dataclass(frozen=True)
class Part:
    slug: str
    number: int | None  # the article's component number; None for the calendar
    title: str
    side: str  # the Team whose manager drafts it; shared parts are drafted by both
    summary: str
    settings: tuple[SettingsBlock, ...] = ()
    rowsets: tuple[RowSet, ...] = ()

    @property
    def title_in_sentence(self) -> str:
        """The title inside a sentence ("Save lead qualification"); acronyms keep their
        capitals ("Save KPIs", not "Save kpis")."""
        title = str(self.title)
        if len(title) > 1 and title[1].isupper():
            return title
        return title[:1].lower() + title[1:]


PARTS: tuple[Part, ...] = (
    Part(
        "goals",
        1,
        _("Shared goals"),
        m.Team.SHARED,
        _(
            "SMART goals tied to real numbers, and the reverse-funnel plan that turns revenue into "
            "the leads, MQLs and SQLs needed each month."
        ),
        settings=(
            SettingsBlock("plan", _("Reverse-funnel planner"), m.FunnelPlan, f.FunnelPlanForm),
        ),
        rowsets=(RowSet("goal", _("Goals"), m.Goal, f.GoalForm, _("Add a goal"), ("name",)),),
    ),
    Part(
        "definitions",
        2,
        _("Definitions"),
        m.Team.SHARED,
        _("What counts as a contact, a lead, an MQL and an SQL, and the ordered stages."),
        rowsets=(
            RowSet("term", _("Glossary"), m.Term, f.TermForm, _("Add a term"), ("term",)),
            RowSet(
                "stage",
                _("Stages"),
                m.Stage,
                f.StageForm,
                _("Add a stage"),
                formset_base=StageFormSet,
            ),
        ),
    ),
    Part(
        "qualification",
        3,
        _("Lead qualification"),
        m.Team.MARKETING,
        _(
            "Fit rules (who the lead is) and interest rules (what the lead did), decay and the "
            "thresholds that make an MQL."
        ),
        settings=(
            SettingsBlock(
                "thresholds",
                _("Thresholds and decay"),
                m.QualificationSettings,
                f.QualificationSettingsForm,
            ),
        ),
        rowsets=(
            RowSet("fit", _("Fit rules"), m.FitRule, f.FitRuleForm, _("Add a fit rule")),
            RowSet(
                "interest",
                _("Interest rules"),
                m.InterestRule,
                f.InterestRuleForm,
                _("Add an interest rule"),
            ),
        ),
    ),
    Part(
        "handoff",
        4,
        _("Handoffs"),
        m.Team.SALES,
        _(
            "When a lead passes from marketing to sales, how fast sales responds, who gets it, and "
            "when and why it goes back."
        ),
        settings=(
            SettingsBlock("policy", _("Handoff policy"), m.HandoffPolicy, f.HandoffPolicyForm),
        ),
        rowsets=(
            RowSet(
                "territory",
                _("Territory rules"),
                m.TerritoryRule,
                f.TerritoryRuleForm,
                _("Add a territory rule"),
            ),
            RowSet(
                "reason",
                _("Return reasons"),
                m.ReturnReason,
                f.ReturnReasonForm,
                _("Add a return reason"),
                ("code",),
            ),
        ),
    ),
    Part(
        "nurture",
        5,
        _("Nurture workflows"),
        m.Team.MARKETING,
        _(
            "Tracks of steps across awareness, consideration and decision for leads not ready "
            "for sales."
        ),
        rowsets=(
            RowSet(
                "track",
                _("Tracks"),
                m.NurtureTrack,
                f.NurtureTrackForm,
                _("Add a track"),
                ("name",),
            ),
            RowSet("step", _("Steps"), m.NurtureStep, f.NurtureStepForm, _("Add a step")),
        ),
    ),
    Part(
        "cadence",
        6,
        _("Follow-up cadence"),
        m.Team.SALES,
        _(
            "How many attempts, on which channels and how spaced, and the disposition codes reps "
            "log."
        ),
        rowsets=(
            RowSet("attempt", _("Attempts"), m.CadenceStep, f.CadenceStepForm, _("Add an attempt")),
            RowSet(
                "disposition",
                _("Disposition codes"),
                m.DispositionCode,
                f.DispositionCodeForm,
                _("Add a disposition code"),
                ("code",),
            ),
        ),
    ),
    Part(
        "kpis",
        7,
        _("KPIs"),
        m.Team.SHARED,
        _(
            "The numbers each side is measured by, with targets and amber and red thresholds, how "
            "often each is reviewed, and when the monthly review meets."
        ),
        settings=(
            SettingsBlock(
                "meeting", _("Monthly review meeting"), m.ReviewSchedule, f.ReviewScheduleForm
            ),
        ),
        rowsets=(RowSet("kpi", _("KPIs"), m.Kpi, f.KpiForm, _("Add a KPI"), ("metric",)),),
    ),
    Part(
        "scope",
        None,
        _("Scope"),
        m.Team.SHARED,
        _(
            "The leads this agreement governs: rules on their attributes, a priority among the "
            "agreements in force, and whether it is the default that takes every lead no scope "
            "matches."
        ),
        settings=(SettingsBlock("scope", _("Priority"), m.ScopeSettings, f.ScopeSettingsForm),),
        rowsets=(
            RowSet("scoperule", _("Scope rules"), m.ScopeRule, f.ScopeRuleForm, _("Add a rule")),
        ),
    ),
    Part(
        "calendar",
        None,
        _("Business-hours calendar"),
        m.Team.SHARED,
        _("The time zone, working days, hours and holidays every SLA timer counts in."),
        settings=(
            SettingsBlock(
                "calendar", _("Working hours"), m.BusinessCalendar, f.BusinessCalendarForm
            ),
        ),
        rowsets=(RowSet("holiday", _("Holidays"), m.Holiday, f.HolidayForm, _("Add a holiday")),),
    ),
)

PARTS_BY_SLUG = {part.slug: part for part in PARTS}

# Copy order for a new draft: a row is copied after any row it points at.
SETTINGS_MODELS = (
    m.FunnelPlan,
    m.QualificationSettings,
    m.HandoffPolicy,
    m.BusinessCalendar,
    m.ReviewSchedule,
    m.ScopeSettings,
)
ROW_MODELS = (
    m.NurtureTrack,
    m.Goal,
    m.Term,
    m.Stage,
    m.FitRule,
    m.InterestRule,
    m.TerritoryRule,
    m.ReturnReason,
    m.NurtureStep,
    m.CadenceStep,
    m.DispositionCode,
    m.Kpi,
    m.Holiday,
    m.ScopeRule,
)


def part_editable_by_side(part: Part, side: str) -> bool:
    return part.side in (m.Team.SHARED, side)
