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
import uuid
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from .conftest import ARTIFACTS, TIMEOUT_MS, screenshot

pytestmark = pytest.mark.browser

WIDTHS = (1366, 375)
REPORT = ARTIFACTS / "axe-violations.txt"
ROLES = {  # the demo workspace's people (agreements/demo.py), one per role
    "marketing manager": "marina",
    "sales manager": "sergio",
    "sales rep": "rita",
    "viewer": "vera",
}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


@dataclass
class Samples:
    """Real objects of the seeded workspace, for the URLs' arguments."""

    agreement: int = 0
    in_force: int = 0
    draft: int = 0
    lead: int = 0
    handoff: int = 0
    month: str = ""
    import_job: uuid.UUID | None = None
    capture: int = 0
    endpoint: int = 0
    unsubscribe: str = ""
    user: int = 0
    password_reset: str = ""
    parts: list = field(default_factory=list)


def _version(s, v):
    return f"/sla/{s.agreement}/versions/{v}/"


# route -> the URLs to walk for it (a function of the samples). Routes with a part or a figure
# are walked for every value, since each renders its own forms or table.
PAGES = {
    "": lambda s: ["/"],
    "accounts/login/": lambda s: ["/accounts/login/"],
    "accounts/password/": lambda s: ["/accounts/password/"],
    "accounts/password/done/": lambda s: ["/accounts/password/done/"],
    "sla/": lambda s: ["/sla/"],
    "sla/new/": lambda s: ["/sla/new/"],
    "sla/<int:pk>/": lambda s: [f"/sla/{s.agreement}/"],
    "sla/<int:pk>/history/": lambda s: [f"/sla/{s.agreement}/history/"],
    "sla/<int:pk>/diff/": lambda s: [f"/sla/{s.agreement}/diff/"],
    "sla/<int:pk>/versions/<int:version_pk>/": lambda s: [
        _version(s, s.in_force),
        _version(s, s.draft),
    ],
    "sla/<int:pk>/versions/<int:version_pk>/parts/<slug:part_slug>/": lambda s: [
        _version(s, s.draft) + f"parts/{slug}/" for slug in s.parts
    ],
    "leads/import/": lambda s: ["/leads/import/"],
    "leads/import/<uuid:pk>/": lambda s: [f"/leads/import/{s.import_job}/"],
    "leads/": lambda s: ["/leads/"],
    "leads/queue/": lambda s: ["/leads/queue/"],
    "leads/team/": lambda s: ["/leads/team/"],
    "leads/notifications/": lambda s: ["/leads/notifications/"],
    "leads/<int:pk>/": lambda s: [f"/leads/{s.lead}/"],
    # Without htmx, a row's action opens as a page of its own (the no-script path).
    "leads/handoffs/<int:pk>/attempt/": lambda s: [f"/leads/handoffs/{s.handoff}/attempt/"],
    "leads/handoffs/<int:pk>/reject/": lambda s: [f"/leads/handoffs/{s.handoff}/reject/"],
    "leads/handoffs/<int:pk>/return/": lambda s: [f"/leads/handoffs/{s.handoff}/return/"],
    "leads/handoffs/<int:pk>/nurture/": lambda s: [f"/leads/handoffs/{s.handoff}/nurture/"],
    "review/visitors/": lambda s: ["/review/visitors/"],
    "review/": lambda s: ["/review/"],
    "review/<str:month>/": lambda s: [
        f"/review/{s.month}/",
        f"/review/{s.month}/?present=1",
        f"/review/{s.month}/?agreement={s.agreement}",
    ],
    "review/<str:month>/leads/<slug:figure>/": lambda s: [
        f"/review/{s.month}/leads/entered_mql/",
        f"/review/{s.month}/leads/breached/",
    ],
    "review/<str:month>/actions/": lambda s: [f"/review/{s.month}/actions/"],
    "captures/": lambda s: ["/captures/"],
    "captures/new/": lambda s: ["/captures/new/"],
    "captures/<int:pk>/": lambda s: [f"/captures/{s.capture}/"],
    "captures/<int:pk>/edit/": lambda s: [f"/captures/{s.capture}/edit/"],
    "unsubscribe/<str:token>/": lambda s: [f"/unsubscribe/{s.unsubscribe}/"],
    "integrations/": lambda s: ["/integrations/"],
    "integrations/endpoints/new/": lambda s: ["/integrations/endpoints/new/"],
    "integrations/endpoints/<int:pk>/": lambda s: [f"/integrations/endpoints/{s.endpoint}/"],
    "integrations/endpoints/<int:pk>/edit/": lambda s: [
        f"/integrations/endpoints/{s.endpoint}/edit/"
    ],
    "integrations/notifications/": lambda s: ["/integrations/notifications/"],
    "accounts/reset/<uidb64>/<token>/": lambda s: [s.password_reset],
    "accounts/reset/done/": lambda s: ["/accounts/reset/done/"],
    "people/": lambda s: ["/people/"],
    "people/<int:pk>/": lambda s: [f"/people/{s.user}/"],
    "people/absences/": lambda s: ["/people/absences/"],
    "people/unassigned/": lambda s: ["/people/unassigned/"],
    "leads/handoffs/<int:pk>/pause/": lambda s: [f"/leads/handoffs/{s.handoff}/pause/"],
    "sla/discussions/versions/<int:version_pk>/decisions/": lambda s: [
        f"/sla/discussions/versions/{s.in_force}/decisions/"
    ],
    # Swagger UI: walked too; see SWAGGER_UI_OWN below for what is left out and why.
    "api/docs/": lambda s: ["/api/docs/"],
}

