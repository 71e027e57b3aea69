"""A manager plugs a receiver in: adds an endpoint, copies its secret, sends a test event and
sees it, signed and answered, in the delivery log."""

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from integrations.models import WebhookEndpoint
from slaportal.outbox import outbox_deliver
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _allow_local_receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


def test_a_manager_adds_an_endpoint_sends_a_test_event_and_sees_it_in_the_log(
    page, live_server, login, sales_manager, httpserver
):
    received = []

    def record(request):
        from werkzeug import Response

        received.append((request.get_data(), dict(request.headers)))
        return Response("thanks", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(record)
    login(page, live_server, "sergio")
    page.locator("nav").get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Add endpoint").click()
    page.get_by_label("URL").fill(httpserver.url_for("/hook"))
    page.get_by_label("Description").fill("Our CRM")
    page.get_by_role("button", name="Save").click()
    secret = page.locator("#new-secret code")
    expect(secret).to_contain_text("whsec_")
    shown = secret.inner_text().strip()
    assert shown == WebhookEndpoint.objects.get().secret

    page.get_by_role("button", name="Send a test event").click()
    expect(page.locator(".alert-success")).to_contain_text("Test event queued")
    outbox_deliver()  # what the delivery task does once the request has committed
    page.reload()
    log = page.locator("#delivery-log")
    expect(log).to_contain_text("test.ping")
    expect(log).to_contain_text("200")
    expect(log).to_contain_text("thanks")
    expect(page.locator("#new-secret")).to_have_count(0)  # the secret was shown once
    screenshot(page, "integrations-delivery-log")
    ((body, headers),) = received
    assert Webhook(shown).verify(body, headers)["type"] == "test.ping"
