"""Sales people: their team and capacity, and when they are away (issue 11)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class RepProfile(models.Model):
    """What assignment needs to know about a person beyond their account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rep_profile"
    )
    team = models.CharField(_("team"), max_length=80, blank=True)
    # Blank: no limit. Assignment skips a rep holding this many open handoffs.
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        help_text=_("Most open leads at once; blank for no limit."),
    )

    def __str__(self):
        return f"{self.user} ({self.team or '-'})"


class OnAbsence(models.TextChoices):
    REASSIGN = "reassign", _("Reassign them by the SLA's assignment method")
    KEEP = "keep", _("Keep them with the rep")


class Absence(models.Model):
    """A rep is away from `starts_at` to `ends_at`: no new leads then."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    on_start = models.CharField(
        _("their open leads"), max_length=10, choices=OnAbsence, default=OnAbsence.REASSIGN
    )
    # Set once the on-start policy has run: the periodic job applies it exactly once.
    applied_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="absence_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["rep", "ends_at"], name="absence_rep_ends"),
            models.Index(
                fields=["starts_at"],
                name="absence_not_applied",
                condition=Q(applied_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.rep} away {self.starts_at:%Y-%m-%d} – {self.ends_at:%Y-%m-%d}"


class Preferences(models.Model):
    """What a person chose for themselves. Blank language: their browser's, then the
    workspace's (slaportal.language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Blank: your browser's language."),
    )

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self):
        return f"{self.user}: {self.language or '-'}"
