"""The review pack PDF carries the page's charts, from the page's own series, on full pages."""

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis import exports, pack_charts
from kpis.charts import review_charts

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # gitignored


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def drawn(monkeypatch) -> dict:
    """Each chart drawn into the pack, and the review it was drawn from."""
    seen: dict = {"charts": []}
    draw, render = pack_charts.chart_draw, exports.review_pdf

    def spy_draw(pdf, chart):
        seen["charts"].append(chart)
        draw(pdf, chart)

    def spy_render(review):
        seen["review"] = review
        seen["pdf"] = render(review)
        return seen["pdf"]

    monkeypatch.setattr(pack_charts, "chart_draw", spy_draw)
    monkeypatch.setattr(exports, "review_pdf", spy_render)
    return seen


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def test_the_pack_draws_the_pages_three_charts_from_its_series(october, client_for, rep, drawn):
    response = client_for(rep).get("/review/2026-10/pack.pdf")
    assert response.content.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "review-pack-2026-10.pdf").write_bytes(response.content)

    funnel, trend, reps = drawn["charts"]
    data = review_charts(drawn["review"])
    assert funnel.title == "Funnel this month: plan against actual"
    assert funnel.labels == data["funnel"]["labels"]
    assert [s.values for s in funnel.bars] == [data["funnel"]["counts"], data["funnel"]["plan"]]
    assert [s.values for s in trend.lines] == [data["trends"]["mqls"], data["trends"]["sqls"]]
    assert trend.labels == data["trends"]["labels"] and trend.labels[-1] == "Oct 2026"
    assert trend.reference == ("MQL plan a month", data["trends"]["mql_plan"])
    assert reps.labels == ["Rita Souza"] and reps.bars[0].values == [50.0]
    assert reps.percent
    # Drawn as vectors: a filled rectangle per non-zero bar, a dashed plan/target line.
    assert b" re f" in _content(response.content) or b"re\nf" in _content(response.content)
    assert b"] 0 d" in _content(response.content)  # a dash pattern set


def test_the_pack_has_no_page_for_a_line_or_two(october, client_for, rep, drawn):
    content = client_for(rep).get("/review/2026-10/pack.pdf").content
    # October's small fixture: scorecard, promises, three charts with their tables, breaches,
    # notes and actions fill three A4 pages; a forced break per section made five.
    assert pages(content) <= 3


def _content(pdf: bytes) -> bytes:
    """The page streams, inflated: fpdf2 deflates them."""
    import zlib

    out = b""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out += zlib.decompress(match.group(1))
        except zlib.error:
            continue
    return out
