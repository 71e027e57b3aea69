"""Issue 10's "done when", end to end: a form on the website, a CRM reporting a call and a
breach, each reaching the team's other tools through the outbox."""

import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from standardwebhooks import Webhook
from werkzeug import Response

from captures.services import capture_create
from integrations import services
from integrations.models import ChatChannel
from leads.models import Handoff
from leads.services.handoffs import breaches_flag
from leads.services.pipeline import pipeline_run
from slaportal.outbox import outbox_deliver
from slaportal.roles import Role
from tests.factories import UserFactory


def _signed_events(httpserver, path="/hook"):
    calls = []

    def handler(request):
        calls.append((dict(request.headers), request.get_data()))
        return Response("ok")

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return calls


def test_a_form_demo_request_reaches_the_receiver_as_created_mql_and_handed_off(
    sla, sales_rep, marketing_manager, sales_manager, httpserver
):
    calls = _signed_events(httpserver)
    endpoint = services.endpoint_create(url=httpserver.url_for("/hook"), by=sales_manager)
    capture = capture_create(
        by=marketing_manager, name="Website demo form", event_type="demo_request"
    )
    posted = Client().post(
        f"/hooks/forms/{capture.token}/",
        {"email": "ana@globex.com", "company_size": "120", "first_name": "Ana"},
    )
    assert posted.status_code == 200, posted.content
    pipeline_run()  # what the scoring task does when the post has committed
    outbox_deliver()

    events = [Webhook(endpoint.secret).verify(body, headers) for headers, body in calls]
    assert [event["type"] for event in events] == ["lead.created", "lead.mql", "handoff.created"]
    assert {event["data"]["lead"]["email"] for event in events} == {"ana@globex.com"}
    handoff = Handoff.objects.get(lead__email="ana@globex.com")
    assert events[2]["data"]["handoff"]["id"] == handoff.pk
    assert handoff.rep == sales_rep


def test_a_call_reported_by_the_crm_marks_the_handoff_met_and_says_so(
    sla, hand_off, sales_manager, httpserver, clock
):
    calls = _signed_events(httpserver)
    handoff = hand_off()
    endpoint = services.endpoint_create(
        url=httpserver.url_for("/hook"), by=sales_manager, event_types=["handoff.met"]
    )
    crm = UserFactory(username="hubspot-sync", first_name="HubSpot", role=Role.INTEGRATION)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=crm).key}")
    clock.shift(timedelta(minutes=30))
    answer = client.post(
        "/api/v1/activities/",
        [
            {
                "external_id": "hubspot-call-1",
                "email": handoff.lead.email,
                "rep": handoff.rep.username,
                "channel": "phone",
                "disposition": "connected",
                "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
            }
        ],
        format="json",
    )
    assert answer.status_code in (200, 201), answer.content
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.MET
    outbox_deliver()

    events = [Webhook(endpoint.secret).verify(body, headers) for headers, body in calls]
    assert [event["type"] for event in events] == ["handoff.met"]
    assert events[0]["data"]["handoff"]["id"] == handoff.pk


def test_a_breach_is_announced_once_in_the_teams_chat(sla, hand_off, httpserver, clock):
    posts = []

    def chat(request):
        posts.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/chat", method="POST").respond_with_handler(chat)
    services.chat_channel_create(kind=ChatChannel.Kind.SLACK, url=httpserver.url_for("/chat"))
    handoff = hand_off()
    clock.move_to(handoff.due_at + timedelta(minutes=1), tick=False)
    breaches_flag()
    breaches_flag()
    outbox_deliver()
    outbox_deliver()

    breached = [post for post in posts if post["text"].startswith("SLA breached")]
    assert len(breached) == 1
    assert f"/leads/{handoff.lead_id}/" in breached[0]["text"]
