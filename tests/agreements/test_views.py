"""Every SLA page with every role, the editor's validation and conflict handling, htmx bits."""

import pytest
from django.urls import reverse

from agreements import models as m
from agreements import services

pytestmark = pytest.mark.django_db

ROLES = ["marketing_manager", "sales_manager", "sales_rep", "viewer", "no_role_user"]
READERS = {"marketing_manager", "sales_manager", "sales_rep", "viewer"}
MANAGERS = {"marketing_manager", "sales_manager"}


def handoff_post(revision, **overrides):
    data = {
        "revision": str(revision),
        "policy-trigger_on_score": "on",
        "policy-allow_manual": "on",
        "policy-response_target_hours": "4",
        "policy-at_risk_share": "75",
        "policy-accept_window_hours": "24",
        "policy-assignment_method": "round_robin",
        "policy-return_after_attempts": "6",
        "policy-return_after_days": "14",
        "territory-TOTAL_FORMS": "0",
        "territory-INITIAL_FORMS": "0",
        "reason-TOTAL_FORMS": "0",
        "reason-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def goals_post(revision, goals=(), **plan):
    data = {
        "revision": str(revision),
        "plan-revenue_target": "1000000",
        "plan-average_deal_size": "20000",
        "plan-months": "12",
        "plan-opportunity_to_win_rate": "25",
        "plan-sql_to_opportunity_rate": "50",
        "plan-mql_to_sql_rate": "40",
        "plan-lead_to_mql_rate": "20",
        "goal-TOTAL_FORMS": str(len(goals)),
        "goal-INITIAL_FORMS": "0",
    }
    data.update({f"plan-{k}": v for k, v in plan.items()})
    for index, goal in enumerate(goals):
        data.update({f"goal-{index}-{k}": v for k, v in goal.items()})
    return data


GOAL = {
    "name": "US$ 1M new revenue",
    "metric": "new_revenue",
    "target": "1000000",
    "unit": "US$",
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
    "owner": "shared",
    "rationale": "Board plan",
}


@pytest.fixture
def users(marketing_manager, sales_manager, sales_rep, viewer, no_role_user):
    return {
        "marketing_manager": marketing_manager,
        "sales_manager": sales_manager,
        "sales_rep": sales_rep,
        "viewer": viewer,
        "no_role_user": no_role_user,
    }


def read_urls(agreement, version):
    a, v = agreement.pk, version.pk
    return [
        reverse("agreements:index"),
        reverse("agreements:detail", args=[a]),
        reverse("agreements:history", args=[a]),
        reverse("agreements:diff", args=[a]) + f"?from={v}&to={v}",
        reverse("agreements:version", args=[a, v]),
        reverse("agreements:markdown", args=[a, v]),
        reverse("agreements:pdf", args=[a, v]),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_reading_the_sla_is_for_every_role(role, users, agreement, draft, client_for):
    client = client_for(users[role])
    for url in read_urls(agreement, draft):
        response = client.get(url)
        expected = (200, 302) if role in READERS else (403,)
        assert response.status_code in expected, (url, response.status_code)


def test_anonymous_users_are_sent_to_the_login_page(agreement, draft, client_for):
    client = client_for(None)
    for url in [
        *read_urls(agreement, draft),
        reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "goals"]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


@pytest.mark.parametrize("role", ROLES)
def test_only_managers_open_the_editor(role, users, agreement, draft, client_for):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "goals"])
    response = client_for(users[role]).get(url)
    assert response.status_code == (200 if role in MANAGERS else 403)


