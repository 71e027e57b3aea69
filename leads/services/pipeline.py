"""The scoring job's work: score leads, move crossers to MQL, fire the handoff triggers."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agreements.models import AgreementVersion, HandoffPolicy, NurtureStep, NurtureTrack
from agreements.scoring import Thresholds
from agreements.selectors import qualification_rules, version_in_force, workspace_agreement
from integrations.events import events_emit_many

from ..models import Handoff, Lead, LeadEvent, NurtureEnrollment, Stage, StageChange
from ..scoring import leads_score
from .consent import leads_unsubscribe_from_events
from .handoffs import handoff_create, missing_handoff_fields
from .notifications import notify

BATCH = 2000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class PipelineResult:
    scored: int = 0
    promoted: int = 0
    handed_off: int = 0
    unsubscribed: int = 0
    nurtured: int = 0


def current_version(now: datetime | None = None) -> AgreementVersion | None:
    agreement = workspace_agreement()
    return version_in_force(agreement=agreement, at=now) if agreement else None


def pipeline_run(*, now: datetime | None = None, all_leads: bool = False) -> PipelineResult:
    """Score the leads that need it (or first mark every lead as needing it), then promote
    and hand off.

    Works in batches of ids, each committed on its own, so a large backlog never becomes one
    huge statement and a run killed half-way keeps what it did. A full rescore first marks
    every lead with one committed UPDATE: if the run dies, the marked leads are still marked,
    and the next run (the periodic one, or this task redelivered) scores them.

    Two runs at once share the work instead of doing it twice: each batch locks its leads
    and skips the ones another run holds (on PostgreSQL; SQLite runs one writer at a time).
    """
    now = now or timezone.now()
    version = current_version(now)
    result = PipelineResult()
    if version is None:
        return result
    if all_leads:
        leads_mark_for_rescoring()
    fit, interest, thresholds = qualification_rules(version=version)
    # The cursor ends the run: a lead marked again behind it waits for the next run.
    last_id = 0
    while True:
        with transaction.atomic():
            ids = list(
                Lead.objects.select_for_update(skip_locked=True)
                .filter(needs_scoring=True, pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                return result
            last_id = ids[-1]
            result.unsubscribed += leads_unsubscribe_from_events(lead_ids=ids, now=now)
            result.scored += leads_score(
                fit_rules=fit,
                interest_rules=interest,
                thresholds=thresholds,
                now=now,
                lead_ids=ids,
                version_id=version.pk,
            )
            result.promoted += _promote_mqls(ids, version, thresholds, now)
            result.handed_off += _fire_handoff_triggers(ids, version, now)
            result.nurtured += _enrol_below_mql(ids, version, now)


def leads_mark_for_rescoring() -> int:
    """Mark every lead for scoring in one committed statement: the durable record of a full
    rescore that the batches then work off."""
    return Lead.objects.filter(needs_scoring=False).update(needs_scoring=True)


def leads_waiting_for_scoring() -> bool:
    """Whether any lead is marked for scoring (the partial index on needs_scoring answers it)."""
    return Lead.objects.filter(needs_scoring=True).exists()


def _mql_condition(thresholds: Thresholds) -> Q:
    condition = Q(
        fit_score__gte=thresholds.mql_min_fit, interest_score__gte=thresholds.mql_min_interest
    )
    if thresholds.mql_min_total is not None:
        condition |= Q(score__gte=thresholds.mql_min_total)
    return condition


def _promote_mqls(ids: list[int], version, thresholds: Thresholds, now: datetime) -> int:
    # Leads back from sales re-qualify through new activity or nurture, not their old score;
    # a new lead nurtured because it was below MQL qualifies as soon as it crosses it.
    crossers = Lead.objects.filter(pk__in=ids, stage=Stage.LEAD).filter(
        Q(status=Lead.Status.OPEN) | Q(status=Lead.Status.NURTURING, returned_at__isnull=True)
    )
    rows = list(
        crossers.filter(_mql_condition(thresholds)).values_list("pk", "fit_score", "interest_score")
    )
    if not rows:
        return 0
    promoted = [pk for pk, *_ in rows]
    NurtureEnrollment.objects.filter(lead_id__in=promoted, completed_at__isnull=True).update(
        completed_at=now
    )
    Lead.objects.filter(pk__in=promoted).update(
        stage=Stage.MQL, mql_at=now, status=Lead.Status.OPEN
    )
    rule = f"fit ≥ {thresholds.mql_min_fit} and interest ≥ {thresholds.mql_min_interest}"
    if thresholds.mql_min_total is not None:
        rule += f", or total ≥ {thresholds.mql_min_total}"
    StageChange.objects.bulk_create(
        StageChange(
            lead_id=pk,
            from_stage=Stage.LEAD,
            to_stage=Stage.MQL,
            at=now,
            job="score_leads",
            version=version,
            reason=f"Score fit {fit} + interest {interest} reached the MQL threshold ({rule})",
        )
        for pk, fit, interest in rows
    )
    events_emit_many("lead.mql", promoted, now=now)
    return len(rows)


def _fire_handoff_triggers(ids: list[int], version, now: datetime) -> int:
    policy = HandoffPolicy.objects.get(version=version)
    active_handoff = Handoff.objects.filter(
        lead=OuterRef("pk"), accepted_at__isnull=True, returned_at__isnull=True
    )
    base = Lead.objects.filter(pk__in=ids, stage__in=[Stage.LEAD, Stage.MQL]).exclude(
        Exists(active_handoff)
    )
    triggered: dict[int, tuple[str, str]] = {}
    if policy.trigger_events:
        # Only conversions after the lead's last return count: an old demo request must not
        # send a returned lead straight back.
        fresh = LeadEvent.objects.filter(
            lead=OuterRef("pk"),
            type__in=policy.trigger_events,
            received_at__gt=OuterRef("trigger_since"),
        ).order_by("-occurred_at")
        converted = (
            base.annotate(
                trigger_since=Coalesce("returned_at", Value(EPOCH, output_field=DateTimeField())),
            )
            .annotate(trigger_type=Subquery(fresh.values("type")[:1]))
            .filter(trigger_type__isnull=False)
        )
        for pk, event_type in converted.values_list("pk", "trigger_type"):
            triggered[pk] = (Handoff.Trigger.EVENT, event_type)
    if policy.trigger_on_score:
        for pk in base.filter(stage=Stage.MQL, status=Lead.Status.OPEN).values_list(
            "pk", flat=True
        ):
            triggered.setdefault(pk, (Handoff.Trigger.SCORE, "Reached the MQL threshold"))
    handed = 0
    for lead in Lead.objects.filter(pk__in=triggered).order_by("created_at", "pk"):
        trigger, detail = triggered[lead.pk]
        missing = missing_handoff_fields(lead=lead, policy=policy)
        if missing:
            notify(
                now=now,
                user=version.agreement.marketing_manager,
                key=f"missing-info:{lead.pk}:{version.pk}",
                lead=lead,
                message=f"{lead} qualifies for sales but lacks {', '.join(missing)}.",
            )
            continue
        if handoff_create(lead=lead, version=version, trigger=trigger, detail=detail, now=now):
            handed += 1
    return handed


def _enrol_below_mql(ids: list[int], version, now: datetime) -> int:
    """Enrol the batch's new leads that scored below MQL in the SLA's "below MQL" track.

    A lead qualifies once: never returned by sales, never enrolled in any track, consent
    not withdrawn. Running twice enrols nobody twice.
    """
    track = (
        NurtureTrack.objects.filter(version=version, entry_condition=NurtureTrack.Entry.BELOW_MQL)
        .order_by("position", "id")
        .first()
    )
    if track is None:
        return 0
    first = NurtureStep.objects.filter(track=track).order_by("position", "id").first()
    if first is None:
        return 0
    new_below_mql = list(
        Lead.objects.filter(
            pk__in=ids,
            stage=Stage.LEAD,
            status=Lead.Status.OPEN,
            returned_at__isnull=True,
            unsubscribed_at__isnull=True,
        )
        .exclude(Exists(NurtureEnrollment.objects.filter(lead=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    if not new_below_mql:
        return 0
    NurtureEnrollment.objects.bulk_create(
        [
            NurtureEnrollment(
                lead_id=pk,
                track=track,
                next_step=first,
                next_step_at=now + timedelta(days=first.wait_days),
                automatic=True,
                reason="New lead below the MQL threshold",
                enrolled_at=now,
            )
            for pk in new_below_mql
        ]
    )
    events_emit_many("nurture.enrolled", new_below_mql, now=now)
    return Lead.objects.filter(pk__in=new_below_mql).update(
        status=Lead.Status.NURTURING, updated_at=now
    )
