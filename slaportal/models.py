"""The outbox: every notice a change causes, written in the same transaction as the change."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One notice to deliver on one channel (in-app, e-mail; later chat and webhooks).

    The row commits with the change that caused it, so a crash can delay a notice but never
    lose it; `key` is unique, so writing the same notice twice stores it once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be delivered")
        SENT = "sent", _("Delivered")
        DEAD = "dead", _("Given up after retries")

    # Channels are registered by the apps that deliver them (slaportal.outbox.channel_register),
    # so a new channel needs no migration.
    channel = models.CharField(max_length=20)
    key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(help_text="Not delivered before this time (retries).")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["available_at", "id"]
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                name="outbox_pending_due",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.key} ({self.status})"


class Workspace(models.Model):
    """The settings the whole workspace shares (one row, made on first use).

    The language is what a person sees whose browser names no language the product speaks and
    who has chosen none; the currency is the money of goals, deal sizes and revenue.
    """

    class Currency(models.TextChoices):
        BRL = "BRL", _("Brazilian real (R$)")
        USD = "USD", _("US dollar (US$)")
        EUR = "EUR", _("Euro (€)")
        GBP = "GBP", _("Pound sterling (£)")

    default_language = models.CharField(
        _("default language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("For people who have chosen no language and whose browser asks for none."),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency, default=Currency.USD)

    class Meta:
        verbose_name = _("workspace")

    def __str__(self):
        return f"{self.default_language} {self.currency}"