@pytest.mark.parametrize(
    "role,part,allowed",
    [
        ("marketing_manager", "qualification", True),
        ("marketing_manager", "nurture", True),
        ("marketing_manager", "handoff", False),
        ("marketing_manager", "cadence", False),
        ("sales_manager", "handoff", True),
        ("sales_manager", "cadence", True),
        ("sales_manager", "qualification", False),
        ("sales_manager", "nurture", False),
        ("sales_manager", "kpis", True),
        ("marketing_manager", "calendar", True),
    ],
)
def test_each_manager_edits_their_own_side_and_the_shared_parts(
    role, part, allowed, users, agreement, draft, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, part])
    assert client_for(users[role]).get(url).status_code == (200 if allowed else 403)


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "no_role_user"])
def test_non_managers_cannot_write(role, users, agreement, draft, client_for):
    client = client_for(users[role])
    a, v = agreement.pk, draft.pk
    for url in [
        reverse("agreements:create"),
        reverse("agreements:amend", args=[a]),
        reverse("agreements:submit", args=[a, v]),
        reverse("agreements:approve", args=[a, v]),
        reverse("agreements:reopen", args=[a, v]),
        reverse("agreements:part_edit", args=[a, v, "kpis"]),
        reverse("agreements:score_preview", args=[a, v]),
        reverse("agreements:funnel_preview", args=[a, v]),
        reverse("agreements:holidays_prefill", args=[a, v]),
    ]:
        assert client.post(url, {"change_note": "x", "side": "sales"}).status_code == 403, url
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_saving_a_part_stores_rows_and_bumps_the_revision(
    agreement, draft, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "goals"])
    response = client_for(marketing_manager).post(url, goals_post(0, [GOAL]))
    assert response.status_code == 302
    goal = m.Goal.objects.get(version=draft)
    assert goal.name == "US$ 1M new revenue" and goal.target == 1000000
    assert m.FunnelPlan.objects.get(version=draft).average_deal_size == 20000
    draft.refresh_from_db()
    assert draft.revision_of("goals") == 1
    page = client_for(marketing_manager).get(url).content.decode()
    assert "5,000" in page  # leads needed, from the reverse-funnel plan


def test_a_bad_value_is_refused_naming_the_field_and_keeping_the_input(
    agreement, draft, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "goals"])
    bad = dict(GOAL, period_end="2025-01-01")
    response = client_for(marketing_manager).post(url, goals_post(0, [bad], mql_to_sql_rate="140"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The period must end on or after its start." in page
    assert "A conversion rate is a percentage between 0 and 100." in page
    assert 'value="US$ 1M new revenue"' in page and 'value="140"' in page
    assert not m.Goal.objects.filter(version=draft).exists()
    assert m.FunnelPlan.objects.get(version=draft).mql_to_sql_rate == 0


def test_the_later_of_two_concurrent_saves_gets_a_conflict_and_keeps_its_input(
    agreement, draft, sales_manager, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    kpi = {
        "meeting-business_day": "3",
        "meeting-starts_at": "10:00",
        "kpi-TOTAL_FORMS": "1",
        "kpi-INITIAL_FORMS": "0",
        "kpi-0-metric": "sla_compliance",
        "kpi-0-target": "90",
        "kpi-0-direction": "higher",
        "kpi-0-owner": "sales",
        "kpi-0-amber_threshold": "80",
        "kpi-0-red_threshold": "70",
        "kpi-0-review_frequency": "monthly",
    }
    first = client_for(sales_manager).post(url, {"revision": "0", **kpi})
    assert first.status_code == 302
    later = client_for(marketing_manager).post(
        url, {"revision": "0", **kpi, "kpi-0-metric": "mql_acceptance_rate"}
    )
    page = later.content.decode()
    assert later.status_code == 200
    assert "Not saved" in page and "Sergio" in page
    # Their input is kept in the conflict chooser (agreements.merge), nothing overwritten.
    assert "conflict-form" in page and "MQL acceptance rate" in page
    assert list(m.Kpi.objects.filter(version=draft).values_list("metric", flat=True)) == [
        "sla_compliance"
    ]


def test_kpi_thresholds_must_follow_the_direction(agreement, draft, sales_manager, client_for):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    data = {
        "revision": "0",
        "kpi-TOTAL_FORMS": "1",
        "kpi-INITIAL_FORMS": "0",
        "kpi-0-metric": "speed_to_lead",
        "kpi-0-target": "4",
        "kpi-0-direction": "lower",
        "kpi-0-owner": "sales",
        "kpi-0-amber_threshold": "2",
        "kpi-0-red_threshold": "8",
        "kpi-0-review_frequency": "monthly",
    }
    response = client_for(sales_manager).post(url, data)
    assert "red ≥ amber ≥ target" in response.content.decode()
    assert not m.Kpi.objects.exists()


def test_handoff_named_owner_method_needs_an_owner(agreement, draft, sales_manager, client_for):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "handoff"])
    response = client_for(sales_manager).post(
        url,
        handoff_post(
            0, **{"policy-assignment_method": "named_owner", "policy-response_target_hours": "0"}
        ),
    )
    page = response.content.decode()
    assert "Choose the rep who owns every handed-off lead." in page
    assert "Ensure this value is greater than or equal to 0.25." in page
    assert m.HandoffPolicy.objects.get(version=draft).assignment_method == "round_robin"


def test_removing_a_core_lifecycle_stage_is_refused(
    agreement, draft, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "definitions"])
    stages = list(m.Stage.objects.filter(version=draft))
    data = {
        "revision": "0",
        "term-TOTAL_FORMS": "0",
        "term-INITIAL_FORMS": "0",
        "stage-TOTAL_FORMS": str(len(stages)),
        "stage-INITIAL_FORMS": str(len(stages)),
    }
    for i, stage in enumerate(stages):
        data.update(
            {
                f"stage-{i}-id": stage.pk,
                f"stage-{i}-kind": stage.kind,
                f"stage-{i}-slug": stage.slug,
                f"stage-{i}-label": stage.label,
            }
        )
    data["stage-1-DELETE"] = "on"
    response = client_for(marketing_manager).post(url, data)
    assert "must keep the stages mql" in response.content.decode()
    assert m.Stage.objects.filter(version=draft).count() == 5


