""" "What we promise each other", worked out by hand from the parts."""

from decimal import Decimal

import pytest

from agreements import models as m
from agreements.demo import demo_agreement_load, demo_users_load
from agreements.summary import (
    Promises,
    ReturnRoute,
    SlaTerms,
    join,
    number,
    promises_write,
    version_promises,
)

DEMO_MARKETING = (
    # 1,000,000 ÷ 20,000 = 50 deals ÷ 25 % = 200 opportunities ÷ 50 % = 400 SQLs ÷ 40 %
    # = 1,000 MQLs over 12 months = 83.3 a month, rounded up as the funnel rounds.
    "Marketing delivers about 84 MQLs a month to sales.",
    "An MQL has at least 20 fit points and 30 interest points, or 80 points in all.",
    "Every lead reaches sales with these details filled in: email, first name, title and "
    "company size.",
    "A lead passes to sales when it reaches the MQL threshold, or at once on a demo request "
    "or contact-sales form.",
)
DEMO_SALES = (
    "Sales makes the first touch within 4 business hours of the handoff.",
    "Sales follows up with 6 attempts over 14 days by phone and email before a lead with no "
    "conversation goes back.",
    "Sales accepts or rejects each MQL within 24 business hours, with a reason.",
    "A lead sales returns goes back with a reason, and into nurture: “No response after the "
    "full cadence” into “Re-engagement (returned by sales)”; “Not a fit (size, industry or "
    "role)” into “Education (not ready to buy)”; “Not ready to buy / bad timing” into "
    "“Education (not ready to buy)”; “Wrong contact or invalid details” into no nurture track.",
)


@pytest.fixture
def demo_v1(db):
    agreement = demo_agreement_load(demo_users_load())
    return agreement.versions.get(number=1)


def test_the_demo_versions_promises_read_as_worked_out_by_hand(demo_v1):
    promises = version_promises(demo_v1)
    assert promises.marketing == DEMO_MARKETING
    assert promises.sales == DEMO_SALES


def test_sentences_leave_out_what_the_sla_does_not_say():
    assert promises_write(SlaTerms()) == Promises(marketing=(), sales=())
    assert not promises_write(SlaTerms())
    only = promises_write(SlaTerms(response_target_hours=Decimal("2.50")))
    assert only.marketing == ()
    assert only.sales == ("Sales makes the first touch within 2.5 business hours of the handoff.",)


def test_singulars_totals_and_routes_without_a_track():
    promises = promises_write(
        SlaTerms(
            mqls_per_month=Decimal("0.4"),
            mql_min_fit=10,
            mql_min_interest=5,
            return_after_attempts=1,
            return_after_days=3,
            channels=("SMS",),
            return_routes=(ReturnRoute("Wrong contact"),),
            trigger_events=("Demo request",),
        )
    )
    assert promises.marketing == (
        "Marketing delivers about 1 MQL a month to sales.",
        "An MQL has at least 10 fit points and 5 interest points.",
        "A lead passes to sales at once on a demo request.",
    )
    assert promises.sales == (
        "Sales follows up with 1 attempt over 3 days by SMS before a lead with no conversation "
        "goes back.",
        "A lead sales returns goes back with a reason, and into nurture: “Wrong contact” into no "
        "nurture track.",
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1200000.00"), "1,200,000"),
        (Decimal("4.00"), "4"),
        (Decimal("4.50"), "4.5"),
        (84, "84"),
    ],
)
def test_numbers_are_grouped_and_lose_trailing_zeros(value, text):
    assert number(value) == text


def test_lists_read_as_prose():
    assert join([]) == "" and join(["a"]) == "a" and join(["a", "b"]) == "a and b"
    assert join(["a", "b", "c"], alternatives=True) == "a, b or c"


def test_a_reader_gets_the_sides_that_concern_them():
    promises = Promises(marketing=("M",), sales=("S",))
    assert promises.for_sides(marketing=False, sales=True) == [("Sales promises", ("S",))]
    assert [title for title, _ in promises.for_sides(marketing=True, sales=True)] == [
        "Marketing promises",
        "Sales promises",
    ]


def test_no_version_no_promises():
    assert version_promises(None) == Promises(marketing=(), sales=())


def test_labels_come_from_the_choices(demo_v1):
    policy = m.HandoffPolicy.objects.get(version=demo_v1)
    assert "first_name" in policy.required_fields  # the codes stored...
    text = " ".join(version_promises(demo_v1).marketing)
    assert "first_name" not in text and "demo_request" not in text  # ...never shown
