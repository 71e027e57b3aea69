"""Notices to people: written to the outbox with the change that causes them.

`notify` never sends anything itself; the outbox delivers the in-app notice (a Notification
row) and the e-mail after the caller's transaction commits, each exactly once per key.

A notice's text is stored as it is written, so it is written in its reader's language: build
it inside `written_for(user)` (or `written_for(user, languages)` with `languages_of(users)`
read once for a batch), never in the language of whoever caused it.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext

from slaportal.events import notices_route
from slaportal.language import supported, workspace_default
from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_write, outbox_write_many

from ..models import Lead, Notification

IN_APP = "in_app"
EMAIL = "email"
User = get_user_model()


def languages_of(users) -> dict[int, str]:
    """The language each person is written to in (slaportal.language.language_of), for a
    batch of people in one query, plus the workspace's default once when someone chose none."""
    from people.models import Preferences

    ids = {user.pk for user in users if user is not None}
    chosen = dict(Preferences.objects.filter(user_id__in=ids).values_list("user_id", "language"))
    languages, default = {}, None
    for pk in ids:
        language = supported(chosen.get(pk))
        if language is None:
            default = default or workspace_default()
            language = default
        languages[pk] = language
    return languages


@contextlib.contextmanager
def written_for(user, languages: dict[int, str] | None = None):
    """Words (gettext, dates, numbers) in `user`'s language inside the block."""
    if languages is None or user.pk not in languages:
        languages = languages_of([user])
    with translation.override(languages[user.pk]):
        yield


def notify(
    *,
    user,
    key: str,
    message: str,
    lead: Lead | None = None,
    email: bool = False,
    now=None,
    url: str = "",
) -> bool:
    """Tell a user once about one event; returns False when they had already been told.

    `key` names the event (e.g. "breach:42"); the same key for the same user is stored once.
    `url` (a path) is the e-mail's link when the notice is not about a lead.
    """
    now = now or timezone.now()
    payload = _in_app_payload(user, key, message, lead, now)
    rows = [OutboxMessage(channel=IN_APP, key=f"{IN_APP}:{user.pk}:{key}", payload=payload)]
    if email and user.email:
        with written_for(user):
            payload = _email_payload(user, message, lead, path=url)
        rows.append(OutboxMessage(channel=EMAIL, key=f"{EMAIL}:{user.pk}:{key}", payload=payload))
    # The person's preferences drop channels they turned off and may add their own chat.
    for row in notices_route(rows, now=now):
        written = outbox_write(channel=row.channel, key=row.key, payload=row.payload, now=now)
        if row.channel == IN_APP and not written:
            return False  # told already: not again by e-mail or chat
    return True


@dataclass(frozen=True)
class Notice:
    user: object
    key: str
    message: str
    lead: Lead | None = None
    email: bool = False


def notify_many(notices: list[Notice], *, now: datetime | None = None) -> None:
    """`notify` for many notices at once, in one INSERT: for jobs whose claim already makes
    each event new (a breach run), so the e-mail need not wait to see the in-app row land."""
    now = now or timezone.now()
    rows = []
    links: dict[int, str] = {}  # a lead's link is reversed once, not once per person told
    emailed = [notice.user for notice in notices if notice.email and notice.user.email]
    languages = languages_of(emailed) if emailed else {}
    for notice in notices:
        rows.append(
            OutboxMessage(
                channel=IN_APP,
                key=f"{IN_APP}:{notice.user.pk}:{notice.key}",
                payload=_in_app_payload(notice.user, notice.key, notice.message, notice.lead, now),
                created_at=now,
            )
        )
        if notice.email and notice.user.email:
            with written_for(notice.user, languages):
                payload = _email_payload(notice.user, notice.message, notice.lead, links)
            rows.append(
                OutboxMessage(
                    channel=EMAIL,
                    key=f"{EMAIL}:{notice.user.pk}:{notice.key}",
                    payload=payload,
                    created_at=now,
                )
            )
    outbox_write_many(notices_route(rows, now=now))


def _in_app_payload(user, key: str, message: str, lead: Lead | None, now: datetime) -> dict:
    return {
        "user": user.pk,
        "key": key,
        "message": message,
        "lead": lead.pk if lead else None,
        "at": now.isoformat(),
    }


def _email_payload(
    user, message: str, lead: Lead | None, links: dict | None = None, path: str = ""
) -> dict:
    url = f"{settings.SITE_URL}{path}"
    if lead is not None:
        links = {} if links is None else links
        if lead.pk not in links:
            links[lead.pk] = lead.get_absolute_url()
        url = f"{settings.SITE_URL}{links[lead.pk]}"
    # In the reader's language (the caller's written_for): the subject's prefix and the link.
    subject = gettext("[SLA Portal] %(message)s") % {"message": message}
    body = gettext("%(message)s\n\nOpen it in the SLA Portal: %(url)s") % {
        "message": message,
        "url": url,
    }
    return {"to": [user.email], "subject": subject, "body": body}


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
