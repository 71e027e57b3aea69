"""Handoffs: who gets the lead, the rep's actions, and the timers the SLA puts on them."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements.business_hours import add_business_time, business_time_between
from agreements.models import (
    Agreement,
    BusinessCalendar,
    Channel,
    DispositionCode,
    EventType,
    HandoffPolicy,
    NurtureTrack,
    ReturnReason,
    TerritoryRule,
)
from agreements.selectors import version_calendar
from agreements.summary import in_sentence
from people.selectors import away_now
from slaportal.clock import local_time
from slaportal.events import event_emit, events_emit_many
from slaportal.language import in_team_language
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
from .notifications import Notice, languages_of, notify, notify_many, written_for
from .pauses import pause_minutes_at_touch

User = get_user_model()
ACTIVE = Q(accepted_at__isnull=True, returned_at__isnull=True)


def _local(moment: datetime, version) -> str:
    """A deadline as the SLA's calendar reads it, zone named: people think in that zone."""
    return local_time(moment, zone=version_calendar(version=version).time_zone)


def _hours(value: Decimal) -> timedelta:
    return timedelta(seconds=float(value) * 3600)


def active_reps():
    return User.objects.filter(groups__name=Role.SALES_REP, is_active=True)


# The lead's fields an SLA may require before a handoff, as people read them.
FIELD_LABELS = {
    "email": gettext_lazy("e-mail"),
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "phone": gettext_lazy("phone"),
    "title": gettext_lazy("job title"),
    "company": gettext_lazy("company"),
    "company_size": gettext_lazy("company size"),
    "industry": gettext_lazy("industry"),
    "country": gettext_lazy("country"),
    "source": gettext_lazy("source"),
}


def missing_handoff_fields(*, lead: Lead, policy: HandoffPolicy) -> list[str]:
    return [
        str(FIELD_LABELS.get(name, name.replace("_", " ")))
        for name in policy.required_fields
        if getattr(lead, name, None) in (None, "")
    ]


class RepPicker:
    """The SLA's assignment method for one run: reps and rules read once, turns kept here.

    Round robin gives a lead to the active rep whose latest handoff is oldest (a rep never
    handed one goes first; then the latest handoff's id, then the rep's id break ties), so it
    stays fair when reps join, leave or are deactivated. `handed` moves a rep to the back, so
    a batch takes turns exactly as one handoff after another would.

    Every method skips a rep who is away (an absence covers `now`) or at capacity (open
    handoffs ≥ their profile's capacity); `handed` counts the batch's handoffs in the load.
    """

    def __init__(self, *, version, policy: HandoffPolicy, now: datetime | None = None):
        latest = Handoff.objects.filter(rep=OuterRef("pk")).order_by("-handed_off_at", "-id")
        load = (
            Handoff.objects.filter(ACTIVE, rep=OuterRef("pk"))
            .order_by()
            .values("rep")
            .annotate(n=Count("pk"))
            .values("n")
        )
        reps = active_reps().annotate(
            last_handoff=Subquery(latest.values("handed_off_at")[:1]),
            last_id=Subquery(latest.values("id")[:1]),
            away=away_now(now or timezone.now()),
            load=Coalesce(Subquery(load), 0),
            capacity=F("rep_profile__capacity"),
        )
        self._reps = {rep.pk: rep for rep in reps}
        self._load = {rep.pk: rep.load for rep in self._reps.values()}
        self._turns = {
            rep.pk: (
                rep.last_handoff is not None,
                rep.last_handoff or datetime.min.replace(tzinfo=UTC),
                rep.last_id or 0,
                rep.pk,
            )
            for rep in self._reps.values()
        }
        self._next_id = max((rep.last_id or 0 for rep in self._reps.values()), default=0) + 1
        self._owner = None
        if policy.assignment_method == HandoffPolicy.Assignment.NAMED_OWNER:
            self._owner = self._reps.get(policy.named_owner_id)
        self._territories = []
        if policy.assignment_method == HandoffPolicy.Assignment.TERRITORY:
            self._territories = [
                rule
                for rule in TerritoryRule.objects.filter(version=version).order_by("position", "id")
                if rule.rep_id in self._reps
            ]

    @property
    def has_reps(self) -> bool:
        """Some rep is active, available or not (none at all: the lead stays with marketing)."""
        return bool(self._reps)

    def _available(self, rep) -> bool:
        return not rep.away and (rep.capacity is None or self._load[rep.pk] < rep.capacity)

    def choose(self, lead: Lead):
        """The rep for this lead; None when no rep is active and available."""
        if self._owner is not None and self._available(self._owner):
            return self._owner
        for rule in self._territories:
            if _territory_matches(rule, lead) and self._available(self._reps[rule.rep_id]):
                return self._reps[rule.rep_id]
        free = [turn for pk, turn in self._turns.items() if self._available(self._reps[pk])]
        if not free:
            return None
        return self._reps[min(free)[3]]

    def handed(self, rep, now: datetime) -> None:
        """The rep was just handed a lead: the next turn goes to someone else."""
        # Handoffs made later get larger ids, so a counter past the largest stands in for the
        # ids the batch's handoffs will get.
        self._turns[rep.pk] = (True, now, self._next_id, rep.pk)
        self._next_id += 1
        self._load[rep.pk] += 1


