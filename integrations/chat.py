"""Alerts in the team's chat: Slack, Microsoft Teams and Google Chat incoming webhooks.

Team-wide channels hear the handoff events (events.CHAT_EVENTS); a rep's own channel hears
the notices that rep gets, if their preferences say chat. Both go through the outbox with a
key per (channel, event), so an outage delays an alert but never loses or doubles it.
"""

import json
from datetime import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from slaportal.language import language_of, workspace_default
from slaportal.models import OutboxMessage

from .delivery import AttemptFailed, _post
from .events import CHAT
from .models import ChatChannel
from .ssrf import url_refusal

__all__ = ["CHAT", "chat_rows", "chat_alerts_deliver", "chat_body", "chat_row_for_notice"]


def _headline(event: dict) -> str:
    data = event["data"]
    lead = data.get("lead") or {}
    who = " ".join(filter(None, [lead.get("first_name"), lead.get("last_name")])) or lead.get(
        "email", ""
    )
    rep = (data.get("handoff") or {}).get("rep") or ""
    texts = {
        "handoff.created": _("New handoff: %(lead)s to %(rep)s"),
        "handoff.at_risk": _("At risk: first touch for %(lead)s (%(rep)s) is almost due"),
        "handoff.breached": _("SLA breached: %(lead)s (%(rep)s) was not touched in time"),
        "handoff.returned": _("Returned to marketing: %(lead)s by %(rep)s"),
    }
    return texts.get(event["type"], event["type"]) % {"lead": who, "rep": rep}


def chat_body(kind: str, text: str, link: str) -> dict:
    """The message each chat's incoming webhook expects."""
    if kind == ChatChannel.Kind.SLACK:
        return {
            "text": f"{text} <{link}|{_('Open the lead')}>",
            "blocks": [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"*{text}*\n<{link}|{_('Open the lead')}>"},
                }
            ],
        }
    if kind == ChatChannel.Kind.TEAMS:
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
                        "actions": [
                            {"type": "Action.OpenUrl", "title": _("Open the lead"), "url": link}
                        ],
                    },
                }
            ],
        }
    return {"text": f"{text}\n<{link}|{_('Open the lead')}>"}  # Google Chat


def _lead_link(lead_id) -> str:
    return f"{settings.SITE_URL}/leads/{lead_id}/" if lead_id else settings.SITE_URL


def chat_rows(event: dict, obj, chats: list[ChatChannel], now: datetime) -> list[OutboxMessage]:
    if not chats:
        return []
    lead_id = (event["data"].get("lead") or {}).get("id")
    rows = []
    for chat in chats:
        language = chat_language(chat)
        # Written in the channel's language: its owner's, or the workspace's for the team's.
        with translation.override(language):
            text = _headline(event)
        rows.append(
            OutboxMessage(
                channel=CHAT,
                key=f"{CHAT}:{chat.pk}:{event['id']}",
                payload={
                    "chat": chat.pk,
                    "text": text,
                    "link": _lead_link(lead_id),
                    "language": language,
                },
                created_at=now,
            )
        )
    return rows


def chat_language(chat: ChatChannel) -> str:
    """A rep's own channel speaks the rep's language; the team's, the workspace default."""
    if chat.owner_id:
        return language_of(chat.owner)
    return workspace_default()


def chat_row_for_notice(chat: ChatChannel, key: str, text: str, lead_id, now) -> OutboxMessage:
    return OutboxMessage(
        channel=CHAT,
        key=f"{CHAT}:{chat.pk}:{key}"[:200],
        payload={"chat": chat.pk, "text": text, "link": _lead_link(lead_id)},
        created_at=now,
    )


def chat_alerts_deliver(messages) -> None:
    for message in messages:
        chat = ChatChannel.objects.filter(pk=message.payload["chat"], active=True).first()
        if chat is None:
            continue
        refusal = url_refusal(chat.url)
        if refusal:
            raise AttemptFailed(refusal)
        language = message.payload.get("language") or chat_language(chat)
        with translation.override(language):
            body = json.dumps(
                chat_body(chat.kind, message.payload["text"], message.payload["link"])
            )
        status, excerpt, _latency = _post(
            chat.url, body, {"Content-Type": "application/json; charset=UTF-8"}
        )
        if not 200 <= status < 300:
            raise AttemptFailed(f"HTTP {status}: {excerpt[:100]}", status_code=status)
