"""Scoring and handoffs at scale: each lead row written once and only when it changes, a batch
in a fixed number of queries, and handoffs made in bulk exactly as one at a time."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import models as m
from agreements.selectors import qualification_rules
from leads.models import Handoff, Lead, NurtureEnrollment, StageChange
from leads.scoring import leads_score_changed
from leads.services.handoffs import HandoffRequest, handoff_create, handoffs_create_bulk
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.nurture import nurture_enrol
from leads.services.pipeline import pipeline_run
from slaportal.models import OutboxMessage
from slaportal.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _leads(count: int, *, prefix: str = "p", demo_every: int = 2) -> list[Lead]:
    now = timezone.now()
    leads = []
    for number in range(count):
        lead, _ = lead_upsert(
            email=f"{prefix}{number}@example.com",
            fields={
                "title": "IT Director" if number % 3 else "Analyst",
                "company_size": 20 + number * 15,
                "country": ["BR", "US", "PT"][number % 3],
            },
            now=now,
        )
        leads.append(lead)
    events_ingest(
        events=[
            EventInput(email=f"{prefix}{number}@example.com", type="demo_request", occurred_at=now)
            for number in range(0, count, demo_every)
        ],
        now=now,
    )
    return leads


def _rules(version):
    fit, interest, thresholds = qualification_rules(version=version)
    return {"fit_rules": fit, "interest_rules": interest, "thresholds": thresholds}


# The scoring statement ----------------------------------------------------------------------


def test_scoring_writes_fit_interest_and_their_sum_in_one_update(sla):
    leads = _leads(6)
    ids = [lead.pk for lead in leads]

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        changed = leads_score_changed(
            **_rules(sla), now=timezone.now(), lead_ids=ids, version_id=sla.pk
        )

    assert sorted(changed) == ids
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("UPDATE")]
    assert len(updates) == 1
    rows = Lead.objects.values_list("fit_score", "interest_score", "score", "needs_scoring")
    assert all(total == fit + interest and not marked for fit, interest, total, marked in rows)
    assert Lead.objects.filter(interest_score=30).count() == 3  # the demo requests


def test_a_rescore_writes_only_the_leads_whose_score_changed(sla):
    leads = _leads(6)
    now = timezone.now()
    ids = [lead.pk for lead in leads]
    leads_score_changed(**_rules(sla), now=now, lead_ids=ids, version_id=sla.pk)
    where = _row_versions(ids)
    Lead.objects.filter(pk=ids[1]).update(score=0)

    changed = leads_score_changed(
        **_rules(sla), now=now + timedelta(hours=1), lead_ids=ids, version_id=sla.pk
    )

    assert changed == [ids[1]]
    lead = Lead.objects.get(pk=ids[1])
    assert lead.score == lead.fit_score + lead.interest_score == 20
    if where:  # PostgreSQL: an untouched row keeps its row version where it was
        after = _row_versions(ids)
        assert [pk for pk in ids if after[pk] != where[pk]] == [ids[1]]


def test_a_marked_lead_is_always_written_so_its_mark_clears(sla):
    leads = _leads(3)
    ids = [lead.pk for lead in leads]
    now = timezone.now()
    leads_score_changed(**_rules(sla), now=now, lead_ids=ids, version_id=sla.pk)
    Lead.objects.filter(pk=ids[0]).update(needs_scoring=True)

    changed = leads_score_changed(**_rules(sla), now=now, lead_ids=ids, version_id=sla.pk)

    assert changed == [ids[0]]
    assert not Lead.objects.filter(needs_scoring=True).exists()


def test_a_new_version_is_recorded_on_every_lead_even_with_the_same_score(sla):
    leads = _leads(3)
    ids = [lead.pk for lead in leads]
    now = timezone.now()
    leads_score_changed(**_rules(sla), now=now, lead_ids=ids, version_id=None)

    changed = leads_score_changed(**_rules(sla), now=now, lead_ids=ids, version_id=sla.pk)

    assert sorted(changed) == ids
    assert set(Lead.objects.values_list("scored_version", flat=True)) == {sla.pk}


def _row_versions(ids) -> dict[int, str]:
    """Each row's physical place (ctid): every UPDATE of a row, even one inside the same
    transaction, writes a new row version elsewhere."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, ctid::text FROM leads_lead WHERE id = ANY(%s)", [ids])
        return dict(cursor.fetchall())


# A batch in a fixed number of queries -------------------------------------------------------


@pytest.fixture
def three_reps(sales_rep, other_rep):
    return [sales_rep, other_rep, UserFactory(username="rita", role=Role.SALES_REP)]


def _pipeline_queries(count: int, prefix: str) -> int:
    _leads(count, prefix=prefix)
    with CaptureQueriesContext(connection) as queries:
        result = pipeline_run(now=timezone.now())
    assert result.scored == count
    assert result.handed_off >= 3  # every rep is handed a lead, so both runs touch each rep
    return len(queries.captured_queries)


