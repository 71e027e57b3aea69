"""The rows of the queue and the team view as handoffs_page reads them: whole, with the
lead, version, agreement and (team view) rep each row shows, and nothing read again per row.
On PostgreSQL they are read in SQL written once (leads.selectors._RowReader), elsewhere
through the ORM; both must give the rows the ORM would."""

from datetime import timedelta

from django.utils import timezone

from leads.models import Handoff, Lead
from leads.selectors import handoffs_page


def _expected() -> dict[int, Handoff]:
    handoffs = Handoff.objects.select_related("lead", "rep", "version__agreement")
    return {handoff.pk: handoff for handoff in handoffs}


def test_a_page_row_carries_what_the_row_shows_without_another_query(
    hand_off, sales_rep, other_rep, django_assert_num_queries
):
    mine = hand_off(sales_rep, company="Initech")
    theirs = hand_off(other_rep, company="Umbrella")
    Lead.objects.filter(pk=mine.lead_id).update(attributes={"plan": "pro", "seats": 40})
    expected = _expected()
    for rep, wanted in ((sales_rep, [mine.pk]), (None, [mine.pk, theirs.pk])):
        page = handoffs_page(rep=rep, number=1, per_page=25, now=timezone.now())
        assert sorted(handoff.pk for handoff in page.object_list) == sorted(wanted)
        assert page.paginator.count == len(wanted)
        with django_assert_num_queries(0):
            for handoff in page.object_list:
                want = expected[handoff.pk]
                assert handoff.lead.email == want.lead.email
                assert handoff.lead.company == want.lead.company
                assert (handoff.lead.fit_score, handoff.lead.interest_score) == (
                    want.lead.fit_score,
                    want.lead.interest_score,
                )
                assert handoff.status == want.status
                assert handoff.due_at == want.due_at
                assert handoff.due_at.utcoffset() == timedelta(0)
                assert handoff.version.label == want.version.label
                assert handoff.version.agreement.name == want.version.agreement.name
                assert handoff.rep.username == want.rep.username
                if rep is not None:  # the queue explains scores from the lead's attributes
                    assert handoff.lead.attributes == want.lead.attributes


def test_rows_of_one_version_share_it(hand_off, sales_rep):
    hand_off(sales_rep)
    hand_off(sales_rep)
    page = handoffs_page(number=1, per_page=25, now=timezone.now())
    first, second = page.object_list
    assert first.version_id == second.version_id
    assert first.version.agreement.name == second.version.agreement.name
