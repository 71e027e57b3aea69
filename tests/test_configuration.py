"""The promises of the configuration: deploy checks pass, and the real services are used."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

ROOT = Path(__file__).resolve().parent.parent


def test_deploy_check_passes_with_debug_off_a_strong_key_and_allowed_hosts():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "sla.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("hour", [0, 10, 23])
def test_no_field_default_trips_the_fixed_time_check_at_any_hour(hour):
    """Django warns of a fixed date or time default when the check runs within seconds of it
    (fields.W161); `check --deploy --fail-level WARNING` then failed at 10:00:00, the review
    meeting's default time."""
    from datetime import UTC, datetime

    import time_machine
    from django.apps import apps

    with time_machine.travel(datetime(2026, 12, 3, hour, 0, 0, tzinfo=UTC), tick=False):
        found = [
            message.id
            for model in apps.get_models()
            for field in model._meta.local_fields
            for message in field.check()
        ]
    assert "fields.W161" not in found


def test_the_embedded_default_needs_no_server():
    if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"):
        pytest.skip("running against configured services")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    # The test run swaps the broker for memory (conftest); read what the app is configured with.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'slaportal.settings');"
            " from django.conf import settings; print(settings.CELERY_BROKER_URL)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
    )
    assert result.stdout.strip() == "filesystem://"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_redis_serves_the_cache_and_the_celery_broker():
    from slaportal.celery import app

    cache.set("sla-portal-ci-probe", "ok", 30)
    assert cache.get("sla-portal-ci-probe") == "ok"
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.transport.driver_type == "redis"


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="not on PostgreSQL"
)
@pytest.mark.django_db
def test_the_suite_runs_on_postgresql():
    from django.db import connection

    assert connection.vendor == "postgresql"


def test_health_check_answers(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_api_docs_page_loads_its_scripts_from_our_static_files(client, marketing_manager):
    client.force_login(marketing_manager)
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()
