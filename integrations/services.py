"""Writes of the integrations app: endpoints, their secrets, resends and test events."""

import base64
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_write_many

from .events import WEBHOOK, listeners_forget, message_id
from .models import (
    EVENT_TYPES,
    TEST_EVENT,
    AlertKind,
    ChatChannel,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from .ssrf import url_refusal

ROTATION_GRACE = timedelta(hours=24)


def _listeners_changed() -> None:
    # Now for this transaction's own events, and after the commit for every process's.
    from .preferences import routed_users_forget

    listeners_forget()
    transaction.on_commit(listeners_forget)
    routed_users_forget()


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check(url: str, event_types: list[str]) -> None:
    refusal = url_refusal(url)
    if refusal:
        raise ValidationError({"url": refusal})
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown event types: %(types)s") % {"types": ", ".join(unknown)}}
        )


def endpoint_create(
    *, url: str, description: str = "", event_types: list[str] | None = None, by=None, now=None
) -> WebhookEndpoint:
    """A new active endpoint with a fresh secret (its only showing is the caller's)."""
    now = now or timezone.now()
    event_types = list(event_types or [])
    _check(url, event_types)
    _listeners_changed()
    return WebhookEndpoint.objects.create(
        url=url,
        description=description,
        event_types=event_types,
        secret=secret_new(),
        created_by=by,
        created_at=now,
        updated_at=now,
    )


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    description: str = "",
    event_types: list[str] | None = None,
    active: bool | None = None,
    now=None,
) -> WebhookEndpoint:
    now = now or timezone.now()
    event_types = list(event_types or [])
    _check(url, event_types)
    endpoint.url, endpoint.description, endpoint.event_types = url, description, event_types
    if active is True and endpoint.status != WebhookEndpoint.Status.ACTIVE:
        endpoint.status, endpoint.status_reason, endpoint.consecutive_failures = "active", "", 0
    elif active is False and endpoint.status == WebhookEndpoint.Status.ACTIVE:
        endpoint.status = WebhookEndpoint.Status.PAUSED
        endpoint.status_reason = _("Paused by hand.")
    endpoint.updated_at = now
    endpoint.save()
    _listeners_changed()
    return endpoint


def endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool, by=None, now=None) -> None:
    endpoint_update(
        endpoint=endpoint,
        url=endpoint.url,
        description=endpoint.description,
        event_types=endpoint.event_types,
        active=active,
        now=now,
    )


def endpoint_rotate(*, endpoint: WebhookEndpoint, now=None) -> str:
    """A new secret; deliveries are signed with the old one too for 24 hours."""
    now = now or timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_GRACE
    endpoint.secret = secret_new()
    endpoint.updated_at = now
    endpoint.save()
    return endpoint.secret


def endpoint_pause_after_failures(*, endpoint: WebhookEndpoint, now=None) -> None:
    from leads.services.notifications import Notice, notify_many

    from .selectors import managers

    now = now or timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        status=WebhookEndpoint.Status.PAUSED,
        status_reason=_("Paused after %(n)s failed deliveries in a row.")
        % {"n": endpoint.consecutive_failures},
        updated_at=now,
    )
    _listeners_changed()
    message = _("Webhook endpoint %(url)s paused after %(n)s failed deliveries in a row.") % {
        "url": endpoint.url,
        "n": endpoint.consecutive_failures,
    }
    notify_many(
        [
            Notice(user=user, key=f"webhook-paused:{endpoint.pk}:{now:%Y%m%d%H%M}", message=message)
            for user in managers()
        ],
        now=now,
    )


def _write(endpoint: WebhookEndpoint, event: dict, key: str) -> None:
    outbox_write_many(
        [
            OutboxMessage(
                channel=WEBHOOK,
                key=key,
                payload={"endpoint": endpoint.pk, "event": event},
                created_at=timezone.now(),
            )
        ]
    )


def webhook_resend(*, delivery: WebhookDelivery) -> None:
    """Send a logged event again, with its own id: receivers that kept it can drop it."""
    key = f"{WEBHOOK}:{delivery.endpoint_id}:{delivery.message_id}:resend:{message_id()}"
    _write(delivery.endpoint, delivery.event, key)


def webhook_test_send(*, endpoint: WebhookEndpoint, now=None) -> str:
    now = now or timezone.now()
    event = {
        "id": message_id(),
        "type": TEST_EVENT,
        "timestamp": now.isoformat(),
        "data": {"endpoint": endpoint.pk, "message": "Test event from SLA Portal"},
    }
    _write(endpoint, event, f"{WEBHOOK}:{endpoint.pk}:{event['id']}")
    return event["id"]


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
    _listeners_changed()


def chat_channel_create(*, kind: str, url: str, owner=None, now=None) -> ChatChannel:
    refusal = url_refusal(url)
    if refusal:
        raise ValidationError({"url": refusal})
    _listeners_changed()
    return ChatChannel.objects.create(
        kind=kind, url=url, owner=owner, created_at=now or timezone.now()
    )


def chat_channel_delete(*, channel: ChatChannel) -> None:
    channel.delete()
    _listeners_changed()


def preferences_save(*, user, choices: dict[str, dict[str, bool]]) -> None:
    """`choices` maps an AlertKind to {"in_app": …, "email": …, "chat": …}."""
    from .preferences import routed_users_forget

    routed_users_forget()
    with transaction.atomic():
        for kind, channels in choices.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=AlertKind(kind), defaults=channels
            )
