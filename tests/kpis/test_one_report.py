"""One answer per question: the review page, its CSVs and PDF and GET /api/v1/kpis/ read the
same report of a month, as of its end once it has ended and so far while it runs (issue 8,
items 2, 5, 10 and 11).

The clock stands at 20 November 2026, noon in São Paulo.
"""

import csv
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.renderers import JSONRenderer

from agreements.models import CadenceStep
from kpis import exports
from kpis.api import MonthReportSerializer
from kpis.rollups import rollup_backfill

from .conftest import arrive, at

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 20, 12, tzinfo=SP)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def as_user(client_for, request):
    return lambda name: client_for(request.getfixturevalue(name))


@pytest.fixture
def past_due_since(october):
    """What made the API and the page disagree for a closed month: a cadence step that fell due
    after October ended, and a November MQL that counts toward the Q4 goal only after it."""
    CadenceStep.objects.create(
        version=october, channel="phone", offset=2, offset_unit="business_days", position=0
    )
    arrive("late@x.com", at(30, 16))  # handed off on Friday 30 Oct; the step falls due 3 Nov
    arrive("nov@x.com", at(10, 10, month=11))
    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 11, 20))
    return october


def api_report(client, month: str) -> dict:
    response = client.get(f"/api/v1/kpis/?month={month}")
    assert response.status_code == 200, response.content
    return response.json()


def page_report(client, month: str) -> dict:
    """The page's report, in the API's representation: every figure, compared whole."""
    response = client.get(f"/review/{month}/")
    assert response.status_code == 200
    data = MonthReportSerializer(response.context["report"]).data
    return json.loads(JSONRenderer().render(data))


@pytest.mark.parametrize(
    ("month", "partial"),
    [("2026-10", False), ("2026-11", True), ("2026-08", False)],
    ids=["closed", "current", "empty"],
)
def test_the_api_and_the_page_give_every_figure_the_same(past_due_since, as_user, month, partial):
    client = as_user("sales_manager")
    api, page = api_report(client, month), page_report(client, month)
    assert api == page
    assert api["partial"] is partial


def test_a_closed_month_is_measured_at_its_end_not_now(past_due_since, as_user):
    api = api_report(as_user("viewer"), "2026-10")
    as_of = datetime.fromisoformat(api["as_of"])
    assert as_of == datetime(2026, 10, 31, 23, 59, 59, 999999, tzinfo=SP)
    # late@x.com owed no attempt yet when October ended; measured now it would owe one.
    assert api["cadence_met_share"] == 1.0
    (goal,) = api["goals"]
    assert goal["actual"] == 4  # three October MQLs and late@x.com; not November's


def test_the_csvs_carry_the_same_figures_as_the_api(past_due_since, as_user):
    client = as_user("viewer")
    api = api_report(client, "2026-10")
    summary = {row["measure"]: row for row in download(client, "2026-10", "summary")}
    assert float(summary["SLA compliance"]["actual"]) == api["sla_compliance"]
    assert float(summary["Handoffs that kept the cadence"]["actual"]) == api["cadence_met_share"]
    funnel = download(client, "2026-10", "funnel")
    assert [int(row["count"]) for row in funnel] == [step["count"] for step in api["funnel"]]
    velocity = {row["stage"]: row for row in download(client, "2026-10", "velocity")}
    assert float(velocity["mql"]["median_days"]) == api["velocity_days"]["mql"]["median"]


# Velocity ------------------------------------------------------------------------------------


def test_velocity_is_in_the_api_the_page_the_csv_and_the_pdf(october, as_user, monkeypatch):
    client = as_user("viewer")
    velocity = api_report(client, "2026-10")["velocity_days"]
    assert set(velocity) == {"lead", "mql", "sql", "opportunity"}
    assert velocity["mql"] == {"median": pytest.approx(2 / 24), "p90": pytest.approx(2 / 24)}
    assert velocity["opportunity"] == {"median": None, "p90": None}

    page = client.get("/review/2026-10/").content.decode()
    assert 'id="velocity-table"' in page and "MQL → SQL" in page

    rows = download(client, "2026-10", "velocity")
    assert rows[1] == {
        "stage": "mql",
        "label": "MQL → SQL",
        "median_days": str(2 / 24),
        "p90_days": str(2 / 24),
    }
    assert rows[3]["median_days"] == ""  # no lead left "opportunity": no value, not "—"

    seen = spy_pdf(monkeypatch)
    assert client.get("/review/2026-10/pack.pdf").content.startswith(b"%PDF")
    assert "velocity" in seen["tables"]


# The month the review opens on ---------------------------------------------------------------


def test_the_review_opens_on_the_last_closed_month(october, as_user):
    client = as_user("viewer")
    assert client.get("/review/")["Location"] == "/review/2026-10/"
    # 22:00 on 30 November in São Paulo is already December in UTC: November is still open.
    with time_machine.travel(datetime(2026, 12, 1, 1, tzinfo=ZoneInfo("UTC")), tick=False):
        assert client.get("/review/")["Location"] == "/review/2026-10/"
    with time_machine.travel(datetime(2026, 12, 1, 0, 1, tzinfo=SP), tick=False):
        assert client.get("/review/")["Location"] == "/review/2026-11/"


