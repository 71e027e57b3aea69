"""The scoring core against hand-computed cases: operators, negatives, caps, decay, thresholds."""

from datetime import UTC, datetime, timedelta

import pytest

from agreements.scoring import (
    Activity,
    FitRuleSpec,
    InterestRuleSpec,
    Thresholds,
    fit_rule_matches,
    score_lead,
)

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "rule,attributes,matches",
    [
        (FitRuleSpec("title", "contains", "director", 15), {"title": "Marketing DIRECTOR"}, True),
        (FitRuleSpec("title", "contains", "director", 15), {"title": "Analyst"}, False),
        (FitRuleSpec("country", "in", "BR, US,PT", 5), {"country": "us"}, True),
        (FitRuleSpec("country", "in", "BR,US", 5), {"country": "DE"}, False),
        (FitRuleSpec("industry", "equals", "SaaS", 5), {"industry": " saas "}, True),
        (FitRuleSpec("company_size", "gt", "200", 20), {"company_size": 201}, True),
        (FitRuleSpec("company_size", "gt", "200", 20), {"company_size": 200}, False),
        (FitRuleSpec("company_size", "lt", "10", -10), {"company_size": "5"}, True),
        (FitRuleSpec("company_size", "gt", "200", 20), {"company_size": "many"}, False),
        (FitRuleSpec("company_size", "gt", "200", 20), {}, False),
        (FitRuleSpec("source", "is_set", "", 3), {"source": "webinar"}, True),
        (FitRuleSpec("source", "is_set", "", 3), {"source": ""}, False),
        (
            FitRuleSpec("custom", "equals", "yes", 7, custom_attribute="uses_crm"),
            {"uses_crm": "Yes"},
            True,
        ),
    ],
)
def test_fit_rule_operators(rule, attributes, matches):
    assert fit_rule_matches(rule, attributes) is matches


def test_hand_computed_score_with_negatives_caps_and_decay():
    fit_rules = [
        FitRuleSpec("title", "contains", "director", 15),
        FitRuleSpec("title", "contains", "student", -20),
        FitRuleSpec("company_size", "gt", "200", 20),
    ]
    interest_rules = [
        InterestRuleSpec("pricing_page_view", 10, max_occurrences=2),
        InterestRuleSpec("unsubscribe", -25),
        InterestRuleSpec(
            "content_download", 8, property_key="asset", property_value="pricing-guide"
        ),
    ]
    activities = [
        Activity("pricing_page_view", NOW),  # counted: 10
        Activity("pricing_page_view", NOW - timedelta(days=30)),  # counted, one half-life: 5
        Activity("pricing_page_view", NOW - timedelta(days=60)),  # over the cap of 2
        Activity("content_download", NOW, {"asset": "pricing-guide"}),  # 8
        Activity("content_download", NOW, {"asset": "ebook"}),  # property does not match
        Activity("unsubscribe", NOW - timedelta(days=60)),  # -25 after two half-lives: -6.25
    ]
    result = score_lead(
        attributes={"title": "Director", "company_size": 500},
        activities=activities,
        fit_rules=fit_rules,
        interest_rules=interest_rules,
        thresholds=Thresholds(mql_min_fit=30, mql_min_interest=15, decay_half_life_days=30),
        now=NOW,
    )
    assert result.fit == 35
    assert result.interest == 15 + 8 - 6  # 15, 8 and round(-6.25)
    assert result.total == 52
    assert result.is_mql is True
    assert [(b.rule, b.points, b.occurrences) for b in result.breakdown] == [
        ("title contains director", 15, 1),
        ("company_size gt 200", 20, 1),
        ("pricing_page_view", 15, 2),
        ("unsubscribe", -6, 1),
        ("content_download", 8, 1),
    ]


def test_mql_by_total_alone():
    thresholds = Thresholds(mql_min_fit=50, mql_min_interest=50, mql_min_total=60)
    result = score_lead(
        attributes={},
        activities=[Activity("demo_request", NOW)],
        fit_rules=[],
        interest_rules=[InterestRuleSpec("demo_request", 60)],
        thresholds=thresholds,
        now=NOW,
    )
    assert result.fit == 0 and result.interest == 60 and result.is_mql


def test_no_decay_without_a_half_life_and_no_boost_for_future_events():
    rules = [InterestRuleSpec("webinar_attended", 10)]
    old = score_lead(
        attributes={},
        activities=[Activity("webinar_attended", NOW - timedelta(days=400))],
        fit_rules=[],
        interest_rules=rules,
        thresholds=Thresholds(),
        now=NOW,
    )
    future = score_lead(
        attributes={},
        activities=[Activity("webinar_attended", NOW + timedelta(days=5))],
        fit_rules=[],
        interest_rules=rules,
        thresholds=Thresholds(decay_half_life_days=7),
        now=NOW,
    )
    assert old.interest == 10 and future.interest == 10
