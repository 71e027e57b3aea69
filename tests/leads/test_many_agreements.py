"""Several agreements at once: each lead follows its own agreement's version in force.

The `sla` fixture's agreement ("Acme SLA": round robin, 4 business hours) has no scope rules,
so it governs every lead at priority 0; the enterprise agreement claims companies of 1,000
staff or more at priority 10, with a named owner, 1 business hour and its own fit rules.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import models as m
from agreements import services as sla_services
from leads.models import Handoff, Lead
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.pipeline import pipeline_run

from .conftest import MONDAY_9, _rows


@pytest.fixture
def enterprise(sla, marketing_manager, sales_manager, other_rep):
    agreement = m.Agreement.objects.create(
        name="Enterprise SLA", marketing_manager=marketing_manager, sales_manager=sales_manager
    )
    draft = m.AgreementVersion.objects.create(agreement=agreement, created_by=sales_manager)
    sla_services._copy_parts(source=sla, target=draft)
    m.HandoffPolicy.objects.filter(version=draft).update(
        response_target_hours=Decimal(1),
        assignment_method=m.HandoffPolicy.Assignment.NAMED_OWNER,
        named_owner=other_rep,
    )
    # Its own fit rules: size counts for more, so the same lead scores differently here.
    m.FitRule.objects.filter(version=draft).delete()
    _rows(
        m.FitRule,
        draft,
        [{"attribute": "company_size", "operator": "gt", "value": "999", "points": 40}],
    )
    m.CadenceStep.objects.filter(version=draft).delete()
    _rows(
        m.CadenceStep,
        draft,
        [{"channel": "video", "offset": 2, "offset_unit": "business_hours"}],
    )
    m.ScopeSettings.objects.filter(version=draft).update(priority=10)
    m.ScopeRule.objects.create(
        version=draft, attribute="company_size", operator="at_least", value="1000"
    )
    sla_services.version_submit(version=draft, by=sales_manager, change_note="v1")
    sla_services.version_approve(version=draft, by=marketing_manager, side="marketing")
    sla_services.version_approve(version=draft, by=sales_manager, side="sales")
    draft.refresh_from_db()
    return draft


def arrive(email, size, *, now, events=("demo_request",), title="IT Director"):
    lead, _ = lead_upsert(
        email=email,
        fields={"first_name": "Ana", "title": title, "company": "Co", "company_size": size},
        now=now,
    )
    events_ingest(
        events=[EventInput(email=email, type=event, occurred_at=now) for event in events], now=now
    )
    return lead


def test_an_enterprise_and_an_smb_lead_arriving_together_get_their_own_rules_rep_and_deadline(
    sla, enterprise, sales_rep, other_rep
):
    now = timezone.now()
    assert now == MONDAY_9
    big = arrive("cio@bigcorp.example", 5000, now=now)
    small = arrive("owner@shop.example", 12, now=now)
    assert (big.agreement_id, small.agreement_id) == (enterprise.agreement_id, sla.agreement_id)

    pipeline_run(now=now)

    big_handoff = Handoff.objects.get(lead=big)
    small_handoff = Handoff.objects.get(lead=small)
    assert big_handoff.version == enterprise and small_handoff.version == sla
    # The named owner for enterprise; round robin (Rita has had none, Rafael neither: the
    # lower id first, but never the enterprise owner by rule) for everyone else.
    assert big_handoff.rep == other_rep
    assert small_handoff.rep in (sales_rep, other_rep)
    assert big_handoff.due_at == now + timedelta(hours=1)
    assert small_handoff.due_at == now + timedelta(hours=4)
    big.refresh_from_db()
    small.refresh_from_db()
    # Each scored by its own version's rules.
    assert big.scored_version_id == enterprise.pk and big.fit_score == 40
    assert small.scored_version_id == sla.pk and small.fit_score == 20


def test_a_lead_that_moves_into_another_scope_follows_it_and_its_open_handoff_keeps_its_deadline(
    sla, enterprise, time_machine
):
    now = timezone.now()
    lead = arrive("grower@scaleup.example", 200, now=now)
    pipeline_run(now=now)
    handoff = Handoff.objects.get(lead=lead)
    assert handoff.version == sla and handoff.due_at == now + timedelta(hours=4)

    later = now + timedelta(minutes=30)
    time_machine.move_to(later, tick=False)
    lead, _ = lead_upsert(email=lead.email, fields={"company_size": 3000}, now=later)
    assert lead.agreement_id == enterprise.agreement_id
    pipeline_run(now=later)

    handoff.refresh_from_db()
    assert handoff.version == sla and handoff.due_at == now + timedelta(hours=4)
    lead.refresh_from_db()
    assert lead.scored_version_id == enterprise.pk  # what happens next is enterprise's


def test_a_batch_moves_a_lead_whose_attributes_changed_behind_its_back_in_its_scoring_write(
    sla, enterprise
):
    """A path that changes a lead's attributes without resolving it (a bulk update, an
    import): the scoring batch settles the agreement as it claims the lead and stores it in
    the scoring statement, so each lead row is written once."""
    now = timezone.now()
    grower = arrive("grower@scaleup.example", 200, now=now, events=("page_view",))
    shrinker = arrive("cio@shrinking.example", 5000, now=now, events=("page_view",))
    assert (grower.agreement_id, shrinker.agreement_id) == (
        sla.agreement_id,
        enterprise.agreement_id,
    )
    Lead.objects.filter(pk=grower.pk).update(company_size=3000, needs_scoring=True)
    Lead.objects.filter(pk=shrinker.pk).update(company_size=40, needs_scoring=True)

    with CaptureQueriesContext(connection) as queries:
        pipeline_run(now=now)

    grower.refresh_from_db()
    shrinker.refresh_from_db()
    assert (grower.agreement_id, grower.scored_version_id) == (
        enterprise.agreement_id,
        enterprise.pk,
    )
    assert grower.fit_score == 40  # enterprise's fit rules
    assert (shrinker.agreement_id, shrinker.scored_version_id) == (sla.agreement_id, sla.pk)
    assert not grower.needs_scoring and not shrinker.needs_scoring
    # No resolution UPDATE before the scoring one: the agreement is set in the scoring write.
    agreement_writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().startswith("UPDATE") and "agreement_id" in q["sql"]
    ]
    assert len(agreement_writes) == 2  # one scoring statement per agreement's version
    assert all("SET fit_score" in sql for sql in agreement_writes), agreement_writes


def test_scoring_is_one_statement_per_agreement_version_whatever_the_number_of_leads(
    sla, enterprise
):
    now = timezone.now()

    def scoring_statements(count):
        for index in range(count):
            size = 5000 if index % 2 else 20
            lead_upsert(
                email=f"n{count}-{index}@example.com",
                fields={"title": "Analyst", "company_size": size},
                now=now,
            )
        with CaptureQueriesContext(connection) as queries:
            result = pipeline_run(now=now)
        assert result.scored == count
        return [q["sql"] for q in queries if "SET fit_score" in q["sql"]]

    few, many = scoring_statements(4), scoring_statements(40)
    assert len(few) == len(many) == 2
    by_version = dict(
        Lead.objects.filter(email__startswith="n40-").values_list("company_size", "scored_version")
    )
    assert by_version == {5000: enterprise.pk, 20: sla.pk}


def test_a_full_rescore_scores_each_agreements_leads_under_its_version(sla, enterprise):
    now = timezone.now()
    for index in range(6):
        lead_upsert(
            email=f"r{index}@example.com",
            fields={"title": "IT Director", "company_size": 4000 if index < 2 else 30},
            now=now,
        )
    # As if they arrived before the scopes existed: nobody resolved, nothing scored.
    Lead.objects.update(agreement=None, needs_scoring=False, scored_version=None)
    pipeline_run(now=now, all_leads=True)
    rows = set(Lead.objects.values_list("agreement_id", "scored_version_id", "fit_score"))
    assert rows == {(enterprise.agreement_id, enterprise.pk, 40), (sla.agreement_id, sla.pk, 20)}


def test_the_lead_page_the_api_and_the_queue_name_the_governing_agreement_and_version(
    sla, enterprise, other_rep, sales_manager, client_for
):
    now = timezone.now()
    big = arrive("cio@bigcorp.example", 5000, now=now)
    pipeline_run(now=now)

    page = client_for(sales_manager).get(reverse("leads:detail", args=[big.pk])).content.decode()
    assert "Governed by Enterprise SLA v1" in page

    queue = client_for(other_rep).get(reverse("leads:queue")).content.decode()
    assert 'data-testid="governing-sla"' in queue and "Enterprise SLA v1" in queue

    api = client_for(sales_manager).get(reverse("leads_api:lead-detail", args=[big.pk])).json()
    assert api["agreement"] == enterprise.agreement_id
    assert api["agreement_name"] == "Enterprise SLA"
    assert api["agreement_version"] == 1