POST_ONLY = "answers POST only (its result is a page walked above)"
DOWNLOAD = "a file download, not an HTML page"
FRAGMENT = "an htmx fragment, checked inside the page that swaps it in"
NOT_A_PAGE = {
    "healthz": "a JSON health check",
    "favicon.ico": "an icon",
    "accounts/logout/": POST_ONLY,
    "sla/<int:pk>/amend/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/submit/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/reopen/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/accept/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/approve/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/sla.md": DOWNLOAD,
    "sla/<int:pk>/versions/<int:version_pk>/sla.pdf": DOWNLOAD,
    "sla/<int:pk>/versions/<int:version_pk>/parts/<slug:part_slug>/rows/<slug:rowset_key>/new/": (
        FRAGMENT
    ),
    "sla/<int:pk>/versions/<int:version_pk>/funnel-preview/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/score-preview/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/holidays/": POST_ONLY,
    "leads/what-if/<int:version_pk>/": FRAGMENT,
    "leads/import/confirm/": POST_ONLY,
    "leads/import/template/<slug:kind>.csv": DOWNLOAD,
    "leads/notifications/read/": POST_ONLY,
    "leads/<int:pk>/hand-off/": POST_ONLY,
    "leads/<int:pk>/export/": DOWNLOAD,
    "leads/<int:pk>/erase/": POST_ONLY,
    "leads/handoffs/<int:pk>/": FRAGMENT,
    "leads/handoffs/<int:pk>/accept/": POST_ONLY,
    "leads/handoffs/<int:pk>/reassign/": POST_ONLY,
    "review/visitors/confirm/": POST_ONLY,
    "review/<str:month>/notes/": POST_ONLY,
    "review/<str:month>/actions/<int:pk>/done/": POST_ONLY,
    "review/<str:month>/propose/": POST_ONLY,
    "review/<str:month>/pack.pdf": DOWNLOAD,
    "review/<str:month>/<slug:table>.csv": DOWNLOAD,
    "captures/<int:pk>/toggle/": POST_ONLY,
    "captures/<int:pk>/rotate/": POST_ONLY,
    "hooks/forms/<str:token>/": "a form-post endpoint for other sites (POST only)",
    "integrations/endpoints/<int:pk>/rotate/": POST_ONLY,
    "integrations/endpoints/<int:pk>/toggle/": POST_ONLY,
    "integrations/endpoints/<int:pk>/delete/": POST_ONLY,
    "integrations/endpoints/<int:pk>/test/": POST_ONLY,
    "integrations/deliveries/<int:pk>/resend/": POST_ONLY,
    "integrations/chat/": POST_ONLY,
    "integrations/chat/<int:pk>/delete/": POST_ONLY,
    "api/schema/": "the OpenAPI document (YAML)",
    "people/invite/": POST_ONLY,
    "people/absences/<int:pk>/cancel/": POST_ONLY,
    "people/unassigned/assign/": POST_ONLY,
    "people/unassigned/<int:pk>/assign/": POST_ONLY,
    "sla/<int:pk>/versions/<int:version_pk>/scope-preview/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/threads/": POST_ONLY,
    "sla/discussions/threads/<int:thread_pk>/comments/": POST_ONLY,
    "sla/discussions/threads/<int:thread_pk>/status/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/suggestions/": POST_ONLY,
    "sla/discussions/suggestions/<int:pk>/decide/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/invites/": POST_ONLY,
    "sla/discussions/versions/<int:version_pk>/presence/": "a heartbeat (POST only)",
    "sla/discussions/versions/<int:version_pk>/decisions.pdf": DOWNLOAD,
}
# Pages that finish drawing after "load" (Swagger UI builds itself from the schema; a part's
# page fetches the MQL what-if by htmx): the walk waits for what shows they are done.
SETTLE = {
    "api/docs/": ".swagger-ui .info",
    "sla/<int:pk>/versions/<int:version_pk>/parts/<slug:part_slug>/": "#part-form",
}
ANONYMOUS_PAGES = {
    "accounts/login/",
    "unsubscribe/<str:token>/",
    "accounts/reset/<uidb64>/<token>/",
    "accounts/reset/done/",
}

