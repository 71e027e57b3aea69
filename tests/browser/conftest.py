"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Only the system Chromium is used (no `playwright install`): where it is missing, every browser
test is skipped rather than failed, so the rest of the suite runs anywhere.
"""

import contextlib
import os
import re
import signal
import sys
import threading
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
# A browser test that runs longer than this has stopped, not slowed: the slowest test but the axe
# walk takes under a minute on a slow host. Chromium now and then stops answering a call that
# has no timeout of its own (new_context, close, evaluate): seen on 2026-12-03, one worker
# waited ten minutes in one and the run never ended. The watchdog kills that Chromium, the
# waiting call raises TargetClosedError, and the test runs once more in a new browser.
STOPPED_AFTER_S = 240
# What a test fails with when its browser was killed or died: only these are run again, never
# an assertion or a Playwright timeout.
BROWSER_GONE = ["TargetClosedError", "has been closed", "Browser closed", "Connection closed"]


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=BROWSER_GONE))


class Chromium:
    """The worker's Chromium, launched again if the watchdog killed it (or it died)."""

    def __init__(self, playwright):
        self.playwright = playwright
        self.browser = None
        self.kills_seen = 0

    def current(self):
        # After a kill the old Browser may not know yet that it is gone: the news arrives with
        # the driver's next message.
        killed = _kills[0] != self.kills_seen
        if self.browser is None or killed or not self.browser.is_connected():
            self.kills_seen = _kills[0]
            self.browser = self.playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        return self.browser

    def close(self) -> None:
        if self.browser is not None and self.browser.is_connected():
            with watchdog("closing Chromium at the end of the session"):
                self.browser.close()


def _chromium_pids() -> list[int]:
    """This process's Chromium processes: its descendants (via Playwright's driver) whose
    executable is Chromium's."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name is in parentheses and may hold spaces: split after it.
                after_name = (entry / "stat").read_text().rpartition(")")[2]
                parents[int(entry.name)] = int(after_name.split()[1])
            except (OSError, ValueError, IndexError):
                continue
    mine, grew = {os.getpid()}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        mine |= found
        grew = bool(found)
    pids = []
    for pid in mine - {os.getpid()}:
        try:
            if "chromium" in os.readlink(f"/proc/{pid}/exe"):
                pids.append(pid)
        except OSError:
            continue
    return pids


_kills = [0]


def _chromium_kill(what: str) -> None:
    _kills[0] += 1
    pids = _chromium_pids()
    sys.__stderr__.write(
        f"\nChromium stopped answering ({what}) for {STOPPED_AFTER_S} s: killing its "
        f"{len(pids)} processes so the test runs again in a new browser.\n"
    )
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def watchdog(what: str, seconds: float = STOPPED_AFTER_S):
    timer = threading.Timer(seconds, _chromium_kill, args=(what,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Debian's Chromium at {CHROMIUM}; it is not installed.")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    holder = Chromium(playwright)
    try:
        yield holder
        holder.close()
    finally:
        playwright.stop()


@pytest.fixture
def browser(chromium, request):
    """The worker's Chromium, watched: see STOPPED_AFTER_S. A test that needs longer (the
    axe walk) says how long with @pytest.mark.browser_limit(seconds)."""
    limit = request.node.get_closest_marker("browser_limit")
    with watchdog(request.node.nodeid, limit.args[0] if limit else STOPPED_AFTER_S):
        yield chromium.current()


@pytest.fixture
def new_page(browser, request):
    """Pages in their own contexts (own cookies), e.g. two managers side by side.

    Any page still open when a test fails is saved to test-artifacts/ for a human to look at.
    """
    from playwright.sync_api import Error

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
        # A context of a browser the watchdog killed is gone with it.
        with contextlib.suppress(Error):
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
