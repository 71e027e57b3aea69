"""Handoffs: who gets the lead, the rep's actions, and the timers the SLA puts on them."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from agreements.business_hours import add_business_time, business_time_between
from agreements.models import (
    Agreement,
    BusinessCalendar,
    Channel,
    DispositionCode,
    HandoffPolicy,
    NurtureTrack,
    ReturnReason,
    TerritoryRule,
)
from agreements.selectors import version_calendar
from integrations.events import event_emit, events_emit_many
from slaportal.clock import local_time
from slaportal.roles import Role

from ..models import (
    ContactAttempt,
    Handoff,
    HandoffAssignment,
    Lead,
    NurtureEnrollment,
    Stage,
    StageChange,
)
from .notifications import Notice, notify, notify_many

User = get_user_model()
ACTIVE = Q(accepted_at__isnull=True, returned_at__isnull=True)


def _local(moment: datetime, version) -> str:
    """A deadline as the SLA's calendar reads it, zone named: people think in that zone."""
    return local_time(moment, zone=version_calendar(version=version).time_zone)


def _hours(value: Decimal) -> timedelta:
    return timedelta(seconds=float(value) * 3600)


def active_reps():
    return User.objects.filter(groups__name=Role.SALES_REP, is_active=True)


def missing_handoff_fields(*, lead: Lead, policy: HandoffPolicy) -> list[str]:
    return [
        name.replace("_", " ")
        for name in policy.required_fields
        if getattr(lead, name, None) in (None, "")
    ]


def rep_choose(*, version, lead: Lead):
    """The rep the SLA's assignment method gives this lead; None when no rep is active.

    Round robin gives the lead to the active rep who was handed a lead longest ago (never
    first), so it stays fair when reps join, leave or are deactivated.
    """
    policy = HandoffPolicy.objects.get(version=version)
    reps = active_reps()
    if policy.assignment_method == HandoffPolicy.Assignment.NAMED_OWNER and policy.named_owner_id:
        owner = reps.filter(pk=policy.named_owner_id).first()
        if owner:
            return owner
    if policy.assignment_method == HandoffPolicy.Assignment.TERRITORY:
        for rule in TerritoryRule.objects.filter(version=version).order_by("position", "id"):
            if _territory_matches(rule, lead) and reps.filter(pk=rule.rep_id).exists():
                return rule.rep
    return (
        # The latest handoff id breaks ties between handoffs made at the same instant.
        reps.annotate(last_handoff=Max("handoffs__handed_off_at"), last_id=Max("handoffs__id"))
        .order_by(F("last_handoff").asc(nulls_first=True), F("last_id").asc(nulls_first=True), "pk")
        .first()
    )


def _territory_matches(rule: TerritoryRule, lead: Lead) -> bool:
    if rule.field == TerritoryRule.Field.COMPANY_SIZE_MIN:
        return lead.company_size is not None and lead.company_size >= int(rule.value)
    actual = (getattr(lead, rule.field) or "").strip().lower()
    return actual in {value.strip().lower() for value in rule.value.split(",")}


