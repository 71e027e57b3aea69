"""The set-based scoring SQL gives the pure core's answers, lead for lead."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreements.scoring import (
    Activity,
    FitRuleSpec,
    InterestRuleSpec,
    ScoreResult,
    Thresholds,
    score_assemble,
    score_lead,
)
from leads.models import Lead, LeadEvent
from leads.scoring import epoch_days, interest_tallies, leads_score, mql_count

pytestmark = pytest.mark.django_db(transaction=False)

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
WORDS = ["director", "manager", "student", "VP Sales", "Head of Marketing", ""]
TYPES = ["page_view", "pricing_page_view", "demo_request", "unsubscribe"]

fit_rules = st.lists(
    st.one_of(
        st.builds(
            FitRuleSpec,
            attribute=st.sampled_from(["title", "industry", "country", "source"]),
            operator=st.sampled_from(["equals", "contains", "is_set", "in"]),
            value=st.sampled_from(["director", "saas", "br", "BR, us", "manager", "Head"]),
            points=st.integers(-30, 30),
        ),
        st.builds(
            FitRuleSpec,
            attribute=st.just("company_size"),
            operator=st.sampled_from(["gt", "lt"]),
            value=st.sampled_from(["10", "200", "1000"]),
            points=st.integers(-30, 30),
        ),
        st.builds(
            FitRuleSpec,
            attribute=st.just("custom"),
            custom_attribute=st.just("seats"),
            operator=st.sampled_from(["gt", "equals", "is_set"]),
            value=st.sampled_from(["5", "50"]),
            points=st.integers(-30, 30),
        ),
    ),
    max_size=5,
)

interest_rules = st.lists(
    st.builds(
        InterestRuleSpec,
        event_type=st.sampled_from(TYPES),
        points=st.integers(-40, 40),
        max_occurrences=st.one_of(st.none(), st.integers(1, 3)),
        property_key=st.sampled_from(["", "", "plan"]),
        property_value=st.sampled_from(["pro", "Pro "]),
    ),
    max_size=4,
)

leads = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.sampled_from(WORDS),
            "industry": st.sampled_from(["SaaS", "retail", ""]),
            "country": st.sampled_from(["BR", "us", "DE", ""]),
            "source": st.sampled_from(["", "webinar"]),
            "company_size": st.one_of(st.none(), st.integers(0, 5000)),
            "attributes": st.one_of(
                st.just({}),
                st.fixed_dictionaries(
                    {"seats": st.one_of(st.integers(0, 100), st.sampled_from(["many", "7"]))}
                ),
            ),
            "events": st.lists(
                st.tuples(
                    st.sampled_from(TYPES),
                    st.integers(0, 120),
                    st.sampled_from([{}, {"plan": "pro"}, {"plan": "free"}]),
                ),
                max_size=6,
            ),
        }
    ),
    min_size=1,
    max_size=4,
)

thresholds = st.builds(
    Thresholds,
    mql_min_fit=st.integers(0, 20),
    mql_min_interest=st.integers(0, 20),
    mql_min_total=st.one_of(st.none(), st.integers(0, 60)),
    decay_half_life_days=st.one_of(st.none(), st.integers(1, 60)),
)


def store_and_score_in_python(people, fit, interest, limits) -> dict[int, ScoreResult]:
    """Store the generated leads and events; return what the pure core scores each lead."""
    expected = {}
    for index, person in enumerate(people):
        lead = Lead.objects.create(
            email=f"p{index}@example.com",
            created_at=NOW,
            updated_at=NOW,
            **{k: v for k, v in person.items() if k != "events"},
        )
        activities = []
        for event_type, hours_ago, properties in person["events"]:
            at = NOW - timedelta(hours=hours_ago * 12)
            LeadEvent.objects.create(
                lead=lead,
                type=event_type,
                occurred_at=at,
                occurred_day=epoch_days(at),
                properties=properties,
                received_at=NOW,
            )
            activities.append(Activity(event_type, at, properties))
        attributes = {
            k: person[k] for k in ("title", "industry", "country", "source", "company_size")
        }
        attributes.update(person["attributes"])
        expected[lead.pk] = score_lead(
            attributes=attributes,
            activities=activities,
            fit_rules=fit,
            interest_rules=interest,
            thresholds=limits,
            now=NOW,
        )
    return expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fit=fit_rules, interest=interest_rules, people=leads, limits=thresholds)
def test_sql_scores_equal_the_pure_core(fit, interest, people, limits):
    with transaction.atomic():
        expected = store_and_score_in_python(people, fit, interest, limits)
        scored = leads_score(
            fit_rules=fit,
            interest_rules=interest,
            thresholds=limits,
            now=NOW,
            lead_ids=list(expected),
        )
        assert scored == len(people)
        for lead in Lead.objects.all():
            result = expected[lead.pk]
            assert (lead.fit_score, lead.interest_score, lead.score) == (
                result.fit,
                result.interest,
                result.total,
            ), lead.email
            assert lead.needs_scoring is False and lead.scored_at == NOW
        transaction.set_rollback(True)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fit=fit_rules, interest=interest_rules, people=leads, limits=thresholds)
def test_the_what_if_count_equals_the_pure_cores_mql_count(fit, interest, people, limits):
    with transaction.atomic():
        expected = store_and_score_in_python(people, fit, interest, limits)
        mqls = sum(result.is_mql for result in expected.values())
        counted = mql_count(fit_rules=fit, interest_rules=interest, thresholds=limits, now=NOW)
        assert counted == mqls
        assert not Lead.objects.filter(scored_at__isnull=False).exists()
        transaction.set_rollback(True)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fit=fit_rules, interest=interest_rules, people=leads, limits=thresholds)
def test_the_databases_rule_tallies_give_the_pure_cores_whole_breakdown(
    fit, interest, people, limits
):
    # The queue shows each lead's breakdown from per-rule tallies counted by the database.
    with transaction.atomic():
        expected = store_and_score_in_python(people, fit, interest, limits)
        tallies = interest_tallies(
            interest_rules=interest, thresholds=limits, now=NOW, lead_ids=list(expected)
        )
        for lead in Lead.objects.all():
            attributes = {k: getattr(lead, k) for k in ("title", "industry", "country", "source")}
            attributes["company_size"] = lead.company_size
            attributes.update(lead.attributes or {})
            assembled = score_assemble(
                attributes=attributes,
                fit_rules=fit,
                interest_rules=interest,
                interest_tallies=tallies.get(lead.pk, {}),
                thresholds=limits,
            )
            assert assembled == expected[lead.pk], lead.email
        transaction.set_rollback(True)
