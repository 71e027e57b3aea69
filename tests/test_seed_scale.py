"""`manage.py seed_scale` at a tiny size: right counts, valid rows, pages that render on it.

The set-based path runs where the tests run on PostgreSQL; the Python path runs everywhere.
"""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from agreements.demo import demo_agreement_load, demo_users_load
from benchmarks.seed import (
    ACTIVE_END,
    RETURNED_END,
    seed_reset,
    seed_scale,
    seeded_counts,
)
from kpis.selectors import last_closed_month
from leads.emails import email_normalise
from leads.models import Handoff, Lead, LeadEvent, NurtureEnrollment, Stage, StageChange

pytestmark = pytest.mark.django_db

LEADS, EVENTS = 300, 2500
METHODS = ["python", "sql"] if connection.vendor == "postgresql" else ["python"]


@pytest.fixture(scope="module", params=METHODS)
def seeded(request, django_db_setup, django_db_blocker):
    """The demo's people and SLA, and a tiny seed on top, rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        demo_agreement_load(demo_users_load())
        summary = seed_scale(leads=LEADS, events=EVENTS, method=request.param)
        yield summary
        transaction.set_rollback(True)


def _seeded_leads():
    return Lead.objects.filter(email_normalised__endswith=".scale.example")


def test_the_counts_are_the_ones_asked_for(seeded):
    assert (seeded.leads, seeded.events) == (LEADS, EVENTS)
    assert seeded_counts() == (LEADS, EVENTS)
    assert LeadEvent.objects.filter(lead__in=_seeded_leads()).count() == EVENTS
    handed = _seeded_leads().filter(mql_at__isnull=False)
    assert Handoff.objects.filter(lead__in=_seeded_leads()).count() == handed.count()
    assert StageChange.objects.filter(lead__in=_seeded_leads()).count() == seeded.stage_changes
    assert seeded.stage_changes >= LEADS


def test_emails_are_normalised(seeded):
    for email, normalised in _seeded_leads().values_list("email", "email_normalised"):
        assert normalised == email_normalise(email)


def test_every_foreign_key_points_at_a_row(seeded):
    # PostgreSQL checks deferred constraints only at commit: check them now.
    connection.check_constraints()


def test_leads_spread_over_the_year_sources_and_stages(seeded):
    leads = _seeded_leads()
    oldest = leads.order_by("created_at").values_list("created_at", flat=True).first()
    assert oldest < timezone.now() - timezone.timedelta(days=200)
    assert leads.values("source").distinct().count() >= 4
    assert leads.values("country").distinct().count() >= 4
    assert leads.filter(stage=Stage.LEAD, status=Lead.Status.RETURNED).exists()
    assert leads.filter(needs_scoring=True).count() == 0


def test_handoffs_are_open_returned_and_accepted(seeded):
    handoffs = Handoff.objects.filter(lead__in=_seeded_leads())
    assert handoffs.filter(returned_at__isnull=False).exists()
    assert handoffs.filter(accepted_at__isnull=False).exists()
    for handoff in handoffs:
        assert handoff.handed_off_at < handoff.at_risk_at < handoff.due_at
        assert handoff.lead.created_at <= handoff.handed_off_at


def test_scored_event_types_are_there(seeded):
    from agreements.models import InterestRule
    from leads.services.pipeline import current_version

    types = set(LeadEvent.objects.values_list("type", flat=True))
    rules = InterestRule.objects.filter(version=current_version())
    assert set(rules.values_list("event_type", flat=True)) <= types


def test_never_handed_off_leads_went_through_nurture(seeded):
    plain = _seeded_leads().filter(mql_at__isnull=True, returned_at__isnull=True)
    assert NurtureEnrollment.objects.filter(lead__in=plain).count() == plain.count()


def test_a_second_seed_is_refused_and_reset_removes_it(seeded):
    with pytest.raises(RuntimeError), transaction.atomic():
        seed_scale(leads=5, events=5)
    with transaction.atomic():
        assert seed_reset() == LEADS
        assert not _seeded_leads().exists()
        assert seeded_counts() == (0, 0)
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("marina", "review"),
        ("marina", "kpis"),
        ("rita", "/leads/queue/"),
        ("sergio", "/leads/team/"),
        ("sergio", "lead"),
    ],
)
def test_the_pages_render(seeded, username, path):
    month = str(last_closed_month())
    if path == "review":
        path = f"/review/{month}/"
    elif path == "kpis":
        path = f"/api/v1/kpis/?month={month}"
    elif path == "lead":
        path = _seeded_leads().order_by("-mql_at").first().get_absolute_url()
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    assert client.get(path).status_code == 200


def test_a_rescore_finds_work_but_hands_off_almost_nobody(seeded):
    from leads.services.pipeline import pipeline_run

    with transaction.atomic():
        result = pipeline_run(all_leads=True)
        transaction.set_rollback(True)
    assert result.scored >= LEADS
    assert result.handed_off <= LEADS * (ACTIVE_END - RETURNED_END) / 10000 + 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the floor is PostgreSQL SQL")
def test_the_floor_stores_what_the_project_scoring_stores(seeded):
    from benchmarks.floor import score_update_sql
    from benchmarks.jobs import _rules
    from leads.services.pipeline import pipeline_run

    now = timezone.now()
    version, fit, interest, thresholds = _rules()
    with transaction.atomic(), connection.cursor() as cursor:
        pipeline_run(all_leads=True, now=now)
        # The workspace has the demo's two agreements: the floor re-scores the leads of the
        # one whose rules it holds (the enterprise scope's leads follow their own version).
        own = list(
            Lead.objects.filter(agreement_id=version.agreement_id).values_list("pk", flat=True)
        )
        rules = {
            "fit_rules": fit,
            "interest_rules": interest,
            "thresholds": thresholds,
            "now": now,
            "version_id": version.pk,
            "lead_ids": own,
        }
        cursor.execute(*score_update_sql(**rules))
        assert cursor.rowcount == 0
        # As the scoring run writes every lead ingestion marked, the incremental floor
        # writes every target, changed or not.
        cursor.execute(*score_update_sql(**rules, write_all=True))
        assert cursor.rowcount == len(own) > 0
        transaction.set_rollback(True)


def test_the_command_reports_what_it_seeded(seeded):
    out = StringIO()
    with transaction.atomic():
        call_command("seed_scale", "--reset", "--leads", "20", "--events", "100", stdout=out)
        transaction.set_rollback(True)
    assert "Seeded 20 leads, 100 events" in out.getvalue()
