"""The shared cache as a convenience, never a dependency: with Redis away a read is a miss and
a write or delete does nothing, so pages answer from the database instead of failing."""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - any cache failure is a miss
        logger.warning("cache unavailable: reading %s from the database", key)
        return None


def cache_set(key: str, value, timeout=None) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable: %s not stored", key)


def cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:  # noqa: BLE001 - a cache that is down holds nothing stale
        logger.warning("cache unavailable: %s not dropped", key)
