"""Sending one webhook: signed per Standard Webhooks, no redirects, every attempt logged.

The outbox claims the row and retries a failure with backoff and jitter (about a day, then
dead). A 410 Gone disables the endpoint; too many failures in a row pause it and tell the
managers. A paused endpoint's events wait in the outbox and go out if it is resumed in time.
"""

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from .events import WEBHOOK, listeners_forget
from .models import WebhookDelivery, WebhookEndpoint
from .ssrf import url_refusal

logger = logging.getLogger(__name__)

__all__ = ["WEBHOOK", "webhooks_deliver", "webhook_attempt_failed", "signature_header"]

EXCERPT = 300
USER_AGENT = "SLA-Portal-Webhooks/1"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as an HTTPError: a failed attempt


_OPENER = urllib.request.build_opener(_NoRedirect)


class AttemptFailed(Exception):
    """A failed attempt with what the log shows of it."""

    def __init__(self, message: str, *, status_code=None, latency_ms=None, excerpt=""):
        super().__init__(message)
        self.status_code = status_code
        self.latency_ms = latency_ms
        self.excerpt = excerpt


class EndpointPaused(Exception):
    pass


def signature_header(endpoint: WebhookEndpoint, msg_id: str, at: datetime, body: str) -> str:
    """`v1,<sig>`; while a rotation is recent, the old secret's signature too, so receivers
    that still hold it keep verifying."""
    signatures = [Webhook(endpoint.secret).sign(msg_id, at, body)]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and (endpoint.previous_secret_expires_at > at)
    ):
        signatures.append(Webhook(endpoint.previous_secret).sign(msg_id, at, body))
    return " ".join(signatures)


def _post(url: str, body: str, headers: dict) -> tuple[int, str, int]:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status, text = response.status, response.read(2048)
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read(2048) if error.fp else b""
    except (urllib.error.URLError, OSError) as error:
        latency = int((time.monotonic() - started) * 1000)
        reason = getattr(error, "reason", error)
        raise AttemptFailed(f"{type(error).__name__}: {reason}", latency_ms=latency) from error
    latency = int((time.monotonic() - started) * 1000)
    return status, text.decode("utf-8", "replace")[:EXCERPT], latency


def _log(endpoint_id: int, event: dict, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint_id=endpoint_id,
        message_id=event["id"],
        event_type=event["type"],
        event=event,
        attempted_at=timezone.now(),
        **fields,
    )


def webhook_send(endpoint: WebhookEndpoint, event: dict) -> None:
    """One attempt; returns when delivered (or the endpoint is gone), raises to retry."""
    refusal = url_refusal(endpoint.url)
    if refusal:
        raise AttemptFailed(refusal)
    now = timezone.now()
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event["id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(endpoint, event["id"], now, body),
    }
    status, excerpt, latency = _post(endpoint.url, body, headers)
    if 200 <= status < 300:
        _log(
            endpoint.pk,
            event,
            status_code=status,
            latency_ms=latency,
            response_excerpt=excerpt,
            succeeded=True,
        )
        if endpoint.consecutive_failures:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return
    if status == 410:
        _log(
            endpoint.pk,
            event,
            status_code=status,
            latency_ms=latency,
            response_excerpt=excerpt,
            error=_("410 Gone: endpoint disabled"),
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            status=WebhookEndpoint.Status.DISABLED,
            status_reason=_("The receiver answered 410 Gone on %(at)s.") % {"at": now.isoformat()},
            updated_at=now,
        )
        listeners_forget()
        return
    raise AttemptFailed(f"HTTP {status}", status_code=status, latency_ms=latency, excerpt=excerpt)


def webhooks_deliver(messages) -> None:
    for message in messages:
        # Not locked: the outbox row is, and a manager pausing the endpoint must not wait for
        # a slow receiver.
        endpoint = WebhookEndpoint.objects.filter(pk=message.payload["endpoint"]).first()
        if endpoint is None or endpoint.status == WebhookEndpoint.Status.DISABLED:
            continue  # deleted or disabled: nobody to send to, nothing to retry
        if endpoint.status == WebhookEndpoint.Status.PAUSED:
            raise EndpointPaused(_("The endpoint is paused."))
        webhook_send(endpoint, message.payload["event"])


def webhook_attempt_failed(messages, error: Exception) -> None:
    """Log the failed attempt (the delivery's own writes rolled back) and count it."""
    if isinstance(error, EndpointPaused):
        return
    try:
        for message in messages:
            _attempt_failed(message, error)
    except Exception:  # noqa: BLE001 - the retry bookkeeping must still commit
        logger.exception("Webhooks: could not log a failed attempt")


def _attempt_failed(message, error: Exception) -> None:
    from slaportal.models import OutboxMessage

    endpoint_id = message.payload["endpoint"]
    if not WebhookEndpoint.objects.filter(pk=endpoint_id).exists():
        return
    text = str(error) if isinstance(error, AttemptFailed) else f"{type(error).__name__}: {error}"
    if message.status == OutboxMessage.Status.DEAD:
        text = _("%(error)s — gave up after %(n)s attempts") % {
            "error": text,
            "n": message.attempts,
        }
    _log(
        endpoint_id,
        message.payload["event"],
        status_code=getattr(error, "status_code", None),
        latency_ms=getattr(error, "latency_ms", None),
        response_excerpt=getattr(error, "excerpt", ""),
        error=text[:300],
    )
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    if (
        endpoint.status == WebhookEndpoint.Status.ACTIVE
        and endpoint.consecutive_failures >= settings.WEBHOOK_PAUSE_AFTER_FAILURES
    ):
        from .services import endpoint_pause_after_failures

        endpoint_pause_after_failures(endpoint=endpoint)
