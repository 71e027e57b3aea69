"""Threads, comments, suggested changes and invitations on a version of the SLA.

A thread hangs on a part of a version, or on one row of it (`row_key`, which survives the
copy into an amendment). Threads and suggestions belong to the version they were opened on,
so a published version keeps the conversation that led to it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agreements.models import AgreementVersion


class Thread(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="+")
    part = models.CharField(max_length=30)
    rowset = models.CharField(max_length=30, blank=True)
    row_key = models.UUIDField(null=True, blank=True)
    # What the row read when the thread was opened: it stays readable if the row goes.
    row_label = models.CharField(max_length=200, blank=True)
    title = models.CharField(_("subject"), max_length=200)
    blocking = models.BooleanField(
        _("blocks submission"),
        default=False,
        help_text=_("The draft cannot be submitted for approval while this thread is open."),
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["version", "status"], name="thread_version_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True) | Q(status="resolved"),
                name="open_threads_are_not_resolved",
            )
        ]

    def __str__(self):
        return self.title


class Comment(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(max_length=4000)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.text[:60]


class Suggestion(models.Model):
    """A proposed value for one field of a part (a setting, or a field of one row)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the owner")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="+")
    part = models.CharField(max_length=30)
    # A setting's editor key ("policy-response_target_hours") or a row's field: rowset,
    # row_key and field.
    setting = models.CharField(max_length=80, blank=True)
    rowset = models.CharField(max_length=30, blank=True)
    row_key = models.UUIDField(null=True, blank=True)
    field = models.CharField(max_length=60, blank=True)
    label = models.CharField(max_length=300, help_text=_("Where and what, as people read it."))
    old_display = models.CharField(max_length=500, blank=True)
    new_value = models.JSONField(default=list, help_text=_("The value as the editor posts it."))
    new_display = models.CharField(max_length=500)
    reason = models.TextField(max_length=2000, blank=True)
    thread = models.OneToOneField(
        Thread, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestion"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["version", "status"], name="suggestion_version_status")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decision_note=""),
                name="declined_suggestions_say_why",
            )
        ]

    def __str__(self):
        return f"{self.label}: {self.new_display}"


class Invite(models.Model):
    """A rep or viewer a manager asked into the conversation on one draft."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="one_invite_per_version")
        ]

    def __str__(self):
        return f"{self.user} on {self.version}"
