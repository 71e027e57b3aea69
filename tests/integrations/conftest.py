"""A real local receiver (pytest-httpserver) and the lead-engine fixtures, with 127.0.0.1
allowed as a webhook host (the SSRF guard refuses loopback otherwise)."""

import pytest

from tests.leads.conftest import *  # noqa: F403 - the lead engine's fixtures (sla, hand_off…)


@pytest.fixture(autouse=True)
def _allow_local_receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def received(httpserver):
    """Every request the receiver got, as (headers, body)."""
    calls: list[tuple[dict, bytes]] = []

    def record(request):
        from werkzeug import Response

        calls.append((dict(request.headers), request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(record)
    return calls


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture(autouse=True)
def _forget_cached_listeners():
    """On Redis the cache outlives each test's rolled-back rows: start from the database."""
    from django.core.cache import cache

    from integrations.events import listeners_forget
    from integrations.preferences import ROUTED_KEY

    listeners_forget()
    cache.delete(ROUTED_KEY)
