"""The monthly review pages against the hand-computed October 2026 fixture (tests/kpis/conftest).

The clock stands at 20 November 2026, noon in São Paulo, so "today", the running month and
the past-due check of action items are the same on every run.
"""

import csv
import io
import json
import re
from datetime import date, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.models import AgreementVersion
from agreements.selectors import open_draft
from kpis import services
from kpis.drilldown import figure_leads
from kpis.models import ActionItem, ReviewMeeting
from kpis.periods import Month
from kpis.rollups import rollup_backfill
from leads.models import Lead
from leads.services.handoffs import handoff_manual
from slaportal.roles import Role
from tests.cache import cache_clear
from tests.factories import UserFactory

from .conftest import arrive, at

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 20, 12, tzinfo=SP)
OCT, SEP, NOV, DEC = Month(2026, 10), Month(2026, 9), Month(2026, 11), Month(2026, 12)
READERS = ["marketing_manager", "sales_manager", "sales_rep", "viewer"]
MANAGERS = ["marketing_manager", "sales_manager"]
# The review reads its month, the month before, the trends, the meeting and the SLA in force
# in a fixed number of queries; more leads, reps or action items must not add any. Most of
# them are the KPI engine's (each of its helpers looks the version in force up again), so a
# cache there lowers this pin.
MAX_PAGE_QUERIES = 76


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def as_user(client_for, request):
    def make(name):
        return client_for(None if name == "anonymous" else request.getfixturevalue(name))

    return make