def test_htmx_add_row_returns_an_empty_row_and_bumps_the_form_count(
    agreement, draft, marketing_manager, client_for
):
    url = reverse("agreements:row_new", args=[agreement.pk, draft.pk, "qualification", "fit"])
    response = client_for(marketing_manager).get(url + "?index=3", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'name="fit-3-attribute"' in page
    assert 'id="id_fit-TOTAL_FORMS" hx-swap-oob="true"' in page and 'value="4"' in page
    assert "index=4" in page


def test_score_preview_shows_which_rules_gave_points(
    agreement, draft, marketing_manager, client_for
):
    m.FitRule.objects.create(
        version=draft, attribute="title", operator="contains", value="director", points=15
    )
    m.InterestRule.objects.create(
        version=draft, event_type="pricing_page_view", points=10, max_occurrences=2
    )
    url = reverse("agreements:score_preview", args=[agreement.pk, draft.pk])
    response = client_for(marketing_manager).post(
        url, {"title": "Marketing Director", "events_pricing_page_view": "3"}
    )
    page = response.content.decode()
    assert "Job title contains director" in page
    assert "Pricing page view × 2" in page
    assert ">35<" in page  # 15 fit + 2 capped × 10 interest


def test_funnel_preview_recomputes_without_saving(agreement, draft, marketing_manager, client_for):
    url = reverse("agreements:funnel_preview", args=[agreement.pk, draft.pk])
    response = client_for(marketing_manager).post(url, goals_post(0))
    assert "5,000" in response.content.decode()
    assert m.FunnelPlan.objects.get(version=draft).revenue_target == 0


def test_full_sign_off_through_the_pages(
    agreement, draft, marketing_manager, sales_manager, client_for
):
    a, v = agreement.pk, draft.pk
    marina, sergio = client_for(marketing_manager), client_for(sales_manager)
    marina.post(reverse("agreements:submit", args=[a, v]), {"change_note": "First version"})
    response = marina.post(reverse("agreements:approve", args=[a, v]), {"side": "sales"})
    assert response.status_code == 403
    marina.post(reverse("agreements:approve", args=[a, v]), {"side": "marketing"})
    sergio.post(reverse("agreements:approve", args=[a, v]), {"side": "sales"})
    draft.refresh_from_db()
    assert draft.status == "published" and draft.number == 1
    page = marina.get(reverse("agreements:detail", args=[a])).content.decode()
    assert "v1 · in force" in page


def test_submitting_without_a_change_note_is_refused(
    agreement, draft, marketing_manager, client_for
):
    response = client_for(marketing_manager).post(
        reverse("agreements:submit", args=[agreement.pk, draft.pk]),
        {"change_note": "", "effective_at": "soon"},
    )
    page = response.content.decode()
    assert "Not submitted" in page and "This field is required." in page
    assert "Enter a valid date/time." in page and 'value="soon"' in page
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_history_and_diff_show_a_changed_value(
    agreement, published, marketing_manager, sales_manager, client_for
):
    amendment = services.amendment_start(agreement=agreement, by=sales_manager)
    url = reverse("agreements:part_edit", args=[agreement.pk, amendment.pk, "handoff"])
    client_for(sales_manager).post(url, handoff_post(0, **{"policy-response_target_hours": "3"}))
    client = client_for(marketing_manager)
    history = client.get(reverse("agreements:history", args=[agreement.pk])).content.decode()
    assert "v1" in history and "Sergio" in history
    diff = client.get(
        reverse("agreements:diff", args=[agreement.pk]) + f"?from={published.pk}&to={amendment.pk}"
    ).content.decode()
    assert "First-touch target (business hours)" in diff
    assert "4" in diff and "3" in diff


def test_submitting_with_a_past_effective_date_names_the_field(
    agreement, draft, marketing_manager, client_for
):
    response = client_for(marketing_manager).post(
        reverse("agreements:submit", args=[agreement.pk, draft.pk]),
        {"change_note": "x", "effective_at": "2020-01-01T09:00"},
    )
    assert "The effective date cannot be in the past." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_diff_with_unknown_versions_explains_what_to_do(agreement, draft, viewer, client_for):
    response = client_for(viewer).get(
        reverse("agreements:diff", args=[agreement.pk]) + "?from=x", follow=True
    )
    assert "Choose two versions of this agreement to compare." in response.content.decode()


def test_published_version_editor_redirects_with_a_message(
    agreement, published, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, published.pk, "goals"])
    response = client_for(marketing_manager).post(url, goals_post(0), follow=True)
    assert "cannot change; start an amendment" in response.content.decode()
    assert not m.Goal.objects.filter(version=published).exists()


