"""Every figure of the KPI engine against the hand-computed October fixture (conftest)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kpis.drilldown import FIGURES, figure_handoffs, figure_leads
from kpis.metrics import percentile, rag
from kpis.models import DailyFigure
from kpis.periods import Month
from kpis.rollups import rollup_day
from kpis.selectors import month_report

from .conftest import at

pytestmark = pytest.mark.django_db
OCT, SEP, DEC = Month(2026, 10), Month(2026, 9), Month(2026, 12)
NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))


def test_the_funnel_counts_each_stage_and_converts_from_the_previous(october):
    report = month_report(month=OCT, now=NOW)
    assert [(s.stage, s.count) for s in report.funnel] == [
        ("visitor", 1000),
        ("lead", 5),
        ("mql", 3),
        ("sql", 1),
        ("opportunity", 0),
        ("customer", 0),
    ]
    conversions = [s.conversion_from_previous for s in report.funnel]
    assert conversions == [None, 0.005, 0.6, pytest.approx(1 / 3), 0.0, None]


def test_a_lead_is_counted_in_the_month_of_the_slas_time_zone(october):
    assert month_report(month=SEP, now=NOW).funnel[1].count == 1  # 23:30 on 30 Sep in São Paulo
    assert [lead.email for lead in figure_leads(OCT, "leads_created")] == [
        "l1@x.com",
        "l2@x.com",
        "l3@x.com",
        "l4@x.com",
        "l6@x.com",
    ]


def test_sales_compliance_speed_and_attempts(october, rep):
    report = month_report(month=OCT, now=NOW)
    # l1 touched in 60 business minutes (met), l2 in 300 (breached); l3 rejected before its due.
    assert report.sla_compliance == 0.5
    assert report.speed_to_lead_minutes == {"median": 180, "p90": 300}
    assert report.attempts_per_lead == pytest.approx(2 / 3)
    assert report.totals["breached"] == 1
    (only,) = report.by_rep
    assert (only.name, only.handoffs, only.windows_closed, only.windows_met, only.breached) == (
        "Rita Souza",
        3,
        2,
        1,
        1,
    )
    assert only.compliance == 0.5


def test_marketing_quality_acceptance_rejections_and_plan(october):
    report = month_report(month=OCT, now=NOW)
    assert report.mql_acceptance_rate == 0.5
    assert report.rejections_by_reason == {"bad_fit": 1}
    assert report.returns_by_reason == {}
    assert report.mqls_planned == pytest.approx(1200 / 12 * 1.0)  # 60 deals → 1,200 MQLs a year


def test_velocity_is_the_median_and_p90_days_in_each_stage(october):
    report = month_report(month=OCT, now=NOW)
    # MQL 10:00 → SQL 12:00, the only lead that left MQL in October.
    assert report.velocity_days["mql"] == {
        "median": pytest.approx(2 / 24),
        "p90": pytest.approx(2 / 24),
    }
    assert report.velocity_days["opportunity"] == {"median": None, "p90": None}


def test_velocity_p90_is_the_nearest_rank_of_the_stage_spans(october):
    from leads.models import Lead

    # Ten leads leave "lead" for MQL in November after 1..10 days.
    for days in range(1, 11):
        Lead.objects.create(
            email=f"v{days}@x.com",
            created_at=at(10, 9, month=11) - timedelta(days=days),
            mql_at=at(10, 9, month=11),
            updated_at=at(10, 9, month=11),
        )
    # The review reads the rollups, never the leads: the day they left is rolled up first.
    rollup_day(day=date(2026, 11, 10), time_zone="America/Sao_Paulo")
    velocity = month_report(month=Month(2026, 11), now=NOW).velocity_days["lead"]
    assert velocity == {"median": 5.5, "p90": 9.0}


def test_kpis_are_judged_green_amber_red_against_their_thresholds(october):
    kpis = {k.metric: k for k in month_report(month=OCT, now=NOW).kpis}
    assert (kpis["sla_compliance"].actual, kpis["sla_compliance"].status) == (50.0, "red")
    assert (kpis["speed_to_lead"].actual, kpis["speed_to_lead"].status) == (3.0, "amber")
    assert kpis["sla_compliance"].previous is None  # September had no closed window


def test_goal_progress_pace_and_forecast(october):
    (goal,) = month_report(month=OCT, now=NOW).goals
    assert goal.actual == 3 and goal.target == 60
    assert goal.status == "red" and "forecast" in goal.detail


def test_an_empty_month_has_zero_counts_and_no_rates(october):
    report = month_report(month=DEC, now=NOW)
    assert [s.count for s in report.funnel] == [0] * 6
    assert report.sla_compliance is None and report.mql_acceptance_rate is None
    assert report.speed_to_lead_minutes == {"median": None, "p90": None}
    assert report.attempts_per_lead is None and report.cadence_met_share is None
    assert all(k.status == "grey" for k in report.kpis)


@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_rollups_agree_with_the_leads_behind_each_figure(october, figure):
    rolled = sum(
        DailyFigure.objects.filter(
            day__gte=OCT.first_day, day__lte=OCT.last_day, metric=figure
        ).values_list("value", flat=True)
    )
    if figure in (
        "handoffs",
        "windows_closed",
        "windows_met",
        "breached",
        "accepted",
        "rejected",
        "returned",
    ):
        assert rolled == figure_handoffs(OCT, figure).count()
    assert rolled == figure_leads(OCT, figure).count()


def test_rolling_a_day_again_replaces_it(october):
    before = DailyFigure.objects.filter(day=date(2026, 10, 5)).count()
    rollup_day(day=date(2026, 10, 5), time_zone="America/Sao_Paulo")
    assert DailyFigure.objects.filter(day=date(2026, 10, 5)).count() == before


@pytest.mark.parametrize(
    "actual,higher,expected",
    [
        (95, True, "green"),
        (80, True, "amber"),
        (61, True, "amber"),
        (60, True, "red"),
        (None, True, "grey"),
        (1, False, "green"),
        (3, False, "amber"),
        (4, False, "red"),
    ],
)
def test_rag_thresholds(actual, higher, expected):
    limits = dict(target=90, amber=80, red=60) if higher else dict(target=2, amber=3, red=4)
    assert rag(actual, higher_is_better=higher, **limits) == expected


def test_percentile_is_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile(list(range(1, 101)), 0.9) == 90


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "", "1999-12"])
def test_malformed_or_impossible_months_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match="month|range"):
        Month.parse(text)


def test_a_lead_that_requalifies_is_not_a_second_mql(october):
    from tests.kpis.conftest import arrive, at

    arrive("l3@x.com", at(20, 10), source="webinar")  # rejected on the 7th, converts again
    from kpis.rollups import rollup_backfill

    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 10, 31))
    assert month_report(month=OCT, now=NOW).funnel[2].count == 3
    assert figure_leads(OCT, "entered_mql").count() == 3


def test_a_response_window_still_open_is_not_counted_as_closed(october):
    from tests.kpis.conftest import at

    rollup_day(day=date(2026, 10, 6), time_zone="America/Sao_Paulo", now=at(6, 13))
    closed = DailyFigure.objects.filter(day=date(2026, 10, 6), metric="windows_closed")
    assert not closed.exists()  # l2 was due at 14:00
    assert [h.lead.email for h in figure_handoffs(OCT, "windows_closed", now=at(6, 13))] == [
        "l1@x.com"
    ]


def test_new_revenue_adds_up_the_won_deal_values_the_crm_reported(october):
    from decimal import Decimal

    from kpis.metrics import revenue
    from kpis.rollups import rollup_backfill
    from leads.models import Lead
    from leads.services.lifecycle import lead_stage_advance
    from tests.kpis.conftest import at

    lead_stage_advance(
        lead=Lead.objects.get(email="l1@x.com"),
        stage="customer",
        deal_value=Decimal("30000"),
        now=at(10, 9),
    )
    rollup_backfill(since=date(2026, 10, 1), until=date(2026, 10, 31))
    report = month_report(month=OCT, now=NOW)
    assert report.funnel[-1].count == 1 and report.totals["won_value"] == 30000
    assert revenue(report.totals, report.plan) == (30000.0, "")
    assert revenue({"entered_customer": 2}, report.plan) == (
        40000.0,
        "estimated: won deals × the plan's average deal size",
    )


def test_the_reverse_funnel_plan_stands_beside_the_actuals(october):
    planned = {s.stage: s.planned_per_month for s in month_report(month=OCT, now=NOW).funnel}
    # 1.2M ÷ 20k = 60 deals a year → 240 opportunities → 480 SQLs → 1,200 MQLs → 6,000 leads.
    assert planned == {
        "visitor": None,
        "lead": 500,
        "mql": 100,
        "sql": 40,
        "opportunity": 20,
        "customer": 5,
    }


def test_the_funnel_by_source_and_by_segment(october):
    report = month_report(month=OCT, now=NOW)
    sources = {b.key: (b.leads, b.mqls, b.sqls) for b in report.by_source}
    assert sources == {"website": (4, 2, 1), "webinar": (1, 1, 0)}
    assert [(b.key, b.leads, b.mqls, b.sqls) for b in report.by_segment] == [("unknown", 5, 3, 1)]
    assert figure_leads(OCT, "leads_created", source="webinar").count() == 1


def test_cohorts_follow_each_months_leads_through_later_months(october):
    from kpis.metrics import cohorts

    september, october_cohort = cohorts(OCT, time_zone="America/Sao_Paulo", count=2)
    assert (september.month, september.created) == (SEP, 1)
    assert [(p.month, p.mqls) for p in september.progress] == [(SEP, 0), (OCT, 0)]
    assert october_cohort.created == 5
    assert [(p.mqls, p.sqls, p.won) for p in october_cohort.progress] == [(3, 1, 0)]


def test_company_size_bands():
    from kpis.segments import segment_of

    assert [segment_of(size) for size in (None, 0, 49, 50, 999, 1000)] == [
        "unknown",
        "smb",
        "smb",
        "mid",
        "mid",
        "enterprise",
    ]
