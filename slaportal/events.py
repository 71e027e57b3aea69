"""Domain events, written to the outbox with the change that causes them.

The lead engine and the SLA services say what happened ("handoff.created", these rows); who
hears about it is not their business. The app that delivers events (integrations: webhooks
and chat) registers the writer and the notice router at start-up, so the other apps depend
only on this module and never import it (DESIGN.md, Integrations). With no writer
registered, emitting does nothing.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

_writer: Callable[..., int] | None = None
_router: Callable[..., list] | None = None


def events_writer_register(writer: Callable[..., int]) -> None:
    """`writer(event_type, objects, now=...)` writes one outbox row per event and listener."""
    global _writer
    _writer = writer


def notices_router_register(router: Callable[..., list]) -> None:
    """`router(rows, now=...)` applies people's notification preferences to notice rows."""
    global _router
    _router = router


def events_emit_many(
    event_type: str, objects: Iterable | Callable[[], Iterable], *, now: datetime | None = None
) -> int:
    """Emit one event per object (rows, ids, or a callable read only when someone listens);
    returns how many were emitted."""
    if _writer is None:
        return 0
    return _writer(event_type, objects, now=now)


def event_emit(event_type: str, obj, *, now: datetime | None = None) -> int:
    return events_emit_many(event_type, [obj], now=now)


def notices_route(rows: list, *, now: datetime) -> list:
    """The outbox rows of people's notices, after their preferences (as they are without)."""
    return rows if _router is None else _router(rows, now=now)
