"""Each person's notification preferences, applied where notices fan out.

`leads.services.notifications` passes the rows it is about to write through `notices_route`:
the in-app and e-mail rows a person turned off for that kind are dropped, and a chat row is
added for each of the person's own chat channels when they want that kind in chat. One query
for the whole batch; none when the batch is empty.
"""

from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import BooleanField, CharField, F, Value

from slaportal.models import OutboxMessage

from .chat import chat_row_for_notice
from .models import AlertKind, ChatChannel, NotificationPreference

# The notice keys the lead services write, by kind (leads.services.handoffs).
KIND_BY_PREFIX = {
    "handoff": AlertKind.NEW_HANDOFF,
    "at-risk": AlertKind.AT_RISK,
    "breach": AlertKind.BREACHED,
    "returned": AlertKind.RETURNED,
}


def notice_kind(key: str) -> str:
    return KIND_BY_PREFIX.get(key.split(":", 1)[0], AlertKind.OTHER)


def _split(row: OutboxMessage) -> tuple[int, str]:
    """(user id, the notice's own key) from `<channel>:<user>:<key>`."""
    _channel, user, key = row.key.split(":", 2)
    return int(user), key


ROUTED_KEY = "integrations:routed-users"
ROUTED_TTL = 300  # seconds; a change made outside the services is seen within this


def routed_users() -> frozenset[int]:
    """Who has a preference or a chat channel of their own, cached: everyone else gets the
    defaults with no query."""
    users = cache.get(ROUTED_KEY)
    if users is None:
        users = frozenset(
            NotificationPreference.objects.order_by()
            .values_list("user_id", flat=True)
            .union(
                ChatChannel.objects.filter(owner__isnull=False)
                .order_by()
                .values_list("owner_id", flat=True)
            )
        )
        cache.set(ROUTED_KEY, users, ROUTED_TTL)
    return users


def routed_users_forget() -> None:
    cache.delete(ROUTED_KEY)
    transaction.on_commit(lambda: cache.delete(ROUTED_KEY))


def notices_route(rows: list[OutboxMessage], *, now: datetime) -> list[OutboxMessage]:
    if not rows:
        return rows
    users = {_split(row)[0] for row in rows} & routed_users()
    if not users:
        return rows
    prefs = (
        NotificationPreference.objects.filter(user_id__in=users)
        .annotate(source=Value("p"), url=Value("", output_field=CharField()))
        .values_list("source", "user_id", "kind", "in_app", "email", "chat", "pk")
        .order_by()
    )
    chats = (
        ChatChannel.objects.filter(owner_id__in=users, active=True)
        .annotate(
            source=Value("c"),
            yes=Value(True, output_field=BooleanField()),
            kind_=F("kind"),
        )
        .values_list("source", "owner_id", "kind_", "yes", "yes", "yes", "pk")
        .order_by()
    )
    wants: dict[tuple[int, str], dict[str, bool]] = {}
    own_chats: dict[int, list[ChatChannel]] = {}
    for source, user, kind, in_app, email, chat, pk in prefs.union(chats, all=True):
        if source == "p":
            wants[(user, kind)] = {"in_app": in_app, "email": email, "chat": chat}
        else:
            own_chats.setdefault(user, []).append(ChatChannel(pk=pk, kind=kind, owner_id=user))
    if not wants and not own_chats:
        return rows
    routed = []
    for row in rows:
        user, key = _split(row)
        choice = wants.get((user, notice_kind(key)), {})
        channel = "in_app" if row.channel == "in_app" else "email"
        if choice.get(channel, True):
            routed.append(row)
        if row.channel == "in_app" and choice.get("chat", True):
            routed.extend(
                chat_row_for_notice(
                    chat, f"{user}:{key}", row.payload["message"], row.payload.get("lead"), now
                )
                for chat in own_chats.get(user, [])
            )
    return routed
