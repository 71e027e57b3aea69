"""tests.cache.cache_clear empties this test process's cache and no one else's."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

from tests.cache import cache_clear

on_redis = pytest.mark.skipif(
    not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"),
    reason="a local-memory cache belongs to its process already",
)


@on_redis
def test_clearing_leaves_a_neighbouring_processs_keys_alone():
    neighbour = RedisCache(
        settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": f"{cache.key_prefix}-neighbour"}
    )
    neighbour.set("sla:in-force:v1", "theirs", 60)
    cache.set("sla:in-force:v1", "ours", 60)
    try:
        cache_clear()
        assert cache.get("sla:in-force:v1") is None
        assert neighbour.get("sla:in-force:v1") == "theirs"
    finally:
        neighbour.delete("sla:in-force:v1")


def test_clearing_forgets_what_this_process_cached():
    cache.set("a-key", 1, 60)
    cache_clear()
    assert cache.get("a-key") is None