# Swagger UI's own markup, which this project serves as shipped and cannot change: its
# operation blocks are a <div role="button"> holding the "try it out" and copy buttons, and
# its model tree nests buttons the same way (axe: nested-interactive). Our part of the page
# (the document language, the title, its landmark, and the colours app.css sets) is checked.
SWAGGER_UI_OWN = {"api/docs/": ["nested-interactive"]}


def _routes(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django's own admin, not ours
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route.lstrip("^").rstrip("$")


def _api(route: str) -> bool:
    return route.startswith("api/v1/")


def test_every_route_is_walked_or_excused():
    """A new route fails here until it is added to PAGES (with a sample URL) or to
    NOT_A_PAGE (with the reason it is no page)."""
    routes = [r for r in _routes(get_resolver().url_patterns) if not _api(r)]
    missing = [r for r in routes if r not in PAGES and r not in NOT_A_PAGE]
    assert missing == [], "add these routes to PAGES or NOT_A_PAGE in tests/browser/test_axe.py"
    stale = [r for r in [*PAGES, *NOT_A_PAGE] if r not in routes]
    assert stale == []


def _seed() -> Samples:
    """The demo workspace, shortened (fewer leads, fewer days) to keep the walk quick; every
    table, chart and form of the demo is still filled."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from agreements.demo import DEMO_AGREEMENT_NAME
    from agreements.models import Agreement, AgreementVersion
    from agreements.parts import PARTS
    from captures.services import capture_create
    from integrations.models import WebhookEndpoint
    from integrations.services import secret_new
    from leads.models import Handoff, ImportJob, Lead
    from leads.services.consent import unsubscribe_url

    t0 = time.monotonic()
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    print(f"seeded in {time.monotonic() - t0:.0f} s")
    agreement = Agreement.objects.get(name=DEMO_AGREEMENT_NAME)
    versions = AgreementVersion.objects.filter(agreement=agreement)
    marina = agreement.marketing_manager
    rita_open = Handoff.objects.filter(
        rep__username="rita", accepted_at__isnull=True, returned_at__isnull=True
    )
    handoff = rita_open.order_by("pk").first()
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.LEADS,
        filename="leads.csv",
        content="email\nx@example.com\n",
        status=ImportJob.Status.FAILED,
        total_rows=2,
        processed_rows=2,
        errors=[{"row": 2, "field": "email", "message": "Enter a valid e-mail address."}],
        created_by=marina,
        finished_at=timezone.now(),
    )
    capture = capture_create(by=marina, name="Website demo form")
    # Straight to the table: the service resolves the host, and the walk has no network.
    endpoint = WebhookEndpoint.objects.create(
        url="https://crm.example.com/hooks",
        description="CRM",
        event_types=[],
        secret=secret_new(),
        created_by=marina,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    lead = Lead.objects.filter(handoffs__isnull=False).order_by("pk").first()
    rita = handoff.rep
    uid = urlsafe_base64_encode(force_bytes(rita.pk))
    token = default_token_generator.make_token(rita)
    return Samples(
        agreement=agreement.pk,
        in_force=versions.filter(status="published").order_by("-number").first().pk,
        draft=versions.filter(status="draft").get().pk,
        lead=lead.pk,
        handoff=handoff.pk,
        month=timezone.localdate().strftime("%Y-%m"),
        import_job=job.pk,
        capture=capture.pk,
        endpoint=endpoint.pk,
        unsubscribe=unsubscribe_url(lead).rstrip("/").rsplit("/", 1)[-1],
        parts=[part.slug for part in PARTS],
        user=rita.pk,
        password_reset=f"/accounts/reset/{uid}/{token}/",
    )


@pytest.fixture
def seeded(transactional_db, monkeypatch):
    import leads.demo

    monkeypatch.setattr(leads.demo, "DEMO_LEADS", 60)
    monkeypatch.setattr(leads.demo, "DEMO_DAYS", 40)
    return _seed()


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
    routes = [r for r in _routes(get_resolver().url_patterns) if r in PAGES]
    targets = [(route, url) for route in routes for url in PAGES[route](seeded)]
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
