"""Events for webhook endpoints and team chat: written to the outbox with the change.

The services of the other apps call `event_emit` (one object) or `events_emit_many` (a
set-based job) inside their transaction. Each event is one outbox row per subscribed
endpoint, so a crash delays it but never loses it, and its stable id (`msg_…`) is the
`webhook-id` receivers dedupe on. With no active endpoint and no chat channel, emitting
costs one small query and serialises nothing.
"""

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from django.core.cache import cache
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_write_many

from .models import EVENT_TYPES, ChatChannel, WebhookEndpoint

WEBHOOK = "webhook"
CHAT = "chat"
# The handoff events the team's chat hears about.
LISTENERS_KEY = "integrations:listeners"
LISTENERS_TTL = 300  # seconds; a change made outside the services is seen within this
CHAT_EVENTS = ("handoff.created", "handoff.at_risk", "handoff.breached", "handoff.returned")


def message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _plain(data) -> dict:
    # Through the API's own renderer: dates, decimals and enums exactly as the API shows them.
    return json.loads(JSONRenderer().render(data))


def event_data(event_type: str, obj) -> dict:
    """The object as the API shows it."""
    from leads.api.serializers import HandoffSerializer, LeadSerializer

    family = event_type.split(".", 1)[0]
    if family == "handoff":
        return _plain(
            {
                "handoff": HandoffSerializer(obj).data,
                "lead": LeadSerializer(obj.lead).data,
            }
        )
    if family in ("lead", "nurture"):
        lead = getattr(obj, "lead", obj)
        data = {"lead": LeadSerializer(lead).data}
        if family == "nurture":
            data["track"] = str(getattr(obj, "track", "") or "")
        return _plain(data)
    if family == "sla":
        return _plain(
            {
                "version": {
                    "id": obj.pk,
                    "agreement": obj.agreement_id,
                    "number": getattr(obj, "number", None),
                    "published_at": getattr(obj, "published_at", None),
                }
            }
        )
    return _plain({"object": str(obj)})


def _load(event_type: str, ids: list[int]) -> list:
    """The objects of a set-based job, in one query: jobs pass ids, not rows (lead ids for
    nurture enrolments)."""
    from leads.models import Handoff, Lead, NurtureEnrollment

    if event_type.startswith("handoff."):
        rows = Handoff.objects.filter(pk__in=ids).select_related("rep", "lead__owner")
    elif event_type == "nurture.enrolled":  # ids of leads: their open enrolment
        rows = NurtureEnrollment.objects.filter(
            lead_id__in=ids, completed_at__isnull=True
        ).select_related("lead__owner", "track")
    else:
        rows = Lead.objects.filter(pk__in=ids).select_related("owner")
    return sorted(rows, key=lambda row: row.pk)


def _listeners() -> list[tuple[str, int, str]]:
    """Active endpoints and team chat channels as (source, pk, extra), cached: most changes
    happen with nobody listening, and then emitting must cost no query at all. Every service
    that changes an endpoint or a channel forgets the cache (`listeners_forget`)."""
    rows = cache.get(LISTENERS_KEY)
    if rows is None:
        endpoints = (
            WebhookEndpoint.objects.filter(status=WebhookEndpoint.Status.ACTIVE)
            .annotate(source=Value("w"), extra=Cast("event_types", CharField()))
            .values_list("source", "pk", "extra")
            .order_by()
        )
        chats = (
            ChatChannel.objects.filter(active=True, owner__isnull=True)
            .annotate(source=Value("c"), extra=F("kind"))
            .values_list("source", "pk", "extra")
            .order_by()
        )
        rows = list(endpoints.union(chats, all=True))
        cache.set(LISTENERS_KEY, rows, LISTENERS_TTL)
    return rows


def listeners_forget() -> None:
    cache.delete(LISTENERS_KEY)


def _targets(event_type: str) -> tuple[list[int], list[ChatChannel]]:
    hooks, channels = [], []
    for source, pk, extra in _listeners():
        if source == "c":
            if event_type in CHAT_EVENTS:
                channels.append(ChatChannel(pk=pk, kind=extra))
        elif not json.loads(extra or "[]") or event_type in json.loads(extra):
            hooks.append(pk)
    return hooks, channels


def events_emit_many(
    event_type: str, objects: Iterable | Callable[[], Iterable], *, now: datetime | None = None
) -> int:
    """Emit one event per object in one INSERT. `objects` may be rows, ids (a set-based job:
    the rows are read in one query) or a callable, read only when someone listens. Returns how
    many events were emitted."""
    assert event_type in EVENT_TYPES, event_type
    now = now or timezone.now()
    endpoints, chats = _targets(event_type)
    if not endpoints and not chats:
        return 0
    from .chat import chat_rows

    rows = []
    count = 0
    items = list(objects() if callable(objects) else objects)
    if items and isinstance(items[0], int):
        items = _load(event_type, items)
    for obj in items:
        event = {
            "id": message_id(),
            "type": event_type,
            "timestamp": now.isoformat(),
            "data": event_data(event_type, obj),
        }
        count += 1
        rows.extend(
            OutboxMessage(
                channel=WEBHOOK,
                key=f"{WEBHOOK}:{endpoint}:{event['id']}",
                payload={"endpoint": endpoint, "event": event},
                created_at=now,
            )
            for endpoint in endpoints
        )
        rows.extend(chat_rows(event, obj, chats, now))
    outbox_write_many(rows)
    return count


def event_emit(event_type: str, obj, *, now: datetime | None = None) -> int:
    return events_emit_many(event_type, [obj], now=now)
