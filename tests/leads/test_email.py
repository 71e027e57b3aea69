"""E-mail for real: a local SMTP server receives what the product sends, in two parts."""

import email
import email.policy
import re
import socket
from datetime import timedelta

import environ
import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from leads.models import Lead, LeadEvent, NurtureEnrollment
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from leads.services.notifications import notify
from leads.services.nurture import nurture_advance
from leads.services.pipeline import pipeline_run
from slaportal.outbox import outbox_deliver


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free local port, and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def _parts(message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart()
    }


def test_email_url_configures_smtp_with_tls():
    config = environ.Env.email_url_config("smtp+tls://user:pass@smtp.example.com:587")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert config["EMAIL_USE_TLS"] is True


def test_a_notification_arrives_by_smtp_with_text_and_html_parts(smtp, sales_rep):
    notify(user=sales_rep, key="test:1", message="Lead <Ana> is at risk", email=True)
    outbox_deliver()

    [message] = smtp.messages
    assert message["To"] == sales_rep.email
    assert message["Subject"] == "[SLA Portal] Lead <Ana> is at risk"
    parts = _parts(message)
    assert "Lead <Ana> is at risk" in parts["text/plain"]
    assert "Lead &lt;Ana&gt; is at risk" in parts["text/html"]
    assert "List-Unsubscribe" not in message  # a notice to a colleague is not marketing


def test_a_nurture_email_carries_a_one_click_unsubscribe_that_works(sla, clock, settings, smtp):
    settings.NURTURE_DELIVERY_BACKEND = "leads.delivery.EmailDelivery"
    settings.SITE_URL = "http://testserver"
    now = timezone.now()
    lead, _ = lead_upsert(email="ana@example.com", fields={"first_name": "Ana"}, now=now)
    events_ingest(events=[EventInput(email=lead.email, type="page_view", occurred_at=now)])
    pipeline_run()  # below MQL: enrolled in the Education track
    assert NurtureEnrollment.objects.filter(lead=lead).exists()
    assert nurture_advance(now=now + timedelta(days=30)) == 1
    outbox_deliver()

    [message] = [sent for sent in smtp.messages if sent["To"] == "ana@example.com"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"].strip())[1]
    parts = _parts(message)
    assert link in parts["text/plain"] and link in parts["text/html"]
    path = link.removeprefix("http://testserver")

    # A link scanner's GET changes nothing; the provider's one-click POST unsubscribes.
    assert "Stop receiving" in Client().get(path).content.decode()
    lead.refresh_from_db()
    assert lead.unsubscribed_at is None
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.unsubscribed_at == timezone.now()
    assert LeadEvent.objects.filter(lead=lead, type="unsubscribe").count() == 1
    assert not NurtureEnrollment.objects.filter(lead=lead, completed_at__isnull=True).exists()


def test_a_tampered_unsubscribe_link_is_404(db):
    assert Client().post("/unsubscribe/1:bogus/").status_code == 404
    assert not Lead.objects.filter(unsubscribed_at__isnull=False).exists()
