"""The Integrations pages and the endpoints API: managers only; the secret shown once."""

import pytest
from rest_framework.test import APIClient

from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from slaportal.outbox import outbox_deliver

PAGES = ["/integrations/", "/integrations/endpoints/new/"]


@pytest.fixture
def endpoint(httpserver, sales_manager):
    return services.endpoint_create(url=httpserver.url_for("/hook"), by=sales_manager)


@pytest.mark.parametrize("role", ["sales_rep", "viewer"])
def test_reps_and_viewers_are_refused_the_pages(request, client_for, role, endpoint):
    client = client_for(request.getfixturevalue(role))
    for url in [*PAGES, f"/integrations/endpoints/{endpoint.pk}/"]:
        assert client.get(url).status_code == 403
    assert client.post(f"/integrations/endpoints/{endpoint.pk}/test/").status_code == 403
    assert client.post(f"/integrations/endpoints/{endpoint.pk}/rotate/").status_code == 403


@pytest.mark.parametrize("role", ["sales_rep", "viewer"])
def test_reps_and_viewers_are_refused_the_api(request, role, endpoint):
    api = APIClient()
    api.force_authenticate(request.getfixturevalue(role))
    assert api.get("/api/v1/webhook-endpoints/").status_code == 403
    assert (
        api.post("/api/v1/webhook-endpoints/", {"url": "https://example.com/h"}).status_code == 403
    )
    assert api.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 403


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(client_for, sales_manager, httpserver):
    client = client_for(sales_manager)
    response = client.post(
        "/integrations/endpoints/new/",
        {"url": httpserver.url_for("/hook"), "description": "CRM", "active": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert endpoint.secret in page
    assert endpoint.secret not in client.get(response["Location"]).content.decode()


def test_a_private_url_is_refused_with_a_clear_message_and_nothing_stored(
    client_for, sales_manager, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    page = client_for(sales_manager).post(
        "/integrations/endpoints/new/", {"url": "http://10.0.0.8/hook", "active": "on"}
    )
    assert page.status_code == 200
    assert "may not point there" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()
    api = APIClient()
    api.force_authenticate(sales_manager)
    answer = api.post("/api/v1/webhook-endpoints/", {"url": "http://127.0.0.1/x"}, format="json")
    assert answer.status_code == 400 and "may not point there" in answer.json()["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_the_api_returns_the_secret_only_on_create_and_rotate(sales_manager, httpserver):
    api = APIClient()
    api.force_authenticate(sales_manager)
    created = api.post(
        "/api/v1/webhook-endpoints/",
        {"url": httpserver.url_for("/hook"), "event_types": ["lead.created"]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    pk = created.json()["id"]
    assert "secret" not in api.get(f"/api/v1/webhook-endpoints/{pk}/").json()
    assert "secret" not in api.get("/api/v1/webhook-endpoints/").json()["results"][0]
    updated = api.patch(f"/api/v1/webhook-endpoints/{pk}/", {"active": False}, format="json")
    assert updated.json()["status"] == "paused" and "secret" not in updated.json()
    rotated = api.post(f"/api/v1/webhook-endpoints/{pk}/rotate-secret/")
    assert rotated.json()["secret"] != created.json()["secret"]
    assert api.delete(f"/api/v1/webhook-endpoints/{pk}/").status_code == 204


def test_send_a_test_event_and_resend_from_the_log(
    client_for, sales_manager, endpoint, httpserver, received
):
    client = client_for(sales_manager)
    client.post(f"/integrations/endpoints/{endpoint.pk}/test/")
    outbox_deliver()
    page = client.get(f"/integrations/endpoints/{endpoint.pk}/").content.decode()
    assert "test.ping" in page and "200" in page
    delivery = WebhookDelivery.objects.get()
    client.post(f"/integrations/deliveries/{delivery.pk}/resend/")
    outbox_deliver()
    assert len(received) == 2
    assert received[0][1] == received[1][1]


def test_the_schema_documents_every_event_type(client_for, sales_manager):
    from integrations.models import EVENT_TYPES

    schema = client_for(sales_manager).get("/api/schema/?format=json").json()
    assert set(EVENT_TYPES) <= set(schema["webhooks"])
    assert "/api/v1/webhook-endpoints/" in schema["paths"]
