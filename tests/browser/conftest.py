"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Only the system Chromium is used (no `playwright install`): where it is missing, every browser
test is skipped rather than failed, so the rest of the suite runs anywhere.
"""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from slaportal.roles import Role
from tests.factories import UserFactory

# Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses ORM
# calls from a thread with a running loop unless told the code is really synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Debian's Chromium at {CHROMIUM}; it is not installed.")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(browser, request):
    """Pages in their own contexts (own cookies), e.g. two managers side by side.

    Any page still open when a test fails is saved to test-artifacts/ for a human to look at.
    """
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    report = getattr(request.node, "rep_call", None)
    for index, context in enumerate(contexts):
        if report is not None and report.failed:
            for page in context.pages:
                screenshot(page, f"FAILED-{request.node.name}-{index}")
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/ (gitignored); for humans, not assertions."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception:  # noqa: BLE001 - a missing screenshot must never hide the real result
        pass
    return path


def login(page, live_server, username: str, password: str = "pass") -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # Back on a page with the user menu: the session cookie is set.
    expect(page.locator("#user-menu")).to_be_visible()


@pytest.fixture(name="login")
def login_fixture():
    return login


@pytest.fixture
def role_groups(transactional_db):
    """The role groups come from a data migration, and a transactional test's flush empties
    them for the next browser test."""
    for role in Role.values:
        Group.objects.get_or_create(name=role)


# The shared fixtures of tests/conftest.py build users on `db`; these build the same people on
# `transactional_db`, which the live server needs to see them. The shared `agreement`, `draft`
# and `published` fixtures then work unchanged on top of them.
@pytest.fixture
def marketing_manager(role_groups):
    return UserFactory(username="marina", first_name="Marina", role=Role.MARKETING_MANAGER)


@pytest.fixture
def sales_manager(role_groups):
    return UserFactory(username="sergio", first_name="Sergio", role=Role.SALES_MANAGER)


@pytest.fixture
def sales_rep(role_groups):
    return UserFactory(username="rita", first_name="Rita", role=Role.SALES_REP)