def rep_choose(*, version, lead: Lead):
    """The rep the SLA's assignment method gives this lead; None when no rep is active."""
    policy = HandoffPolicy.objects.get(version=version)
    return RepPicker(version=version, policy=policy).choose(lead)


def _territory_matches(rule: TerritoryRule, lead: Lead) -> bool:
    if rule.field == TerritoryRule.Field.COMPANY_SIZE_MIN:
        return lead.company_size is not None and lead.company_size >= int(rule.value)
    actual = (getattr(lead, rule.field) or "").strip().lower()
    return actual in {value.strip().lower() for value in rule.value.split(",")}


@dataclass(frozen=True)
class HandoffRequest:
    """A lead to hand off, and why."""

    lead_id: int
    trigger: str
    detail: str = ""


def _deadlines(policy: HandoffPolicy, calendar, now: datetime) -> dict[str, datetime]:
    """A handoff's SLA timers, counted in the calendar's business hours from `now`."""
    window = _hours(policy.response_target_hours)
    return {
        "at_risk_at": add_business_time(now, window * policy.at_risk_share / 100, calendar),
        "due_at": add_business_time(now, window, calendar),
        "accept_due_at": add_business_time(now, _hours(policy.accept_window_hours), calendar),
    }


def handoff_create(
    *, lead: Lead, version, trigger: str, detail: str = "", now: datetime, by=None
) -> Handoff | None:
    """Hand the lead to a rep with its SLA deadlines; None when the lead is already with
    sales or no rep is active."""
    created = handoffs_create_bulk(
        requests=[HandoffRequest(lead.pk, trigger, detail)], version=version, now=now, by=by
    )
    return created[0] if created else None