def test_markdown_and_pdf_exports_download(agreement, published, viewer, client_for):
    client = client_for(viewer)
    md = client.get(reverse("agreements:markdown", args=[agreement.pk, published.pk]))
    assert md["Content-Type"].startswith("text/markdown") and b"Acme SLA" in md.content
    pdf = client.get(reverse("agreements:pdf", args=[agreement.pk, published.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_home_tells_a_manager_when_their_approval_is_awaited(
    agreement, draft, marketing_manager, sales_manager, client_for
):
    services.version_submit(version=draft, by=marketing_manager, change_note="x")
    services.version_approve(version=draft, by=marketing_manager, side="marketing")
    page = client_for(sales_manager).get("/").content.decode()
    assert "waits for your approval" in page
    assert "waits for your approval" not in client_for(marketing_manager).get("/").content.decode()


def test_home_shows_a_rep_their_own_sla_clock(sales_rep, client_for):
    page = client_for(sales_rep).get("/").content.decode()
    assert "Your leads with the SLA clock running" in page
    assert 'data-testid="home-breached">0<' in page
    assert "Open my queue" in page


def test_removing_a_track_removes_its_steps_in_the_same_save(
    agreement, draft, marketing_manager, client_for
):
    track = m.NurtureTrack.objects.create(version=draft, name="Education")
    step = m.NurtureStep.objects.create(
        version=draft, track=track, journey_stage="awareness", offer="E-book", wait_days=2
    )
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "nurture"])
    response = client_for(marketing_manager).post(
        url,
        {
            "revision": "0",
            "track-TOTAL_FORMS": "1",
            "track-INITIAL_FORMS": "1",
            "track-0-id": track.pk,
            "track-0-name": "Education",
            "track-0-entry_condition": "on_return",
            "track-0-DELETE": "on",
            "step-TOTAL_FORMS": "1",
            "step-INITIAL_FORMS": "1",
            "step-0-id": step.pk,
            "step-0-track": track.pk,
            "step-0-journey_stage": "awareness",
            "step-0-offer": "E-book",
            "step-0-channel": "email",
            "step-0-wait_days": "2",
        },
    )
    assert response.status_code == 302
    assert not m.NurtureTrack.objects.exists() and not m.NurtureStep.objects.exists()
