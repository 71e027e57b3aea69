"""The outbox: write notices with the change that causes them; deliver them after commit.

A service writes `outbox_write(...)` inside its transaction. `outbox_deliver` (the Celery task
`slaportal.tasks.deliver_outbox`, enqueued on commit and run by beat as a safety net) claims
pending rows with `SKIP LOCKED`, so several workers never deliver the same row, and retries a
failure with exponential backoff and jitter until it gives up and marks the row dead.

Each channel says whether its delivery is transactional:
- transactional (in-app notices): the delivery writes rows in the same transaction that marks
  the message sent, so it happens exactly once; these are delivered in batches.
- external (e-mail, chat, webhooks): the send happens while the message's row is locked and the
  row is marked sent right after, one message per transaction. A worker killed between the
  send and the commit sends it again (at least once), with the same key, which the e-mail
  carries as its Message-ID so receivers can drop the copy.
"""

import hashlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .emails import email_build
from .models import OutboxMessage
from .queue import enqueue

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # about a day of retries with the backoff below
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
BATCH = 200


@dataclass(frozen=True)
class Channel:
    deliver: Callable[[Sequence[OutboxMessage]], None]
    transactional: bool
    # Runs after a failed delivery's own work rolled back, in the claim's transaction: for a
    # channel that keeps a log of failed attempts (webhooks).
    on_failure: Callable[[Sequence[OutboxMessage], Exception], None] | None = None


_CHANNELS: dict[str, Channel] = {}


def channel_register(name: str, *, deliver, transactional: bool, on_failure=None) -> None:
    """Called from an app's ready(): the app that owns a channel delivers it."""
    _CHANNELS[name] = Channel(deliver=deliver, transactional=transactional, on_failure=on_failure)


def outbox_write(*, channel: str, key: str, payload: dict, now: datetime | None = None) -> bool:
    """Store a notice for delivery once the caller's transaction commits.

    Returns False when a notice with this key was already written (it is not written twice).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            OutboxMessage.objects.create(
                channel=channel,
                key=key,
                payload=payload,
                available_at=timezone.now(),
                created_at=now,
            )
    except IntegrityError:
        return False
    enqueue("slaportal.tasks.deliver_outbox")
    return True


def outbox_write_many(messages: list[OutboxMessage]) -> None:
    """Store many notices in one statement; a key already written is skipped, not doubled.

    For jobs that tell many people at once (a breach run): one INSERT instead of one per row.
    """
    if not messages:
        return
    moment = timezone.now()
    for message in messages:
        message.available_at = moment
    OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True, batch_size=1000)
    enqueue("slaportal.tasks.deliver_outbox")


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped: 30 s, 1 min, 2 min … 6 h."""
    ceiling = min(BASE_DELAY * 2 ** (attempts - 1), MAX_DELAY)
    return timedelta(seconds=random.uniform(ceiling.total_seconds() / 2, ceiling.total_seconds()))


def _failed(message: OutboxMessage, error: Exception, now: datetime) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxMessage.Status.DEAD
        logger.error("Outbox: gave up on %s after %s attempts", message.key, message.attempts)
    else:
        message.available_at = now + retry_delay(message.attempts)
        logger.warning("Outbox: %s failed (%s); retrying", message.key, message.last_error)


def _claim(*, channels: list[str], limit: int, now: datetime) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(status=OutboxMessage.Status.PENDING, available_at__lte=now, channel__in=channels)
        .order_by("available_at", "id")[:limit]
    )


def _deliver_batch(messages: list[OutboxMessage], now: datetime) -> int:
    """Deliver claimed messages of one or more channels; returns how many were sent."""
    sent = 0
    by_channel: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        by_channel.setdefault(message.channel, []).append(message)
    for name, group in by_channel.items():
        channel = _CHANNELS.get(name)
        try:
            if channel is None:
                raise LookupError(f"no delivery registered for channel {name!r}")
            with transaction.atomic():
                channel.deliver(group)
        except Exception as error:  # noqa: BLE001 - a failed delivery is retried, not raised
            for message in group:
                _failed(message, error, now)
            if channel is not None and channel.on_failure is not None:
                channel.on_failure(group, error)
        else:
            for message in group:
                message.status = OutboxMessage.Status.SENT
                message.sent_at = now
            sent += len(group)
    OutboxMessage.objects.bulk_update(
        messages, ["status", "sent_at", "attempts", "last_error", "available_at"]
    )
    return sent


def outbox_deliver(*, limit: int = 5000, now: datetime | None = None) -> int:
    """Deliver what is due, up to `limit` messages; returns how many were sent."""
    sent = handled = 0
    transactional = [name for name, channel in _CHANNELS.items() if channel.transactional]
    external = [name for name, channel in _CHANNELS.items() if not channel.transactional]
    for channels, batch in ((transactional, BATCH), (external, 1)):
        while channels and handled < limit:
            moment = now or timezone.now()
            with transaction.atomic():
                claimed = _claim(channels=channels, limit=min(batch, limit - handled), now=moment)
                if not claimed:
                    break
                sent += _deliver_batch(claimed, moment)
            handled += len(claimed)
    return sent


def outbox_pending_count() -> int:
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()


# E-mail ------------------------------------------------------------------------------------


def email_message_id(key: str) -> str:
    """The same notice always carries the same Message-ID, so a resend can be recognised."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@slaportal>"


# Attachments are named in the payload, not stored in it: {"kind": ..., **arguments}. The app
# that owns the kind renders the file at send time (a review pack is a PDF of a few hundred
# kilobytes, too big for an outbox row), returning (filename, content, MIME type).
_ATTACHMENTS: dict[str, Callable[..., tuple[str, bytes, str]]] = {}


def attachment_register(kind: str, *, render) -> None:
    """Called from an app's ready(): the app that owns an attachment kind renders it."""
    _ATTACHMENTS[kind] = render


def emails_deliver(messages: Sequence[OutboxMessage]) -> None:
    for message in messages:
        payload = message.payload
        email = email_build(
            subject=payload["subject"],
            body=payload["body"],
            to=payload["to"],
            headers={"Message-ID": email_message_id(message.key)},
        )
        for attachment in payload.get("attachments", []):
            arguments = dict(attachment)
            email.attach(*_ATTACHMENTS[arguments.pop("kind")](**arguments))
        email.send(fail_silently=False)
