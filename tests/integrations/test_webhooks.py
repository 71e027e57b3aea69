"""Signed webhooks out, end to end against a real local HTTP receiver."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook
from werkzeug import Response

from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from leads.services.handoffs import breaches_flag
from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_deliver


def _endpoint(httpserver, manager, **kwargs):
    return services.endpoint_create(url=httpserver.url_for("/hook"), by=manager, **kwargs)


def _verified(secret, calls) -> list[dict]:
    return [Webhook(secret).verify(body, headers) for headers, body in calls]


def test_a_demo_request_sends_signed_lead_created_mql_and_handoff_created(
    sla, hand_off, httpserver, received, sales_manager
):
    endpoint = _endpoint(httpserver, sales_manager)
    handoff = hand_off()
    outbox_deliver()
    events = _verified(endpoint.secret, received)
    types = [event["type"] for event in events]
    assert types[:3] == ["lead.created", "lead.mql", "handoff.created"]
    created = events[2]
    assert created["id"].startswith("msg_")
    assert created["data"]["handoff"]["id"] == handoff.pk
    assert created["data"]["lead"]["email"] == handoff.lead.email
    assert received[2][0]["Webhook-Id"] == created["id"]
    log = WebhookDelivery.objects.filter(endpoint=endpoint, succeeded=True)
    assert log.count() == len(received)
    assert log.first().status_code == 200


def test_a_breach_is_sent_once_to_an_endpoint_subscribed_to_breaches(
    sla, hand_off, httpserver, received, sales_manager, clock
):
    endpoint = _endpoint(httpserver, sales_manager, event_types=["handoff.breached"])
    handoff = hand_off()
    clock.move_to(handoff.due_at + timedelta(minutes=1), tick=False)
    breaches_flag()
    breaches_flag()
    outbox_deliver()
    events = _verified(endpoint.secret, received)
    assert [event["type"] for event in events] == ["handoff.breached"]
    assert events[0]["data"]["handoff"]["status"] == "breached"


def test_a_500_is_retried_and_then_delivered(sla, httpserver, sales_manager, clock):
    endpoint = _endpoint(httpserver, sales_manager)
    answers = iter([Response("boom", status=500), Response("ok", status=200)])
    calls = []

    def handler(request):
        calls.append((dict(request.headers), request.get_data()))
        return next(answers)

    httpserver.expect_request("/hook").respond_with_handler(handler)
    services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    failed = WebhookDelivery.objects.get(endpoint=endpoint)
    assert failed.status_code == 500 and not failed.succeeded and failed.response_excerpt == "boom"
    clock.move_to(timezone.now() + timedelta(minutes=2), tick=False)
    outbox_deliver()
    assert [call[0]["Webhook-Id"] for call in calls] == [failed.message_id] * 2
    assert _verified(endpoint.secret, calls[1:])[0]["type"] == "test.ping"
    assert WebhookDelivery.objects.filter(endpoint=endpoint, succeeded=True).count() == 1


def test_a_410_disables_the_endpoint_and_stops_retrying(sla, httpserver, sales_manager):
    endpoint = _endpoint(httpserver, sales_manager)
    httpserver.expect_request("/hook").respond_with_data("gone", status=410)
    services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    endpoint.refresh_from_db()
    assert endpoint.status == WebhookEndpoint.Status.DISABLED
    assert "410" in endpoint.status_reason
    assert not OutboxMessage.objects.filter(channel="webhook", status="pending").exists()


def test_a_redirect_is_a_failed_attempt(sla, httpserver, sales_manager):
    endpoint = _endpoint(httpserver, sales_manager)
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    assert WebhookDelivery.objects.get(endpoint=endpoint).status_code == 302
    assert OutboxMessage.objects.get(channel="webhook").status == "pending"


def test_a_receiver_down_for_hours_gets_every_event_exactly_once_when_back(
    sla, hand_off, sales_manager, clock
):
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    port = server.port
    server.stop()  # down: connections are refused
    endpoint = services.endpoint_create(url=f"http://127.0.0.1:{port}/hook", by=sales_manager)
    for _ in range(3):
        hand_off()
    expected = OutboxMessage.objects.filter(channel="webhook").count()
    assert expected >= 9
    outbox_deliver()
    clock.move_to(timezone.now() + timedelta(hours=1), tick=False)
    outbox_deliver()
    assert WebhookDelivery.objects.filter(succeeded=True).count() == 0

    back = HTTPServer(host="127.0.0.1", port=port)
    calls = []

    def handler(request):
        # Verified on arrival: the signature's timestamp is checked against the clock.
        Webhook(endpoint.secret).verify(request.get_data(), dict(request.headers))
        calls.append((dict(request.headers), request.get_data()))
        return Response("ok")

    back.expect_request("/hook").respond_with_handler(handler)
    back.start()
    try:
        for _ in range(8):
            clock.move_to(timezone.now() + timedelta(hours=2), tick=False)
            outbox_deliver()
    finally:
        back.stop()
    ids = [headers["Webhook-Id"] for headers, _ in calls]
    assert len(ids) == len(set(ids)) == expected


def test_rotation_signs_with_both_secrets_for_24_hours(
    sla, httpserver, received, sales_manager, clock
):
    endpoint = _endpoint(httpserver, sales_manager)
    old = endpoint.secret
    new = services.endpoint_rotate(endpoint=endpoint)
    services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    assert _verified(old, received) and _verified(new, received)
    clock.move_to(timezone.now() + timedelta(hours=25), tick=False)
    services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    assert _verified(new, received[1:])
    with pytest.raises(Exception, match="signature"):
        _verified(old, received[1:])


def test_resend_sends_a_logged_event_again(sla, httpserver, received, sales_manager):
    endpoint = _endpoint(httpserver, sales_manager)
    services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    services.webhook_resend(delivery=WebhookDelivery.objects.get())
    outbox_deliver()
    first, again = _verified(endpoint.secret, received)
    assert first == again


def test_an_endpoint_pointing_at_a_private_address_is_refused_and_not_stored(
    sla, sales_manager, settings
):
    from django.core.exceptions import ValidationError

    settings.WEBHOOK_ALLOWED_HOSTS = []
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/"):
        with pytest.raises(ValidationError, match="may not point there"):
            services.endpoint_create(url=url, by=sales_manager)
    assert not WebhookEndpoint.objects.exists()


def test_many_failures_in_a_row_pause_the_endpoint_and_tell_the_managers(
    sla, httpserver, sales_manager, marketing_manager, settings
):
    from leads.models import Notification

    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 3
    endpoint = _endpoint(httpserver, sales_manager)
    httpserver.expect_request("/hook").respond_with_data("no", status=503)
    for _ in range(3):
        services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    endpoint.refresh_from_db()
    assert endpoint.status == WebhookEndpoint.Status.PAUSED
    outbox_deliver()
    assert Notification.objects.filter(key__startswith="webhook-paused").count() == 2


def test_no_endpoint_means_no_webhook_rows(sla, hand_off):
    hand_off()
    assert not OutboxMessage.objects.filter(channel="webhook").exists()


def test_the_event_body_is_the_api_json(sla, hand_off, httpserver, received, sales_manager):
    endpoint = _endpoint(httpserver, sales_manager, event_types=["lead.created"])
    hand_off()
    outbox_deliver()
    (event,) = _verified(endpoint.secret, received)
    assert json.loads(received[0][1]) == event
    assert set(event) == {"id", "type", "timestamp", "data"}


def test_a_paused_endpoint_keeps_its_events_and_gets_them_when_resumed(
    sla, httpserver, received, sales_manager, clock
):
    endpoint = _endpoint(httpserver, sales_manager)
    services.endpoint_set_active(endpoint=endpoint, active=False)
    services.webhook_test_send(endpoint=endpoint)
    outbox_deliver()
    assert received == []
    services.endpoint_set_active(endpoint=endpoint, active=True)
    clock.move_to(timezone.now() + timedelta(minutes=2), tick=False)
    outbox_deliver()
    assert [event["type"] for event in _verified(endpoint.secret, received)] == ["test.ping"]
