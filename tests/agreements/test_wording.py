"""Wording slips on the SLA pages and the review (issue 12)."""

import pytest

from agreements.parts import PARTS_BY_SLUG
from kpis import exports
from kpis.metrics import Status


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("kpis", "KPIs"),
        ("qualification", "lead qualification"),
        ("calendar", "business-hours calendar"),
    ],
)
def test_a_part_title_inside_a_sentence_keeps_its_acronyms(slug, expected):
    assert PARTS_BY_SLUG[slug].title_in_sentence == expected


def test_the_kpis_editor_saves_kpis_not_kpis_lowercase(client_for, marketing_manager, draft):
    url = f"/sla/{draft.agreement_id}/versions/{draft.pk}/parts/kpis/"
    page = client_for(marketing_manager).get(url).content.decode()
    assert "Save KPIs" in page and "Save kpis" not in page


def _status(actual, previous, unit=""):
    return Status(
        name="x",
        metric="mqls",
        owner="Marketing",
        target=1,
        actual=actual,
        unit=unit,
        status="green",
        previous=previous,
    )


@pytest.mark.parametrize(
    ("actual", "previous", "unit", "expected"),
    [
        (50.0, 50.04, "%", ("flat", "±0.0 pp")),
        (3.0, 3.04, "h", ("flat", "±0.0 h")),
        (10, 12, "", ("down", "−2")),
        (12.5, 10, "%", ("up", "+2.5 pp")),
    ],
)
def test_a_change_that_rounds_to_nothing_has_no_sign(actual, previous, unit, expected):
    assert exports.change(_status(actual, previous, unit)) == expected


def test_the_version_activity_names_parts_and_sides_as_people_do(
    client_for, marketing_manager, sales_manager, published
):
    page = client_for(marketing_manager).get(published.get_absolute_url()).content.decode()
    assert "Approved for Marketing" in page and "for marketing by" not in page


def test_a_locked_part_says_whose_manager_drafts_it(client_for, marketing_manager, draft):
    url = f"/sla/{draft.agreement_id}/versions/{draft.pk}/parts/goals/"
    page = client_for(marketing_manager).get(url).content.decode()
    assert "Drafted by the sales manager" in page and "Drafted by the shared" not in page
