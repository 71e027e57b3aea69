"""Reads of the lead engine shared by pages, the API and jobs."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from agreements.business_hours import add_business_days, add_business_time, business_time_between
from agreements.models import (
    CadenceStep,
    DispositionCode,
    EventType,
    NurtureTrack,
    ReturnReason,
)
from agreements.models import Stage as SlaStage
from agreements.scoring import Activity, RulePoints, ScoreResult, score_lead
from agreements.selectors import qualification_rules, version_calendar
from slaportal.clock import local_time
from slaportal.roles import Role, has_role

from .models import (
    ContactAttempt,
    Handoff,
    HandoffAssignment,
    Lead,
    LeadEvent,
    Notification,
    Stage,
)
from .services.pipeline import current_version


def leads_visible_to(user):
    """Managers and viewers see every lead; a rep sees only the leads they own."""
    leads = Lead.objects.all()
    if has_role(user, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.VIEWER, Role.INTEGRATION):
        return leads
    if has_role(user, Role.SALES_REP):
        return leads.filter(owner=user)
    return leads.none()


def handoffs_visible_to(user):
    handoffs = Handoff.objects.all()
    if has_role(user, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.VIEWER, Role.INTEGRATION):
        return handoffs
    if has_role(user, Role.SALES_REP):
        return handoffs.filter(rep=user)
    return handoffs.none()


def open_handoff(lead: Lead) -> Handoff | None:
    return lead.handoffs.filter(accepted_at__isnull=True, returned_at__isnull=True).first()


def lead_score_breakdown(lead: Lead, *, now=None, version=None) -> ScoreResult | None:
    """Which rule gave which points under `version` (the same rules the SQL applies).

    By default the version that produced the stored score, so the explanation matches the
    number beside it; the version in force only for a lead never scored.
    """
    now = now or timezone.now()
    version = version or lead.scored_version or current_version(now)
    if version is None:
        return None
    fit, interest, thresholds = qualification_rules(version=version)
    activities = [
        Activity(e.type, e.occurred_at, e.properties)
        for e in lead.events.only("type", "occurred_at", "properties")
    ]
    return score_lead(
        attributes=_lead_attributes(lead),
        activities=activities,
        fit_rules=fit,
        interest_rules=interest,
        thresholds=thresholds,
        now=now,
    )


@dataclass
class ScoreExplanation:
    """A score breakdown and the SLA version whose rules it applies."""

    version: object
    result: ScoreResult
    # What the version is to this lead: it "scored" it, and/or its latest "handoff" is
    # measured against it.
    roles: list[str]


def lead_score_explanations(lead: Lead, *, now=None) -> list[ScoreExplanation]:
    """The breakdown by the version that scored the lead and, for a handed-off lead, by the
    version its handoff is measured against (one breakdown when they are the same)."""
    now = now or timezone.now()
    explanations: list[ScoreExplanation] = []
    scored = lead.scored_version or current_version(now)
    if scored is not None:
        result = lead_score_breakdown(lead, now=now, version=scored)
        explanations.append(ScoreExplanation(version=scored, result=result, roles=["scored"]))
    handoff = lead.handoffs.select_related("version__agreement").order_by("-handed_off_at").first()
    if handoff is not None:
        if scored is not None and handoff.version_id == scored.pk:
            explanations[0].roles.append("handoff")
        else:
            result = lead_score_breakdown(lead, now=now, version=handoff.version)
            explanations.append(
                ScoreExplanation(version=handoff.version, result=result, roles=["handoff"])
            )
    return explanations


# Rep queue, team overview, lead page ------------------------------------------------------

URGENCY_BREACHED, URGENCY_AT_RISK, URGENCY_OPEN, URGENCY_TOUCHED = range(4)
URGENCY_SLUGS = {
    URGENCY_BREACHED: "breached",
    URGENCY_AT_RISK: "at_risk",
    URGENCY_OPEN: "open",
    URGENCY_TOUCHED: "met",
}
ACTIVE = Q(accepted_at__isnull=True, returned_at__isnull=True)


def _urgency(now) -> Case:
    """Urgency from the clock, not only the stored status: the breach job runs every few
    minutes, and a handoff past its deadline must not sit below open ones meanwhile."""
    untouched = Q(first_touch_at__isnull=True)
    return Case(
        When(
            Q(status=Handoff.Status.BREACHED) | untouched & Q(due_at__lte=now),
            then=URGENCY_BREACHED,
        ),
        When(
            Q(status=Handoff.Status.AT_RISK) | untouched & Q(at_risk_at__lte=now),
            then=URGENCY_AT_RISK,
        ),
        When(untouched, then=URGENCY_OPEN),
        default=URGENCY_TOUCHED,
        output_field=IntegerField(),
    )


def _attempts_made():
    # A subquery rather than Count(): no GROUP BY over every selected column of the row.
    return Coalesce(
        Subquery(
            ContactAttempt.objects.filter(handoff=OuterRef("pk"))
            .order_by()
            .values("handoff")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def handoffs_by_urgency(handoffs, *, now=None):
    """Active handoffs, breached first, then at risk, then untouched by due soonest; the
    handoffs already touched in time come last."""
    now = now or timezone.now()
    return (
        handoffs.filter(ACTIVE)
        .annotate(urgency=_urgency(now), attempts_made=_attempts_made())
        .order_by("urgency", "due_at", "pk")
    )


def rep_queue(*, rep, now=None):
    return handoffs_by_urgency(
        Handoff.objects.filter(rep=rep).select_related("lead", "version"), now=now
    )


def team_handoffs(*, now=None):
    return handoffs_by_urgency(Handoff.objects.select_related("lead", "rep", "version"), now=now)


def sales_reps():
    """Everyone holding the rep role, active or not: an inactive rep may still hold leads."""
    return (
        get_user_model()
        .objects.filter(groups__name=Role.SALES_REP)
        .order_by("first_name", "username")
        .distinct()
    )


def rep_loads(*, now=None):
    """Each rep's active handoffs, at risk and breached, in one aggregate query."""
    now = now or timezone.now()
    active = Q(handoffs__accepted_at__isnull=True, handoffs__returned_at__isnull=True)
    untouched = Q(handoffs__first_touch_at__isnull=True)
    breached = Q(handoffs__status=Handoff.Status.BREACHED) | untouched & Q(
        handoffs__due_at__lte=now
    )
    at_risk = (
        Q(handoffs__status=Handoff.Status.AT_RISK) | untouched & Q(handoffs__at_risk_at__lte=now)
    ) & ~breached
    return (
        get_user_model()
        .objects.filter(groups__name=Role.SALES_REP)
        .annotate(
            active_count=Count("handoffs", filter=active),
            at_risk_count=Count("handoffs", filter=active & at_risk),
            breached_count=Count("handoffs", filter=active & breached),
        )
        .order_by("-is_active", "first_name", "username")
    )