def test_this_month_so_far_is_one_click_away_and_labelled_partial(october, as_user):
    client = as_user("viewer")
    closed = client.get("/review/2026-10/")
    assert closed.context["is_partial"] is False
    html = closed.content.decode()
    assert 'id="partial-month"' not in html
    assert 'href="/review/2026-11/" id="this-month-so-far">This month so far (partial)' in html

    running = client.get("/review/2026-11/")
    assert running.context["is_partial"] is True
    html = running.content.decode()
    assert 'id="partial-month"' in html and "figures so far, as of 20 Nov 2026 12:00" in html
    assert 'href="/review/2026-10/">Last closed month (October 2026)' in html


# CSVs a spreadsheet can add up ---------------------------------------------------------------


def download(client, month: str, name: str) -> list[dict]:
    response = client.get(f"/review/{month}/{name}.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel opens it as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


FORMATTED = ("US$", "R$", "%", " MQLs", "On track", "Off track", "—", " h", " pp")


@pytest.mark.parametrize("table", ["scorecard", "summary", "funnel", "reps", "trends", "reasons"])
def test_csv_cells_are_raw_values(october, as_user, table):
    rows = download(as_user("viewer"), "2026-10", table)
    assert rows
    numeric = {
        "scorecard": ["target", "actual", "previous_month", "change", "pace", "forecast"],
        "summary": ["actual", "out_of", "promised"],
        "funnel": ["count", "planned_per_month", "conversion_from_previous"],
        "reps": ["handoffs", "windows_closed", "windows_met", "compliance", "breached"],
        "trends": ["leads", "mqls", "sqls", "breaches", "compliance"],
        "reasons": ["leads"],
    }[table]
    for row in rows:
        for column in numeric:
            if row[column] != "":
                float(row[column])  # a number, not "60%" or "US$ 1,000"
        for column, cell in row.items():
            if column not in ("measure", "label", "name"):
                assert not any(mark in cell for mark in FORMATTED), (column, cell)


def test_csv_rates_are_fractions_dates_iso_and_statuses_codes(october, as_user):
    client = as_user("viewer")
    scorecard = {row["metric"]: row for row in download(client, "2026-10", "scorecard")}
    compliance = scorecard["sla_compliance"]
    assert (compliance["unit"], compliance["target"], compliance["actual"]) == (
        "fraction",
        "0.9",
        "0.5",
    )
    assert compliance["status"] == "red"
    goal = scorecard["mqls"]
    assert (goal["kind"], goal["unit"], goal["actual"], goal["target"]) == (
        "goal",
        "MQLs",
        "3.0",
        "60.0",
    )
    assert float(goal["pace"]) > 0 and float(goal["forecast"]) > 0
    funnel = {row["stage"]: row for row in download(client, "2026-10", "funnel")}
    assert funnel["mql"]["conversion_from_previous"] == "0.6"
    (breach,) = download(client, "2026-10", "breaches")
    assert breach["due_at"] == "2026-10-06T14:00:00-03:00"
    assert breach["late_business_minutes"] == "60.0" and breach["state"] == "touched_late"
    trends = download(client, "2026-10", "trends")
    assert trends[-1] == {
        "month": "2026-10",
        "leads": "5",
        "mqls": "3",
        "sqls": "1",
        "breaches": "1",
        "compliance": "0.5",
    }


def test_csv_cells_that_would_run_as_formulas_are_escaped(october, as_user, rep):
    from kpis import services

    arrive("evil@x.com", at(9, 10), source='=HYPERLINK("http://evil.example","x")')
    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 10, 31))
    services.action_item_create(
        agreement=october.agreement,
        month=october_month(),
        text="=cmd|' /C calc'!A0",
        owner=rep,
        due_date=date(2026, 12, 1),
        by=rep,
    )
    client = as_user("viewer")
    sources = {row["source"] for row in download(client, "2026-10", "sources")}
    assert '\'=HYPERLINK("http://evil.example","x")' in sources
    assert not any(source.startswith("=") for source in sources)
    (action,) = download(client, "2026-10", "actions")
    assert action["action"] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (-0.25, "-0.25"),
        (3, "3"),
        (None, ""),
    ],
)
def test_every_cell_goes_through_the_formula_guard(cell, written):
    text = exports.table_csv(exports.Table("t", ["a"], [[cell]]))
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["a"], [written]]


def october_month():
    from kpis.periods import Month

    return Month(2026, 10)


def spy_pdf(monkeypatch) -> dict:
    """The review the PDF is rendered from, and the tables it prints."""
    seen: dict = {}
    render = exports.review_pdf

    def spy(review):
        seen["review"] = review
        seen["tables"] = exports.tables(review)
        return render(review)

    monkeypatch.setattr(exports, "review_pdf", spy)
    return seen
