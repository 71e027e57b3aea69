"""Abuse limits and headers: login lockout, API throttling, accepted methods, schema behind a
login, the Content-Security-Policy, and the deploy settings (health check, proxy header)."""

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
import yaml
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from slaportal.security import UserThrottle
from tests.factories import UserFactory
from tests.walk import _routes as resolver_routes

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"


# Login lockout (django-axes) ----------------------------------------------------------------


def _log_in(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_25_wrong_passwords_then_the_right_one_is_refused(client, sales_rep):
    for _ in range(25):
        assert _log_in(client, "rita", "wrong").status_code in (200, 429)
    response = _log_in(client, "rita", "pass")
    assert response.status_code == 429
    assert not _logged_in(client)
    page = response.content.decode()
    assert "Too many failed logins for this account from your address" in page
    assert "Try again in 15 minutes" in page
    # Still the login page, with the username kept.
    assert 'name="username"' in page and 'value="rita"' in page


def test_the_lockout_starts_at_the_limit_and_says_so(client, sales_rep, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _log_in(client, "rita", "wrong")
        assert response.status_code == 200
        assert "Too many failed logins" not in response.content.decode()
    assert _log_in(client, "rita", "wrong").status_code == 429


def test_the_lockout_is_per_username_and_address(client, sales_rep, sales_manager):
    for _ in range(10):
        _log_in(client, "rita", "wrong", address="10.0.0.1")
    # The same person from another address, and another person from the same address, get in.
    assert _log_in(client, "rita", "pass", address="10.0.0.2").status_code == 302
    client.logout()
    assert _log_in(client, "sergio", "pass", address="10.0.0.1").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, sales_rep):
    for _ in range(10):
        _log_in(client, "rita", "wrong")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _log_in(client, "rita", "pass").status_code == 302
    assert _logged_in(client)


def test_an_administrator_can_unlock_a_locked_out_user(client, client_for, sales_rep):
    for _ in range(10):
        _log_in(client, "rita", "wrong")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    attempts = client_for(admin).get("/admin/axes/accessattempt/")
    assert attempts.status_code == 200 and "rita" in attempts.content.decode()

    call_command("axes_reset_username", "rita")

    assert not AccessAttempt.objects.filter(username="rita").exists()
    assert _log_in(client, "rita", "pass").status_code == 302


def test_a_successful_login_clears_the_earlier_failures(client, sales_rep, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, "rita", "wrong")
    assert _log_in(client, "rita", "pass").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, "rita", "wrong")
    assert _log_in(client, "rita", "pass").status_code == 302


# API throttling -------------------------------------------------------------------------------


