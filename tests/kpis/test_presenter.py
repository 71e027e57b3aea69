"""The review's presenter mode: the same page, one section a screen, with its controls."""

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))
SECTIONS = ["scorecard", "compliance", "charts", "tables", "breakdowns", "meeting"]


def chart_data(response) -> dict:
    """What the page's charts draw: the JSON the page carries for review-charts.js."""
    found = re.search(
        r'<script id="review-chart-data" type="application/json">(.*?)</script>',
        response.content.decode(),
    )
    return json.loads(found.group(1))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_review_offers_presenter_mode(sla, client_for, viewer):
    html = client_for(viewer).get("/review/2026-10/").content.decode()
    assert 'id="present-review"' in html and 'href="?present=1"' in html
    assert "data-presenter" not in html


def test_presenter_mode_wraps_the_sections_with_controls_and_a_way_out(sla, client_for, viewer):
    html = client_for(viewer).get("/review/2026-10/?present=1").content.decode()
    assert 'class="presenter" data-presenter data-exit-url="/review/2026-10/"' in html
    assert "data-presenter-next" in html and "data-presenter-prev" in html
    assert "Exit (Esc)" in html and 'id="present-review"' not in html
    positions = [html.index(f'id="{section}"') for section in SECTIONS]
    assert positions == sorted(positions)


def test_the_charts_get_the_plan_and_the_targets_beside_the_actuals(sla, client_for, viewer):
    data = chart_data(client_for(viewer).get("/review/2026-10/"))
    assert len(data["funnel"]["plan"]) == len(data["funnel"]["counts"])
    assert {"mql_plan", "compliance_target"} <= set(data["trends"])
    assert "compliance" in data["targets"]


def test_the_trend_starts_at_the_first_month_with_data():
    from kpis.charts import first_month_with_data as _first_month_with_data

    series = {
        "labels": ["Aug", "Sep", "Oct", "Nov"],
        "leads_created": [0, 0, 3, 0],
        "entered_mql": [0, 0, 1, 0],
        "entered_sql": [0, 0, 0, 0],
        "compliance": [None, 50.0, None, None],
    }
    assert _first_month_with_data(series) == 1  # a compliance figure is data too
    series["compliance"] = [None] * 4
    assert _first_month_with_data(series) == 2
    series["leads_created"] = series["entered_mql"] = [0] * 4
    assert _first_month_with_data(series) == 0  # nothing: the whole year, marked empty


def test_an_empty_review_keeps_the_whole_year_in_its_trend(sla, client_for, viewer):
    data = chart_data(client_for(viewer).get("/review/2026-10/"))
    assert len(data["trends"]["labels"]) == 12
