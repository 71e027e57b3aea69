"""The registry of the SLA's parts: which models and forms make up each part.

Views, the copy that starts an amendment, the document (snapshot, diff, exports) and the demo
loader all walk this one registry, so adding a field or a row type to a part happens here and
in its model and form, nowhere else.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.forms import BaseModelFormSet, modelformset_factory

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
                    form.add_error(name, f"{label} '{value}' appears twice; each must be unique.")
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
                "The lifecycle must keep the stages "
                + ", ".join(missing)
                + " (the API and the lead engine rely on them); rename their labels instead."
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
        title = self.title
        if len(title) > 1 and title[1].isupper():
            return title
        return title[:1].lower() + title[1:]


PARTS: tuple[Part, ...] = (
    Part(
        "goals",
        1,
        "Shared goals",
        m.Team.SHARED,
        "SMART goals tied to real numbers, and the reverse-funnel plan that turns revenue into "
        "the leads, MQLs and SQLs needed each month.",
        settings=(SettingsBlock("plan", "Reverse-funnel planner", m.FunnelPlan, f.FunnelPlanForm),),
        rowsets=(RowSet("goal", "Goals", m.Goal, f.GoalForm, "Add a goal", ("name",)),),
    ),
    Part(
        "definitions",
        2,
        "Definitions",
        m.Team.SHARED,
        "What counts as a contact, a lead, an MQL and an SQL, and the ordered stages.",
        rowsets=(
            RowSet("term", "Glossary", m.Term, f.TermForm, "Add a term", ("term",)),
            RowSet(
                "stage", "Stages", m.Stage, f.StageForm, "Add a stage", formset_base=StageFormSet
            ),
        ),
    ),
    Part(
        "qualification",
        3,
        "Lead qualification",
        m.Team.MARKETING,
        "Fit rules (who the lead is) and interest rules (what the lead did), decay and the "
        "thresholds that make an MQL.",
        settings=(
            SettingsBlock(
                "thresholds",
                "Thresholds and decay",
                m.QualificationSettings,
                f.QualificationSettingsForm,
            ),
        ),
        rowsets=(
            RowSet("fit", "Fit rules", m.FitRule, f.FitRuleForm, "Add a fit rule"),
            RowSet(
                "interest",
                "Interest rules",
                m.InterestRule,
                f.InterestRuleForm,
                "Add an interest rule",
            ),
        ),
    ),
    Part(
        "handoff",
        4,
        "Handoffs",
        m.Team.SALES,
        "When a lead passes from marketing to sales, how fast sales responds, who gets it, and "
        "when and why it goes back.",
        settings=(SettingsBlock("policy", "Handoff policy", m.HandoffPolicy, f.HandoffPolicyForm),),
        rowsets=(
            RowSet(
                "territory",
                "Territory rules",
                m.TerritoryRule,
                f.TerritoryRuleForm,
                "Add a territory rule",
            ),
            RowSet(
                "reason",
                "Return reasons",
                m.ReturnReason,
                f.ReturnReasonForm,
                "Add a return reason",
                ("code",),
            ),
        ),
    ),
    Part(
        "nurture",
        5,
        "Nurture workflows",
        m.Team.MARKETING,
        "Tracks of steps across awareness, consideration and decision for leads not ready "
        "for sales.",
        rowsets=(
            RowSet("track", "Tracks", m.NurtureTrack, f.NurtureTrackForm, "Add a track", ("name",)),
            RowSet("step", "Steps", m.NurtureStep, f.NurtureStepForm, "Add a step"),
        ),
    ),
    Part(
        "cadence",
        6,
        "Follow-up cadence",
        m.Team.SALES,
        "How many attempts, on which channels and how spaced, and the disposition codes reps log.",
        rowsets=(
            RowSet("attempt", "Attempts", m.CadenceStep, f.CadenceStepForm, "Add an attempt"),
            RowSet(
                "disposition",
                "Disposition codes",
                m.DispositionCode,
                f.DispositionCodeForm,
                "Add a disposition code",
                ("code",),
            ),
        ),
    ),
    Part(
        "kpis",
        7,
        "KPIs",
        m.Team.SHARED,
        "The numbers each side is measured by, with targets and amber and red thresholds, how "
        "often each is reviewed, and when the monthly review meets.",
        settings=(
            SettingsBlock(
                "meeting", "Monthly review meeting", m.ReviewSchedule, f.ReviewScheduleForm
            ),
        ),
        rowsets=(RowSet("kpi", "KPIs", m.Kpi, f.KpiForm, "Add a KPI", ("metric",)),),
    ),
    Part(
        "scope",
        None,
        "Scope",
        m.Team.SHARED,
        "The leads this agreement governs: rules on their attributes, a priority among the "
        "agreements in force, and whether it is the default that takes every lead no scope "
        "matches.",
        settings=(SettingsBlock("scope", "Priority", m.ScopeSettings, f.ScopeSettingsForm),),
        rowsets=(RowSet("scoperule", "Scope rules", m.ScopeRule, f.ScopeRuleForm, "Add a rule"),),
    ),
    Part(
        "calendar",
        None,
        "Business-hours calendar",
        m.Team.SHARED,
        "The time zone, working days, hours and holidays every SLA timer counts in.",
        settings=(
            SettingsBlock("calendar", "Working hours", m.BusinessCalendar, f.BusinessCalendarForm),
        ),
        rowsets=(RowSet("holiday", "Holidays", m.Holiday, f.HolidayForm, "Add a holiday"),),
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
