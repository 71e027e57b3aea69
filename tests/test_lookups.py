"""`any_of`: the same rows as `__in`, bound as one array parameter on PostgreSQL."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadEvent
from leads.services.ingestion import EventInput, events_ingest
from slaportal.lookups import Many


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
    # Held in Many, out of the ORM's value-by-value walk: the same rows.
    assert sorted(Lead.objects.filter(pk__any_of=Many(wanted)).values_list("pk", flat=True)) == ids
    assert (
        sorted(
            LeadEvent.objects.filter(lead__in=Lead.objects.filter(pk__any_of=Many(wanted)))
            .filter(lead_id__any_of=Many(wanted))
            .values_list("lead_id", flat=True)
        )
        == ids
    )
    assert not Lead.objects.filter(pk__any_of=Many([])).exists()


def test_many_is_not_walked_value_by_value_by_the_orm(db, monkeypatch):
    from django.db.models.sql.query import Query

    walked = []
    real = Query.resolve_lookup_value

    def counting(self, value, *args, **kwargs):
        walked.append(value)
        return real(self, value, *args, **kwargs)

    monkeypatch.setattr(Query, "resolve_lookup_value", counting)
    list(LeadEvent.objects.filter(lead_id__any_of=Many(range(1, 1001))))
    assert len(walked) == 1
    walked.clear()
    list(LeadEvent.objects.filter(lead_id__any_of=list(range(1, 1001))))
    assert len(walked) > 1000


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
