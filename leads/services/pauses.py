"""Clock pauses: the buyer asked to be contacted later, so the SLA clock stands still.

A pause moves the handoff's at-risk and response deadlines by the business time it covers
(leads.pause_clock, pure), so the breach scan needs no rule of its own: a paused handoff's
deadline lies after its pause. Each pause is written down with who, why, from and until.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.models import HandoffPolicy
from agreements.selectors import version_calendar
from slaportal.clock import local_time

from ..models import Handoff, HandoffPause, Lead
from ..pause_clock import deadline_after_pause, paused_time

REASON_MAX = 300


def _minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


def handoff_pause(
    *, handoff: Handoff, until: datetime, reason: str, by, now: datetime | None = None
) -> HandoffPause:
    """Pause the handoff's SLA clock from now until `until` (the buyer's date), if its SLA
    allows a pause that long. Raises PermissionDenied or ValidationError (by field)."""
    from .handoffs import _require_active, _require_owner_or_manager

    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the buyer asked to wait.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("Keep the reason to 300 characters.")})
    if until is None or timezone.is_naive(until):
        raise ValidationError({"until": _("Give the date and time the buyer asked for.")})
    if until <= now:
        raise ValidationError({"until": _("That moment has passed: a pause must end later.")})
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().select_related("version").get(pk=handoff.pk)
        _require_owner_or_manager(handoff, by)
        _require_active(handoff)
        if handoff.first_touch_at is not None or handoff.status not in (
            Handoff.Status.OPEN,
            Handoff.Status.AT_RISK,
        ):
            raise ValidationError(
                _("The response clock has stopped already (touched or breached): nothing to pause.")
            )
        if handoff.paused_until is not None and handoff.paused_until > now:
            raise ValidationError(
                _("The clock is already paused until %(until)s.")
                % {"until": local_time(handoff.paused_until)}
            )
        policy = HandoffPolicy.objects.get(version=handoff.version)
        if not policy.pauses_allowed:
            raise ValidationError(_("This SLA does not allow pausing the clock."))
        calendar = version_calendar(version=handoff.version)
        paused = paused_time(start=now, until=until, calendar=calendar)
        longest = timedelta(seconds=float(policy.max_pause_hours) * 3600)
        if paused > longest:
            raise ValidationError(
                {
                    "until": _(
                        "That pause is %(paused)s business hours; this SLA allows at most "
                        "%(longest)s."
                    )
                    % {
                        "paused": f"{paused.total_seconds() / 3600:.1f}",
                        "longest": f"{policy.max_pause_hours.normalize():f}",
                    }
                }
            )
        if paused <= timedelta(0):
            raise ValidationError(
                {"until": _("No business hours fall before then: the clock would not pause.")}
            )
        # An at-risk warning already given stays given; the deadline still moves.
        for name in ("at_risk_at", "due_at"):
            moved = deadline_after_pause(
                getattr(handoff, name), start=now, until=until, calendar=calendar
            )
            setattr(handoff, name, moved)
        handoff.paused_until = until
        handoff.paused_business_minutes += _minutes(paused)
        handoff.save(
            update_fields=[
                "at_risk_at",
                "due_at",
                "paused_until",
                "paused_business_minutes",
            ]
        )
        pause = HandoffPause.objects.create(
            handoff=handoff,
            by=by,
            rep_id=handoff.rep_id,
            reason=reason,
            starts_at=now,
            until=until,
            business_minutes=_minutes(paused),
            created_at=now,
        )
        Lead.objects.filter(pk=handoff.lead_id).update(updated_at=now)
    return pause


def pause_minutes_at_touch(handoff: Handoff, now: datetime) -> int:
    """Business minutes the handoff stood paused before a first touch at `now` (the caller
    holds the row). A touch during a pause ends it there: the buyer was reached early."""
    if handoff.paused_until is None:
        return 0
    if handoff.paused_until <= now:
        return handoff.paused_business_minutes
    calendar = version_calendar(version=handoff.version)
    total = 0
    for pause in HandoffPause.objects.filter(handoff=handoff).order_by("starts_at"):
        if pause.until > now:
            pause.until = max(now, pause.starts_at + timedelta(microseconds=1))
            pause.business_minutes = _minutes(
                paused_time(start=pause.starts_at, until=pause.until, calendar=calendar)
            )
            pause.save(update_fields=["until", "business_minutes"])
        total += pause.business_minutes
    handoff.paused_until = now
    handoff.paused_business_minutes = total
    return total
