"""Lead pages are linked only for readers who may open them (a rep sees their own leads)."""

import pytest

from leads.access import lead_openable_by
from leads.models import Lead, Notification
from leads.selectors import leads_visible_to
from leads.services.ingestion import lead_upsert
from slaportal.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def other_rep(db):
    return UserFactory(username="otto", first_name="Otto", role=Role.SALES_REP)


def _lead(owner, email):
    lead, _ = lead_upsert(email=email, fields={})
    Lead.objects.filter(pk=lead.pk).update(owner=owner)
    lead.refresh_from_db()
    return lead


def test_the_link_rule_agrees_with_the_visibility_selector(
    sales_rep, other_rep, marketing_manager, sales_manager, viewer, no_role_user
):
    leads = [_lead(sales_rep, "mine@example.com"), _lead(other_rep, "his@example.com")]
    leads.append(_lead(None, "nobody@example.com"))
    for user in (sales_rep, other_rep, marketing_manager, sales_manager, viewer, no_role_user):
        visible = set(leads_visible_to(user).values_list("pk", flat=True))
        assert {lead.pk for lead in leads if lead_openable_by(lead, user)} == visible, user


def test_a_rep_is_linked_to_his_own_lead_but_not_to_one_he_no_longer_holds(
    client_for, sales_rep, other_rep
):
    mine = _lead(sales_rep, "mine@example.com")
    gone = _lead(other_rep, "gone@example.com")
    Notification.objects.create(
        user=sales_rep, key="a", message="Yours", lead=mine, created_at="2026-03-02T09:00Z"
    )
    Notification.objects.create(
        user=sales_rep, key="b", message="Breached", lead=gone, created_at="2026-03-02T09:00Z"
    )
    page = client_for(sales_rep).get("/leads/notifications/").content.decode()
    assert f'href="/leads/{mine.pk}/"' in page
    assert f'href="/leads/{gone.pk}/"' not in page
    assert "Breached" in page
    # The link a rep no longer gets would have been a 404.
    assert client_for(sales_rep).get(f"/leads/{gone.pk}/").status_code == 404


def test_a_manager_is_linked_to_every_lead_in_his_notifications(
    client_for, sales_manager, other_rep
):
    lead = _lead(other_rep, "his@example.com")
    Notification.objects.create(
        user=sales_manager, key="a", message="Breach", lead=lead, created_at="2026-03-02T09:00Z"
    )
    page = client_for(sales_manager).get("/leads/notifications/").content.decode()
    assert f'href="/leads/{lead.pk}/"' in page