def test_the_pipeline_runs_a_batch_in_the_same_number_of_queries_whatever_its_size(sla, three_reps):
    from agreements.selectors import qualification_rules, version_calendar

    # A published version's rules and calendar are read once per process; count the rest.
    qualification_rules(version=sla)
    version_calendar(version=sla)
    small = _pipeline_queries(6, "small")
    large = _pipeline_queries(60, "large")

    assert large == small


# Handoffs in bulk are handoffs one at a time ------------------------------------------------


def _snapshot() -> dict:
    emails = dict(Lead.objects.values_list("pk", "email"))
    handoff_leads = dict(Handoff.objects.values_list("pk", "lead__email"))

    def key(text: str) -> str:
        # A notice names its handoff by id: compare by the handoff's lead instead.
        if text.startswith("handoff:") or ":handoff:" in text:
            head, _, pk = text.rpartition(":")
            return f"{head}:{handoff_leads[int(pk)]}"
        return text

    return {
        "handoffs": sorted(
            Handoff.objects.values_list(
                "lead__email",
                "rep__username",
                "trigger",
                "trigger_detail",
                "handed_off_at",
                "at_risk_at",
                "due_at",
                "accept_due_at",
                "status",
            )
        ),
        "leads": sorted(
            Lead.objects.values_list(
                "email", "stage", "status", "owner__username", "mql_at", "updated_at"
            )
        ),
        "stage_changes": sorted(
            (emails[lead_id], *rest)
            for lead_id, *rest in StageChange.objects.values_list(
                "lead_id", "from_stage", "to_stage", "at", "by", "job", "reason", "version"
            )
        ),
        "enrollments": sorted(
            NurtureEnrollment.objects.values_list("lead__email", "track", "completed_at")
        ),
        "notices": sorted(
            (channel, key(message_key), str(payload.get("message", payload.get("subject"))))
            for channel, message_key, payload in OutboxMessage.objects.values_list(
                "channel", "key", "payload"
            )
        ),
    }


def _both_ways(version, requests, now) -> tuple[dict, dict]:
    """The state after handing the leads off one at a time, and after one bulk call, from
    the same starting data."""
    results = []
    for bulk in (False, True):
        with transaction.atomic():
            if bulk:
                handoffs_create_bulk(requests=requests, version=version, now=now)
            else:
                for request in requests:
                    handoff_create(
                        lead=Lead.objects.get(pk=request.lead_id),
                        version=version,
                        trigger=request.trigger,
                        detail=request.detail,
                        now=now,
                    )
            results.append(_snapshot())
            transaction.set_rollback(True)
    return results[0], results[1]


@pytest.mark.parametrize("method", ["round_robin", "territory", "named_owner"])
def test_handoffs_made_in_bulk_equal_handoffs_made_one_at_a_time(sla, three_reps, method):
    rep_a, rep_b, rep_c = three_reps
    m.HandoffPolicy.objects.filter(version=sla).update(
        assignment_method=method, named_owner=rep_c, notify_email=True
    )
    m.TerritoryRule.objects.create(version=sla, field="country", value="PT", rep=rep_b)
    leads = _leads(9, demo_every=100)  # no events: the handoffs here are asked for directly
    now = timezone.now()
    # History round robin must read: rep_c was handed a lead last, rep_b before; rep_a never.
    handoff_create(lead=leads[0], version=sla, trigger="manual", now=now - timedelta(days=2))
    Handoff.objects.update(rep=rep_b)
    handoff_create(lead=leads[1], version=sla, trigger="manual", now=now - timedelta(days=1))
    Handoff.objects.filter(lead=leads[1]).update(rep=rep_c)
    Lead.objects.filter(pk=leads[2].pk).update(stage="mql", mql_at=now - timedelta(days=3))
    track = m.NurtureTrack.objects.filter(version=sla).first()
    nurture_enrol(lead=leads[3], track=track, automatic=True, now=now - timedelta(hours=1))
    requests = [
        HandoffRequest(lead.pk, "event" if index % 2 else "score", "demo_request" * (index % 2))
        for index, lead in enumerate(leads)
    ]
    requests.append(requests[4])  # asked twice: handed off once

    one_by_one, bulk = _both_ways(sla, requests, now + timedelta(minutes=5))

    assert bulk == one_by_one
    made = [row for row in bulk["handoffs"] if row[4] == now + timedelta(minutes=5)]
    assert len(made) == 7  # leads 0 and 1 are already with sales
    assert len([n for n in bulk["notices"] if n[1].startswith("in_app")]) >= 7


def test_bulk_handoffs_with_no_active_rep_tell_the_sales_manager_once_per_lead(sla, three_reps):
    for rep in three_reps:
        rep.is_active = False
        rep.save()
    leads = _leads(3, demo_every=100)
    requests = [HandoffRequest(lead.pk, "score") for lead in leads]

    one_by_one, bulk = _both_ways(sla, requests, timezone.now())

    assert bulk == one_by_one
    assert bulk["handoffs"] == []
    assert len([n for n in bulk["notices"] if "no-rep" in n[1]]) == 3
