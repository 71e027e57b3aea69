"""The version document and its part-by-part diff."""

import pytest

from agreements import models as m
from agreements import services
from agreements.document import build_document, diff_documents, version_document

pytestmark = pytest.mark.django_db


def part(diffs, slug):
    return next(d for d in diffs if d.slug == slug)


def test_diff_reports_added_removed_and_changed_rows_and_settings(
    agreement, draft, marketing_manager, sales_manager
):
    kept = m.Term.objects.create(version=draft, term="MQL", meaning="Score ≥ 80")
    m.Term.objects.create(version=draft, term="Contact", meaning="Anyone we can reach")
    services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    services.version_approve(version=draft, by=marketing_manager, side="marketing")
    services.version_approve(version=draft, by=sales_manager, side="sales")
    v1 = m.AgreementVersion.objects.get(pk=draft.pk)

    v2 = services.amendment_start(agreement=agreement, by=marketing_manager)
    m.Term.objects.filter(version=v2, row_key=kept.row_key).update(meaning="Score ≥ 70")
    m.Term.objects.filter(version=v2, term="Contact").delete()
    m.Term.objects.create(version=v2, term="SQL", meaning="Accepted by sales")
    m.HandoffPolicy.objects.filter(version=v2).update(response_target_hours=3)

    diffs = diff_documents(version_document(v1), build_document(v2))
    definitions = part(diffs, "definitions")
    kinds = sorted((change.kind, change.summary) for _, change in definitions.rows)
    assert kinds == [
        ("added", "SQL · Accepted by sales"),
        ("changed", "MQL · Score ≥ 80"),
        ("removed", "Contact · Anyone we can reach"),
    ]
    changed = next(c for _, c in definitions.rows if c.kind == "changed")
    assert changed.changed_cells == [("Meaning", "Score ≥ 80", "Score ≥ 70")]
    assert part(diffs, "handoff").settings == [
        ("Handoff policy", "First-touch target (business hours)", "4", "3")
    ]
    assert part(diffs, "goals").is_empty and part(diffs, "definitions").counts == {
        "added": 1,
        "removed": 1,
        "changed": 1,
    }


def test_a_published_version_reads_from_its_frozen_snapshot(published):
    m.Term.objects.create(version=published, term="Sneaked in", meaning="after publication")
    document = version_document(published)
    terms = next(p for p in document["parts"] if p["slug"] == "definitions")["rows"][0]["items"]
    assert terms == []
    assert document["version"]["label"] == "v1"
