"""The set-based ingestion path (issue 9) gives the answers the per-row path gave.

New leads are stored with their agreement (the scopes' pure core, instead of an UPDATE per
scope afterwards), known leads are found and marked in one statement, and the new leads'
stage changes are written with them. These tests run on SQLite and PostgreSQL; the
PostgreSQL path is the one the bench times.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, LeadEvent, ScoringMark, StageChange
from leads.services.ingestion import EventInput, events_ingest
from leads.services.scopes import leads_resolve
from tests.agreements.test_scopes import new_agreement, publish


@pytest.fixture
def scopes(agreement, draft, marketing_manager, sales_manager):
    """A default agreement for small companies, and a higher one whose only rule a lead with
    nothing but an e-mail meets (its source is not a webinar)."""
    publish(
        draft,
        marketing_manager,
        sales_manager,
        default=True,
        rules=[("company_size", "lt", "1000")],
    )
    _, version = new_agreement("Not webinars", marketing_manager, sales_manager)
    return publish(
        version,
        marketing_manager,
        sales_manager,
        priority=5,
        rules=[("source", "not_in", "webinar")],
    )


def test_new_leads_get_the_agreement_leads_resolve_gives_them(scopes):
    now = timezone.now()  # after the versions came into force
    result = events_ingest(
        events=[
            EventInput(email=f"new{n}@example.com", type="page_view", occurred_at=now)
            for n in range(3)
        ],
        now=now,
    )
    assert result.leads_created == 3
    stored = dict(Lead.objects.values_list("email", "agreement_id"))
    assert set(stored.values()) == {scopes.agreement_id}
    # The set-based resolution changes nothing: it would have given the same answer.
    assert leads_resolve(now=now) == 0


def test_without_a_matching_scope_new_leads_fall_to_the_default_or_to_none(
    agreement, draft, marketing_manager, sales_manager
):
    publish(draft, marketing_manager, sales_manager, rules=[("country", "in", "br")])
    now = timezone.now()
    events_ingest(
        events=[EventInput(email="x@example.com", type="page_view", occurred_at=now)], now=now
    )
    assert Lead.objects.get().agreement_id is None
    assert leads_resolve(now=now) == 0


def test_known_leads_are_marked_for_scoring_and_new_ones_recorded_once(scopes):
    now = timezone.now()
    earlier = now - timedelta(days=3)
    known = Lead.objects.create(
        email="Known@Example.com",
        created_at=earlier,
        updated_at=earlier,
        lead_at=earlier,
        needs_scoring=False,
    )
    result = events_ingest(
        events=[
            EventInput(email="known@example.com", type="page_view", occurred_at=now),
            EventInput(email=" Fresh@Example.com", type="page_view", occurred_at=now),
            EventInput(email="fresh@example.com", type="email_open", occurred_at=now),
        ],
        now=now,
    )
    assert (result.created, result.leads_created) == (3, 1)
    known.refresh_from_db()
    # Marked, not rewritten: the scoring run moves the mark onto the row.
    assert (known.needs_scoring, known.updated_at) == (False, earlier)
    assert list(ScoringMark.objects.values_list("lead_id", flat=True)) == [known.pk]
    assert known.email == "Known@Example.com"  # a known lead keeps its spelling
    fresh = Lead.objects.get(email_normalised="fresh@example.com")
    assert fresh.email == "Fresh@Example.com"  # the batch's first spelling, stripped
    assert (fresh.needs_scoring, fresh.created_at, fresh.updated_at, fresh.lead_at) == (
        True,
        now,
        now,
        now,
    )
    assert (fresh.stage, fresh.status, fresh.score, fresh.attributes) == ("lead", "open", 0, {})
    change = StageChange.objects.get(lead=fresh)
    assert (change.from_stage, change.to_stage, change.at, change.job) == (
        "",
        "lead",
        now,
        "ingest",
    )
    assert change.reason == "Created by its first activity"
    assert not StageChange.objects.filter(lead=known).exists()
    assert LeadEvent.objects.filter(lead=fresh).count() == 2