def handoffs_create_bulk(
    *, requests: list[HandoffRequest], version, now: datetime, by=None
) -> list[Handoff]:
    """Hand many leads to reps at once, in the order given; returns the handoffs made.

    The same reps, deadlines, timeline entries and notices as handing them off one after
    another, in a number of queries that does not grow with the leads: round robin's order is
    read once and advanced here, the deadlines are the same for every lead handed off at one
    instant, and the rows are written with bulk inserts and set-based updates.
    """
    if not requests:
        return []
    with transaction.atomic():
        # One assignment run at a time, so round robin never gives two leads to the same turn.
        Agreement.objects.select_for_update().get(pk=version.agreement_id)
        wanted = [request.lead_id for request in requests]
        leads = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        }
        for lead_id in Handoff.objects.filter(ACTIVE, lead_id__in=wanted).values_list(
            "lead_id", flat=True
        ):
            del leads[lead_id]  # already with sales
        policy = HandoffPolicy.objects.get(version=version)
        picker = RepPicker(version=version, policy=policy, now=now)
        calendar = version_calendar(version=version)
        deadlines = _deadlines(policy, calendar, now)
        handoffs: list[Handoff] = []
        notices: list[Notice] = []
        for request in requests:
            lead = leads.pop(request.lead_id, None)
            if lead is None:
                continue  # already with sales, or asked for twice
            rep = picker.choose(lead)
            if rep is None and not picker.has_reps:
                manager = version.agreement.sales_manager
                with written_for(manager):
                    message = _("%(lead)s is ready for sales but no rep is active.") % {
                        "lead": lead
                    }
                notices.append(
                    Notice(
                        user=manager,
                        key=f"no-rep:{lead.pk}:{now:%Y%m%d}",
                        lead=lead,
                        message=message,
                    )
                )
                continue
            # Nobody available (away or at capacity): the handoff waits unassigned, its
            # clock running from now, until people.services assigns it.
            if rep is not None:
                picker.handed(rep, now)
            handoffs.append(
                Handoff(
                    lead=lead,
                    rep=rep,
                    version=version,
                    trigger=request.trigger,
                    trigger_detail=request.detail,
                    handed_off_at=now,
                    **deadlines,
                )
            )
        Handoff.objects.bulk_create(handoffs)
        handed = [handoff.lead for handoff in handoffs]
        with in_team_language():
            event_labels = dict(EventType.choices)
            StageChange.objects.bulk_create(
                _stage_change_row(
                    handoff.lead,
                    Stage.MQL,
                    now=now,
                    version=version,
                    by=by,
                    job="handoff",
                    reason=_handed_reason(handoff, event_labels),
                )
                for handoff in handoffs
                if handoff.lead.stage == Stage.LEAD
            )
        from_lead = [lead.pk for lead in handed if lead.stage == Stage.LEAD]
        if from_lead:
            Lead.objects.filter(pk__in=from_lead).update(
                stage=Stage.MQL, mql_at=Coalesce(F("mql_at"), Value(now))
            )
        # A lead that converts while in nurture leaves its track: sales has it now.
        if handed:
            NurtureEnrollment.objects.filter(
                lead_id__in=[lead.pk for lead in handed], completed_at__isnull=True
            ).update(completed_at=now)
        by_rep: dict[int, list[int]] = {}
        for handoff in handoffs:
            by_rep.setdefault(handoff.rep_id, []).append(handoff.lead_id)
        for rep_id, lead_ids in by_rep.items():
            Lead.objects.filter(pk__in=lead_ids).update(
                owner_id=rep_id, status=Lead.Status.HANDED_OFF, updated_at=now
            )
        notices.extend(unassigned_notices([h for h in handoffs if h.rep_id is None], version))
        if policy.notify_in_app or policy.notify_email:
            zone = calendar.time_zone
            languages = languages_of([handoff.rep for handoff in handoffs if handoff.rep_id])
            for handoff in handoffs:
                if handoff.rep_id is None:
                    continue
                with written_for(handoff.rep, languages):
                    message = _("New lead for you: %(lead)s — first touch due %(due)s.") % {
                        "lead": handoff.lead,
                        "due": local_time(handoff.due_at, zone=zone),
                    }
                notices.append(
                    Notice(
                        user=handoff.rep,
                        key=f"handoff:{handoff.pk}",
                        lead=handoff.lead,
                        email=policy.notify_email,
                        message=message,
                    )
                )
        notify_many(notices, now=now)
        for handoff in handoffs:
            # The returned handoffs carry their lead as it now is.
            lead = handoff.lead
            if lead.stage == Stage.LEAD:
                lead.stage, lead.mql_at = Stage.MQL, lead.mql_at or now
            lead.owner, lead.status, lead.updated_at = handoff.rep, Lead.Status.HANDED_OFF, now
        # A lead that skipped MQL (a demo request) became one by being handed off.
        became_mql = set(from_lead)
        events_emit_many("lead.mql", [lead for lead in handed if lead.pk in became_mql], now=now)
        events_emit_many("handoff.created", handoffs, now=now)
    return handoffs


def _handed_reason(handoff: Handoff, event_labels: dict) -> str:
    """The stage change's reason: why the lead went to sales (in the active language)."""
    trigger = in_sentence(str(handoff.get_trigger_display()))
    if not handoff.trigger_detail:
        return _("Handed to sales: %(trigger)s") % {"trigger": trigger}
    return _("Handed to sales: %(trigger)s (%(detail)s)") % {
        "trigger": trigger,
        "detail": event_labels.get(handoff.trigger_detail, handoff.trigger_detail),
    }


def unassigned_notices(handoffs: list[Handoff], version) -> list[Notice]:
    """The sales manager hears once per handoff that waits with nobody to take it."""
    if not handoffs:
        return []
    manager = version.agreement.sales_manager
    zone = version_calendar(version=version).time_zone
    notices = []
    with written_for(manager):
        for handoff in handoffs:
            message = _(
                "%(lead)s waits in the unassigned queue: no rep is available "
                "(away or at capacity). First touch due %(due)s."
            ) % {"lead": handoff.lead, "due": local_time(handoff.due_at, zone=zone)}
            notices.append(
                Notice(
                    user=manager,
                    key=f"unassigned:{handoff.pk}",
                    lead=handoff.lead,
                    email=True,
                    message=message,
                )
            )
    return notices


