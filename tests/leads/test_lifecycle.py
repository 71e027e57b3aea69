"""Opportunities and won deals, reported by the CRM through the service and the API."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads.models import Lead, StageChange
from leads.services.ingestion import lead_upsert
from leads.services.lifecycle import lead_stage_advance

pytestmark = pytest.mark.django_db


@pytest.fixture
def sql_lead(published):
    lead, _ = lead_upsert(email="ana@globex.com", fields={"first_name": "Ana"})
    Lead.objects.filter(pk=lead.pk).update(stage="sql")
    lead.refresh_from_db()
    return lead


def api_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_an_sql_becomes_an_opportunity_then_a_won_deal_with_its_value(sql_lead, published):
    lead_stage_advance(lead=sql_lead, stage="opportunity", job="crm_sync")
    lead = lead_stage_advance(lead=sql_lead, stage="customer", deal_value=Decimal("25000"))
    assert (lead.stage, lead.deal_value) == ("customer", Decimal("25000"))
    assert lead.opportunity_at and lead.customer_at
    changes = list(StageChange.objects.filter(lead=lead).values_list("to_stage", "version"))
    assert changes[:2] == [("customer", published.pk), ("opportunity", published.pk)]


@pytest.mark.parametrize(
    "stage,current,value,message",
    [
        ("opportunity", "mql", None, "must accept it"),
        ("opportunity", "opportunity", None, "already Opportunity"),
        ("sql", "sql", None, "Only opportunity and customer"),
        ("opportunity", "sql", Decimal(10), "belongs to a won deal"),
    ],
)
def test_stage_moves_that_break_the_lifecycle_are_refused(sql_lead, stage, current, value, message):
    Lead.objects.filter(pk=sql_lead.pk).update(stage=current)
    with pytest.raises(ValidationError, match=message):
        lead_stage_advance(lead=sql_lead, stage=stage, deal_value=value)
    assert Lead.objects.get().stage == current
    assert not StageChange.objects.filter(to_stage__in=["opportunity", "customer"]).exists()


def test_the_crm_reports_a_won_deal_through_the_api(sql_lead, marketing_manager):
    response = api_for(marketing_manager).post(
        f"/api/v1/leads/{sql_lead.pk}/stage/",
        {"stage": "customer", "deal_value": "18000.50", "reason": "Closed won in the CRM"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "customer"
    assert Lead.objects.get().deal_value == Decimal("18000.50")
    assert StageChange.objects.get(to_stage="customer").reason == "Closed won in the CRM"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"stage": "lead"}, "stage"),
        ({"stage": "customer", "deal_value": "-5"}, "deal_value"),
        ({"stage": "customer", "deal_value": "lots"}, "deal_value"),
        ({"stage": "opportunity", "deal_value": "100"}, "deal_value"),
        ({"stage": "customer", "colour": "red"}, "colour"),
    ],
)
def test_bad_stage_reports_are_refused_with_the_field_and_nothing_stored(
    sql_lead, marketing_manager, body, field
):
    response = api_for(marketing_manager).post(
        f"/api/v1/leads/{sql_lead.pk}/stage/", body, format="json"
    )
    assert response.status_code == 400 and field in response.json()
    lead = Lead.objects.get()
    assert (lead.stage, lead.deal_value) == ("sql", None)


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "no_role_user"])
def test_only_writers_report_stages(request, sql_lead, role):
    response = api_for(request.getfixturevalue(role)).post(
        f"/api/v1/leads/{sql_lead.pk}/stage/", {"stage": "opportunity"}, format="json"
    )
    assert response.status_code == 403
    assert Lead.objects.get().stage == "sql"


def test_anonymous_is_401(sql_lead):
    response = APIClient().post(
        f"/api/v1/leads/{sql_lead.pk}/stage/", {"stage": "opportunity"}, format="json"
    )
    assert response.status_code == 401
