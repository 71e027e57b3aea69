"""The SLA's life: draft, submit, approve each side, publish, amend, and the guards around it."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agreements import models as m
from agreements import services
from agreements.exceptions import EditConflict, NotEditable
from agreements.parts import PARTS_BY_SLUG
from agreements.selectors import open_draft, version_in_force

pytestmark = pytest.mark.django_db


def save_handoff(version, user, *, revision, **changes):
    """Save the handoff part through the same forms and service the editor uses."""
    part = PARTS_BY_SLUG["handoff"]
    block = part.settings[0]
    instance = block.instance(version)
    data = {
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
    data.update({f"policy-{k}": v for k, v in changes.items()})
    settings_form = block.form(data, instance=instance, prefix=block.key, version=version)
    formsets = [rowset.formset(version, data) for rowset in part.rowsets]
    assert settings_form.is_valid(), settings_form.errors
    assert all(f.is_valid() for f in formsets)
    services.part_save(
        version=version,
        part=part,
        settings_forms=[settings_form],
        formsets=formsets,
        expected_revision=revision,
        by=user,
    )


def test_new_agreement_starts_with_a_draft_holding_the_core_stages(agreement):
    draft = open_draft(agreement=agreement)
    assert draft.status == m.AgreementVersion.Status.DRAFT
    assert list(m.Stage.objects.filter(version=draft).values_list("slug", flat=True)) == [
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
    ]
    assert m.BusinessCalendar.objects.get(version=draft).working_days == [0, 1, 2, 3, 4]
    assert version_in_force(agreement=agreement) is None


def test_both_approvals_publish_version_one_with_a_snapshot(
    agreement, draft, marketing_manager, sales_manager
):
    services.version_submit(version=draft, by=marketing_manager, change_note="First")
    assert services.version_approve(version=draft, by=marketing_manager, side="marketing") is False
    assert version_in_force(agreement=agreement) is None
    assert services.version_approve(version=draft, by=sales_manager, side="sales") is True
    draft.refresh_from_db()
    assert draft.status == "published" and draft.number == 1
    assert draft.snapshot["version"]["label"] == "v1"
    assert version_in_force(agreement=agreement) == draft
    kinds = list(draft.events.values_list("kind", flat=True))
    assert {"submitted", "approved", "published"} <= set(kinds)


def test_each_manager_approves_only_their_own_side(draft, marketing_manager, sales_manager):
    services.version_submit(version=draft, by=marketing_manager, change_note="x")
    with pytest.raises(PermissionDenied):
        services.version_approve(version=draft, by=marketing_manager, side="sales")
    with pytest.raises(PermissionDenied):
        services.version_approve(version=draft, by=sales_manager, side="marketing")
    draft.refresh_from_db()
    assert draft.marketing_approved_at is None and draft.sales_approved_at is None


def test_a_draft_must_be_submitted_before_approval(draft, marketing_manager):
    with pytest.raises(ValidationError, match="submitted"):
        services.version_approve(version=draft, by=marketing_manager, side="marketing")


def test_effective_date_in_the_past_is_refused(draft, marketing_manager):
    with pytest.raises(ValidationError):
        services.version_submit(
            version=draft,
            by=marketing_manager,
            change_note="x",
            effective_at=timezone.now() - timedelta(days=1),
        )
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_future_effective_date_keeps_the_old_version_in_force(
    agreement, published, marketing_manager, sales_manager
):
    amendment = services.amendment_start(agreement=agreement, by=marketing_manager)
    services.version_submit(
        version=amendment,
        by=marketing_manager,
        change_note="Next month",
        effective_at=timezone.now() + timedelta(days=10),
    )
    services.version_approve(version=amendment, by=marketing_manager, side="marketing")
    services.version_approve(version=amendment, by=sales_manager, side="sales")
    assert version_in_force(agreement=agreement) == published
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert version_in_force(agreement=agreement).number == 2


def test_published_versions_cannot_be_edited(published, marketing_manager):
    with pytest.raises(NotEditable):
        save_handoff(published, marketing_manager, revision=published.revision_of("handoff"))


def test_amendment_copies_every_part_and_keeps_row_keys(agreement, draft, marketing_manager):
    track = m.NurtureTrack.objects.create(version=draft, name="Education")
    m.NurtureStep.objects.create(
        version=draft, track=track, journey_stage="awareness", offer="E-book", wait_days=2
    )
    m.ReturnReason.objects.create(
        version=draft, code="no_response", label="No response", nurture_track=track
    )
    goal = m.Goal.objects.create(
        version=draft,
        name="US$ 1M",
        metric="new_revenue",
        target=1,
        period_start="2026-01-01",
        period_end="2026-12-31",
    )
    services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    services.version_approve(version=draft, by=agreement.marketing_manager, side="marketing")
    services.version_approve(version=draft, by=agreement.sales_manager, side="sales")

    amendment = services.amendment_start(agreement=agreement, by=marketing_manager)
    assert amendment.based_on_id == draft.pk and amendment.status == "draft"
    assert services.amendment_start(agreement=agreement, by=marketing_manager) == amendment
    new_goal = m.Goal.objects.get(version=amendment)
    assert new_goal.pk != goal.pk and new_goal.row_key == goal.row_key
    new_track = m.NurtureTrack.objects.get(version=amendment)
    assert m.NurtureStep.objects.get(version=amendment).track == new_track
    assert m.ReturnReason.objects.get(version=amendment).nurture_track == new_track
    assert m.Stage.objects.filter(version=amendment).count() == 5


def test_one_open_draft_per_agreement_is_enforced_by_the_database(agreement, draft):
    with pytest.raises(IntegrityError), transaction.atomic():
        m.AgreementVersion.objects.create(agreement=agreement)


def test_a_stale_save_is_refused_as_a_conflict_and_changes_nothing(
    draft, marketing_manager, sales_manager
):
    save_handoff(draft, sales_manager, revision=0, response_target_hours="3")
    with pytest.raises(EditConflict) as conflict:
        save_handoff(draft, marketing_manager, revision=0, response_target_hours="8")
    assert conflict.value.saved_by == "Sergio " + sales_manager.last_name
    assert m.HandoffPolicy.objects.get(version=draft).response_target_hours == 3
    draft.refresh_from_db()
    assert draft.revision_of("handoff") == 1


def test_changing_a_submitted_draft_withdraws_the_approvals(
    draft, marketing_manager, sales_manager
):
    services.version_submit(version=draft, by=marketing_manager, change_note="x")
    services.version_approve(version=draft, by=marketing_manager, side="marketing")
    save_handoff(draft, sales_manager, revision=0, response_target_hours="2")
    draft.refresh_from_db()
    assert draft.marketing_approved_at is None and draft.marketing_approved_by is None
    assert draft.status == "submitted"
    assert draft.events.filter(kind="approvals_withdrawn").exists()


def test_holidays_prefill_adds_a_countrys_public_holidays_once(draft, marketing_manager):
    part = PARTS_BY_SLUG["calendar"]
    added = services.holidays_prefill(
        version=draft, part=part, country="BR", year=2026, expected_revision=0, by=marketing_manager
    )
    assert added >= 8
    assert m.Holiday.objects.filter(version=draft, date="2026-12-25").exists()
    again = services.holidays_prefill(
        version=draft, part=part, country="BR", year=2026, expected_revision=1, by=marketing_manager
    )
    assert again == 0


def test_holidays_prefill_refuses_an_unknown_country(draft, marketing_manager):
    with pytest.raises(ValidationError, match="ZZ"):
        services.holidays_prefill(
            version=draft,
            part=PARTS_BY_SLUG["calendar"],
            country="ZZ",
            year=2026,
            expected_revision=0,
            by=marketing_manager,
        )
    assert not m.Holiday.objects.filter(version=draft).exists()
