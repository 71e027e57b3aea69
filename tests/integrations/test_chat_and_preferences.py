"""Alerts in the team's chat and each person's notification preferences."""

import json
from datetime import timedelta

from django.utils import timezone
from werkzeug import Response

from integrations import services
from integrations.chat import chat_body
from integrations.models import ChatChannel
from leads.models import Notification
from leads.services.handoffs import breaches_flag
from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_deliver


def _chat_receiver(httpserver, path="/chat"):
    posts = []

    def handler(request):
        posts.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return posts


def test_a_breach_alert_reaches_the_team_chat_once_with_a_link_to_the_lead(
    sla, hand_off, httpserver, clock
):
    posts = _chat_receiver(httpserver)
    services.chat_channel_create(kind=ChatChannel.Kind.SLACK, url=httpserver.url_for("/chat"))
    handoff = hand_off()
    outbox_deliver()
    clock.move_to(handoff.due_at + timedelta(minutes=1), tick=False)
    breaches_flag()
    breaches_flag()
    outbox_deliver()
    outbox_deliver()
    breaches = [post for post in posts if post["text"].startswith("SLA breached")]
    assert len(breaches) == 1
    assert f"/leads/{handoff.lead_id}/" in breaches[0]["text"]
    assert any(post["text"].startswith("New handoff") for post in posts)


def test_a_chat_outage_delays_the_alert_but_never_loses_it(sla, hand_off, httpserver, clock):
    answers = iter([Response("down", status=503)] + [Response("ok")] * 10)
    posts = []

    def handler(request):
        answer = next(answers)
        if answer.status_code == 200:
            posts.append(json.loads(request.get_data()))
        return answer

    httpserver.expect_request("/chat").respond_with_handler(handler)
    services.chat_channel_create(kind=ChatChannel.Kind.TEAMS, url=httpserver.url_for("/chat"))
    handoff = hand_off()
    outbox_deliver()
    assert posts == []
    clock.move_to(timezone.now() + timedelta(minutes=5), tick=False)
    outbox_deliver()
    assert len(posts) == 1
    card = posts[0]["attachments"][0]["content"]
    assert card["body"][0]["text"].startswith("New handoff")
    assert card["actions"][0]["url"].endswith(f"/leads/{handoff.lead_id}/")
    assert OutboxMessage.objects.get(channel="chat").status == "sent"


def test_each_chat_gets_its_own_format():
    link = "https://sla.example/leads/1/"
    assert "blocks" in chat_body("slack", "Hi", link)
    assert chat_body("teams", "Hi", link)["type"] == "message"
    assert chat_body("google_chat", "Hi", link)["text"].startswith("Hi\n<" + link)


def test_a_rep_who_turned_off_in_app_breaches_gets_them_in_their_own_chat_only(
    sla, hand_off, sales_rep, httpserver, clock
):
    posts = _chat_receiver(httpserver, "/mine")
    services.chat_channel_create(
        kind=ChatChannel.Kind.GOOGLE_CHAT, url=httpserver.url_for("/mine"), owner=sales_rep
    )
    services.preferences_save(
        user=sales_rep, choices={"breached": {"in_app": False, "email": False, "chat": True}}
    )
    handoff = hand_off()
    outbox_deliver()
    clock.move_to(handoff.due_at + timedelta(minutes=1), tick=False)
    breaches_flag()
    outbox_deliver()
    assert not Notification.objects.filter(user=sales_rep, key__startswith="breach:").exists()
    assert Notification.objects.filter(user=sales_rep, key__startswith="handoff:").exists()
    assert [post["text"].split(" ")[0] for post in posts] == ["New", "SLA"]
    emails = OutboxMessage.objects.filter(channel="email", key__contains=f":{sales_rep.pk}:breach")
    assert not emails.exists()


def test_the_notification_settings_page_saves_choices(client_for, sales_rep):
    client = client_for(sales_rep)
    assert client.get("/integrations/notifications/").status_code == 200
    response = client.post(
        "/integrations/notifications/",
        {"at_risk__in_app": "on", "breached__in_app": "on", "breached__email": "on"},
    )
    assert response.status_code == 302
    prefs = {p.kind: p for p in sales_rep.notification_prefs.all()}
    assert prefs["breached"].email and not prefs["breached"].chat
    assert not prefs["new_handoff"].in_app


def test_a_rep_adds_only_a_channel_of_their_own(client_for, sales_rep, sales_manager, httpserver):
    url = httpserver.url_for("/mine")
    client_for(sales_rep).post(
        "/integrations/chat/", {"kind": "slack", "url": url, "team_wide": "on"}
    )
    channel = ChatChannel.objects.get()
    assert channel.owner == sales_rep
    team = services.chat_channel_create(kind="slack", url=url)
    client_for(sales_rep).post(f"/integrations/chat/{team.pk}/delete/")
    assert ChatChannel.objects.filter(pk=team.pk).exists()