def stage_labels(*, version=None) -> dict[str, str]:
    """The SLA's names for the lifecycle slugs, falling back to the built-in ones."""
    labels = dict(Stage.choices)
    if version is not None:
        labels.update(
            SlaStage.objects.filter(
                version=version, kind=SlaStage.Kind.LIFECYCLE, slug__in=labels
            ).values_list("slug", "label")
        )
    return labels


def business_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h {minutes:02d}m"
    return f"{hours}h" if hours else f"{minutes}m"


@dataclass
class CadenceDue:
    number: int
    channel: str
    channel_label: str
    due_at: datetime
    overdue: bool


@dataclass
class QueueRow:
    """What a rep needs to decide on one handoff, computed for one page of the queue."""

    handoff: Handoff
    urgency: str
    stage_label: str
    time_left: timedelta | None
    overdue_by: timedelta | None
    next_step: CadenceDue | None
    steps_total: int
    score: ScoreResult | None
    recent_events: list[LeadEvent] = field(default_factory=list)
    can_reject: bool = False
    can_enrol: bool = False
    # Deadlines read in the zone whose business hours they count, not the server's.
    time_zone: str = "UTC"

    @property
    def top_rules(self) -> list[RulePoints]:
        if self.score is None:
            return []
        return sorted(self.score.breakdown, key=lambda hit: -hit.points)[:3]

    @property
    def trigger_detail(self) -> str:
        return handoff_trigger_detail(self.handoff)

    @property
    def time_label(self) -> str:
        if self.handoff.first_touch_at:
            on_time = self.handoff.first_touch_at <= self.handoff.due_at
            return "First touch in time" if on_time else "First touch late"
        if self.overdue_by is not None:
            return f"Overdue by {business_duration(self.overdue_by)}"
        return f"{business_duration(self.time_left)} left"