class Tables(HTMLParser):
    """Rows of every table with an id: each cell's text and the links inside it."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[tuple[str, str]] = []
        self._table = None
        self._cell = None
        self._href = None
        self._link_text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = ""
        elif tag == "a" and attrs.get("href"):
            self._href, self._link_text = attrs["href"], ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "a" and self._href:
            self.links.append((self._href, " ".join(self._link_text.split())))
            self._href = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._href:
            self._link_text += data

    def body(self, table_id: str) -> list[list[str]]:
        return [row for row in self.tables[table_id][1:] if row]


def page(client, url="/review/2026-10/") -> Tables:
    response = client.get(url)
    assert response.status_code == 200
    return Tables(response.content.decode())


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="review-chart-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match[1])


# The month ---------------------------------------------------------------------------------


def test_the_review_opens_on_the_last_closed_month_of_the_slas_time_zone(october, as_user):
    client = as_user("viewer")
    assert client.get("/review/")["Location"] == "/review/2026-10/"
    # 22:00 on 30 November in São Paulo is already December in UTC: November is still open.
    with time_machine.travel(datetime(2026, 12, 1, 1, tzinfo=ZoneInfo("UTC")), tick=False):
        assert client.get("/review/")["Location"] == "/review/2026-10/"


def test_without_an_sla_the_page_shows_the_pipeline_and_keeps_no_record(
    viewer, marketing_manager, as_user
):
    html = page(as_user("viewer"), "/review/2026-10/")
    assert html.body("kpis-table") == [["The SLA in force has no KPIs."]]
    response = as_user("marketing_manager").post(
        "/review/2026-10/notes/", {"notes": "x"}, follow=True
    )
    assert "There is no SLA yet" in response.content.decode()
    assert not ReviewMeeting.objects.exists()


def test_the_month_picker_goes_to_the_month_chosen(october, as_user):
    assert as_user("viewer").get("/review/?month=2026-10")["Location"] == "/review/2026-10/"


@pytest.mark.parametrize(
    "text,reason",
    [
        ("2026-13", "the month must be 01 to 12"),
        ("2026-00", "the month must be 01 to 12"),
        ("26-11", "use YYYY-MM"),
        ("1999-12", "out of range"),
        ("october", "use YYYY-MM"),
    ],
)
def test_a_malformed_or_impossible_month_goes_to_the_last_closed_month_with_the_reason(
    october, as_user, text, reason
):
    client = as_user("viewer")
    for url in (f"/review/{text}/", f"/review/?month={text}"):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == "/review/2026-10/"
        assert reason in response.content.decode()


@pytest.mark.parametrize("path", ["pack.pdf", "funnel.csv", "leads/breached/"])
def test_the_exports_and_figures_of_an_impossible_month_are_not_found(october, as_user, path):
    assert as_user("viewer").get(f"/review/2026-13/{path}").status_code == 404
    assert (
        as_user("marketing_manager").post("/review/2026-13/notes/", {"notes": "x"}).status_code
        == 404
    )


# The figures -------------------------------------------------------------------------------


def test_october_shows_the_hand_computed_figures(october, as_user, rep):
    response = as_user("viewer").get("/review/2026-10/")
    tables = Tables(response.content.decode())
    assert tables.body("funnel-table") == [
        ["Visitors", "1,000", "—", "—"],
        ["Leads", "5", "500", "0.5%"],
        ["MQLs", "3", "100", "60%"],
        ["SQLs", "1", "40", "33.3%"],
        ["Opportunities", "0", "20", "0%"],
        ["Won", "0", "5", "—"],
    ]
    assert tables.body("source-table") == [
        ["website", "4", "2", "1", "0", "0", "50%"],
        ["webinar", "1", "1", "0", "0", "0", "100%"],
    ]
    assert tables.body("segment-table") == [["Size unknown", "5", "3", "1", "0", "0", "60%"]]
    assert tables.body("cohorts-table")[-1][:3] == ["October 2026", "5", ""]
    assert tables.body("kpis-table") == [
        ["SLA compliance", "Sales", "90%", "50%", "Off track", "—"],
        ["Speed to lead (business hours)", "Sales", "2.0 h", "3.0 h", "At risk", "—"],
    ]
    (goal,) = tables.body("goals-table")
    # As it stood on 31 October: 3 of 60 MQLs after 31 of the quarter's 92 days.
    assert goal == [
        "60 MQLs in Q4",
        "Shared",
        "60 MQLs",
        "3 MQLs",
        "Off track",
        "pace 15% of plan, forecast 9 by 31 Dec 2026",
    ]
    assert tables.body("reps-table") == [["Rita Souza", "3", "2", "1", "50%", "1", "2"]]
    assert tables.body("breaches-table") == [
        ["l2@x.com", "Rita Souza", "6 Oct 10:00", "6 Oct 14:00", "6 Oct 15:00", "1 h late"]
    ]
    assert tables.body("reasons-table") == [["Rejected", "Bad fit", "1"]]
    marketing = {row[0]: row[1:] for row in tables.body("marketing-summary")}
    assert marketing["MQLs delivered"] == ["100 a month (funnel plan)", "3"]
    assert marketing["Lead → MQL conversion"] == ["20% (funnel plan)", "60%"]
    assert marketing["MQL acceptance rate"][1] == "50%"
    assert marketing["Rejected: Bad fit"][1] == "1"
    sales = {row[0]: row[1:] for row in tables.body("sales-summary")}
    assert sales["First touch"] == ["within 4 business h", "1 of 2 windows met"]
    assert sales["SLA compliance"] == ["90% (KPI target)", "50%"]
    assert sales["Speed to lead, median"][1] == "3.0 h"
    assert sales["Speed to lead, 90th percentile"][1] == "5.0 h"
    assert sales["Breaches"] == ["0", "1"]

    hrefs = {href for href, _ in tables.links}
    assert {
        "/review/2026-10/leads/leads_created/",
        f"/review/2026-10/leads/breached/?rep={rep.pk}",
        "/review/2026-10/leads/rejected/?key=bad_fit",
    } <= hrefs
    l2 = figure_leads(OCT, "breached").get()
    assert f"/leads/{l2.pk}/" in hrefs

    charts = chart_data(response)
    assert charts["funnel"]["counts"] == [5, 3, 1, 0, 0]
    assert charts["trends"]["leads"][-2:] == [1, 5]  # September's 23:30 lead, then October
    assert charts["trends"]["compliance"][-1] == 50.0
    assert charts["reps"] == {
        "labels": ["Rita Souza"],
        "compliance": [50.0],
        "breaches": [1],
        "links": [f"/review/2026-10/leads/windows_closed/?rep={rep.pk}"],
    }
    assert charts["reasons"] == {"labels": ["Bad fit"], "rejected": [1], "returned": [0]}


def test_a_month_without_data_renders_with_empty_charts(october, as_user):
    response = as_user("viewer").get("/review/2027-03/")
    assert response.status_code == 200
    charts = chart_data(response)
    assert charts["funnel"]["counts"] == [0, 0, 0, 0, 0]
    assert charts["reps"]["labels"] == [] and charts["reasons"]["labels"] == []
    assert "No handoff breached its first-touch target this month." in response.content.decode()


def test_every_figure_on_the_page_lists_exactly_the_leads_it_counts(october, as_user):
    client = as_user("viewer")
    figure_links = {
        (href, text)
        for href, text in page(client).links
        if href.startswith("/review/2026-10/leads/")
    }
    assert len({href for href, _ in figure_links}) >= 10
    for href, text in sorted(figure_links):
        url = urlsplit(href)
        figure = url.path.split("/")[-2]
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        expected = [
            lead.email
            for lead in figure_leads(
                OCT,
                figure,
                rep_id=query.get("rep"),
                source=query.get("source"),
                key=query.get("key"),
            )
        ]
        listed = [
            row[0]
            for row in page(client, href).body("figure-leads")
            if row[0] != "No lead behind this figure."
        ]
        assert listed == expected, href
        if text.isdigit():  # a count on the review is the length of its list
            assert int(text) == len(expected), href


@pytest.mark.parametrize(
    "language,decision,label",
    [
        ("en", "Returned", "No progress within the cadence"),
        ("pt-br", "Devolvido", "Sem avanço dentro da cadência"),
    ],
)
def test_a_lead_the_cadence_returned_is_counted_under_the_cadences_reason_in_the_readers_language(
    october, as_user, language, decision, label
):
    """The cadence returns leads with its own codes, which no version lists as a return
    reason; the review names them as the lead page does, never as a raw code."""
    from leads.models import Handoff
    from leads.services.handoffs import handoff_return

    handoff = Handoff.objects.get(lead__email="l2@x.com")
    handoff_return(handoff=handoff, reason="no_progress", job="apply_cadence", now=at(20, 10))
    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 10, 31))
    client = as_user("viewer")
    tables = Tables(client.get("/review/2026-10/", HTTP_ACCEPT_LANGUAGE=language).content.decode())
    assert [decision, label, "1"] in tables.body("reasons-table")
    html = client.get(
        "/review/2026-10/leads/returned/?key=no_progress", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert label in html and "l2@x.com" in html


def test_a_figure_page_says_which_figure_and_how_many(october, as_user, rep):
    client = as_user("viewer")
    html = client.get("/review/2026-10/leads/leads_created/").content.decode()
    assert "Leads created in October 2026: 5 leads" in html
    assert 'href="/leads/' in html
    html = client.get(f"/review/2026-10/leads/breached/?rep={rep.pk}").content.decode()
    assert "Handoffs breached in October 2026: 1 lead" in html
    assert "Only rep Rita Souza" in html
    html = client.get("/review/2026-10/leads/rejected/?key=bad_fit").content.decode()
    assert "reason Bad fit" in html and "l3@x.com" in html


def test_a_lead_handed_off_twice_is_listed_once_and_the_handoffs_are_counted(
    october, as_user, sales_manager
):
    l3 = Lead.objects.get(email="l3@x.com")  # rejected on 7 October
    handoff_manual(lead=l3, version=october, by=sales_manager, now=at(9, 10))
    rollup_backfill(since=date(2026, 10, 9), until=date(2026, 10, 9))
    tables = page(as_user("viewer"))
    assert ["Rita Souza", "4"] == tables.body("reps-table")[0][:2]
    html = as_user("viewer").get("/review/2026-10/leads/handoffs/").content.decode()
    assert "Leads handed to sales in October 2026: 3 leads" in html
    assert "The review counts 4 handoffs" in html


def test_a_rep_sees_only_their_own_leads_behind_a_figure(october, as_user, rep):
    response = as_user("sales_rep").get("/review/2026-10/leads/leads_created/")
    listed = [row[0] for row in Tables(response.content.decode()).body("figure-leads")]
    owned = [lead.email for lead in figure_leads(OCT, "leads_created") if lead.owner_id == rep.pk]
    assert listed == owned == ["l1@x.com", "l2@x.com"]  # l3 went back to marketing
    assert "5 leads" in response.content.decode()
    assert "you see the 2 of them that are yours" in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/review/2026-10/leads/nope/", "/review/2026-10/leads/breached/?rep=rita"]
)
def test_an_unknown_figure_or_filter_is_not_found(october, as_user, url):
    assert as_user("viewer").get(url).status_code == 404


# Who reads and who writes -------------------------------------------------------------------

READ_URLS = [
    "/review/2026-10/",
    "/review/2026-10/leads/leads_created/",
    "/review/2026-10/funnel.csv",
    "/review/2026-10/pack.pdf",
]


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("url", READ_URLS)
def test_every_role_reads_the_review(october, as_user, who, url):
    assert as_user(who).get(url).status_code == 200


@pytest.mark.parametrize("url", ["/review/", *READ_URLS])
def test_a_user_without_a_role_is_refused_and_a_visitor_logs_in(october, as_user, url):
    assert as_user("no_role_user").get(url).status_code == 403
    response = as_user("anonymous").get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.fixture
def open_item(october, agreement, marketing_manager, rep):
    return services.action_item_create(
        agreement=agreement,
        month=SEP,
        text="Fix the web form",
        owner=rep,
        due_date=date(2026, 12, 15),
        by=marketing_manager,
    )


def write_requests(rep, item):
    return {
        "notes": (
            "/review/2026-10/notes/",
            {"notes": "Rita will call within the hour."},
            lambda: ReviewMeeting.objects.filter(notes__startswith="Rita").exists(),
        ),
        "action": (
            "/review/2026-10/actions/",
            {"text": "Coach Rita", "owner": rep.pk, "due_date": "2026-12-01"},
            lambda: ActionItem.objects.filter(text="Coach Rita").exists(),
        ),
        "done": (
            f"/review/2026-10/actions/{item.pk}/done/",
            {"done": "1"},
            lambda: ActionItem.objects.get(pk=item.pk).done_at is not None,
        ),
        "propose": (
            "/review/2026-10/propose/",
            {"note": "Six hours for first touch"},
            lambda: AgreementVersion.objects.filter(status="draft").exists(),
        ),
    }


@pytest.mark.parametrize("action", ["notes", "action", "done", "propose"])
@pytest.mark.parametrize("who", MANAGERS)
def test_managers_write_notes_actions_and_proposals(open_item, as_user, rep, who, action):
    url, data, stored = write_requests(rep, open_item)[action]
    response = as_user(who).post(url, data)
    assert response.status_code == 302
    assert stored()


@pytest.mark.parametrize("action", ["notes", "action", "done", "propose"])
@pytest.mark.parametrize(
    "who,status", [("sales_rep", 403), ("viewer", 403), ("no_role_user", 403), ("anonymous", 302)]
)
def test_readers_cannot_write(open_item, as_user, rep, who, status, action):
    url, data, stored = write_requests(rep, open_item)[action]
    response = as_user(who).post(url, data)
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    assert not stored()


def test_a_get_on_a_write_url_is_not_allowed(october, as_user):
    assert as_user("marketing_manager").get("/review/2026-10/notes/").status_code == 405


# The meeting -------------------------------------------------------------------------------


def test_notes_are_saved_per_month_and_shown_to_readers(october, as_user, marketing_manager):
    manager = as_user("marketing_manager")
    manager.post("/review/2026-10/notes/", {"notes": "First draft"})
    response = manager.post("/review/2026-10/notes/", {"notes": "  Compliance fell: coach.  "})
    assert response["Location"] == "/review/2026-10/#meeting"
    (meeting,) = ReviewMeeting.objects.all()
    assert (meeting.month, meeting.notes, meeting.updated_by) == (
        date(2026, 10, 1),
        "Compliance fell: coach.",
        marketing_manager,
    )
    viewer = as_user("viewer")
    assert "Compliance fell: coach." in viewer.get("/review/2026-10/").content.decode()
    assert "Compliance fell" not in viewer.get("/review/2026-11/").content.decode()


def actions(client, month: str) -> dict[str, list[str]]:
    rows = page(client, f"/review/{month}/").body("actions-table")
    return {row[0]: row[1:] for row in rows if len(row) > 1}


def action_row_classes(client, month: str) -> dict[int, str]:
    html = client.get(f"/review/{month}/").content.decode()
    return {
        int(pk): classes
        for pk, classes in re.findall(r'<tr id="action-(\d+)" class="([^"]*)"', html)
    }


def test_open_action_items_carry_over_until_done(october, as_user, rep):
    manager, viewer = as_user("sales_manager"), as_user("viewer")
    manager.post(
        "/review/2026-09/actions/",
        {"text": "Fix the web form", "owner": rep.pk, "due_date": "2026-12-15"},
    )
    manager.post(
        "/review/2026-11/actions/",
        {"text": "Add a webinar source", "owner": rep.pk, "due_date": "2026-12-20"},
    )
    item = ActionItem.objects.get(text="Fix the web form")
    assert item.month == date(2026, 9, 1)

    assert list(actions(viewer, "2026-09")) == ["Fix the web form"]
    october_row = actions(viewer, "2026-10")
    assert list(october_row) == ["Fix the web form from September 2026"]
    assert october_row["Fix the web form from September 2026"][:3] == [
        "Rita Souza",
        "15 Dec 2026",
        "open",
    ]
    assert set(actions(viewer, "2026-11")) == {
        "Fix the web form from September 2026",
        "Add a webinar source",
    }

    manager.post(f"/review/2026-11/actions/{item.pk}/done/", {"done": "1"})
    assert "action-done" in action_row_classes(viewer, "2026-11")[item.pk]
    assert actions(viewer, "2026-11")["Fix the web form from September 2026"][2] == "done 20 Nov"
    assert list(actions(viewer, "2026-12")) == ["Add a webinar source from November 2026"]

    manager.post(f"/review/2026-12/actions/{item.pk}/done/", {"done": "0"})
    assert "Fix the web form from September 2026" in actions(viewer, "2026-12")


def test_ticking_an_item_with_htmx_returns_its_row(open_item, as_user):
    response = as_user("marketing_manager").post(
        f"/review/2026-10/actions/{open_item.pk}/done/", {"done": "1"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.startswith(f'<tr id="action-{open_item.pk}" class="action-item action-done"')
    assert "Reopen" in html and "<s>Fix the web form</s>" in html


@pytest.mark.parametrize(
    "data,error",
    [
        ({"text": ""}, "Say what has to be done."),
        ({"text": "   "}, "Say what has to be done."),
        ({"due_date": "30/11/2026"}, "Enter the due date as YYYY-MM-DD"),
        ({"due_date": "2026-11-19"}, "The due date has passed: choose 2026-11-20 or later."),
        ({"owner": ""}, "This field is required."),
        ({"owner": "no_role_user"}, "Select a valid choice."),
        ({"text": "x" * 301}, "at most 300 characters"),
    ],
)
def test_a_bad_action_item_shows_the_error_and_stores_nothing(
    october, as_user, rep, no_role_user, data, error
):
    form = {"text": "Coach Rita", "owner": rep.pk, "due_date": "2026-12-01"} | data
    if form["owner"] == "no_role_user":
        form["owner"] = no_role_user.pk
    response = as_user("marketing_manager").post("/review/2026-10/actions/", form)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ActionItem.objects.exists()


def test_proposing_a_change_opens_a_draft_with_the_note(october, agreement, as_user):
    response = as_user("sales_manager").post(
        "/review/2026-10/propose/", {"note": "Raise the first-touch target to 6 hours"}
    )
    draft = open_draft(agreement=agreement)
    assert response["Location"].startswith(draft.get_absolute_url() + "#thread-")
    assert draft.status == AgreementVersion.Status.DRAFT and draft.based_on == october
    assert draft.change_note == (
        "From the October 2026 review: Raise the first-touch target to 6 hours"
    )


def test_proposing_without_a_note_is_refused(october, agreement, as_user):
    response = as_user("sales_manager").post("/review/2026-10/propose/", {"note": "  "})
    assert response.status_code == 200
    assert "Describe the change you propose." in response.content.decode()
    assert open_draft(agreement=agreement) is None


# Out of the app ----------------------------------------------------------------------------


def download(client, name: str) -> list[list[str]]:
    response = client.get(f"/review/2026-10/{name}.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="review-2026-10-{name}.csv"'
    # The byte-order mark makes Excel read the file as UTF-8.
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_export_menu_offers_every_csv_the_review_has_under_its_title(
    october, as_user, marketing_manager
):
    client = as_user("viewer")
    page = client.get("/review/2026-10/").content.decode()
    offered = re.findall(r'href="/review/2026-10/([a-z]+)\.csv">([^<]+)</a>', page)
    # The menu's titles come without building the tables; the tables bear the same ones.
    from kpis.exports import csv_tables
    from kpis.views import _load_review

    review, _ = _load_review(Month(2026, 10), now=at(2, 9, month=11), user=marketing_manager)
    assert offered == [(name, table.title) for name, table in csv_tables(review).items()]
    for name, _title in offered:
        assert client.get(f"/review/2026-10/{name}.csv").status_code == 200


def test_every_table_downloads_as_csv_with_a_header(october, as_user, rep):
    client = as_user("viewer")
    services.action_item_create(
        agreement=october.agreement,
        month=OCT,
        text="Coach Rita",
        owner=rep,
        due_date=date(2026, 12, 1),
        by=rep,
    )
    assert download(client, "funnel") == [
        ["stage", "label", "count", "planned_per_month", "conversion_from_previous"],
        ["visitor", "Visitors", "1000", "", ""],
        ["lead", "Leads", "5", "500.0", "0.005"],
        ["mql", "MQLs", "3", "100.0", "0.6"],
        ["sql", "SQLs", "1", "40.0", "0.333333333333"],
        ["opportunity", "Opportunities", "0", "20.0", "0.0"],
        ["customer", "Won", "0", "5.0", ""],
    ]
    assert download(client, "sources")[0] == [
        "source",
        "leads",
        "mqls",
        "sqls",
        "opportunities",
        "won",
    ]
    assert download(client, "reps") == [
        [
            "rep_id",
            "rep",
            "handoffs",
            "windows_closed",
            "windows_met",
            "compliance",
            "breached",
            "attempts",
        ],
        [str(rep.pk), "Rita Souza", "3", "2", "1", "0.5", "1", "2"],
    ]
    (handoff_id, lead_id, *breach) = download(client, "breaches")[1]
    assert breach == [
        "l2@x.com",
        str(rep.pk),
        "Rita Souza",
        "2026-10-06T10:00:00-03:00",
        "2026-10-06T14:00:00-03:00",
        "2026-10-06T15:00:00-03:00",
        "60.0",
        "touched_late",
    ]
    assert download(client, "reasons") == [
        ["decision", "reason", "label", "leads"],
        ["rejected", "bad_fit", "Bad fit", "1"],
    ]
    assert download(client, "actions") == [
        ["action", "owner", "due_date", "agreed_in", "status", "done_at"],
        ["Coach Rita", "Rita Souza", "2026-12-01", "2026-10", "open", ""],
    ]
    scorecard = download(client, "scorecard")
    assert scorecard[0][:8] == [
        "kind",
        "metric",
        "name",
        "owner",
        "unit",
        "target",
        "actual",
        "status",
    ]
    assert scorecard[2][:8] == [
        "kpi",
        "sla_compliance",
        "SLA compliance",
        "Sales",
        "fraction",
        "0.9",
        "0.5",
        "red",
    ]
    summary = download(client, "summary")
    assert ["sales", "Breaches", "1", "count", "", "0", "count", "handoff_policy"] in summary
    trends = download(client, "trends")
    assert trends[0] == ["month", "leads", "mqls", "sqls", "breaches", "compliance"]
    assert trends[-1] == ["2026-10", "5", "3", "1", "1", "0.5"] and len(trends) == 13


def test_an_unknown_table_is_not_found(october, as_user):
    assert as_user("viewer").get("/review/2026-10/nope.csv").status_code == 404


def test_the_review_pack_is_a_pdf(october, as_user, rep):
    services.review_notes_save(
        agreement=october.agreement, month=OCT, by=rep, notes="Compliance → 90% by December"
    )
    response = as_user("viewer").get("/review/2026-10/pack.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="review-2026-10-pack.pdf"'
    assert response.content.startswith(b"%PDF")


# Fast as data grows --------------------------------------------------------------------------


def test_the_page_reads_a_fixed_number_of_queries(
    october, as_user, agreement, rep, django_assert_max_num_queries
):
    client = as_user("marketing_manager")
    with django_assert_max_num_queries(MAX_PAGE_QUERIES):
        client.get("/review/2026-10/")
    # Counted with the month's report built afresh (the most the page reads) and cached.
    cache_clear()
    with CaptureQueriesContext(connection) as before:
        client.get("/review/2026-10/")
    with CaptureQueriesContext(connection) as before_cached:
        client.get("/review/2026-10/")

    # More of everything the page lists: a second rep with handoffs, more leads and items.
    UserFactory(username="rui", first_name="Rui", role=Role.SALES_REP)
    for n in range(4):
        arrive(f"more{n}@x.com", at(12 + n, 10))
    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 10, 31))
    for n, owner in enumerate(UserFactory(role=Role.VIEWER) for _ in range(3)):
        services.action_item_create(
            agreement=agreement,
            month=Month(2026, 8 + n),
            text=f"Item {n}",
            owner=owner,
            due_date=date(2026, 12, 1),
            by=rep,
        )
    # The backfill restamped October: the first read builds the report again. The cache is
    # emptied as before, so both counts include the reads it saves (the workspace, the SLA
    # in force).
    cache_clear()
    with CaptureQueriesContext(connection) as after:
        response = client.get("/review/2026-10/")
    with CaptureQueriesContext(connection) as after_cached:
        client.get("/review/2026-10/")
    assert len(response.context["report"].by_rep) == 2
    assert len(response.context["review"].action_items) == 3
    assert len(after.captured_queries) == len(before.captured_queries)
    assert len(after_cached.captured_queries) == len(before_cached.captured_queries)
    assert len(after_cached.captured_queries) < len(after.captured_queries)


def test_a_segment_figure_lists_its_leads_and_an_unknown_segment_is_404(october, as_user):
    client = as_user("viewer")
    page = client.get("/review/2026-10/leads/leads_created/?segment=unknown").content.decode()
    assert page.count("@x.com") >= 5 and "segment Size unknown" in page
    assert client.get("/review/2026-10/leads/leads_created/?segment=huge").status_code == 404
