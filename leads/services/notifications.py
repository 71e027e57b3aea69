"""Notices to people: written to the outbox with the change that causes them.

`notify` never sends anything itself; the outbox delivers the in-app notice (a Notification
row) and the e-mail after the caller's transaction commits, each exactly once per key.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_write

from ..models import Lead, Notification

IN_APP = "in_app"
EMAIL = "email"
User = get_user_model()


def notify(
    *, user, key: str, message: str, lead: Lead | None = None, email: bool = False, now=None
) -> bool:
    """Tell a user once about one event; returns False when they had already been told.

    `key` names the event (e.g. "breach:42"); the same key for the same user is stored once.
    """
    now = now or timezone.now()
    written = outbox_write(
        channel=IN_APP,
        key=f"{IN_APP}:{user.pk}:{key}",
        payload={
            "user": user.pk,
            "key": key,
            "message": message,
            "lead": lead.pk if lead else None,
            "at": now.isoformat(),
        },
        now=now,
    )
    if written and email and user.email:
        url = f"{settings.SITE_URL}{lead.get_absolute_url()}" if lead else settings.SITE_URL
        outbox_write(
            channel=EMAIL,
            key=f"{EMAIL}:{user.pk}:{key}",
            payload={
                "to": [user.email],
                "subject": f"[SLA Portal] {message}",
                "body": f"{message}\n\n{url}",
            },
            now=now,
        )
    return written


def notices_deliver(messages: list[OutboxMessage]) -> None:
    """The in-app channel: one Notification per (user, key), in the outbox's transaction."""
    # A lead merged or removed since the notice was written: keep the notice, drop the link.
    leads = set(
        Lead.objects.filter(
            pk__in={message.payload["lead"] for message in messages} - {None}
        ).values_list("pk", flat=True)
    )
    users = set(
        User.objects.filter(pk__in={message.payload["user"] for message in messages}).values_list(
            "pk", flat=True
        )
    )
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=message.payload["user"],
                key=message.payload["key"][:80],
                message=message.payload["message"][:300],
                lead_id=message.payload["lead"] if message.payload["lead"] in leads else None,
                created_at=datetime.fromisoformat(message.payload["at"]),
            )
            for message in messages
            if message.payload["user"] in users
        ],
        ignore_conflicts=True,
    )


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
