"""`any_of`: the same rows as `__in`, bound as one array parameter on PostgreSQL."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadEvent
from leads.services.ingestion import EventInput, events_ingest


def test_any_of_finds_what_in_finds_on_fields_and_relations(db):
    from django.utils import timezone

    now = timezone.now()
    events_ingest(
        events=[
            EventInput(email=f"buyer{n}@example.com", type="page_view", occurred_at=now)
            for n in range(5)
        ],
        now=now,
    )
    ids = sorted(Lead.objects.values_list("pk", flat=True))[:3]
    wanted = [*ids, 10**9]  # an id that matches nothing

    assert sorted(Lead.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)) == ids
    assert (
        sorted(LeadEvent.objects.filter(lead_id__any_of=wanted).values_list("lead_id", flat=True))
        == ids
    )
    assert not Lead.objects.filter(pk__any_of=[]).exists()


def test_any_of_binds_one_parameter_on_postgresql(db):
    with CaptureQueriesContext(connection) as queries:
        list(Lead.objects.filter(pk__any_of=list(range(1, 5001))))
    sql = queries.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql
    else:
        assert " IN (" in sql


def test_any_of_prepares_values_that_are_not_ints_yet(db):
    from django.utils import timezone

    events_ingest(
        events=[EventInput(email="a@example.com", type="page_view", occurred_at=timezone.now())],
        now=timezone.now(),
    )
    lead = Lead.objects.get()
    assert list(Lead.objects.filter(pk__any_of=[str(lead.pk)])) == [lead]
    assert LeadEvent.objects.filter(lead_id__any_of=[str(lead.pk)]).count() == 1
