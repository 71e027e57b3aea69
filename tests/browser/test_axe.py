"""axe-core over every page of the app, as each role that can open it, at desktop and phone
widths: any violation of WCAG 2.0 A/AA or 2.1 AA fails the suite.

The page list comes from the URL resolver (as in tests/test_security.py): every route is either
a PAGE, with a way to build a real URL from the seeded workspace, or NOT_A_PAGE, with the reason.
A route in neither fails `test_every_route_is_walked_or_excused`, so a page someone adds later
is walked from the day it lands.

axe.min.js comes from the axe-playwright-python package (no CDN). It is run with
`page.evaluate`, which Chromium executes through the DevTools protocol and not as a page
script, so the Content-Security-Policy (script-src 'self') does not stop it; the walk asserts
the policy is there on every page it checks, so the two are proven together.
"""

import os
import re
import time

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.urls import get_resolver

from tests.walk import ANONYMOUS_PAGES, NOT_A_PAGE, PAGES, ROLES, _routes, routes, seed

from .conftest import ARTIFACTS, TIMEOUT_MS, screenshot

pytestmark = pytest.mark.browser

WIDTHS = (1366, 375)
REPORT = ARTIFACTS / "axe-violations.txt"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

# Pages that finish drawing after "load" (Swagger UI builds itself from the schema; a part's
# page fetches the MQL what-if by htmx): the walk waits for what shows they are done.
SETTLE = {
    "api/docs/": ".swagger-ui .info",
    "sla/<int:pk>/versions/<int:version_pk>/parts/<slug:part_slug>/": "#part-form",
}

# Swagger UI's own markup, which this project serves as shipped and cannot change: its
# operation blocks are a <div role="button"> holding the "try it out" and copy buttons, and
# its model tree nests buttons the same way (axe: nested-interactive). Our part of the page
# (the document language, the title, its landmark, and the colours app.css sets) is checked.
SWAGGER_UI_OWN = {"api/docs/": ["nested-interactive"]}


def test_every_route_is_walked_or_excused():
    """A new route fails here until it is added to PAGES (with a sample URL) or to
    NOT_A_PAGE (with the reason it is no page)."""
    known = routes()
    missing = [r for r in known if r not in PAGES and r not in NOT_A_PAGE]
    assert missing == [], "add these routes to PAGES or NOT_A_PAGE in tests/walk.py"
    stale = [r for r in [*PAGES, *NOT_A_PAGE] if r not in known]
    assert stale == []


@pytest.fixture
def seeded(transactional_db, monkeypatch):
    import leads.demo

    monkeypatch.setattr(leads.demo, "DEMO_LEADS", 60)
    monkeypatch.setattr(leads.demo, "DEMO_DAYS", 40)
    return seed()


def _axe(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]


def _violations(page, route: str, url: str, who: str, width: int) -> list[str]:
    found = []
    for violation in _axe(page):
        if violation["id"] in SWAGGER_UI_OWN.get(route, ()):
            continue
        for node in violation["nodes"]:
            why = node["failureSummary"].splitlines()[-1].strip()
            found.append(
                f"{violation['id']} ({violation['impact']}) on {url} as {who} at {width}px: "
                f"{', '.join(map(str, node['target']))} — {why}"
            )
    return found


def _log_in(context, base: str, username: str):
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("demo")
    page.locator("#id_password").press("Enter")
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))
    return page


def _walk(page, base, targets, who, report, visits):
    for route, url in targets:
        response = page.goto(base + url, wait_until="load")
        status = response.status if response else 0
        if status in (403, 404) or "/accounts/login/" in page.url and route not in ANONYMOUS_PAGES:
            continue  # not a page this role can open (another rep's lead is a 404)
        assert status == 200, f"{url} as {who}: HTTP {status}"
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp, f"{url} carries no CSP"
        if route in SETTLE:
            page.wait_for_load_state("networkidle")
            page.locator(SETTLE[route]).first.wait_for()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            # One frame: the page's resize handlers run before axe looks.
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r)))")
            found = _violations(page, route, url, who, width)
            if found:
                screenshot(page, f"axe-{who}-{width}-{url}")
                with REPORT.open("a") as log:  # read while a long walk is still going
                    log.write("\n".join(found) + "\n")
            report.extend(found)
        visits.append((url, who))


# The walk reads rendered pages, which do not depend on the database: CI runs it on its
# SQLite pass and sets AXE_WALK=0 on the PostgreSQL pass, saving ten minutes of a run.
@pytest.mark.skipif(
    os.environ.get("AXE_WALK") == "0", reason="AXE_WALK=0: the walk ran on the other pass"
)
def test_every_page_as_every_role_at_both_widths_has_no_wcag_violation(
    browser, live_server, seeded
):
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)
    REPORT.write_text("")
    walked = [r for r in _routes(get_resolver().url_patterns) if r in PAGES]
    targets = [(route, url) for route in walked for url in PAGES[route](seeded)]
    report, visits = [], []

    anonymous = browser.new_context()
    anonymous.set_default_timeout(TIMEOUT_MS)
    # The harness itself: axe runs under the page's CSP and does report a planted fault.
    probe = anonymous.new_page()
    probe.goto(f"{live_server.url}/accounts/login/")
    probe.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
    assert "image-alt" in {v["id"] for v in _axe(probe)}
    probe.close()
    _walk(
        anonymous.new_page(),
        live_server.url,
        [t for t in targets if t[0] in ANONYMOUS_PAGES],
        "anonymous",
        report,
        visits,
    )
    anonymous.close()
    for who, username in ROLES.items():
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = _log_in(context, live_server.url, username)
        signed_in = [t for t in targets if t[0] not in ANONYMOUS_PAGES]
        _walk(page, live_server.url, signed_in, who, report, visits)
        context.close()

    elapsed = time.monotonic() - started
    pages = {url for url, _ in visits}
    assert [url for _, url in targets if url not in pages] == [], "pages nobody could open"
    print(f"\naxe walk: {len(pages)} pages, {len(visits)} page×role visits, {elapsed:.0f} s")
    assert len(visits) > 80
    assert report == [], f"{len(report)} WCAG violations:\n" + "\n".join(report)
