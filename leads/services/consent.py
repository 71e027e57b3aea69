"""Consent and the data subject's rights (LGPD / GDPR): unsubscribe, export, erasure.

An unsubscribe stops every nurture step and marketing e-mail at once. A manager may export
everything held about a lead, or erase its personal data; both leave an AuditEntry. Erasure
keeps the rows the review counts (the lead, its stages, handoffs and attempts), so last
month's figures read the same after it.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agreements.models import EventType
from slaportal.lookups import Many
from slaportal.roles import MANAGERS, require_role

from ..models import (
    AuditEntry,
    ContactAttempt,
    Handoff,
    Lead,
    LeadEvent,
    Notification,
    NurtureEnrollment,
    ScoringMark,
    StageChange,
)
from .ingestion import LEAD_FIELDS as PERSON_FIELDS

User = get_user_model()

UNSUBSCRIBE = EventType.UNSUBSCRIBE.value


def leads_unsubscribe_from_events(*, lead_ids: list[int], now: datetime) -> int:
    """Mark the leads that sent an unsubscribe and end their nurture; returns how many.

    Set-based over the batch; a lead already marked is left alone, so running twice is safe.
    """
    first_unsubscribe = (
        LeadEvent.objects.filter(lead=OuterRef("pk"), type=UNSUBSCRIBE)
        .values("lead")
        .annotate(first=Min("occurred_at"))
        .values("first")
    )
    # From the unsubscribes (their own small partial index) to the batch's leads, not from
    # every lead of the batch to its events: few leads ever unsubscribe.
    senders = list(
        LeadEvent.objects.filter(type=UNSUBSCRIBE, lead_id__any_of=Many(lead_ids))
        .order_by()
        .values_list("lead_id", flat=True)
        .distinct()
    )
    if not senders:
        return 0
    marked = list(
        Lead.objects.filter(pk__any_of=senders, unsubscribed_at__isnull=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    if not marked:
        return 0
    Lead.objects.filter(pk__in=marked).update(unsubscribed_at=Subquery(first_unsubscribe))
    nurture_stop(lead_ids=marked, now=now)
    return len(marked)


UNSUBSCRIBE_SALT = "leads.unsubscribe"


def unsubscribe_url(lead: Lead) -> str:
    """The lead's own unsubscribe link: signed, so nobody can unsubscribe someone else, and
    without expiry, since an old e-mail's link must still work."""
    from django.urls import reverse

    token = signing.dumps(lead.pk, salt=UNSUBSCRIBE_SALT)
    return f"{settings.SITE_URL}{reverse('unsubscribe:confirm', args=[token])}"


def unsubscribe_token_lead(token: str) -> Lead | None:
    try:
        lead_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Lead.objects.filter(pk=lead_id).first()


def lead_unsubscribe(*, lead: Lead, now=None, how: str = "link") -> None:
    """The lead withdraws consent from an e-mail's link: recorded as an unsubscribe event (the
    one way consent is withdrawn), then applied at once rather than at the next scoring run."""
    from .ingestion import EventInput, events_ingest

    now = now or timezone.now()
    with transaction.atomic():
        if lead.unsubscribed_at is None:
            events_ingest(
                events=[
                    EventInput(
                        email=lead.email, type=UNSUBSCRIBE, occurred_at=now, properties={"how": how}
                    )
                ],
                now=now,
            )
        leads_unsubscribe_from_events(lead_ids=[lead.pk], now=now)


def nurture_stop(*, lead_ids: list[int], now: datetime) -> None:
    """End the leads' active enrolments; a lead that was in nurture is marketing's again."""
    NurtureEnrollment.objects.filter(lead_id__in=lead_ids, completed_at__isnull=True).update(
        completed_at=now
    )
    Lead.objects.filter(pk__in=lead_ids, status=Lead.Status.NURTURING).update(
        status=Lead.Status.OPEN, updated_at=now
    )


def unsubscribed(lead_ref: str = "pk"):
    """A condition true for leads that withdrew consent, from the moment the unsubscribe
    event arrives (before the pipeline has marked the lead). `lead_ref` names the lead's id
    from the queried model, e.g. "lead_id"."""
    return Exists(LeadEvent.objects.filter(lead_id=OuterRef(lead_ref), type=UNSUBSCRIBE))


# Export and erasure ---------------------------------------------------------------------------


def _json_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _rows(queryset, *fields) -> list[dict]:
    return [
        {key: _json_value(value) for key, value in row.items()} for row in queryset.values(*fields)
    ]


