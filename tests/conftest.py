"""Shared fixtures: one user per role, an agreement built through the services, clients."""

import os

import pytest
from django.core.cache import caches
from django.test import Client

from agreements import services
from agreements.selectors import published_memo_clear
from integrations.events import LISTENERS_KEY
from integrations.preferences import ROUTED_KEY
from leads.services.ingestion import SCORING_QUEUED_KEY
from slaportal.clock import IN_FORCE_KEY
from slaportal.roles import Role
from slaportal.workspace import CACHE_KEY as WORKSPACE_KEY
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttles_and_cache():
    """Each test starts with no API throttle counts and, on the local-memory cache, an empty
    cache: the locmem cache lives as long as the test process, so without this, failed logins
    and bad tokens of one test would throttle the next. Redis is left alone (flushing it would
    also empty the Celery queues); the throttle alias is always local memory in tests."""
    from django.conf import settings

    caches["throttle"].clear()
    # Rendered fragments (the nav, the review's figures) name the rows they show by id.
    caches["template_fragments"].clear()
    # Test databases roll back and reuse ids: forget rules read from published versions, and
    # what the shared cache remembers of rows (listening endpoints, routed users) or of queued
    # work (a scoring run already asked for), and the version in force (a rolled-back publish
    # never reaches the on_commit that would drop it).
    published_memo_clear()
    caches["default"].delete_many(
        [IN_FORCE_KEY, LISTENERS_KEY, ROUTED_KEY, SCORING_QUEUED_KEY, WORKSPACE_KEY]
    )
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        caches["default"].clear()


@pytest.fixture
def marketing_manager(db):
    return UserFactory(username="marina", first_name="Marina", role=Role.MARKETING_MANAGER)


@pytest.fixture
def sales_manager(db):
    return UserFactory(username="sergio", first_name="Sergio", role=Role.SALES_MANAGER)


@pytest.fixture
def sales_rep(db):
    return UserFactory(username="rita", first_name="Rita", role=Role.SALES_REP)


@pytest.fixture
def viewer(db):
    return UserFactory(username="vera", first_name="Vera", role=Role.VIEWER)


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="nobody")


@pytest.fixture
def agreement(marketing_manager, sales_manager):
    return services.agreement_create(
        name="Acme SLA",
        marketing_manager=marketing_manager,
        sales_manager=sales_manager,
        by=marketing_manager,
    )


@pytest.fixture
def draft(agreement):
    return agreement.versions.get()


@pytest.fixture
def published(agreement, draft, marketing_manager, sales_manager):
    """Version 1 in force, published through submit and both approvals."""
    services.version_submit(version=draft, by=marketing_manager, change_note="First version")
    services.version_approve(version=draft, by=marketing_manager, side="marketing")
    services.version_approve(version=draft, by=sales_manager, side="sales")
    draft.refresh_from_db()
    return draft


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def pytest_configure(config):
    from django.conf import settings

    # Test processes run side by side on one Redis (pytest-xdist): each keys the shared cache
    # apart, so one process's cached rows or "already queued" flags never reach another's
    # database. (The fault suite runs in one process beside real workers: no prefix there.)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        settings.CACHES["default"]["KEY_PREFIX"] = f"test-{worker}-{os.getpid()}"
    # Hashing test passwords with PBKDF2 would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # API throttle counters in a cache of the test process's own, emptied before every test.
    settings.CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "test-throttle",
    }
    # Tasks that tests enqueue must not pile up in the development broker's folders.
    if not settings.REDIS_URL:
        settings.CELERY_BROKER_URL = "memory://"
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