class _VersionCache:
    """Per-version reads (calendar, cadence, allowed tracks) fetched once for a page."""

    def __init__(self, version_ids):
        version_ids = set(version_ids)
        self._calendars = {}
        self.steps: dict[int, list[CadenceStep]] = {pk: [] for pk in version_ids}
        for step in CadenceStep.objects.filter(version_id__in=version_ids).order_by(
            "position", "id"
        ):
            self.steps[step.version_id].append(step)
        self.enrollable = set(
            NurtureTrack.objects.filter(version_id__in=version_ids, reps_may_enrol=True)
            .order_by()
            .values_list("version_id", flat=True)
            .distinct()
        )

    def calendar(self, version):
        if version.pk not in self._calendars:
            self._calendars[version.pk] = version_calendar(version=version)
        return self._calendars[version.pk]


def _step_due(step: CadenceStep, start: datetime, calendar) -> datetime:
    if step.offset_unit == CadenceStep.OffsetUnit.BUSINESS_HOURS:
        return add_business_time(start, timedelta(hours=step.offset), calendar)
    return add_business_days(start, step.offset, calendar)


def _lead_attributes(lead: Lead) -> dict:
    own = {
        name: getattr(lead, name)
        for name in ("title", "company_size", "industry", "country", "source")
    }
    return {**lead.attributes, **own}


def leads_score_breakdowns(leads, *, now=None, version=None) -> dict[int, ScoreResult]:
    """lead_score_breakdown for many leads with a fixed number of queries."""
    now = now or timezone.now()
    leads = list(leads)
    version = version or current_version(now)
    if version is None or not leads:
        return {}
    fit, interest, thresholds = qualification_rules(version=version)
    activities: dict[int, list[Activity]] = defaultdict(list)
    for lead_id, type_, at, properties in LeadEvent.objects.filter(
        lead_id__in=[lead.pk for lead in leads]
    ).values_list("lead_id", "type", "occurred_at", "properties"):
        activities[lead_id].append(Activity(type_, at, properties))
    return {
        lead.pk: score_lead(
            attributes=_lead_attributes(lead),
            activities=activities[lead.pk],
            fit_rules=fit,
            interest_rules=interest,
            thresholds=thresholds,
            now=now,
        )
        for lead in leads
    }


def event_label(event_type: str, labels: dict[str, str] | None = None) -> str:
    labels = dict(EventType.choices) if labels is None else labels
    return labels.get(event_type) or event_type.replace("_", " ").capitalize()