# What a person told us (the fields ingestion writes) and what the product made of it.
EXPORTED_LEAD_FIELDS = (
    "id",
    "email",
    *PERSON_FIELDS,
    "attributes",
    "stage",
    "status",
    "fit_score",
    "interest_score",
    "score",
    "owner__username",
    "lead_at",
    "mql_at",
    "sql_at",
    "opportunity_at",
    "customer_at",
    "returned_at",
    "unsubscribed_at",
    "deal_value",
    "created_at",
    "updated_at",
)


def lead_data_export(*, lead: Lead, by, now=None) -> dict:
    """Everything held about the lead, as JSON-ready data, recorded in the audit trail."""
    require_role(by, *MANAGERS)
    now = now or timezone.now()
    [lead_row] = _rows(Lead.objects.filter(pk=lead.pk), *EXPORTED_LEAD_FIELDS)
    lead_row["deal_value"] = str(lead_row["deal_value"]) if lead_row["deal_value"] else None
    data = {
        "exported_at": now.isoformat(),
        "lead": lead_row,
        "events": _rows(
            LeadEvent.objects.filter(lead=lead).order_by("occurred_at", "id"),
            "type",
            "occurred_at",
            "properties",
            "external_id",
            "received_at",
        ),
        "stage_changes": _rows(
            StageChange.objects.filter(lead=lead).order_by("at", "id"),
            "from_stage",
            "to_stage",
            "at",
            "by__username",
            "job",
            "reason",
        ),
        "handoffs": _rows(
            Handoff.objects.filter(lead=lead).order_by("handed_off_at", "id"),
            "id",
            "rep__username",
            "version__number",
            "trigger",
            "trigger_detail",
            "handed_off_at",
            "due_at",
            "first_touch_at",
            "status",
            "breached_at",
            "accepted_at",
            "rejected_at",
            "returned_at",
            "return_reason",
            "return_note",
        ),
        "contact_attempts": _rows(
            ContactAttempt.objects.filter(handoff__lead=lead).order_by("at", "id"),
            "handoff_id",
            "channel",
            "disposition",
            "is_conversation",
            "note",
            "at",
            "by__username",
        ),
        "nurture_enrolments": _rows(
            NurtureEnrollment.objects.filter(lead=lead).order_by("enrolled_at", "id"),
            "track__name",
            "steps_done",
            "automatic",
            "reason",
            "enrolled_at",
            "completed_at",
        ),
        "notifications": _rows(
            Notification.objects.filter(lead=lead).order_by("created_at", "id"),
            "user__username",
            "message",
            "created_at",
            "read_at",
        ),
    }
    AuditEntry.objects.create(action=AuditEntry.Action.EXPORT, lead_id=lead.pk, by=by, at=now)
    return data


def erased_email(lead_id: int) -> str:
    return f"erased-{lead_id}@invalid"


def lead_erase(*, lead: Lead, by, now=None) -> None:
    """Remove the lead's personal data, keep what the figures count, and stop all contact.

    Kept: stage, status, scores, timestamps, company size, industry, country and source (the
    review's segments), event types and times, handoffs and attempts. Removed: name, e-mail,
    phone, title, custom attributes, event properties and the free text people wrote about
    the lead.
    """
    require_role(by, *MANAGERS)
    now = now or timezone.now()
    with transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(
            email=erased_email(lead.pk),
            first_name="",
            last_name="",
            phone="",
            title="",
            attributes={},
            unsubscribed_at=now,
            # A rescore without the erased attributes would move the figures.
            needs_scoring=False,
            updated_at=now,
        )
        # Nor may activity that arrived before the erasure mark it again.
        ScoringMark.objects.filter(lead=lead).delete()
        nurture_stop(lead_ids=[lead.pk], now=now)
        LeadEvent.objects.filter(lead=lead).update(properties={})
        ContactAttempt.objects.filter(handoff__lead=lead).update(note="")
        Handoff.objects.filter(lead=lead).update(return_note="")
        _notices_anonymise(lead)
        AuditEntry.objects.create(action=AuditEntry.Action.ERASE, lead_id=lead.pk, by=by, at=now)
    lead.refresh_from_db()


def _notices_anonymise(lead: Lead) -> None:
    """The notices about the lead lose its name; each is rewritten in its reader's language."""
    from .notifications import languages_of

    told = Notification.objects.filter(lead=lead)
    readers = list(User.objects.filter(pk__in=told.values("user_id")))
    by_language: dict[str, list[int]] = {}
    for pk, language in languages_of(readers).items():
        by_language.setdefault(language, []).append(pk)
    for language, user_ids in by_language.items():
        with translation.override(language):
            message = _("About lead %(id)s (personal data erased)") % {"id": lead.pk}
        told.filter(user_id__in=user_ids).update(message=message)
