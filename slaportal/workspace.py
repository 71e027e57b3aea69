"""The workspace's shared settings (slaportal.models.Workspace), read through the cache.

Every page reads the currency or the default language, so the row is cached; saving it through
`workspace_update` replaces the cached copy for every process that shares the cache.
"""

from django.db import transaction

from .cache_tolerant import cache_delete, cache_get, cache_set
from .models import Workspace

CACHE_KEY = "workspace:settings:v1"


def workspace() -> Workspace:
    """The one row, made with the defaults on first use. With the cache down (Redis away)
    the row is read from the database: a page must not fail for want of a cache."""
    cached = cache_get(CACHE_KEY)
    if cached is not None:
        return cached
    row = Workspace.objects.order_by("pk").first() or Workspace.objects.create()
    cache_set(CACHE_KEY, row)
    return row


def workspace_update(**fields) -> Workspace:
    """Saves the settings; the cache is refreshed once the change commits."""
    row = Workspace.objects.order_by("pk").first() or Workspace()
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    transaction.on_commit(lambda: cache_delete(CACHE_KEY))
    cache_delete(CACHE_KEY)
    return row


def workspace_currency() -> str:
    return workspace().currency


def workspace_language() -> str:
    return workspace().default_language
