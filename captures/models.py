"""Form captures: secret URLs that a website form or a form tool posts leads to."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agreements.models import EventType


def capture_token_new() -> str:
    return secrets.token_urlsafe(24)


class FormCapture(models.Model):
    class Event(models.TextChoices):
        FORM_SUBMIT = EventType.FORM_SUBMIT, _("Form submit")
        DEMO_REQUEST = EventType.DEMO_REQUEST, _("Demo request")
        CONTACT_SALES = EventType.CONTACT_SALES, _("Contact-sales form")

    name = models.CharField(_("name"), max_length=120)
    # The secret in the URL: whoever knows it may post leads, so it can be rotated.
    token = models.CharField(max_length=64, unique=True, default=capture_token_new, editable=False)
    event_type = models.CharField(
        _("event recorded"), max_length=40, choices=Event, default=Event.FORM_SUBMIT
    )
    email_field = models.CharField(_("e-mail field"), max_length=100, default="email")
    first_name_field = models.CharField(
        _("first name field"), max_length=100, blank=True, default="first_name"
    )
    last_name_field = models.CharField(
        _("last name field"), max_length=100, blank=True, default="last_name"
    )
    company_field = models.CharField(
        _("company field"), max_length=100, blank=True, default="company"
    )
    company_size_field = models.CharField(
        _("company size field"), max_length=100, blank=True, default="company_size"
    )
    country_field = models.CharField(
        _("country field"), max_length=100, blank=True, default="country"
    )
    source_field = models.CharField(_("source field"), max_length=100, blank=True, default="source")
    default_source = models.CharField(
        _("source when the form sends none"), max_length=100, blank=True
    )
    honeypot_field = models.CharField(
        _("honeypot field"),
        max_length=100,
        blank=True,
        default="website",
        help_text=_(
            "A field hidden from people: a post that fills it is a bot's and is dropped. "
            "Leave empty for none."
        ),
    )
    rate_per_minute = models.PositiveIntegerField(
        _("posts per minute"), default=60, help_text=_("More posts in a minute get 429.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("captures:detail", args=[self.pk])

    def mapping(self) -> dict[str, str]:
        """Lead field -> incoming field name, for the fields mapped."""
        pairs = {
            "email": self.email_field,
            "first_name": self.first_name_field,
            "last_name": self.last_name_field,
            "company": self.company_field,
            "company_size": self.company_size_field,
            "country": self.country_field,
            "source": self.source_field,
        }
        return {lead_field: name for lead_field, name in pairs.items() if name}


class CapturePost(models.Model):
    """One post to a capture and what became of it: the capture's page lists the last ones."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", pgettext_lazy("form post", "Accepted")
        REFUSED = "refused", _("Refused")
        DROPPED = "dropped", _("Dropped")

    capture = models.ForeignKey(FormCapture, on_delete=models.CASCADE, related_name="posts")
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome)
    reason = models.CharField(max_length=300, blank=True)
    email = models.CharField(max_length=254, blank=True)
    # The names of the fields posted (never their values): enough to fix a mapping.
    fields = models.JSONField(default=list)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["capture", "-received_at"], name="capturepost_recent")]

    def __str__(self):
        return f"{self.capture}: {self.outcome}"
