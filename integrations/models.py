"""Outbound webhooks (Standard Webhooks), chat alerts and per-user notification preferences."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The events a webhook endpoint can subscribe to; the README and the OpenAPI schema document
# each one. "test.ping" is only ever sent by "send a test event", never by a change.
EVENT_TYPES = (
    "lead.created",
    "lead.mql",
    "lead.stage_changed",
    "handoff.created",
    "handoff.at_risk",
    "handoff.breached",
    "handoff.met",
    "handoff.accepted",
    "handoff.rejected",
    "handoff.returned",
    "handoff.reassigned",
    "nurture.enrolled",
    "sla.version_published",
)
TEST_EVENT = "test.ping"


class WebhookEndpoint(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        DISABLED = "disabled", _("Disabled")

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Empty means every event type, including ones added later.
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    # Kept in clear: signing needs it. Shown once, when created or rotated.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one endpoint: the endpoint's delivery log."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=60)
    event_type = models.CharField(max_length=40)
    # The event as sent (id, type, timestamp, data), so "resend" needs nothing else.
    event = models.JSONField(default=dict)
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "-attempted_at"], name="webhook_log")]

    def __str__(self):
        return f"{self.event_type} {self.message_id} → {self.status_code or self.error}"


class ChatChannel(models.Model):
    """An incoming-webhook URL of the team's chat: team-wide (no owner) or one rep's own."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"
        GOOGLE_CHAT = "google_chat", "Google Chat"

    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    url = models.URLField(_("incoming webhook URL"), max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_channels",
        help_text=_("Empty for the whole team's channel."),
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.owner or _('team')})"


class AlertKind(models.TextChoices):
    NEW_HANDOFF = "new_handoff", _("New handoff")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    RETURNED = "returned", _("Returned")
    OTHER = "other", _("Other notices")


class NotificationPreference(models.Model):
    """Which channels one user wants for one kind of notice; no row means all of them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(max_length=20, choices=AlertKind)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    chat = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self):
        return f"{self.user} {self.kind}"
