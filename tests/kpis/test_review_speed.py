"""The review at any size (issue 9): the page and GET /api/v1/kpis/ read only the rollups, in a
number of queries that does not grow with the leads, and a month's report is cached until a
rollup it was built from is rewritten.

The clock stands at 20 November 2026, noon in São Paulo.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis.models import DailyFigure, DailyValue, RollupStamp
from kpis.periods import Month
from kpis.rollups import rollup_backfill, rollup_day, rollup_range
from kpis.selectors import month_report
from kpis.visitors import VisitorRow, visitor_counts_upsert
from leads.models import Lead
from tests.cache import cache_clear

from .conftest import at

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 20, 12, tzinfo=SP)
OCT = Month(2026, 10)
# The most either reads with nothing cached; a page or API call that reads leads or events
# per month, stage or lead would pass it at once.
MAX_API_QUERIES = 40


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def grow(count: int, month: int = 10) -> None:
    """`count` more leads created that month, some reaching MQL and SQL, then rolled up."""
    for n in range(count):
        created = at(1 + n % 27, 9, month=month)
        Lead.objects.create(
            email=f"grown{month}-{n}@x.com",
            source=["website", "webinar", "partner"][n % 3],
            company_size=[None, 10, 200, 5000][n % 4],
            created_at=created,
            updated_at=created,
            mql_at=created + timedelta(hours=5) if n % 2 else None,
            sql_at=created + timedelta(days=1) if n % 4 == 1 else None,
        )
    rollup_backfill(since=Month(2026, month).first_day, until=NOW.date())


def counted(call) -> tuple[int, int]:
    """Queries of a call with nothing cached, then of the same call again."""
    cache_clear()
    with CaptureQueriesContext(connection) as cold:
        call()
    with CaptureQueriesContext(connection) as warm:
        call()
    return len(cold.captured_queries), len(warm.captured_queries)


def api_get(client, month: str):
    def call():
        response = client.get(f"/api/v1/kpis/?month={month}")
        assert response.status_code == 200, response.content

    return call


def page_get(client, month: str):
    def call():
        assert client.get(f"/review/{month}/").status_code == 200

    return call


@pytest.mark.parametrize("month", ["2026-10", "2026-11"], ids=["closed", "current"])
def test_the_kpi_api_reads_as_many_queries_for_50_leads_as_for_5(
    october, client_for, viewer, month
):
    client = client_for(viewer)
    small = counted(api_get(client, month))
    grow(45, month=int(month[-2:]))
    large = counted(api_get(client, month))
    assert large == small
    assert small[0] <= MAX_API_QUERIES


@pytest.mark.parametrize("month", ["2026-10", "2026-11"], ids=["closed", "current"])
def test_the_review_page_reads_as_many_queries_for_50_leads_as_for_5(
    october, client_for, marketing_manager, month
):
    client = client_for(marketing_manager)
    small = counted(page_get(client, month))
    grow(45, month=int(month[-2:]))
    large = counted(page_get(client, month))
    assert large == small


def test_a_closed_months_report_is_read_from_the_cache(october, client_for, viewer):
    cold, warm = counted(api_get(client_for(viewer), "2026-10"))
    assert warm < cold


def test_the_running_month_moves_with_every_rollup_and_is_judged_now(october):
    november = Month(2026, 11)
    report = month_report(month=november)
    assert report.partial and report.judged_at == NOW
    grow(3, month=11)
    assert month_report(month=november).funnel[1].count == report.funnel[1].count + 3
    # Read again later the same day: the same figures, as of the new instant.
    later = NOW + timedelta(hours=2)
    again = month_report(month=november, now=later)
    assert again.judged_at == later
    assert again.funnel[1].count == report.funnel[1].count + 3


def test_rewriting_a_months_rollups_invalidates_its_cached_report(october):
    assert month_report(month=OCT).funnel[1].count == 5
    Lead.objects.create(
        email="late-import@x.com",
        source="website",
        created_at=at(12, 9),
        updated_at=at(12, 9),
    )
    # Until the day is rolled up again the review shows what the rollups hold.
    assert month_report(month=OCT).funnel[1].count == 5
    rollup_day(day=date(2026, 10, 12), time_zone="America/Sao_Paulo")
    assert month_report(month=OCT).funnel[1].count == 6


def test_a_re_roll_that_changes_nothing_keeps_the_months_stamp(october):
    token = RollupStamp.objects.get(month=OCT.first_day).token
    rollup_range(first=OCT.first_day, last=OCT.last_day, time_zone="America/Sao_Paulo")
    assert RollupStamp.objects.get(month=OCT.first_day).token == token


def test_new_visitor_counts_invalidate_the_cached_report(october):
    assert month_report(month=OCT).funnel[0].count == 1000
    visitor_counts_upsert(rows=[VisitorRow(day=date(2026, 10, 9), source="ads", visitors=500)])
    assert month_report(month=OCT).funnel[0].count == 1500


def test_a_range_rolled_up_at_once_equals_its_days_rolled_up_one_by_one(october):
    def stored():
        return sorted(
            DailyFigure.objects.filter(day__gte=OCT.first_day, day__lte=OCT.last_day).values_list(
                "day", "metric", "rep_id", "source", "segment", "key", "value"
            )
        ), sorted(
            DailyValue.objects.filter(day__gte=OCT.first_day, day__lte=OCT.last_day).values_list(
                "day", "metric", "value"
            )
        )

    at_once = stored()
    assert at_once[0] and at_once[1]
    DailyFigure.objects.all().delete()
    DailyValue.objects.all().delete()
    for day in OCT.days():
        rollup_day(day=day, time_zone="America/Sao_Paulo")
    assert stored() == at_once


def test_the_page_lists_the_first_breaches_and_counts_them_all(
    october, client_for, marketing_manager, monkeypatch
):
    from kpis import views
    from leads.services import handoffs as hs

    from .conftest import arrive

    arrive("l7@x.com", at(20, 10))
    hs.breaches_flag(now=at(20, 15))
    rollup_backfill(since=OCT.first_day, until=OCT.last_day)
    monkeypatch.setattr(views, "PAGE_BREACHES", 1)
    response = client_for(marketing_manager).get("/review/2026-10/")
    review = response.context["review"]
    assert [b.lead for b in review.breaches] == ["l2@x.com"]
    assert review.breaches_total == 2
    page = response.content.decode()
    assert 'id="breaches-more"' in page and "The first 1 of 2." in page
    assert "/review/2026-10/leads/breached/" in page
    # The downloads carry them all.
    csv_text = client_for(marketing_manager).get("/review/2026-10/breaches.csv").content.decode()
    assert "l2@x.com" in csv_text and "l7@x.com" in csv_text


def test_the_running_month_says_when_its_figures_were_rolled_up(
    october, client_for, marketing_manager
):
    rollup_range(
        first=date(2026, 11, 20),
        last=date(2026, 11, 20),
        time_zone="America/Sao_Paulo",
        now=NOW - timedelta(minutes=7),
    )
    response = client_for(marketing_manager).get("/review/2026-11/")
    assert response.context["report"].rolled_up_at == NOW - timedelta(minutes=7)
    assert "Figures rolled up at 11:53" in response.content.decode()
