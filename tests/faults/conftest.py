"""The fault suite's set-up: a scratch PostgreSQL database, a private redis-server, real workers.

Run by `make test-faults` (RUN_FAULTS=1): the ordinary `make test` does not collect it. It
needs DATABASE_URL to a PostgreSQL server and the redis-server binary, and skips with the
reason otherwise. The workers are other processes, so the scenarios cannot use pytest's test
database inside a rolled-back transaction: the suite creates `sp_faults_<pid>`, migrates it,
points this process and the workers at it, and drops it at the end. Transactional tests
empty it between scenarios.
"""

import os
import shutil
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from .harness import (
    FaultTable,
    RedisServer,
    Worker,
    database_create,
    database_drop,
    database_url,
    wait_until,
)

if os.environ.get("RUN_FAULTS") != "1":
    collect_ignore_glob = ["test_*.py"]

SOURCE_URL = os.environ.get("DATABASE_URL", "")
TABLE = FaultTable()


def _unavailable() -> str | None:
    if not SOURCE_URL.startswith(("postgres://", "postgresql://")):
        return "the fault suite needs DATABASE_URL to a PostgreSQL server"
    if shutil.which("redis-server") is None:
        return "the fault suite needs the redis-server binary on PATH"
    return None


HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(items):
    # A conftest's collection hook sees every item of the session: touch only this folder's.
    reason = _unavailable()
    for item in items:
        if not str(item.path).startswith(HERE + os.sep):
            continue
        item.add_marker(pytest.mark.faults)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter):
    if TABLE.rows:
        terminalreporter.write_sep("=", "fault table")
        terminalreporter.write_line(TABLE.render())


@pytest.fixture(scope="session")
def fault_table():
    return TABLE


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    """A real database the workers share with this process, dropped at the end."""
    name = f"sp_faults_{os.getpid()}"
    database_create(SOURCE_URL, name)
    try:
        with django_db_blocker.unblock():
            connections.close_all()
            settings.DATABASES["default"]["NAME"] = name
            connections["default"].settings_dict["NAME"] = name
            call_command("migrate", verbosity=0, interactive=False)
        yield name
    finally:
        with django_db_blocker.unblock():
            connections.close_all()
        database_drop(SOURCE_URL, name)


@pytest.fixture(scope="session")
def redis_server(workdir):
    server = RedisServer(workdir)
    try:
        server.start()
        # This process sends its tasks (services call slaportal.queue.enqueue) to the same
        # private broker the workers read.
        from slaportal.celery import app

        app.conf.broker_url = server.url
        app.conf.broker_transport_options = {
            "visibility_timeout": 2 * 60 * 60,
            "max_retries": 1,
            "interval_start": 0.1,
            "interval_step": 0.2,
            "interval_max": 0.5,
        }
        yield server
    finally:
        server.stop()


@pytest.fixture
def maildir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def worker_env(django_db_setup, redis_server, maildir):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "slaportal.settings",
        "DATABASE_URL": database_url(SOURCE_URL, django_db_setup),
        "REDIS_URL": redis_server.url,
        # Short claims so the sweeper takes over a dead run within the suite's time budget.
        "IMPORT_CLAIM_SECONDS": "5",
        "IMPORT_PENDING_GRACE_SECONDS": "2",
        # django-environ drops one slash of the path: four make it absolute.
        "EMAIL_URL": f"filemail:///{maildir}",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def workers(worker_env, workdir):
    """Start workers with `workers(name, concurrency=1)`; all are stopped after the test."""
    started: list[Worker] = []

    def start(name: str, *, concurrency: int = 1) -> Worker:
        worker = Worker(worker_env, workdir, name=name, concurrency=concurrency)
        started.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture
def send():
    """Send a task by name, as beat would."""
    from slaportal.celery import app

    def send_task(name: str, *args):
        app.send_task(name, args=args)

    return send_task


@pytest.fixture
def pump(send):
    """Wait for `done()` while sending the periodic tasks every `every` seconds, standing in
    for beat (whose schedule runs every 30-60 s, too slow for the suite's time budget)."""
    import time

    def run(done, *, tasks, timeout: float, what: str, every: float = 2.0):
        last = [0.0]

        def tick():
            if time.monotonic() - last[0] >= every:
                for task in tasks:
                    send(task)
                last[0] = time.monotonic()
            return done()

        return wait_until(tick, timeout=timeout, what=what, interval=0.3)

    return run


@pytest.fixture
def people(db):
    from slaportal.roles import Role
    from tests.factories import UserFactory

    return {
        "marketing": UserFactory(username="marina", role=Role.MARKETING_MANAGER),
        "sales": UserFactory(username="sergio", role=Role.SALES_MANAGER),
        "reps": [UserFactory(username=f"rep{n}", role=Role.SALES_REP) for n in range(3)],
        "integration": UserFactory(username="crm", role=Role.INTEGRATION),
    }


@pytest.fixture
def publish_sla(people, redis_server):
    """Publish version 1 through the services, with these handoff and MQL settings.

    Fit: 20 for a director, 10 for more than 50 employees; interest: 5 per pricing page
    view, 30 for a demo request; no decay, so a score does not depend on when it is taken.
    """
    from agreements import models as m
    from agreements import services

    def publish(*, mql_min_fit=20, mql_min_interest=5, trigger_on_score=False):
        agreement = services.agreement_create(
            name="Fault SLA",
            marketing_manager=people["marketing"],
            sales_manager=people["sales"],
            by=people["marketing"],
        )
        draft = agreement.versions.get()
        m.HandoffPolicy.objects.filter(version=draft).update(
            trigger_on_score=trigger_on_score,
            trigger_events=[],
            allow_manual=True,
            required_fields=[],
            response_target_hours=Decimal(4),
            accept_window_hours=Decimal(8),
        )
        m.QualificationSettings.objects.filter(version=draft).update(
            mql_min_fit=mql_min_fit, mql_min_interest=mql_min_interest, decay_half_life_days=None
        )
        for position, rule in enumerate(
            [
                {"attribute": "title", "operator": "contains", "value": "director", "points": 20},
                {"attribute": "company_size", "operator": "gt", "value": "50", "points": 10},
            ]
        ):
            m.FitRule.objects.create(version=draft, position=position, **rule)
        for position, rule in enumerate(
            [
                {"event_type": "pricing_page_view", "points": 5},
                {"event_type": "demo_request", "points": 30},
            ]
        ):
            m.InterestRule.objects.create(version=draft, position=position, **rule)
        services.version_submit(version=draft, by=people["marketing"], change_note="v1")
        services.version_approve(version=draft, by=people["marketing"], side="marketing")
        services.version_approve(version=draft, by=people["sales"], side="sales")
        draft.refresh_from_db()
        # Publishing queues a rescore; each scenario sends exactly the work it measures.
        from slaportal.celery import app

        app.control.purge()
        return draft

    return publish