def handoff_manual(*, lead: Lead, version, by, now=None) -> Handoff:
    if lead.stage not in (Stage.LEAD, Stage.MQL):
        raise ValidationError(
            _("Only a lead or an MQL can be handed to sales; this one is already %(stage)s.")
            % {"stage": lead.get_stage_display()}
        )
    policy = HandoffPolicy.objects.get(version=version)
    if not policy.allow_manual:
        raise ValidationError(_("This SLA does not allow handing a lead off by hand."))
    missing = missing_handoff_fields(lead=lead, policy=policy)
    if missing:
        raise ValidationError(
            _("The SLA requires %(fields)s before a handoff.") % {"fields": ", ".join(missing)}
        )
    with in_team_language():
        detail = _("by %(person)s") % {"person": by.get_full_name() or by.username}
    handoff = handoff_create(
        lead=lead,
        version=version,
        trigger=Handoff.Trigger.MANUAL,
        detail=detail,
        now=now or timezone.now(),
        by=by,
    )
    if handoff is None:
        raise ValidationError(_("The lead is already with sales, or no rep is active."))
    return handoff


def _stage_change_row(
    lead: Lead, to_stage: str, *, now, version, reason: str, by=None, job=""
) -> StageChange:
    return StageChange(
        lead=lead,
        from_stage=lead.stage,
        to_stage=to_stage,
        at=now,
        by=by,
        job=job,
        reason=reason,
        version=version,
    )


def _stage_change(lead: Lead, to_stage: str, *, now, version, reason: str, by=None, job=""):
    _stage_change_row(
        lead, to_stage, now=now, version=version, reason=reason, by=by, job=job
    ).save()
    lead.stage = to_stage
    if to_stage != Stage.LEAD and not getattr(lead, f"{to_stage}_at"):
        setattr(lead, f"{to_stage}_at", now)
    event_emit("lead.mql" if to_stage == Stage.MQL else "lead.stage_changed", lead, now=now)


def _require_active(handoff: Handoff) -> None:
    if not handoff.is_active:
        raise ValidationError(
            _("This handoff is closed: the lead was already accepted or returned.")
        )


