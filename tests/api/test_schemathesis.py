"""schemathesis against the API's own OpenAPI schema, with a manager's token (issue 7, item 13).

Every operation gets generated requests, valid and invalid; the answers must never be a
server error, must carry a documented status code, and must match the documented body.
Bounded and deterministic: a fixed seed and few examples per operation.
"""

import json

import pytest
import schemathesis
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from slaportal.wsgi import application

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def api_schema() -> dict:
    """The schema /api/schema/ serves, built in-process (and as plain JSON)."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(spec, cls=DjangoJSONEncoder))


schema = schemathesis.openapi.from_dict(
    api_schema(),
    config=schemathesis.config.SchemathesisConfig.from_dict(
        {
            "seed": 20261201,
            "generation": {"max-examples": 25, "deterministic": True},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@pytest.fixture
def wsgi_keeps_the_test_transaction():
    """As Django's test client does: the WSGI handler must not close the database connection
    after each request, which would end the test's transaction (on PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def manager_token(published, marketing_manager) -> str:
    """A marketing manager's token, with an SLA in force (its event types, its stages)."""
    token, _ = Token.objects.get_or_create(user=marketing_manager)
    return token.key


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_the_api_answers_as_its_schema_says(case, manager_token, wsgi_keeps_the_test_transaction):
    response = case.call(
        app=application,
        base_url="http://testserver",
        headers={"Authorization": f"Token {manager_token}"},
    )

    case.validate_response(response, checks=CHECKS)