def handoff_create(
    *, lead: Lead, version, trigger: str, detail: str = "", now: datetime, by=None
) -> Handoff | None:
    """Hand the lead to a rep with its SLA deadlines; None when there is no active rep."""
    with transaction.atomic():
        # One assignment at a time, so round robin never gives two leads to the same turn.
        Agreement.objects.select_for_update().get(pk=version.agreement_id)
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.handoffs.filter(ACTIVE).exists():
            return None
        rep = rep_choose(version=version, lead=lead)
        if rep is None:
            notify(
                now=now,
                user=version.agreement.sales_manager,
                key=f"no-rep:{lead.pk}:{now:%Y%m%d}",
                lead=lead,
                message=f"{lead} is ready for sales but no rep is active.",
            )
            return None
        policy = HandoffPolicy.objects.get(version=version)
        calendar = version_calendar(version=version)
        window = _hours(policy.response_target_hours)
        handoff = Handoff.objects.create(
            lead=lead,
            rep=rep,
            version=version,
            trigger=trigger,
            trigger_detail=detail,
            handed_off_at=now,
            at_risk_at=add_business_time(now, window * policy.at_risk_share / 100, calendar),
            due_at=add_business_time(now, window, calendar),
            accept_due_at=add_business_time(now, _hours(policy.accept_window_hours), calendar),
        )
        if lead.stage == Stage.LEAD:
            _stage_change(
                lead,
                Stage.MQL,
                now=now,
                version=version,
                by=by,
                job="handoff",
                reason=f"Handed to sales: {handoff.get_trigger_display().lower()}"
                + (f" ({detail})" if detail else ""),
            )
        # A lead that converts while in nurture leaves its track: sales has it now.
        NurtureEnrollment.objects.filter(lead=lead, completed_at__isnull=True).update(
            completed_at=now
        )
        lead.owner = rep
        lead.status = Lead.Status.HANDED_OFF
        lead.updated_at = now
        lead.save()
        event_emit("handoff.created", handoff, now=now)
        if policy.notify_in_app or policy.notify_email:
            notify(
                now=now,
                user=rep,
                key=f"handoff:{handoff.pk}",
                lead=lead,
                email=policy.notify_email,
                message=f"New lead for you: {lead} — first touch due "
                f"{_local(handoff.due_at, version)}.",
            )
    return handoff


def handoff_manual(*, lead: Lead, version, by, now=None) -> Handoff:
    if lead.stage not in (Stage.LEAD, Stage.MQL):
        raise ValidationError(
            "Only a lead or an MQL can be handed to sales; this one is already "
            f"{lead.get_stage_display()}."
        )
    policy = HandoffPolicy.objects.get(version=version)
    if not policy.allow_manual:
        raise ValidationError("This SLA does not allow handing a lead off by hand.")
    missing = missing_handoff_fields(lead=lead, policy=policy)
    if missing:
        raise ValidationError(f"The SLA requires {', '.join(missing)} before a handoff.")
    handoff = handoff_create(
        lead=lead,
        version=version,
        trigger=Handoff.Trigger.MANUAL,
        detail=f"by {by.get_full_name() or by.username}",
        now=now or timezone.now(),
        by=by,
    )
    if handoff is None:
        raise ValidationError("The lead is already with sales, or no rep is active.")
    return handoff


def _stage_change(lead: Lead, to_stage: str, *, now, version, reason: str, by=None, job=""):
    StageChange.objects.create(
        lead=lead,
        from_stage=lead.stage,
        to_stage=to_stage,
        at=now,
        by=by,
        job=job,
        reason=reason,
        version=version,
    )
    lead.stage = to_stage
    if to_stage != Stage.LEAD and not getattr(lead, f"{to_stage}_at"):
        setattr(lead, f"{to_stage}_at", now)
    event_emit("lead.mql" if to_stage == Stage.MQL else "lead.stage_changed", lead, now=now)


def _require_active(handoff: Handoff) -> None:
    if not handoff.is_active:
        raise ValidationError("This handoff is closed: the lead was already accepted or returned.")


def _require_owner_or_manager(handoff: Handoff, user) -> None:
    if handoff.rep_id != user.pk and not (
        user.is_superuser or user.groups.filter(name=Role.SALES_MANAGER).exists()
    ):
        raise PermissionDenied("Only the lead's rep or a sales manager may do this.")