def _recent_events(lead_ids, per_lead: int) -> dict[int, list[LeadEvent]]:
    ranked = (
        LeadEvent.objects.filter(lead_id__in=lead_ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("lead_id"),
                order_by=[F("occurred_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=per_lead)
        .only("lead_id", "type", "occurred_at", "properties")
    )
    labels = dict(EventType.choices)
    recent: dict[int, list[LeadEvent]] = defaultdict(list)
    for event in ranked:
        event.label = event_label(event.type, labels)
        recent[event.lead_id].append(event)
    for events in recent.values():
        events.sort(key=lambda event: (event.occurred_at, event.pk), reverse=True)
    return recent


def queue_rows(handoffs, *, now=None, with_reasons: bool = True) -> list[QueueRow]:
    """Rows for handoffs from handoffs_by_urgency (with `lead` and `version` selected).

    The number of queries does not grow with the rows: everything per lead or per version
    is read in one query for the whole page.
    """
    now = now or timezone.now()
    handoffs = list(handoffs)
    if not handoffs:
        return []
    versions = _VersionCache(handoff.version_id for handoff in handoffs)
    in_force = current_version(now)
    labels = stage_labels(version=in_force)
    lead_ids = [handoff.lead_id for handoff in handoffs]
    scores = {}
    if with_reasons:
        # Why a lead is here is told by the rules it was handed off under (one pass per
        # version on the page, usually one).
        by_version = defaultdict(list)
        for handoff in handoffs:
            by_version[handoff.version].append(handoff.lead)
        for version, leads in by_version.items():
            scores.update(leads_score_breakdowns(leads, now=now, version=version))
    recent = _recent_events(lead_ids, per_lead=3) if with_reasons else {}
    rows = []
    for handoff in handoffs:
        calendar = versions.calendar(handoff.version)
        time_left = overdue_by = None
        if handoff.due_at > now:
            time_left = business_time_between(now, handoff.due_at, calendar)
        else:
            overdue_by = business_time_between(handoff.due_at, now, calendar)
        steps = versions.steps[handoff.version_id]
        attempts = getattr(handoff, "attempts_made", None)
        if attempts is None:
            attempts = handoff.attempts.count()
        next_step = None
        if attempts < len(steps):
            step = steps[attempts]
            due = _step_due(step, handoff.handed_off_at, calendar)
            next_step = CadenceDue(
                attempts + 1, step.channel, step.get_channel_display(), due, due <= now
            )
        rows.append(
            QueueRow(
                handoff=handoff,
                urgency=URGENCY_SLUGS[handoff.urgency],
                stage_label=labels.get(handoff.lead.stage, handoff.lead.stage),
                time_left=time_left,
                overdue_by=overdue_by,
                next_step=next_step,
                steps_total=len(steps),
                score=scores.get(handoff.lead_id),
                recent_events=recent.get(handoff.lead_id, []),
                can_reject=now <= handoff.accept_due_at,
                can_enrol=handoff.version_id in versions.enrollable,
                time_zone=calendar.time_zone,
            )
        )
    return rows


def queue_row(handoff_id: int, *, now=None, with_reasons: bool = True) -> QueueRow | None:
    """One row, re-read after an action; None once the handoff is closed."""
    handoffs = handoffs_by_urgency(
        Handoff.objects.filter(pk=handoff_id).select_related("lead", "version"), now=now
    )
    rows = queue_rows(handoffs, now=now, with_reasons=with_reasons)
    return rows[0] if rows else None


# Lead page timeline -----------------------------------------------------------------------


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # event, stage, handoff, attempt, nurture
    title: str
    detail: str = ""
    by: str = ""
    order: int = 0


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _describe_properties(properties: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in list(properties.items())[:4])


TIMELINE_EVENTS = 100
CADENCE_REASONS = {
    "no_response": "No response after the cadence",
    "no_progress": "No progress within the cadence",
    "nurture": "Enrolled in nurture by sales",
}


def lead_timeline(lead: Lead) -> list[TimelineItem]:
    """Events, stage changes, handoffs, attempts and nurture enrolments, newest first."""
    items: list[TimelineItem] = []
    event_labels = dict(EventType.choices)
    for event in lead.events.only("type", "occurred_at", "properties")[:TIMELINE_EVENTS]:
        items.append(
            TimelineItem(
                at=event.occurred_at,
                kind="event",
                title=event_label(event.type, event_labels),
                detail=_describe_properties(event.properties),
            )
        )
    for change in lead.stage_changes.select_related("by"):
        stages = f"{change.get_from_stage_display() or 'New'} → {change.get_to_stage_display()}"
        items.append(
            TimelineItem(
                at=change.at,
                kind="stage",
                title=stages,
                detail=change.reason,
                by=_person(change.by) or (f"job {change.job}" if change.job else ""),
                order=1,
            )
        )
    handoffs = list(lead.handoffs.select_related("rep", "closed_by", "version"))
    version_ids = {handoff.version_id for handoff in handoffs}
    reasons = dict(
        ReturnReason.objects.filter(version_id__in=version_ids).values_list("code", "label")
    )
    dispositions = dict(
        DispositionCode.objects.filter(version_id__in=version_ids).values_list("code", "label")
    )
    assignments = list(
        HandoffAssignment.objects.filter(handoff__lead=lead)
        .select_related("from_rep", "to_rep", "by")
        .order_by("at", "id")
    )
    # Who the lead was first handed to: the handoff's rep is whoever holds it now.
    first_reps = {}
    for assignment in assignments:
        first_reps.setdefault(assignment.handoff_id, assignment.from_rep)
    for handoff in handoffs:
        items.extend(
            _handoff_items(
                handoff,
                {**CADENCE_REASONS, **reasons},
                first_rep=first_reps.get(handoff.pk, handoff.rep),
            )
        )
    for assignment in assignments:
        items.append(
            TimelineItem(
                at=assignment.at,
                kind="reassign",
                title=f"Reassigned from {_person(assignment.from_rep)} to "
                f"{_person(assignment.to_rep)}",
                detail=assignment.reason,
                by=_person(assignment.by),
                order=2,
            )
        )
    attempts = ContactAttempt.objects.filter(handoff__lead=lead).select_related("by")
    for attempt in attempts:
        items.append(
            TimelineItem(
                at=attempt.at,
                kind="attempt",
                title=f"{attempt.get_channel_display()}: "
                f"{dispositions.get(attempt.disposition, attempt.disposition)}",
                detail=attempt.note,
                by=_person(attempt.by),
                order=3,
            )
        )
    for enrollment in lead.enrollments.select_related("track", "by"):
        how = "by hand" if not enrollment.automatic else "automatically"
        items.append(
            TimelineItem(
                at=enrollment.enrolled_at,
                kind="nurture",
                title=f"Enrolled in nurture track “{enrollment.track.name}” {how}",
                detail=enrollment.reason,
                by=_person(enrollment.by),
                order=4,
            )
        )
    return sorted(items, key=lambda item: (item.at, item.order), reverse=True)


def handoff_trigger_detail(handoff: Handoff) -> str:
    """The event type that fired a conversion trigger reads as its catalogue label."""
    if handoff.trigger == Handoff.Trigger.EVENT and handoff.trigger_detail:
        return event_label(handoff.trigger_detail)
    return handoff.trigger_detail


def _handoff_items(handoff: Handoff, reasons: dict[str, str], *, first_rep) -> list[TimelineItem]:
    detail = handoff_trigger_detail(handoff)
    items = [
        TimelineItem(
            at=handoff.handed_off_at,
            kind="handoff",
            title=f"Handed to {_person(first_rep)}: {handoff.get_trigger_display().lower()}"
            + (f" ({detail})" if detail else ""),
            detail=f"First touch due {local_time(handoff.due_at)} under {handoff.version}",
            order=2,
        )
    ]
    if handoff.breached_at:
        items.append(
            TimelineItem(
                at=handoff.breached_at,
                kind="handoff",
                title="SLA breached: no first touch by the deadline",
                order=2,
            )
        )
    if handoff.first_touch_at:
        in_time = handoff.first_touch_at <= handoff.due_at
        items.append(
            TimelineItem(
                at=handoff.first_touch_at,
                kind="handoff",
                title="First touch " + ("in time (SLA met)" if in_time else "after the deadline"),
                order=2,
            )
        )
    if handoff.accepted_at:
        items.append(
            TimelineItem(
                at=handoff.accepted_at,
                kind="handoff",
                title="Accepted by sales",
                by=_person(handoff.closed_by),
                order=5,
            )
        )
    if handoff.returned_at:
        verb = "Rejected" if handoff.rejected_at else "Returned to marketing"
        label = reasons.get(handoff.return_reason, handoff.return_reason)
        items.append(
            TimelineItem(
                at=handoff.returned_at,
                kind="handoff",
                title=f"{verb}: {label}",
                detail=handoff.return_note,
                by=_person(handoff.closed_by),
                order=5,
            )
        )
    return items


def leads_search(*, user, query: str = "", stage: str = "", status: str = ""):
    leads = leads_visible_to(user).select_related("owner")
    for term in query.split():
        leads = leads.filter(
            Q(email__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(company__icontains=term)
        )
    if stage:
        leads = leads.filter(stage=stage)
    if status:
        leads = leads.filter(status=status)
    return leads


def notifications_for(user):
    return Notification.objects.filter(user=user).select_related("lead")


def unread_notification_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
