"""The schema documents the error answers every operation can give (issue 7, item 13)."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(scope="module")
def operations() -> dict:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return {
        (method.upper(), path): operation
        for path, methods in paths.items()
        for method, operation in methods.items()
    }


def test_every_operation_documents_401_403_and_429(operations):
    for key, operation in operations.items():
        assert {"401", "403", "429"} <= set(operation["responses"]), key


def test_operations_with_input_document_400_and_ids_or_pages_document_404(operations):
    assert "400" in operations[("POST", "/api/v1/leads/")]["responses"]
    assert "415" in operations[("POST", "/api/v1/events/")]["responses"]
    assert "404" in operations[("GET", "/api/v1/leads/{id}/")]["responses"]
    assert "404" in operations[("GET", "/api/v1/leads/")]["responses"]  # a page past the last
    assert "404" not in operations[("POST", "/api/v1/events/")]["responses"]


def test_a_batch_400_may_also_be_a_parse_error(operations):
    schema = operations[("POST", "/api/v1/events/")]["responses"]["400"]["content"][
        "application/json"
    ]["schema"]

    assert schema == {
        "anyOf": [
            {"$ref": "#/components/schemas/EventBatchError"},
            {"$ref": "#/components/schemas/ErrorDetail"},
        ]
    }


@pytest.mark.django_db
def test_a_lead_without_an_owner_answers_null_as_documented(marketing_manager, operations):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketing_manager)}")

    lead = client.post("/api/v1/leads/", {"email": "ana@example.com"}, format="json").json()

    assert lead["owner"] is None
    owner = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"][
        "Lead"
    ]["properties"]["owner"]
    assert owner["nullable"] is True