def _touch(handoff: Handoff, now: datetime) -> None:
    """The first touch stops the response timer: met if in time; a breach stays a breach.

    The result is written down with the rep who holds the lead now; a breach settled earlier (by
    the flag job or a reassignment after the deadline) keeps the rep who held it then.
    """
    if handoff.first_touch_at is None:
        handoff.first_touch_at = now
        handoff.response_rep_id = handoff.rep_id
        elapsed = business_time_between(
            handoff.handed_off_at, now, version_calendar(version=handoff.version)
        )
        handoff.response_business_minutes = int(elapsed.total_seconds() // 60)
        if handoff.status in (Handoff.Status.OPEN, Handoff.Status.AT_RISK):
            handoff.status = (
                Handoff.Status.MET if now <= handoff.due_at else Handoff.Status.BREACHED
            )
            if handoff.status == Handoff.Status.BREACHED:
                handoff.breached_at = handoff.due_at
            else:
                event_emit("handoff.met", handoff, now=now)
        if now > handoff.due_at:
            handoff.breach_rep_id = handoff.breach_rep_id or handoff.rep_id


def attempt_log(
    *, handoff: Handoff, channel: str, disposition: str, note: str = "", by, now=None
) -> ContactAttempt:
    now = now or timezone.now()
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().get(pk=handoff.pk)
        _require_owner_or_manager(handoff, by)
        _require_active(handoff)
        if channel not in Channel.values:
            raise ValidationError(
                {
                    "channel": f"'{channel}' is not a channel: choose one of "
                    f"{', '.join(Channel.values)}."
                }
            )
        code = DispositionCode.objects.filter(version=handoff.version, code=disposition).first()
        if code is None:
            raise ValidationError(
                {"disposition": f"'{disposition}' is not a disposition code of this SLA."}
            )
        attempt = ContactAttempt.objects.create(
            handoff=handoff,
            channel=channel,
            disposition=disposition,
            note=note,
            at=now,
            by=by,
            rep_id=handoff.rep_id,
            is_conversation=code.is_conversation,
        )
        _touch(handoff, now)
        handoff.save()
        Lead.objects.filter(pk=handoff.lead_id).update(updated_at=now)
    return attempt


def handoff_accept(*, handoff: Handoff, by, now=None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().select_related("lead").get(pk=handoff.pk)
        _require_owner_or_manager(handoff, by)
        _require_active(handoff)
        _touch(handoff, now)
        handoff.accepted_at = now
        handoff.closed_by = by
        handoff.save()
        lead = handoff.lead
        _stage_change(
            lead, Stage.SQL, now=now, version=handoff.version, by=by, reason="Accepted by sales"
        )
        lead.status = Lead.Status.ACCEPTED
        lead.updated_at = now
        lead.save()
        event_emit("handoff.accepted", handoff, now=now)


def handoff_reject(*, handoff: Handoff, reason: str, note: str = "", by, now=None) -> None:
    """Sales refuses the MQL within the accept window; it goes back to marketing."""
    now = now or timezone.now()
    _require_owner_or_manager(handoff, by)
    if now > handoff.accept_due_at:
        raise ValidationError(
            "The accept window closed at "
            f"{_local(handoff.accept_due_at, handoff.version)}; "
            "return the lead with a reason instead."
        )
    handoff_return(handoff=handoff, reason=reason, note=note, by=by, now=now, rejected=True)


def handoff_return(
    *,
    handoff: Handoff,
    reason: str,
    note: str = "",
    by=None,
    job: str = "",
    now=None,
    rejected: bool = False,
    track: NurtureTrack | None = None,
) -> None:
    """Back to marketing with a reason, into the nurture track the SLA gives that reason."""
    from .nurture import nurture_enrol

    now = now or timezone.now()
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().select_related("lead").get(pk=handoff.pk)
        if by is not None:
            _require_owner_or_manager(handoff, by)
        _require_active(handoff)
        return_reason = ReturnReason.objects.filter(version=handoff.version, code=reason).first()
        # People choose from the SLA's reasons; the cadence job may use its own two codes.
        if return_reason is None and track is None and by is not None:
            raise ValidationError({"reason": f"'{reason}' is not a return reason of this SLA."})
        handoff.returned_at = now
        handoff.rejected_at = now if rejected else None
        handoff.return_reason = reason
        handoff.return_note = note
        handoff.closed_by = by
        if handoff.first_touch_at is None and now > handoff.due_at:
            handoff.breached_at = handoff.breached_at or handoff.due_at
            handoff.breach_rep_id = handoff.breach_rep_id or handoff.rep_id
        handoff.status = Handoff.Status.RETURNED
        handoff.save()
        lead = handoff.lead
        if return_reason:
            label = return_reason.label
        else:
            label = f"enrolled in {track.name}" if track else reason.replace("_", " ")
        _stage_change(
            lead,
            Stage.LEAD,
            now=now,
            version=handoff.version,
            by=by,
            job=job,
            reason=("Rejected" if rejected else "Returned") + f" by sales: {label}",
        )
        lead.status = Lead.Status.RETURNED
        lead.owner = None
        lead.returned_at = now
        lead.updated_at = now
        lead.save()
        event_emit("handoff.rejected" if rejected else "handoff.returned", handoff, now=now)
        nurture_track = track or (return_reason.nurture_track if return_reason else None)
        if nurture_track is not None:
            nurture_enrol(
                lead=lead,
                track=nurture_track,
                automatic=track is None,
                by=by,
                reason=f"Returned by sales: {label}",
                now=now,
            )


def handoff_reassign(*, handoff: Handoff, rep, by, reason: str = "", now=None) -> None:
    """Give the lead to another rep, recorded with who, when and why.

    A deadline already past stays with the rep who held the lead then: its breach is settled on
    them here, so a flag job that runs late still blames the rep who held it at the due time.
    """
    now = now or timezone.now()
    reason = reason.strip()
    if len(reason) > 300:
        raise ValidationError({"reason": "Keep the reason to 300 characters."})
    if not (by.is_superuser or by.groups.filter(name=Role.SALES_MANAGER).exists()):
        raise PermissionDenied("Only a sales manager reassigns leads.")
    if not active_reps().filter(pk=rep.pk).exists():
        raise ValidationError({"rep": "Choose an active sales rep."})
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().select_related("lead").get(pk=handoff.pk)
        _require_active(handoff)
        if handoff.rep_id == rep.pk:
            return
        if handoff.first_touch_at is None and handoff.due_at <= now:
            handoff.breach_rep_id = handoff.breach_rep_id or handoff.rep_id
        HandoffAssignment.objects.create(
            handoff=handoff, from_rep_id=handoff.rep_id, to_rep=rep, at=now, by=by, reason=reason
        )
        handoff.rep = rep
        handoff.save(update_fields=["rep", "breach_rep"])
        Lead.objects.filter(pk=handoff.lead_id).update(owner=rep, updated_at=now)
        event_emit("handoff.reassigned", handoff, now=now)
        notify(
            now=now,
            user=rep,
            key=f"reassigned:{handoff.pk}:{rep.pk}:{now:%Y%m%d%H%M%S%f}",
            lead=handoff.lead,
            message=f"{by.get_full_name() or by.username} gave you {handoff.lead}.",
        )


# Jobs -------------------------------------------------------------------------------------


@dataclass
class FlagResult:
    at_risk: list[int] = field(default_factory=list)
    breached: list[int] = field(default_factory=list)


# JSON the notices never read: decoding the version's frozen document once per breached row
# was most of a large run's time (4 of 19 s for 3,234 breaches).
_NOTICE_UNUSED = ("lead__attributes", "version__snapshot", "version__part_revisions")


def breaches_flag(*, now=None) -> FlagResult:
    """Flag untouched handoffs at risk and breached, each exactly once, and tell people.

    Each run claims rows with a single UPDATE carrying its own token; the database lets only
    one of two concurrent runs match a row. The notices are written to the outbox in the same
    transaction as the claim, so a run killed half-way leaves nothing flagged and untold: it
    rolls back whole, and the next run claims and tells again.
    """
    now = now or timezone.now()
    result = FlagResult()
    untouched = Handoff.objects.filter(
        first_touch_at__isnull=True, accepted_at__isnull=True, returned_at__isnull=True
    )
    with transaction.atomic():
        claim = uuid.uuid4()
        untouched.filter(
            status__in=[Handoff.Status.OPEN, Handoff.Status.AT_RISK], due_at__lte=now
        ).update(
            status=Handoff.Status.BREACHED,
            breached_at=F("due_at"),
            # A reassignment after the deadline already named the rep who held the lead then.
            breach_rep=Coalesce(F("breach_rep"), F("rep")),
            flag_claim=claim,
        )
        breached = list(
            Handoff.objects.filter(flag_claim=claim)
            .select_related("lead", "rep", "breach_rep", "version__agreement__sales_manager")
            .defer(*_NOTICE_UNUSED)
        )
        claim = uuid.uuid4()
        untouched.filter(status=Handoff.Status.OPEN, at_risk_at__lte=now).update(
            status=Handoff.Status.AT_RISK, flag_claim=claim
        )
        at_risk = list(
            Handoff.objects.filter(flag_claim=claim)
            .select_related("lead", "rep")
            .defer("lead__attributes")
        )
        # One query for the zones the messages are written in, not one per handoff.
        zones = dict(
            BusinessCalendar.objects.filter(
                version_id__in={handoff.version_id for handoff in [*at_risk, *breached]}
            ).values_list("version_id", "time_zone")
        )

        def due(handoff: Handoff) -> str:
            return local_time(handoff.due_at, zone=zones.get(handoff.version_id, "UTC"))

        notices = []
        for handoff in at_risk:
            notices.append(
                Notice(
                    user=handoff.rep,
                    key=f"at-risk:{handoff.pk}",
                    lead=handoff.lead,
                    message=f"At risk: first touch for {handoff.lead} is due {due(handoff)}.",
                )
            )
            result.at_risk.append(handoff.pk)
        for handoff in breached:
            # The breach is the rep's who held the lead at the deadline; whoever holds it now
            # is told too, since the lead is theirs to rescue.
            accountable = handoff.breach_rep or handoff.rep
            message = (
                f"SLA breached: {handoff.lead} (rep {accountable.get_full_name() or accountable}) "
                f"was not touched by {due(handoff)}."
            )
            for user in {accountable, handoff.rep, handoff.version.agreement.sales_manager}:
                notices.append(
                    Notice(
                        user=user,
                        key=f"breach:{handoff.pk}",
                        lead=handoff.lead,
                        message=message,
                        email=True,
                    )
                )
            result.breached.append(handoff.pk)
        # The claims above make every one of these new: written in one INSERT.
        notify_many(notices, now=now)
        events_emit_many("handoff.at_risk", result.at_risk, now=now)
        events_emit_many("handoff.breached", result.breached, now=now)
    return result


def cadence_apply(*, now=None) -> list[int]:
    """Return to marketing the handoffs the cadence gave up on; returns their ids.

    After the SLA's attempts without a conversation ("no_response"), or its days without
    progress ("no_progress"), each under the version its handoff was made with.
    """
    now = now or timezone.now()
    returned = []
    # Per active handoff, through the attempts' (handoff, at) index: joining every attempt and
    # grouping scanned the whole attempts table on each run, with nothing to return.
    active = Handoff.objects.filter(ACTIVE).exclude(
        Exists(ContactAttempt.objects.filter(handoff=OuterRef("pk"), is_conversation=True))
    )
    attempts_made = Coalesce(
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
    for policy in HandoffPolicy.objects.filter(
        version__in=Handoff.objects.filter(ACTIVE).values("version")
    ):
        mine = active.filter(version_id=policy.version_id)
        exhausted = mine.annotate(attempts_made=attempts_made).filter(
            attempts_made__gte=policy.return_after_attempts
        )
        stale = mine.filter(handed_off_at__lte=now - timedelta(days=policy.return_after_days))
        for reason, handoffs, note in (
            (
                "no_response",
                exhausted,
                f"{policy.return_after_attempts} attempts without a conversation",
            ),
            ("no_progress", stale, f"{policy.return_after_days} days without progress"),
        ):
            for handoff in handoffs.exclude(pk__in=returned):
                try:
                    handoff_return(
                        handoff=handoff, reason=reason, note=note, job="apply_cadence", now=now
                    )
                except ValidationError:
                    continue  # closed meanwhile by the rep
                returned.append(handoff.pk)
    return returned
