"""A consistent SLA: text normalised before it is stored and compared, 0 % rates refused,
and the consistency checklist that blocks submission until each contradiction is fixed or
accepted with a note."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace as Row

import pytest
from django.urls import reverse

from agreements import models as m
from agreements import services
from agreements.consistency import contradictions
from agreements.document import build_document, diff_documents
from agreements.selectors import version_consistency
from agreements.text import normalise_text

pytestmark = pytest.mark.django_db


# Item 8: phantom changes ----------------------------------------------------------------------


def test_normalise_text_unifies_line_endings_and_trailing_space():
    assert normalise_text("Budget confirmed\r\nTimeline  \r\n\r\n") == "Budget confirmed\nTimeline"
    assert normalise_text("a\rb") == "a\nb"


def qualification_post(revision, sql_criteria):
    return {
        "revision": str(revision),
        "thresholds-mql_min_fit": "10",
        "thresholds-mql_min_interest": "10",
        "thresholds-mql_min_total": "",
        "thresholds-decay_half_life_days": "",
        "thresholds-sql_criteria": sql_criteria,
        "thresholds-custom_event_types": "",
        "fit-TOTAL_FORMS": "0",
        "fit-INITIAL_FORMS": "0",
        "interest-TOTAL_FORMS": "0",
        "interest-INITIAL_FORMS": "0",
    }


def test_saving_the_qualification_part_unchanged_with_crlf_shows_no_change(
    agreement, published, marketing_manager, client_for
):
    m.QualificationSettings.objects.filter(version=published).update(
        mql_min_fit=10, mql_min_interest=10, sql_criteria="Budget confirmed\nTimeline agreed"
    )
    published.snapshot = build_document(published)
    published.save()
    amendment = services.amendment_start(agreement=agreement, by=marketing_manager)
    url = reverse("agreements:part_edit", args=[agreement.pk, amendment.pk, "qualification"])
    response = client_for(marketing_manager).post(
        url, qualification_post(0, "Budget confirmed\r\nTimeline agreed\r\n")
    )
    assert response.status_code == 302
    stored = m.QualificationSettings.objects.get(version=amendment).sql_criteria
    assert stored == "Budget confirmed\nTimeline agreed"
    diffs = diff_documents(published.snapshot, build_document(amendment))
    assert all(diff.is_empty for diff in diffs)
    page = client_for(marketing_manager).get(
        reverse("agreements:diff", args=[agreement.pk]) + f"?from={published.pk}&to={amendment.pk}"
    )
    assert "SQL criteria" not in page.content.decode()


def test_the_diff_ignores_line_endings_already_stored():
    old = {
        "parts": [
            {
                "slug": "q",
                "title": "Q",
                "settings": [{"title": "T", "fields": [("SQL criteria", "a\r\nb")]}],
                "rows": [],
            }
        ]
    }
    new = {
        "parts": [
            {
                "slug": "q",
                "title": "Q",
                "settings": [{"title": "T", "fields": [("SQL criteria", "a\nb")]}],
                "rows": [],
            }
        ]
    }
    assert diff_documents(old, new)[0].is_empty


# Item 9: the consistency checklist (pure) -----------------------------------------------------


YEAR = {"period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31)}


def plan(**overrides):
    values = {
        "revenue_target": Decimal(1_000_000),
        "average_deal_size": Decimal(20_000),
        "months": 12,
        "lead_to_mql_rate": Decimal(20),
        "mql_to_sql_rate": Decimal(40),
        "sql_to_opportunity_rate": Decimal(50),
        "opportunity_to_win_rate": Decimal(25),
    }
    return Row(**(values | overrides))


def goal(metric, target, name="Goal", **period):
    return Row(metric=metric, target=Decimal(target), name=name, **(period or YEAR))


def check(*, response=4, plan_=None, mql=(20, 30, None), goals=(), kpis=()):
    fit, interest, total = mql
    return contradictions(
        policy=Row(response_target_hours=Decimal(response)),
        plan=plan_ or plan(),
        qualification=Row(mql_min_fit=fit, mql_min_interest=interest, mql_min_total=total),
        goals=goals,
        kpis=kpis,
    )


CONSISTENT_GOALS = [
    goal("new_revenue", 1_000_000, "US$ 1M"),
    goal("speed_to_lead", 4, "Fast first touch"),
    goal("mqls", 1000),
    goal("sqls", 400),
]


def test_a_consistent_sla_has_no_contradiction():
    assert check(goals=CONSISTENT_GOALS, kpis=[Row(metric="speed_to_lead", target=4)]) == []


def test_an_untouched_draft_has_no_contradiction():
    empty = plan(
        revenue_target=0,
        average_deal_size=0,
        lead_to_mql_rate=0,
        mql_to_sql_rate=0,
        sql_to_opportunity_rate=0,
        opportunity_to_win_rate=0,
    )
    assert check(plan_=empty) == []


def test_the_response_target_contradicting_the_speed_goal_and_kpi_is_found():
    [found] = check(
        response=2,
        goals=[goal("speed_to_lead", 3, "Fast first touch")],
        kpis=[Row(metric="speed_to_lead", target=3)],
    )
    assert found.code == "speed_to_lead"
    assert "within 2 business hours" in found.message
    assert "“Fast first touch”: 3 h" in found.message and "KPI: 3 h" in found.message


def test_a_speed_target_tighter_than_the_promise_is_no_contradiction():
    assert check(response=4, kpis=[Row(metric="speed_to_lead", target=2)]) == []


def test_the_planner_revenue_against_the_revenue_goal_is_found():
    [found] = check(plan_=plan(revenue_target=Decimal(1_200_000)), goals=CONSISTENT_GOALS[:1])
    assert found.code == "revenue" and "1200000" in found.message and "1000000" in found.message


def test_a_plan_with_a_zero_rate_would_disappear_and_is_found():
    [found] = check(plan_=plan(lead_to_mql_rate=Decimal(0)))
    assert found.code == "plan_missing" and "lead → MQL rate" in found.message


def test_thresholds_out_of_order_are_found():
    assert [c.code for c in check(mql=(20, 30, 40))] == ["mql_thresholds"]
    assert check(mql=(20, 30, 80)) == []
    [found] = check(goals=[goal("mqls", 300), goal("sqls", 400)])
    assert found.code == "funnel_order" and "MQLs goal (300)" in found.message
    # Goals of different periods are not compared.
    other = {"period_start": date(2027, 1, 1), "period_end": date(2027, 12, 31)}
    assert check(goals=[goal("mqls", 300), goal("sqls", 400, **other)]) == []


def test_a_contradictions_key_changes_with_what_it_says():
    first = check(response=2, goals=[goal("speed_to_lead", 3)])[0]
    again = check(response=2, goals=[goal("speed_to_lead", 3)])[0]
    changed = check(response=2, goals=[goal("speed_to_lead", 5)])[0]
    assert first.key == again.key != changed.key
    assert len(first.key) <= 30  # stored in VersionEvent.part


# Item 9: submission waits for the checklist --------------------------------------------------


@pytest.fixture
def contradicting_draft(draft):
    m.HandoffPolicy.objects.filter(version=draft).update(response_target_hours=2)
    m.Goal.objects.create(
        version=draft, name="Fast first touch", metric="speed_to_lead", target=3, **YEAR
    )
    m.FunnelPlan.objects.filter(version=draft).update(**vars(plan(revenue_target=1_200_000)))
    m.Goal.objects.create(
        version=draft, name="US$ 1M", metric="new_revenue", target=1_000_000, **YEAR
    )
    return draft


def submit(client, agreement, draft):
    return client.post(
        reverse("agreements:submit", args=[agreement.pk, draft.pk]), {"change_note": "v1"}
    )


def test_submission_is_refused_with_the_list_then_allowed_after_acceptance(
    agreement, contradicting_draft, marketing_manager, sales_manager, client_for
):
    draft = contradicting_draft
    client = client_for(marketing_manager)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "Consistency checklist" in page and "Accept with this note" in page

    page = submit(client, agreement, draft).content.decode()
    assert "The SLA contradicts itself" in page
    assert "promises a first touch within 2 business hours" in page
    assert "aims at 1200000 of revenue" in page
    draft.refresh_from_db()
    assert draft.status == "draft"

    accept_url = reverse("agreements:accept_contradiction", args=[agreement.pk, draft.pk])
    speed, revenue = sorted(
        (item.contradiction for item in version_consistency(version=draft)), key=lambda c: c.code
    )[::-1]
    # A note is required; nothing is recorded without one.
    client.post(accept_url, {"key": speed.key, "note": "  "})
    assert not draft.events.filter(kind="contradiction_accepted").exists()
    client.post(accept_url, {"key": speed.key, "note": "The KPI is a median; 3 h is fine"})
    assert submit(client, agreement, draft).status_code == 200  # revenue still blocks
    # Fixing the other one in its part is the other way out.
    m.FunnelPlan.objects.filter(version=draft).update(revenue_target=1_000_000)
    response = submit(client, agreement, draft)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "submitted"
    event = draft.events.get(kind="contradiction_accepted")
    assert event.by == marketing_manager and "The KPI is a median" in event.note
    assert "within 2 business hours" in event.note
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "Contradiction accepted: " in page and "The KPI is a median" in page


def test_an_acceptance_lapses_when_the_contradiction_changes(
    agreement, contradicting_draft, marketing_manager, client_for
):
    draft = contradicting_draft
    m.FunnelPlan.objects.filter(version=draft).update(revenue_target=1_000_000)
    [item] = version_consistency(version=draft)
    services.contradiction_accept(
        version=draft, key=item.contradiction.key, note="fine", by=marketing_manager
    )
    m.HandoffPolicy.objects.filter(version=draft).update(response_target_hours=1)
    [item] = version_consistency(version=draft)
    assert item.accepted is None
    assert submit(client_for(marketing_manager), agreement, draft).status_code == 200


def test_reps_and_viewers_may_not_accept_contradictions(
    agreement, contradicting_draft, sales_rep, viewer, client_for
):
    url = reverse("agreements:accept_contradiction", args=[agreement.pk, contradicting_draft.pk])
    for user in (sales_rep, viewer):
        assert client_for(user).post(url, {"key": "x", "note": "y"}).status_code == 403
    assert not contradicting_draft.events.filter(kind="contradiction_accepted").exists()


# Item 9: 0 % rates are refused in the planner and the goals -----------------------------------


def goals_post(revision, *, lead_to_mql_rate="20", goals=()):
    data = {
        "revision": str(revision),
        "plan-revenue_target": "1000000",
        "plan-average_deal_size": "20000",
        "plan-months": "12",
        "plan-opportunity_to_win_rate": "25",
        "plan-sql_to_opportunity_rate": "50",
        "plan-mql_to_sql_rate": "40",
        "plan-lead_to_mql_rate": lead_to_mql_rate,
        "goal-TOTAL_FORMS": str(len(goals)),
        "goal-INITIAL_FORMS": "0",
    }
    for index, row in enumerate(goals):
        data.update({f"goal-{index}-{k}": v for k, v in row.items()})
    return data


def test_a_zero_rate_in_the_planner_is_refused_and_nothing_is_saved(
    agreement, draft, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "goals"])
    response = client_for(marketing_manager).post(url, goals_post(0, lead_to_mql_rate="0"))
    assert response.status_code == 200
    assert "A conversion rate of 0 % leaves the plan without an answer" in response.content.decode()
    assert m.FunnelPlan.objects.get(version=draft).revenue_target == 0
    draft.refresh_from_db()
    assert draft.revision_of("goals") == 0


def test_a_zero_rate_goal_is_refused_and_nothing_is_saved(
    agreement, draft, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "goals"])
    rate_goal = {
        "name": "Lead to MQL",
        "metric": "lead_to_mql_rate",
        "target": "0",
        "unit": "%",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "owner": "marketing",
        "rationale": "",
    }
    response = client_for(marketing_manager).post(url, goals_post(0, goals=[rate_goal]))
    assert "A rate goal of 0 % promises nothing" in response.content.decode()
    assert not m.Goal.objects.filter(version=draft).exists()
