"""The shared cache emptied for this test process alone.

On Redis, cache.clear() is FLUSHDB: it empties the cache of every test process that runs beside
this one (pytest-xdist), and their Celery queues. A test that counts a page's queries with
nothing cached would then make a neighbour's warm page read the SLA in force again, two
queries over its pin. Each process keys its entries apart (KEY_PREFIX, tests/conftest.py), so
deleting the keys under that prefix is the clear a test means.
"""

from django.core.cache import cache


def cache_clear() -> None:
    """Forget what this process cached: on Redis its own keys, in local memory everything."""
    backend = getattr(cache, "_cache", None)
    if not hasattr(backend, "get_client"):
        cache.clear()  # local memory: the cache is this process's already
        return
    client = backend.get_client(write=True)
    # Django writes "<prefix>:<version>:<key>": the colon keeps Celery's keys out of reach.
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