def _require_owner_or_manager(handoff: Handoff, user) -> None:
    if handoff.rep_id != user.pk and not (
        user.is_superuser or user.groups.filter(name=Role.SALES_MANAGER).exists()
    ):
        raise PermissionDenied(_("Only the lead's rep or a sales manager may do this."))


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
        # Time the buyer asked us to wait is not response time.
        paused = pause_minutes_at_touch(handoff, now)
        handoff.response_business_minutes = max(0, int(elapsed.total_seconds() // 60) - paused)
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


def attempt_check(
    *,
    handoff: Handoff,
    channel: str,
    disposition: str,
    by,
    codes: dict[str, DispositionCode] | None = None,
) -> DispositionCode:
    """Whether `by` may log this attempt on `handoff`; returns its disposition code.

    The one set of rules for an attempt, whether a rep logs it in the app or a CRM reports it
    through the API (leads.services.activities). `codes`: the handoff version's disposition
    codes by code, when the caller has read them already. Raises PermissionDenied or
    ValidationError (by field).
    """
    _require_owner_or_manager(handoff, by)
    _require_active(handoff)
    if channel not in Channel.values:
        raise ValidationError(
            {
                "channel": _("'%(channel)s' is not a channel: choose one of %(channels)s.")
                % {"channel": channel, "channels": ", ".join(Channel.values)}
            }
        )
    if codes is None:
        code = DispositionCode.objects.filter(version=handoff.version, code=disposition).first()
    else:
        code = codes.get(disposition)
    if code is None:
        raise ValidationError(
            {
                "disposition": _("'%(code)s' is not a disposition code of this SLA.")
                % {"code": disposition}
            }
        )
    return code


def attempt_touch(*, handoff: Handoff, at: datetime) -> None:
    """What an attempt made at `at` does to the handoff's timers (the caller saves it)."""
    _touch(handoff, at)


def attempt_log(
    *, handoff: Handoff, channel: str, disposition: str, note: str = "", by, now=None
) -> ContactAttempt:
    now = now or timezone.now()
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().get(pk=handoff.pk)
        code = attempt_check(handoff=handoff, channel=channel, disposition=disposition, by=by)
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
        with in_team_language():
            reason = _("Accepted by sales")
        _stage_change(lead, Stage.SQL, now=now, version=handoff.version, by=by, reason=reason)
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
            _("The accept window closed at %(at)s; return the lead with a reason instead.")
            % {"at": _local(handoff.accept_due_at, handoff.version)}
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
            raise ValidationError(
                {"reason": _("'%(code)s' is not a return reason of this SLA.") % {"code": reason}}
            )
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
        with in_team_language():
            if return_reason:
                label = return_reason.label
            elif track:
                label = _("enrolled in %(track)s") % {"track": track.name}
            else:
                label = reason.replace("_", " ")
            if rejected:
                stage_reason = _("Rejected by sales: %(reason)s") % {"reason": label}
            else:
                stage_reason = _("Returned by sales: %(reason)s") % {"reason": label}
            enrol_reason = _("Returned by sales: %(reason)s") % {"reason": label}
        _stage_change(
            lead,
            Stage.LEAD,
            now=now,
            version=handoff.version,
            by=by,
            job=job,
            reason=stage_reason,
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
                reason=enrol_reason,
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
        raise ValidationError({"reason": _("Keep the reason to 300 characters.")})
    if not (by.is_superuser or by.groups.filter(name=Role.SALES_MANAGER).exists()):
        raise PermissionDenied(_("Only a sales manager reassigns leads."))
    if not active_reps().filter(pk=rep.pk).exists():
        raise ValidationError({"rep": _("Choose an active sales rep.")})
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
        with written_for(rep):
            message = _("%(person)s gave you %(lead)s.") % {
                "person": by.get_full_name() or by.username,
                "lead": handoff.lead,
            }
        notify(
            now=now,
            user=rep,
            key=f"reassigned:{handoff.pk}:{rep.pk}:{now:%Y%m%d%H%M%S%f}",
            lead=handoff.lead,
            message=message,
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

        # Each person reads their notice in their own language: one query for everyone's.
        readers = [handoff.rep for handoff in at_risk]
        for handoff in breached:
            readers += [handoff.breach_rep, handoff.rep, handoff.version.agreement.sales_manager]
        languages = languages_of(readers) if readers else {}
        notices = []
        for handoff in at_risk:
            result.at_risk.append(handoff.pk)
            if handoff.rep is None:
                continue  # unassigned: the sales manager was told when it started waiting
            with written_for(handoff.rep, languages):
                message = _("At risk: first touch for %(lead)s is due %(due)s.") % {
                    "lead": handoff.lead,
                    "due": due(handoff),
                }
            notices.append(
                Notice(
                    user=handoff.rep,
                    key=f"at-risk:{handoff.pk}",
                    lead=handoff.lead,
                    message=message,
                )
            )
        for handoff in breached:
            # The breach is the rep's who held the lead at the deadline; whoever holds it now
            # is told too, since the lead is theirs to rescue.
            accountable = handoff.breach_rep or handoff.rep
            told = {accountable, handoff.rep, handoff.version.agreement.sales_manager} - {None}
            for user in told:
                with written_for(user, languages):
                    who = (
                        (accountable.get_full_name() or str(accountable))
                        if accountable
                        else _("unassigned")
                    )
                    message = _(
                        "SLA breached: %(lead)s (rep %(rep)s) was not touched by %(due)s."
                    ) % {"lead": handoff.lead, "rep": who, "due": due(handoff)}
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
    from ..selectors import attempts_made_subquery  # here: selectors import this module

    attempts_made = attempts_made_subquery()
    for policy in HandoffPolicy.objects.filter(
        version__in=Handoff.objects.filter(ACTIVE).values("version")
    ):
        mine = active.filter(version_id=policy.version_id)
        exhausted = mine.annotate(attempts_made=attempts_made).filter(
            attempts_made__gte=policy.return_after_attempts
        )
        stale = mine.filter(handed_off_at__lte=now - timedelta(days=policy.return_after_days))
        with in_team_language():
            no_response = ngettext(
                "%(count)s attempt without a conversation",
                "%(count)s attempts without a conversation",
                policy.return_after_attempts,
            ) % {"count": policy.return_after_attempts}
            no_progress = ngettext(
                "%(count)s day without progress",
                "%(count)s days without progress",
                policy.return_after_days,
            ) % {"count": policy.return_after_days}
        for reason, handoffs, note in (
            ("no_response", exhausted, no_response),
            ("no_progress", stale, no_progress),
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