def _api(token: str | None = None, address: str = "10.0.0.1") -> APIClient:
    api = APIClient(REMOTE_ADDR=address)
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_random_bad_tokens_are_throttled(db, marketing_manager):
    statuses = [_api(secrets.token_hex(20)).get("/api/v1/leads/").status_code for _ in range(60)]
    assert set(statuses) == {401, 429}
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429] * 40
    # Once throttled, even the right token is refused: guessing cannot go on behind the 429.
    good = Token.objects.create(user=marketing_manager).key
    refused = _api(good).get("/api/v1/leads/")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # Another address is not affected, and the address may try again after the window.
    assert _api(good, address="10.0.0.2").get("/api/v1/leads/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert _api(good).get("/api/v1/leads/").status_code == 200


def test_authenticated_token_calls_are_throttled_per_user(db, marketing_manager, monkeypatch):
    monkeypatch.setattr(UserThrottle, "rate", "3/min", raising=False)
    api = _api(Token.objects.create(user=marketing_manager).key)
    statuses = [api.get("/api/v1/leads/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_normal_client_is_not_throttled(db, marketing_manager):
    api = _api(Token.objects.create(user=marketing_manager).key)
    assert {api.get("/api/v1/leads/").status_code for _ in range(70)} == {200}


def test_a_forged_forwarded_for_header_does_not_dodge_the_throttle(db):
    statuses = [
        _api(secrets.token_hex(20))
        .get("/api/v1/leads/", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
        .status_code
        for n in range(25)
    ]
    assert statuses[-1] == 429


# Every view declares its methods ----------------------------------------------------------

READ_PAGES = [
    "/",
    "/sla/",
    "/sla/1/",
    "/sla/1/history/",
    "/sla/1/diff/",
    "/sla/1/versions/1/",
    "/sla/1/versions/1/sla.md",
    "/sla/1/versions/1/sla.pdf",
    "/sla/1/versions/1/parts/goals/rows/goals/new/",
    "/leads/",
    "/leads/queue/",
    "/leads/team/",
    "/leads/notifications/",
    "/leads/1/",
    "/leads/handoffs/1/",
    "/leads/what-if/1/",
    # A fixed id: xdist workers must collect the same test names.
    "/leads/import/00000000-0000-4000-8000-000000000001/",
    "/leads/import/template/leads.csv",
    "/review/",
    "/review/2026-11/",
    "/review/2026-11/leads/mqls/",
    "/review/2026-11/pack.pdf",
    "/review/2026-11/breaches.csv",
    "/healthz",
]


@pytest.fixture
def superuser_client(db, client_for):
    return client_for(UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.mark.parametrize("url", READ_PAGES)
def test_read_pages_answer_post_with_405(superuser_client, url):
    response = superuser_client.post(url)
    assert response.status_code == 405, url
    assert "GET" in response.headers["Allow"]


def test_a_rep_posting_to_the_sla_page_gets_405(client_for, sales_rep, published):
    page = f"/sla/{published.agreement.pk}/versions/{published.pk}/"
    assert client_for(sales_rep).get(page).status_code == 200
    assert client_for(sales_rep).post(page).status_code == 405


SAMPLE_ARGS = {
    "int": "1",
    "str": "2026-11",
    "slug": "x",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "path": "x",
}


def _routes(patterns):
    """Every URL of the resolver as (example path, route), with sample values filled in."""
    for route in resolver_routes(patterns):
        example = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS[m[1] or "str"], route)
        yield "/" + example, route


# Resources the API lets managers delete on purpose.
DELETABLE = {"api/v1/webhook-endpoints/<int:pk>/"}


def test_every_view_refuses_methods_it_does_not_declare(superuser_client):
    """A new view without require_safe / require_POST / require_http_methods (or a class view's
    handlers) answers DELETE like GET, and fails here."""
    routes = list(_routes(get_resolver().url_patterns))
    assert len(routes) > 40
    accepting = [
        route
        for path, route in routes
        if route not in DELETABLE and superuser_client.delete(path).status_code != 405
    ]
    assert accepting == []


# The API schema and docs need a login -------------------------------------------------------


def test_anonymous_visitors_cannot_read_the_schema_or_the_docs(client, db):
    assert client.get("/api/schema/").status_code in (401, 403)
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs.url.startswith(LOGIN)
    assert client.get("/api/docs/?script=").status_code == 302


def test_logged_in_users_and_tokens_read_the_schema_and_the_docs(client_for, viewer):
    client = client_for(viewer)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    token = Token.objects.create(user=viewer).key
    assert _api(token).get("/api/schema/").status_code == 200


# Content-Security-Policy ----------------------------------------------------------------------


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize(
    "url", ["/", "/sla/", "/leads/queue/", "/review/", "/api/docs/", "/admin/"]
)
def test_pages_carry_a_csp_without_unsafe_inline(superuser_client, published, url):
    response = superuser_client.get(url, follow=True)
    assert response.status_code == 200
    directives = _directives(response.headers["Content-Security-Policy"])
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_the_login_page_carries_the_csp(client, db):
    assert "script-src 'self'" in client.get(LOGIN).headers["Content-Security-Policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]*\sstyle\s*=|<style", re.I)


def test_templates_hold_no_inline_script_handler_or_style():
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE):
            offenders += [f"{template.relative_to(ROOT)}: {m[0]}" for m in pattern.finditer(text)]
    assert offenders == []


def test_the_api_docs_page_has_no_inline_script(client_for, viewer):
    page = client_for(viewer).get("/api/docs/").content.decode()
    assert INLINE_SCRIPT.findall(page) == []
    assert "<style" not in page


# Deploy settings ------------------------------------------------------------------------------

PROBE = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")
django.setup()
from io import StringIO
from django.conf import settings
from django.core.management import call_command
from django.test import Client

out = {"proxy_header": bool(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))}
try:
    call_command("check", deploy=True, fail_level="WARNING", stdout=StringIO())
    out["deploy_check"] = "clean"
except Exception as error:
    out["deploy_check"] = str(error)
client = Client()
health = client.get(os.environ["PROBE_PATH"], HTTP_HOST=os.environ["PROBE_HOST"])
out["health"] = [health.status_code, health.content.decode()]
out["bad_host"] = client.get("/api/v1/leads/", HTTP_HOST="evil.example").status_code
proxied = client.get("/api/v1/leads/", HTTP_HOST="sla.example.com", HTTP_X_FORWARDED_PROTO="https")
out["forwarded_https"] = proxied.status_code
out["rates"] = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
print(json.dumps(out))
"""


def _compose_health_check() -> tuple[str, str]:
    """The host and path the web service's health check requests."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    url = re.search(r"https?://([^/'\"]+)(/[^'\"]*)", command)
    return url[1], url[2]


def _production_probe(tmp_path, **extra_env) -> dict:
    host, path = _compose_health_check()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "sla.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "PROBE_HOST": host,
        "PROBE_PATH": path,
        **extra_env,
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_without_a_tls_proxy(tmp_path):
    probe = _production_probe(tmp_path, API_THROTTLE_USER="500/min")
    assert probe["deploy_check"] == "clean"
    # The compose health check gets its answer, with no redirect, though its Host is refused
    # everywhere else.
    assert probe["health"] == [200, '{"status": "ok"}']
    assert probe["bad_host"] == 400
    # No proxy in front: a client's X-Forwarded-Proto is not believed, HTTP is redirected.
    assert probe["proxy_header"] is False
    assert probe["forwarded_https"] == 301
    assert probe["rates"]["user"] == "500/min"


def test_production_settings_behind_a_tls_proxy(tmp_path):
    probe = _production_probe(tmp_path, BEHIND_TLS_PROXY="true")
    assert probe["deploy_check"] == "clean"
    assert probe["health"] == [200, '{"status": "ok"}']
    assert probe["proxy_header"] is True
    # Seen as HTTPS: no redirect, the API answers (it wants a token).
    assert probe["forwarded_https"] == 401


def test_the_health_check_answers_any_host_but_nothing_else_does(client, db, settings):
    settings.ALLOWED_HOSTS = ["sla.example.com"]
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/healthz/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.post("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 400
