"""Calls, e-mails, meetings and messages reported by a CRM or dialer, logged as attempts.

A reported activity is a contact attempt like one a rep logs in the app: the same rules
(handoffs.attempt_check) decide whether it may be logged, and the same first-touch logic
(handoffs.attempt_touch) settles the response timer, at the time the activity happened. A batch
is all or nothing, and an activity whose external id is known is not stored again.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.models import DispositionCode
from agreements.selectors import version_calendar
from slaportal.clock import local_time

from ..emails import InvalidEmail, email_normalise
from ..models import ContactAttempt, Handoff, Lead
from .handoffs import attempt_check, attempt_touch


@dataclass(frozen=True)
class ActivityInput:
    external_id: str
    rep: str  # username or e-mail
    channel: str
    disposition: str
    occurred_at: datetime
    email: str | None = None
    lead_id: int | None = None
    direction: str = ContactAttempt.Direction.OUTBOUND
    note: str = ""
    integration: str = ""  # which system reported it, e.g. HubSpot; else the caller's default


@dataclass(frozen=True)
class ActivityResult:
    external_id: str
    attempt_id: int
    lead_id: int
    handoff_id: int
    duplicate: bool


class ActivitiesRefused(Exception):
    """Some activities may not be logged; `errors`: messages by index, then by field."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        super().__init__(errors)
        self.errors = errors


def activities_log(
    *, activities: list[ActivityInput], source_name: str = "", now=None
) -> list[ActivityResult]:
    """Log each activity as an attempt on its lead's open handoff, or none of them.

    Answers one result per activity, in order; an activity whose external id was logged before
    answers that attempt, marked duplicate, and changes nothing. Raises ActivitiesRefused.
    """
    now = now or timezone.now()
    with transaction.atomic():
        known = _known_attempts([item.external_id for item in activities])
        errors: dict[int, dict[str, list[str]]] = defaultdict(dict)
        first_index: dict[str, int] = {}
        for index, item in enumerate(activities):
            if item.external_id in first_index:
                errors[index]["external_id"] = [
                    _("Repeats the external_id of item %(index)s.")
                    % {"index": first_index[item.external_id]}
                ]
            first_index.setdefault(item.external_id, index)
        new = [
            (index, item)
            for index, item in enumerate(activities)
            if item.external_id not in known and index not in errors
        ]
        leads = _leads_of([item for _, item in new])
        handoffs = {
            handoff.lead_id: handoff
            for handoff in Handoff.objects.select_for_update(of=("self",))
            .filter(lead_id__in={lead.pk for lead in leads.values()})
            .filter(accepted_at__isnull=True, returned_at__isnull=True)
            .select_related("rep", "version")
            .order_by("-handed_off_at")
        }
        reps = _reps_of([item.rep for _, item in new])
        codes = _codes_of({handoff.version_id for handoff in handoffs.values()})
        planned = []
        for index, item in new:
            lead_field = "email" if item.email else "lead_id"
            key = ("email", _normalised(item.email)) if item.email else ("id", item.lead_id)
            lead = leads.get(key)
            if lead is None:
                errors[index][lead_field] = [_no_lead(item)]
                continue
            handoff = handoffs.get(lead.pk)
            if handoff is None:
                errors[index][lead_field] = [
                    _(
                        "%(email)s has no open handoff: an attempt counts only while the lead "
                        "is with a rep."
                    )
                    % {"email": lead.email}
                ]
                continue
            rep = reps.get(item.rep.lower())
            if rep is None:
                errors[index]["rep"] = [
                    _("No active user has the username or e-mail '%(rep)s'.") % {"rep": item.rep}
                ]
                continue
            problems = _attempt_problems(handoff, item, rep, codes.get(handoff.version_id, {}))
            if problems:
                errors[index].update(problems)
                continue
            planned.append((index, item, handoff, rep, codes[handoff.version_id][item.disposition]))
        if errors:
            raise ActivitiesRefused(dict(errors))
        created = ContactAttempt.objects.bulk_create(
            [
                ContactAttempt(
                    handoff=handoff,
                    channel=item.channel,
                    disposition=item.disposition,
                    is_conversation=code.is_conversation,
                    note=item.note,
                    at=item.occurred_at,
                    by=rep,
                    rep_id=handoff.rep_id,
                    direction=item.direction,
                    source=ContactAttempt.Source.API,
                    source_name=item.integration or source_name,
                    external_id=item.external_id,
                )
                for _, item, handoff, rep, code in planned
            ]
        )
        # In time order, so the earliest activity of the batch is the first touch.
        touched = {}
        for attempt in sorted(created, key=lambda attempt: attempt.at):
            handoff = attempt.handoff
            attempt_touch(handoff=handoff, at=attempt.at)
            touched[handoff.pk] = handoff
        for handoff in touched.values():
            handoff.save()
        Lead.objects.filter(pk__in=[h.lead_id for h in touched.values()]).update(updated_at=now)
    made = {
        item.external_id: ActivityResult(
            external_id=item.external_id,
            attempt_id=attempt.pk,
            lead_id=handoff.lead_id,
            handoff_id=handoff.pk,
            duplicate=False,
        )
        for (_, item, handoff, _, _), attempt in zip(planned, created, strict=True)
    }
    return [known.get(item.external_id) or made[item.external_id] for item in activities]


