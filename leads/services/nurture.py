"""Nurture: enrolling leads in the SLA's tracks and moving them along, step by step."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from agreements.models import NurtureStep, NurtureTrack
from slaportal.events import event_emit
from slaportal.outbox import outbox_write

from ..models import Lead, LeadEvent, NurtureEnrollment
from ..scoring import epoch_days
from .consent import nurture_stop, unsubscribed

NURTURE = "nurture"


def _steps(track: NurtureTrack) -> list[NurtureStep]:
    return list(NurtureStep.objects.filter(track=track).order_by("position", "id"))


def nurture_enrol(
    *, lead: Lead, track: NurtureTrack, automatic: bool, by=None, reason: str = "", now=None
) -> NurtureEnrollment | None:
    """Enrol the lead, ending any enrolment it had; the first step waits its days.

    A lead that unsubscribed is never enrolled: automatic entries skip it (None), a person
    asking is told why.
    """
    now = now or timezone.now()
    if not automatic and not track.reps_may_enrol:
        raise PermissionDenied(
            _("The SLA does not let reps enrol leads in %(track)s.") % {"track": track}
        )
    if Lead.objects.filter(pk=lead.pk).filter(Q(unsubscribed_at__isnull=False) | unsubscribed()):
        if automatic:
            return None
        raise ValidationError(_("This lead unsubscribed: it cannot be enrolled in nurture."))
    steps = _steps(track)
    with transaction.atomic():
        NurtureEnrollment.objects.filter(lead=lead, completed_at__isnull=True).update(
            completed_at=now
        )
        first = steps[0] if steps else None
        enrollment = NurtureEnrollment.objects.create(
            lead=lead,
            track=track,
            next_step=first,
            next_step_at=now + timedelta(days=first.wait_days) if first else None,
            completed_at=None if first else now,
            automatic=automatic,
            by=by,
            reason=reason,
            enrolled_at=now,
        )
        Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.NURTURING, updated_at=now)
        event_emit("nurture.enrolled", enrollment, now=now)
    return enrollment


def nurture_advance(*, now=None) -> int:
    """Deliver every step that is due, record it as an event, and schedule the next one.

    Each step is claimed with a compare-and-set on steps_done, so two workers never deliver
    the same step twice.
    """
    now = now or timezone.now()
    delivered = 0
    due = NurtureEnrollment.objects.filter(
        completed_at__isnull=True, next_step_at__lte=now, next_step__isnull=False
    )
    # Consent withdrawn: end those enrolments instead of sending, even before the pipeline
    # has marked the lead.
    withdrawn = due.filter(Q(lead__unsubscribed_at__isnull=False) | unsubscribed("lead_id"))
    nurture_stop(lead_ids=list(withdrawn.values_list("lead_id", flat=True)), now=now)
    due = due.select_related("lead", "track", "next_step")
    for enrollment in due[:1000]:
        steps = _steps(enrollment.track)
        index = next((i for i, s in enumerate(steps) if s.pk == enrollment.next_step_id), None)
        following = steps[index + 1] if index is not None and index + 1 < len(steps) else None
        with transaction.atomic():
            claimed = NurtureEnrollment.objects.filter(
                pk=enrollment.pk,
                steps_done=enrollment.steps_done,
                completed_at__isnull=True,
            ).update(
                steps_done=enrollment.steps_done + 1,
                next_step=following,
                next_step_at=now + timedelta(days=following.wait_days) if following else None,
                completed_at=None if following else now,
            )
            if not claimed:
                continue
            step = enrollment.next_step
            LeadEvent.objects.create(
                lead=enrollment.lead,
                type="nurture_step",
                occurred_at=now,
                occurred_day=epoch_days(now),
                received_at=now,
                properties={
                    "track": enrollment.track.name,
                    "offer": step.offer,
                    "channel": step.channel,
                    "journey_stage": step.journey_stage,
                },
            )
            if following is None:
                # The track is done: the lead is marketing's again and may re-qualify.
                Lead.objects.filter(pk=enrollment.lead_id, status=Lead.Status.NURTURING).update(
                    status=Lead.Status.OPEN, needs_scoring=True, updated_at=now
                )
            # Sent through the outbox: committed with the claim, so a crash can delay the
            # step but neither lose nor repeat it.
            outbox_write(
                channel=NURTURE,
                key=f"{NURTURE}:{enrollment.pk}:{enrollment.steps_done + 1}",
                payload={"lead": enrollment.lead_id, "step": step.pk},
                now=now,
            )
        delivered += 1
    return delivered


def nurture_steps_deliver(messages) -> None:
    """The nurture channel of the outbox: hand each step to the delivery backend, unless the
    lead withdrew consent since the step was due."""
    delivery = import_string(_backend())()
    lead_ids = {message.payload["lead"] for message in messages}
    leads = Lead.objects.in_bulk(
        Lead.objects.filter(pk__in=lead_ids, unsubscribed_at__isnull=True)
        .exclude(unsubscribed())
        .values_list("pk", flat=True)
    )
    steps = NurtureStep.objects.in_bulk({message.payload["step"] for message in messages})
    for message in messages:
        lead, step = leads.get(message.payload["lead"]), steps.get(message.payload["step"])
        if lead is not None and step is not None:
            delivery.deliver(lead=lead, step=step)


def _backend() -> str:
    from django.conf import settings

    return settings.NURTURE_DELIVERY_BACKEND
