"""Who else has a draft open: a heartbeat into the shared cache with a short time to live.

Each open draft page posts a heartbeat every 15 seconds; a person counts as present for 45.
The map per version is read and rewritten whole: two heartbeats at the same instant may drop
one of them, which the next heartbeat repairs (presence is a hint, not a record).
"""

import time

from django.core.cache import cache

TTL_SECONDS = 45


def _key(version_pk: int) -> str:
    return f"discussions:presence:{version_pk}"


def presence_beat(*, version_pk: int, user, part: str = "") -> list[dict]:
    """Record the user as here; the others here now (name, part), oldest first."""
    now = time.time()
    here = {
        uid: entry
        for uid, entry in (cache.get(_key(version_pk)) or {}).items()
        if now - entry["at"] < TTL_SECONDS
    }
    here[str(user.pk)] = {"name": user.get_full_name() or user.username, "part": part, "at": now}
    cache.set(_key(version_pk), here, TTL_SECONDS)
    return [
        entry
        for uid, entry in sorted(here.items(), key=lambda i: i[1]["at"])
        if uid != str(user.pk)
    ]
