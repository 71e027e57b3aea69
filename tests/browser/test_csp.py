"""The Content-Security-Policy in a real browser: the main pages work under the enforced policy
and Chromium reports no violation (an inline script, handler or style it refused)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agreements import models as am
from leads.models import Handoff
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import pipeline_run

pytestmark = pytest.mark.browser

# Playwright's init script runs outside the page's policy; it records every violation event.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
      + ` at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""
CHARTS = ["funnel-chart", "trends-chart", "reps-chart", "reasons-chart"]
ALL_CHARTS_DRAWN = (
    "ids => ids.every(id => typeof Chart !== 'undefined'"
    " && Chart.getChart(document.getElementById(id)) !== undefined)"
)


@pytest.fixture
def handed_off(draft, published, sales_rep):
    """A published SLA where a demo request hands the lead to sales, and one such lead."""
    am.HandoffPolicy.objects.filter(version=published).update(
        trigger_events=["demo_request"], required_fields=[], notify_email=False
    )
    lead_upsert(
        email="ana@globex.com",
        fields={"first_name": "Ana", "last_name": "Lima", "company": "Globex", "title": "CMO"},
    )
    events_ingest(events=[EventInput("ana@globex.com", "demo_request", occurred_at=timezone.now())])
    pipeline_run()
    return Handoff.objects.get()


class Watch:
    """Console errors and violation events of one page, for the assertion at the end."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _on_console(self, message):
        text = message.text
        # The browser's own request for /favicon.ico (there is none) is not the page's error.
        if "Failed to load resource" in text and "404" in text:
            return
        if message.type == "error" or "Content Security Policy" in text:
            self.console.append(text)

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_load_state("load")
        self.check(url)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__cspViolations || []")
        refused = [
            text
            for text in self.console
            if "Content Security Policy" in text or "Refused to" in text
        ]
        assert violations == [] and refused == [], f"{where}: {violations + refused}"
        assert self.console == [], f"{where}: {self.console}"


def test_the_main_pages_run_under_the_policy(
    new_page, live_server, login, handed_off, sales_rep, marketing_manager
):
    base = live_server.url

    # The rep: the queue, an htmx form opened in place, and the lead page.
    page = new_page()
    rep = Watch(page)
    login(page, live_server, "rita")
    rep.visit(f"{base}/leads/queue/")
    row = page.locator(f"#handoff-{handed_off.pk}")
    row.get_by_role("link", name="Log attempt").click()
    expect(page.locator(f"#handoff-{handed_off.pk} select[name=disposition]")).to_be_visible()
    rep.check("queue after opening the attempt form")
    rep.visit(f"{base}/leads/{handed_off.lead_id}/")

    # The manager: the SLA, a part editor with its htmx what-if, the team, the review's charts,
    # a queue picked from the select (formerly an inline onchange) and the API docs.
    page = new_page()
    manager = Watch(page)
    login(page, live_server, "marina")
    published = am.AgreementVersion.objects.get(status=am.AgreementVersion.Status.PUBLISHED)
    sla = f"{base}/sla/{published.agreement_id}/"
    manager.visit(f"{sla}versions/{published.pk}/")
    manager.visit(sla)
    page.get_by_role("button", name="Start an amendment").click()
    page.wait_for_url(f"{sla}versions/*/")
    manager.check("amendment started")
    draft = published.agreement.versions.exclude(pk=published.pk).get()
    manager.visit(f"{sla}versions/{draft.pk}/parts/qualification/")
    page.wait_for_load_state("networkidle")
    manager.check("qualification part")
    manager.visit(f"{base}/leads/team/")
    manager.visit(f"{base}/leads/")
    manager.visit(f"{base}/review/")
    page.wait_for_function(ALL_CHARTS_DRAWN, arg=CHARTS)
    manager.check("review charts")
    manager.visit(f"{base}/leads/queue/")
    page.locator("select[name=rep]").select_option(str(sales_rep.pk))
    page.wait_for_url(f"**/leads/queue/?rep={sales_rep.pk}*")
    expect(page.locator(f"#handoff-{handed_off.pk}")).to_be_visible()
    manager.check("queue picked by select")
    manager.visit(f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SLA Portal API")
    manager.check("API docs")
