"""A consistent SLA: text normalised before it is stored and compared, 0 % rates refused,
and the consistency checklist that blocks submission until each contradiction is fixed or
accepted with a note."""

import pytest
from django.urls import reverse

from agreements import models as m
from agreements import services
from agreements.document import build_document, diff_documents
from agreements.text import normalise_text

pytestmark = pytest.mark.django_db


# Item 8: phantom changes ----------------------------------------------------------------------


def test_normalise_text_unifies_line_endings_and_trailing_space():
    assert normalise_text("Budget confirmed\r\nTimeline  \r\n\r\n") == "Budget confirmed\nTimeline"
    assert normalise_text("a\rb") == "a\nb"


def qualification_post(revision, sql_criteria):
    return {
        "revision": str(revision),
        "thresholds-mql_min_fit": "10",
        "thresholds-mql_min_interest": "10",
        "thresholds-mql_min_total": "",
        "thresholds-decay_half_life_days": "",
        "thresholds-sql_criteria": sql_criteria,
        "thresholds-custom_event_types": "",
        "fit-TOTAL_FORMS": "0",
        "fit-INITIAL_FORMS": "0",
        "interest-TOTAL_FORMS": "0",
        "interest-INITIAL_FORMS": "0",
    }


def test_saving_the_qualification_part_unchanged_with_crlf_shows_no_change(
    agreement, published, marketing_manager, client_for
):
    m.QualificationSettings.objects.filter(version=published).update(
        mql_min_fit=10, mql_min_interest=10, sql_criteria="Budget confirmed\nTimeline agreed"
    )
    published.snapshot = build_document(published)
    published.save()
    amendment = services.amendment_start(agreement=agreement, by=marketing_manager)
    url = reverse("agreements:part_edit", args=[agreement.pk, amendment.pk, "qualification"])
    response = client_for(marketing_manager).post(
        url, qualification_post(0, "Budget confirmed\r\nTimeline agreed\r\n")
    )
    assert response.status_code == 302
    stored = m.QualificationSettings.objects.get(version=amendment).sql_criteria
    assert stored == "Budget confirmed\nTimeline agreed"
    diffs = diff_documents(published.snapshot, build_document(amendment))
    assert all(diff.is_empty for diff in diffs)
    page = client_for(marketing_manager).get(
        reverse("agreements:diff", args=[agreement.pk]) + f"?from={published.pk}&to={amendment.pk}"
    )
    assert "SQL criteria" not in page.content.decode()


def test_the_diff_ignores_line_endings_already_stored():
    old = {
        "parts": [
            {
                "slug": "q",
                "title": "Q",
                "settings": [{"title": "T", "fields": [("SQL criteria", "a\r\nb")]}],
                "rows": [],
            }
        ]
    }
    new = {
        "parts": [
            {
                "slug": "q",
                "title": "Q",
                "settings": [{"title": "T", "fields": [("SQL criteria", "a\nb")]}],
                "rows": [],
            }
        ]
    }
    assert diff_documents(old, new)[0].is_empty
