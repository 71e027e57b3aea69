"""Rules and calendars of a published version are read once per process; drafts never are."""

import uuid

from agreements.models import FitRule
from agreements.selectors import qualification_rules, version_calendar


def test_a_published_versions_rules_and_calendar_are_read_once(
    published, django_assert_num_queries
):
    first = qualification_rules(version=published)
    calendar = version_calendar(version=published)
    with django_assert_num_queries(0):
        assert qualification_rules(version=published) == first
        assert version_calendar(version=published) == calendar


def _fit_rule(version, points):
    return FitRule.objects.create(
        version=version,
        row_key=uuid.uuid4(),
        position=99,
        attribute="country",
        operator="equals",
        value="BR",
        points=points,
    )


def test_a_callers_copy_of_the_rules_cannot_change_the_memoised_ones(published):
    _fit_rule(published, 5)
    fit, interest, _ = qualification_rules(version=published)
    assert fit
    fit.clear()
    interest.clear()
    again_fit, again_interest, _ = qualification_rules(version=published)
    assert again_fit


def test_a_drafts_rules_are_read_afresh_after_each_edit(draft):
    before, _, _ = qualification_rules(version=draft)
    _fit_rule(draft, 7)
    after, _, _ = qualification_rules(version=draft)
    assert len(after) == len(before) + 1
    assert after[-1].points == 7