def _known_attempts(external_ids: list[str]) -> dict[str, ActivityResult]:
    rows = ContactAttempt.objects.filter(external_id__in=set(external_ids)).values_list(
        "pk", "external_id", "handoff_id", "handoff__lead_id"
    )
    return {
        external_id: ActivityResult(
            external_id=external_id,
            attempt_id=pk,
            lead_id=lead_id,
            handoff_id=handoff_id,
            duplicate=True,
        )
        for pk, external_id, handoff_id, lead_id in rows
    }


def _normalised(email: str) -> str:
    try:
        return email_normalise(email)
    except InvalidEmail:
        return ""


def _leads_of(items: list[ActivityInput]) -> dict[tuple[str, object], Lead]:
    emails = {_normalised(item.email) for item in items if item.email}
    ids = {item.lead_id for item in items if item.lead_id is not None}
    found = {}
    for lead in Lead.objects.filter(email_normalised__in=emails - {""}).only(
        "pk", "email", "email_normalised"
    ):
        found[("email", lead.email_normalised)] = lead
    for lead in Lead.objects.filter(pk__in=ids).only("pk", "email", "email_normalised"):
        found[("id", lead.pk)] = lead
    return found


def _reps_of(names: list[str]) -> dict:
    """Active users by lower-cased username and e-mail."""
    wanted = {name.lower() for name in names}
    found = {}
    User = get_user_model()
    by_name = User.objects.annotate(key=Lower("username")).filter(is_active=True, key__in=wanted)
    by_email = User.objects.annotate(key=Lower("email")).filter(is_active=True, key__in=wanted)
    # A username wins over another user's e-mail; the lowest id wins among equals.
    for user in [*by_email.order_by("-pk"), *by_name.order_by("-pk")]:
        found[user.key] = user
    return found


def _codes_of(version_ids: set[int]) -> dict[int, dict[str, DispositionCode]]:
    codes: dict[int, dict[str, DispositionCode]] = defaultdict(dict)
    for code in DispositionCode.objects.filter(version_id__in=version_ids):
        codes[code.version_id][code.code] = code
    return codes


def _no_lead(item: ActivityInput) -> str:
    if item.email:
        return _("No lead has the e-mail %(email)s.") % {"email": item.email}
    return _("No lead has the id %(id)s.") % {"id": item.lead_id}


def _attempt_problems(handoff, item: ActivityInput, rep, codes) -> dict[str, list[str]]:
    try:
        attempt_check(
            handoff=handoff,
            channel=item.channel,
            disposition=item.disposition,
            by=rep,
            codes=codes,
        )
    except PermissionDenied:
        holder = handoff.rep.get_username()
        return {
            "rep": [
                _(
                    "'%(rep)s' does not hold this lead (it is with %(holder)s) and is not a "
                    "sales manager."
                )
                % {"rep": item.rep, "holder": holder}
            ]
        }
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            return {field: list(messages) for field, messages in error.message_dict.items()}
        return {"non_field_errors": list(error.messages)}
    if item.occurred_at < handoff.handed_off_at:
        calendar = version_calendar(version=handoff.version)
        handed = local_time(handoff.handed_off_at, zone=calendar.time_zone)
        return {
            "occurred_at": [
                _("Before the lead was handed off (%(at)s): it cannot count for this handoff.")
                % {"at": handed}
            ]
        }
    return {}
