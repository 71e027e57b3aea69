"""The review of several agreements (issue 11): one agreement's figures come only from its
leads and the handoffs made under its versions; "all" adds up from the same rollup rows, its
counts the sums and its rates recomputed; targets stay each agreement's own.

October 2026 in São Paulo: the Acme SLA's five leads of tests/kpis/conftest.py (three
handoffs: met, breached by Rita, rejected) and an Enterprise SLA with a 2-hour response target
and two handoffs (met by Rita; breached by Otto).
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import models as am
from agreements import services as agreement_services
from kpis.drilldown import figure_handoffs, figure_leads
from kpis.models import DailyFigure
from kpis.periods import Month
from kpis.ritual import kpi_digests_send
from kpis.rollups import rollup_backfill
from kpis.selectors import month_report
from leads.models import Lead
from leads.services import handoffs as hs
from leads.services.ingestion import lead_upsert
from slaportal.outbox import outbox_deliver
from slaportal.roles import Role
from tests.cache import cache_clear
from tests.factories import UserFactory

from .conftest import at

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
OCT = Month(2026, 10)
NOW = datetime(2026, 11, 20, 12, tzinfo=SP)
# Both counts include what the cache then keeps: the workspace row (currency, language) and
# when the SLA in force next changes (slaportal.clock.sla_in_force).
# The review page with nothing cached (the most it reads): one agreement's report, or on "all"
# the combined report plus each agreement's own (two here), each with last month's figures.
# Cached, either reads the same few rows whatever the leads, reps or agreements' rows.
MAX_PAGE_QUERIES_ONE = 55  # + paused time per rep, + the cached workspace row and next change
# (and, each, the page's breaches: their ids in order, then those rows)
MAX_PAGE_QUERIES_ALL = 101  # + paused time per rep, + the same two cached reads
MAX_PAGE_QUERIES_CACHED = 30


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def otto(db):
    return UserFactory(username="otto", first_name="Otto", last_name="Lima", role=Role.SALES_REP)


@pytest.fixture
def enterprise(october, marketing_manager, sales_manager, rep, otto):
    return build_enterprise(october, marketing_manager, sales_manager, rep, otto)


def build_enterprise(october, marketing_manager, sales_manager, rep, otto):
    """The second agreement, its version in force since 1 September, and its two handoffs."""
    agreement = agreement_services.agreement_create(
        name="Enterprise SLA",
        marketing_manager=marketing_manager,
        sales_manager=sales_manager,
        by=marketing_manager,
    )
    v = agreement.versions.get()
    am.HandoffPolicy.objects.filter(version=v).update(
        trigger_on_score=False,
        required_fields=[],
        response_target_hours=2,
        accept_window_hours=8,
        notify_email=False,
    )
    am.BusinessCalendar.objects.filter(version=v).update(time_zone="America/Sao_Paulo")
    # Its own scope, above Acme's, so the two published agreements do not overlap.
    am.ScopeSettings.objects.filter(version=v).update(priority=10)
    am.ScopeRule.objects.create(
        version=v, attribute="company_size", operator="at_least", value="1000"
    )
    am.DispositionCode.objects.create(
        version=v, code="connected", label="Connected", is_conversation=True
    )
    # Compliance held to a different target than Acme's; speed to lead to the same one.
    for metric, target, direction, amber, red, position in (
        ("sla_compliance", 95, "higher", 90, 80, 0),
        ("speed_to_lead", 2, "lower", 3, 4, 1),
    ):
        am.Kpi.objects.create(
            version=v,
            metric=metric,
            target=target,
            direction=direction,
            owner="sales",
            amber_threshold=amber,
            red_threshold=red,
            position=position,
        )
    with time_machine.travel(datetime(2026, 9, 1, 9, tzinfo=SP), tick=False):
        agreement_services.version_submit(version=v, by=marketing_manager, change_note="v1")
        agreement_services.version_approve(version=v, by=marketing_manager, side="marketing")
        agreement_services.version_approve(version=v, by=sales_manager, side="sales")
    v.refresh_from_db()
    # Every lead so far is Acme's (this branch's lead engine does not resolve scopes yet).
    Lead.objects.update(agreement=october.agreement)
    # Otto joins after the Acme leads were assigned, and is inactive while Rita is handed e1.
    otto.is_active = False
    otto.save(update_fields=["is_active"])
    e1 = _enterprise_lead("e1@x.com", at(13, 10), agreement)
    first = hs.handoff_manual(lead=e1, version=v, by=sales_manager, now=at(13, 10))
    hs.attempt_log(
        handoff=first, channel="phone", disposition="connected", by=rep, now=at(13, 10, 30)
    )
    hs.handoff_accept(handoff=first, by=rep, now=at(13, 11))
    otto.is_active = True
    otto.save(update_fields=["is_active"])
    e2 = _enterprise_lead("e2@x.com", at(14, 10), agreement)
    second = hs.handoff_manual(lead=e2, version=v, by=sales_manager, now=at(14, 10))
    if second.rep_id != otto.pk:
        hs.handoff_reassign(handoff=second, rep=otto, by=sales_manager, now=at(14, 10, 15))
    hs.breaches_flag(now=at(14, 12, 30))
    second.refresh_from_db()
    hs.attempt_log(
        handoff=second, channel="phone", disposition="connected", by=otto, now=at(14, 13)
    )
    rollup_backfill(since=date(2026, 9, 1), until=date(2026, 12, 31))
    return agreement


def _enterprise_lead(email, when, agreement):
    lead_upsert(email=email, fields={"source": "partner", "company_size": 5000}, now=when)
    Lead.objects.filter(email=email).update(agreement=agreement)
    return Lead.objects.get(email=email)


def _totals(report):
    return {metric: n for metric, n in report.totals.items() if metric != "visitors"}


# Figures -------------------------------------------------------------------------------------


def test_each_agreements_figures_come_only_from_its_own_leads(enterprise, october):
    acme = month_report(month=OCT, agreement=october.agreement)
    ent = month_report(month=OCT, agreement=enterprise)

    assert (acme.totals["leads_created"], acme.totals["handoffs"]) == (5, 3)
    assert (ent.totals["leads_created"], ent.totals["handoffs"]) == (2, 2)
    assert (ent.totals["windows_closed"], ent.totals["windows_met"]) == (2, 1)
    assert ent.totals["breached"] == 1 and ent.totals["accepted"] == 1
    # Every figure is exactly the leads its drill-down lists for that agreement.
    for report, agreement in ((acme, october.agreement), (ent, enterprise)):
        for figure in ("leads_created", "handoffs", "windows_closed", "breached", "accepted"):
            listed = (
                figure_handoffs(OCT, figure, agreement=agreement)
                if figure != ("leads_created")
                else figure_leads(OCT, figure, agreement=agreement)
            )
            assert listed.count() == report.totals.get(figure, 0), (agreement, figure)
    assert set(
        figure_leads(OCT, "handoffs", agreement=enterprise).values_list("email", flat=True)
    ) == {
        "e1@x.com",
        "e2@x.com",
    }
    # One agreement's review has no visitor step: visitors are counted for the workspace.
    assert [step.stage for step in ent.funnel][0] == "lead"
    # Business minutes to the first touch: 30 (e1) and 180 (e2, two hours late).
    assert ent.speed_to_lead_minutes["median"] == 105
    assert ent.version.agreement == enterprise and acme.version.agreement == october.agreement


def test_all_agreements_is_the_sum_of_its_agreements_and_rates_are_recomputed(enterprise, october):
    acme = month_report(month=OCT, agreement=october.agreement)
    ent = month_report(month=OCT, agreement=enterprise)
    every = month_report(month=OCT)

    for metric in _totals(acme).keys() | _totals(ent).keys():
        assert every.totals[metric] == acme.totals.get(metric, 0) + ent.totals.get(metric, 0)
    assert every.funnel[0].stage == "visitor" and every.funnel[0].count == 1000
    assert every.sla_compliance == (acme.totals["windows_met"] + ent.totals["windows_met"]) / (
        acme.totals["windows_closed"] + ent.totals["windows_closed"]
    )
    accepted = acme.totals["accepted"] + ent.totals["accepted"]
    rejected = acme.totals.get("rejected", 0) + ent.totals.get("rejected", 0)
    assert every.mql_acceptance_rate == accepted / (accepted + rejected)
    assert every.attempts_per_lead == (
        acme.totals["handoff_attempts"] + ent.totals["handoff_attempts"]
    ) / (acme.totals["handoffs"] + ent.totals["handoffs"])
    # Per rep too: Otto's figures are Enterprise's, Rita's both agreements'.
    reps = {rep.name: rep for rep in every.by_rep}
    assert reps["Otto Lima"].breached == 1 and reps["Rita Souza"].breached == 1
    # The rows behind "all" are exactly the agreements' rows: none is left unfiled.
    assert not DailyFigure.objects.filter(
        day__gte=OCT.first_day, day__lte=OCT.last_day, agreement__isnull=True
    ).exists()


def test_all_agreements_judges_a_kpi_only_against_a_target_they_share(enterprise, october):
    every = month_report(month=OCT)
    kpis = {kpi.metric: kpi for kpi in every.kpis}

    compliance = kpis["sla_compliance"]
    assert compliance.status == "mixed" and compliance.target is None
    assert compliance.actual == pytest.approx(every.sla_compliance * 100)
    assert [(p.agreement, p.target, p.status) for p in compliance.parts] == [
        ("Acme SLA", 90.0, "red"),
        ("Enterprise SLA", 95.0, "red"),
    ]
    # Both hold speed to lead to 2 h with the same thresholds: the combined figure is judged.
    speed = kpis["speed_to_lead"]
    assert speed.target == 2.0 and speed.status in ("green", "amber", "red")
    assert len(speed.parts) == 2
    # Goals stay each agreement's, named for it.
    assert [(g.agreement, g.name) for g in every.goals] == [("Acme SLA", "60 MQLs in Q4")]


def test_one_agreement_is_judged_by_its_own_version(enterprise, october):
    ent = month_report(month=OCT, agreement=enterprise)
    compliance = next(kpi for kpi in ent.kpis if kpi.metric == "sla_compliance")
    assert (compliance.target, compliance.actual, compliance.status) == (95.0, 50.0, "red")
    assert compliance.parts == [] and ent.goals == []


# The API ------------------------------------------------------------------------------------


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_kpi_api_filters_by_agreement(enterprise, october, viewer):
    client = _api(viewer)
    ent = client.get("/api/v1/kpis/", {"month": "2026-10", "agreement": enterprise.pk}).json()
    every = client.get("/api/v1/kpis/", {"month": "2026-10"}).json()
    also_every = client.get("/api/v1/kpis/", {"month": "2026-10", "agreement": "all"}).json()

    assert ent["agreement"] == enterprise.pk and every["agreement"] is None
    assert [s["count"] for s in ent["funnel"]][:2] == [2, 2]
    assert every == also_every
    assert every["funnel"][1]["count"] == 7
    compliance = next(k for k in every["kpis"] if k["metric"] == "sla_compliance")
    assert (compliance["status"], compliance["target"]) == ("mixed", None)
    assert [(p["agreement"], p["target"]) for p in compliance["parts"]] == [
        ("Acme SLA", 0.9),
        ("Enterprise SLA", 0.95),
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("999999", "There is no agreement with id 999999."),
        ("acme", "'acme' is not an agreement"),
        ("-1", "'-1' is not an agreement"),
    ],
)
def test_the_kpi_api_refuses_an_unknown_agreement(enterprise, viewer, given, message):
    response = _api(viewer).get("/api/v1/kpis/", {"month": "2026-10", "agreement": given})
    assert response.status_code == 400
    assert message in response.json()["agreement"][0]


# The review page and its exports ---------------------------------------------------------------


def test_the_review_page_shows_the_chosen_agreement_and_keeps_it_in_every_link(
    enterprise, october, client_for, marketing_manager
):
    response = client_for(marketing_manager).get(f"/review/2026-10/?agreement={enterprise.pk}")
    assert response.status_code == 200
    assert response.context["report"].agreement_id == enterprise.pk
    assert response.context["report"].totals["leads_created"] == 2
    page = response.content.decode()
    assert 'id="agreement-picker"' in page
    assert f'<option value="{enterprise.pk}" selected>Enterprise SLA</option>' in page
    query = f"?agreement={enterprise.pk}"
    for link in (
        f"/review/2026-10/pack.pdf{query}",
        f"/review/2026-10/breaches.csv{query}",
        f"/review/2026-09/{query}",
        f"/review/2026-10/notes/{query}",
        f"/review/2026-10/propose/{query}",
        f"/review/2026-10/leads/handoffs/{query}",
    ):
        assert link in page, link


def test_the_review_page_on_all_agreements_lists_each_agreements_kpi(
    enterprise, october, client_for, marketing_manager
):
    response = client_for(marketing_manager).get("/review/2026-10/")
    page = response.content.decode()
    assert response.context["report"].agreement_id is None
    assert 'id="all-agreements-note"' in page
    assert "Targets differ by agreement" in page
    assert 'class="kpi-part small"' in page
    # The meeting's record belongs to one agreement: on "all" the page asks to choose one.
    assert 'id="meeting-choose"' in page and 'id="notes-form"' not in page


def test_a_bad_agreement_in_the_review_url_opens_all_agreements_with_the_reason(
    enterprise, client_for, marketing_manager
):
    client = client_for(marketing_manager)
    response = client.get("/review/2026-10/?agreement=999999", follow=True)
    assert response.redirect_chain[-1][0] == "/review/2026-10/"
    assert "There is no agreement with id 999999." in response.content.decode()
    assert client.get("/review/2026-10/breaches.csv?agreement=nope").status_code == 404


def test_the_csv_and_pdf_carry_the_chosen_agreement(
    enterprise, october, client_for, marketing_manager
):
    client = client_for(marketing_manager)
    ent = client.get(f"/review/2026-10/breaches.csv?agreement={enterprise.pk}")
    assert "e2@x.com" in ent.content.decode() and "l2@x.com" not in ent.content.decode()
    assert "review-2026-10-enterprise-sla-breaches.csv" in ent["Content-Disposition"]
    every = client.get("/review/2026-10/breaches.csv").content.decode()
    assert "e2@x.com" in every and "l2@x.com" in every
    funnel = client.get(f"/review/2026-10/funnel.csv?agreement={october.agreement.pk}")
    assert "Visitor" not in funnel.content.decode()
    pdf = client.get(f"/review/2026-10/pack.pdf?agreement={enterprise.pk}")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "enterprise-sla-pack.pdf" in pdf["Content-Disposition"]


@pytest.mark.parametrize("shown", ["acme", "enterprise", "all"])
def test_a_rep_sees_only_their_own_breaches_whichever_agreement_is_shown(
    enterprise, october, client_for, rep, otto, shown
):
    query = {
        "acme": f"?agreement={october.agreement.pk}",
        "enterprise": f"?agreement={enterprise.pk}",
        "all": "",
    }[shown]
    expected = {
        # Rita breached l2 under Acme; Otto breached e2 under Enterprise.
        "rita": {"acme": ["l2@x.com"], "enterprise": [], "all": ["l2@x.com"]},
        "otto": {"acme": [], "enterprise": ["e2@x.com"], "all": ["e2@x.com"]},
    }
    for user in (rep, otto):
        client = client_for(user)
        page = client.get(f"/review/2026-10/{query}")
        assert [b.lead for b in page.context["review"].breaches] == expected[user.username][shown]
        csv_text = client.get(f"/review/2026-10/breaches.csv{query}").content.decode()
        for email in ("l2@x.com", "e2@x.com"):
            assert (email in csv_text) == (email in expected[user.username][shown])
        listed = client.get(f"/review/2026-10/leads/breached/{query}").content.decode()
        for email in ("l2@x.com", "e2@x.com"):
            assert (email in listed) == (email in expected[user.username][shown])


def test_propose_a_change_opens_the_amendment_on_the_agreement_shown(
    enterprise, october, client_for, sales_manager
):
    response = client_for(sales_manager).post(
        f"/review/2026-10/propose/?agreement={enterprise.pk}", {"note": "One hour is too tight."}
    )
    draft = enterprise.versions.get(status=am.AgreementVersion.Status.DRAFT)
    assert response.status_code == 302 and response["Location"].startswith(
        draft.get_absolute_url() + "#thread-"
    )
    assert "One hour is too tight." in draft.change_note
    assert not october.agreement.versions.filter(status=am.AgreementVersion.Status.DRAFT).exists()


def test_on_all_agreements_a_write_to_the_meeting_asks_for_an_agreement(
    enterprise, client_for, sales_manager
):
    client = client_for(sales_manager)
    response = client.post("/review/2026-10/notes/", {"notes": "Which one?"}, follow=True)
    assert "Choose an agreement first" in response.content.decode()
    from kpis.models import ReviewMeeting

    assert not ReviewMeeting.objects.exists()
    client.post(f"/review/2026-10/notes/?agreement={enterprise.pk}", {"notes": "Enterprise."})
    assert ReviewMeeting.objects.get().agreement == enterprise


def test_a_viewer_still_cannot_write_the_meeting_of_an_agreement(enterprise, client_for, viewer):
    response = client_for(viewer).post(
        f"/review/2026-10/notes/?agreement={enterprise.pk}", {"notes": "No."}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("shown", "most"), [("one", MAX_PAGE_QUERIES_ONE), ("all", MAX_PAGE_QUERIES_ALL)]
)
def test_the_review_pages_queries_are_pinned_for_one_agreement_and_for_all(
    enterprise, client_for, marketing_manager, shown, most
):
    client = client_for(marketing_manager)
    path = f"/review/2026-10/?agreement={enterprise.pk}" if shown == "one" else "/review/2026-10/"
    cache_clear()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(path).status_code == 200
    assert len(cold.captured_queries) <= most
    assert len(warm.captured_queries) <= MAX_PAGE_QUERIES_CACHED
    # The page reads the rollups, never the leads table, for its figures.
    assert not any(
        'FROM "leads_lead"' in q["sql"] and "GROUP BY" in q["sql"] for q in cold.captured_queries
    )


# The ritual --------------------------------------------------------------------------------------


def test_each_agreement_sends_its_own_kpi_digest(enterprise, october, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    am.Kpi.objects.filter(version__agreement__in=[enterprise, october.agreement]).update(
        review_frequency="monthly"
    )
    written = kpi_digests_send(now=datetime(2026, 11, 2, 10, tzinfo=SP))
    assert written == 2  # one agreement's sales KPIs to its sales manager, twice
    outbox_deliver()
    bodies = [m.body for m in mail.outbox if "KPI digest" in m.subject]
    assert len(bodies) == 2
    assert any("Enterprise SLA" in body and "95%" in body for body in bodies)
    assert any("Acme SLA" in body and "90%" in body for body in bodies)
    assert all("?agreement=" in body for body in bodies)
