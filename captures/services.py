"""Form captures: create, change, rotate, and receive a post as a lead and its event.

A post goes through the same validation (leads.api.serializers.LeadInputSerializer) and the same
ingestion service (lead_upsert, events_ingest) as the API, so scoring and the handoff follow
exactly as for a lead pushed by an integration.
"""

import json
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from leads.api.serializers import LeadInputSerializer, lead_upsert_arguments
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from slaportal.language import in_team_language

from .models import CapturePost, FormCapture, capture_token_new

# Fields a form framework adds that are nobody's data.
IGNORED_FIELDS = {"csrfmiddlewaretoken"}
RATE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class CaptureOutcome:
    post: CapturePost | None
    accepted: bool
    reason: str = ""


def capture_create(*, by, now=None, **fields) -> FormCapture:
    now = now or timezone.now()
    return FormCapture.objects.create(created_by=by, created_at=now, updated_at=now, **fields)


def capture_update(*, capture: FormCapture, now=None, **fields) -> FormCapture:
    for name, value in fields.items():
        setattr(capture, name, value)
    capture.updated_at = now or timezone.now()
    capture.save()
    return capture


def capture_active_set(*, capture: FormCapture, active: bool, now=None) -> FormCapture:
    return capture_update(capture=capture, now=now, is_active=active)


def capture_token_rotate(*, capture: FormCapture, now=None) -> FormCapture:
    """A new secret URL; the old one answers 404 from now on."""
    return capture_update(capture=capture, now=now, token=capture_token_new())


def capture_rate_allow(*, capture: FormCapture, now=None) -> bool:
    """Whether one more post fits this minute's budget (a cache counter per capture)."""
    now = now or timezone.now()
    key = f"captures:rate:{capture.pk}:{int(now.timestamp()) // RATE_WINDOW_SECONDS}"
    cache.add(key, 0, RATE_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW_SECONDS * 2)
        count = 1
    return count <= capture.rate_per_minute


def capture_post_receive(*, capture: FormCapture, data: dict, now=None) -> CaptureOutcome:
    """Store the posted lead and its event, or refuse it; either way log the post.

    A post that fills the honeypot is a bot's: only a "dropped" row is written.
    """
    # The log and the lead's history are the team's to read, not the visitor's who posted.
    with in_team_language():
        return _post_receive(capture=capture, data=data, now=now or timezone.now())


def _post_receive(*, capture: FormCapture, data: dict, now) -> CaptureOutcome:
    names = sorted(str(name) for name in data)[:100]
    if not capture.is_active:
        return _refused(capture, now, names, gettext("capture disabled"))
    if capture.honeypot_field and data.get(capture.honeypot_field) not in (None, "", []):
        post = _log(capture, now, names, CapturePost.Outcome.DROPPED, gettext("dropped: honeypot"))
        return CaptureOutcome(post=post, accepted=False, reason="honeypot")
    mapping = capture.mapping()
    email_name = mapping["email"]
    email = data.get(email_name)
    if email in (None, ""):
        return _refused(
            capture, now, names, gettext("missing e-mail (field '%(name)s')") % {"name": email_name}
        )
    payload, used = {}, {capture.honeypot_field, *IGNORED_FIELDS}
    for lead_field, name in mapping.items():
        used.add(name)
        value = data.get(name)
        if value not in (None, ""):
            payload[lead_field] = value
    if "source" not in payload and capture.default_source:
        payload["source"] = capture.default_source
    attributes = {name: value for name, value in data.items() if name not in used}
    if attributes:
        payload["attributes"] = attributes
    checker = LeadInputSerializer(data=payload)
    if not checker.is_valid():
        return _refused(capture, now, names, _first_error(checker.errors, mapping), email)
    arguments = lead_upsert_arguments(checker.validated_data)
    reason = gettext("Created by the form capture %(name)s") % {"name": capture.name}
    with transaction.atomic():
        lead, _ = lead_upsert(**arguments, now=now, reason=reason)
        events_ingest(
            events=[
                EventInput(
                    email=lead.email,
                    type=capture.event_type,
                    occurred_at=now,
                    properties={"form_capture": capture.name},
                )
            ],
            now=now,
        )
        post = CapturePost.objects.create(
            capture=capture,
            received_at=now,
            outcome=CapturePost.Outcome.ACCEPTED,
            email=lead.email,
            fields=names,
            lead=lead,
        )
    return CaptureOutcome(post=post, accepted=True)


def capture_posts_recent(*, capture: FormCapture, limit: int = 50) -> list[CapturePost]:
    return list(capture.posts.select_related("lead")[:limit])


def _first_error(errors: dict, mapping: dict[str, str]) -> str:
    """The first problem as the form's author knows the field, e.g. "size: A valid integer…"."""
    for field, messages in errors.items():
        message = messages[0] if isinstance(messages, list) else messages
        if isinstance(message, dict):  # attributes: {key: [message]}
            field, message = next(iter(message.items()))
            message = message[0] if isinstance(message, list) else message
        return f"{mapping.get(field, field)}: {message}"[:300]
    return json.dumps(errors)[:300]


def _refused(capture, now, names, reason: str, email: str = "") -> CaptureOutcome:
    post = _log(capture, now, names, CapturePost.Outcome.REFUSED, reason, email)
    return CaptureOutcome(post=post, accepted=False, reason=reason)


def _log(capture, now, names, outcome, reason: str, email: str = "") -> CapturePost:
    return CapturePost.objects.create(
        capture=capture,
        received_at=now,
        outcome=outcome,
        reason=reason[:300],
        email=str(email)[:254],
        fields=names,
    )
