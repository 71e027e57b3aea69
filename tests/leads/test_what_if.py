"""The qualification page's what-if: MQLs under the draft against the version in force."""

import pytest
from django.urls import reverse

from agreements import models as am
from agreements import services as agreement_services
from leads.services.ingestion import lead_upsert

pytestmark = pytest.mark.django_db


@pytest.fixture
def amendment(agreement, published, marketing_manager):
    am.QualificationSettings.objects.filter(version=published).update(mql_min_fit=10)
    draft = agreement_services.amendment_start(agreement=agreement, by=marketing_manager)
    am.FitRule.objects.create(
        version=draft, attribute="title", operator="contains", value="director", points=10
    )
    return draft


def test_what_if_counts_mqls_under_the_draft_and_the_version_in_force(
    amendment, marketing_manager, client_for
):
    lead_upsert(email="a@x.com", fields={"title": "Sales Director"})
    lead_upsert(email="b@x.com", fields={"title": "Intern"})
    response = client_for(marketing_manager).get(reverse("mql_what_if", args=[amendment.pk]))
    page = response.content.decode()
    assert 'data-testid="what-if-draft">1<' in page
    assert 'data-testid="what-if-in-force">0<' in page
    assert "of 2 leads" in page


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "no_role_user"])
def test_what_if_is_for_managers(role, request, amendment, client_for):
    user = request.getfixturevalue(role)
    response = client_for(user).get(reverse("mql_what_if", args=[amendment.pk]))
    assert response.status_code == 403
