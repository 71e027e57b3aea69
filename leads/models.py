"""Leads, their activity, and what the SLA makes happen to them.

A lead's score and stage are written by the scoring job (leads.scoring); handoffs carry the SLA
version that was in force when they were made, so every lead is measured against the promise
of its day.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agreements.models import AgreementVersion, Channel, NurtureStep, NurtureTrack

from .emails import email_normalise


class Stage(models.TextChoices):
    """Stable lifecycle slugs; their labels come from the SLA's definitions."""

    LEAD = "lead", _("Lead")
    MQL = "mql", _("MQL")
    SQL = "sql", _("SQL")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")


STAGE_ORDER = {slug: index for index, slug in enumerate(Stage.values)}


class Lead(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("With marketing")
        HANDED_OFF = "handed_off", _("Handed to sales")
        ACCEPTED = "accepted", _("Accepted by sales")
        RETURNED = "returned", _("Returned to marketing")
        NURTURING = "nurturing", _("In nurture")

    email = models.EmailField(help_text=_("As the lead typed it; shown and written to."))
    # leads.emails.email_normalise(email): who the lead is. The unique constraint is on this
    # column, never on LOWER(email), whose rules differ between PostgreSQL and Python.
    email_normalised = models.TextField(editable=False)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    company_size = models.PositiveIntegerField(null=True, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. BR"))
    source = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # No index of its own: lead_owner_stage (owner, stage) starts with it. Every index is
    # written again whenever ingestion marks a lead (leads migration 0016 says why).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        db_index=False,
    )
    stage = models.CharField(max_length=20, choices=Stage, default=Stage.LEAD)
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    fit_score = models.IntegerField(default=0)
    interest_score = models.IntegerField(default=0)
    score = models.IntegerField(default=0)
    # Set when activity or attributes change; the scoring job picks up only these leads.
    needs_scoring = models.BooleanField(default=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    lead_at = models.DateTimeField(null=True, blank=True)
    mql_at = models.DateTimeField(null=True, blank=True)
    sql_at = models.DateTimeField(null=True, blank=True)
    opportunity_at = models.DateTimeField(null=True, blank=True)
    customer_at = models.DateTimeField(null=True, blank=True)
    # What the won deal was worth, as the CRM reports it; the review's revenue adds these up.
    deal_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # Last return from sales: only activity after it can hand the lead off again.
    returned_at = models.DateTimeField(null=True, blank=True)
    # The SLA version whose rules produced the stored score: the breakdown explains that
    # version, not whichever is in force when someone looks.
    scored_version = models.ForeignKey(
        AgreementVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The agreement whose scope governs the lead (issue 11): scoring, handoff, cadence, nurture
    # and KPIs come from its version in force. Resolved when the lead arrives or its attributes
    # change; empty when no agreement's scope covers it. No index of its own:
    # lead_agreement_id (agreement, id) starts with it.
    agreement = models.ForeignKey(
        "agreements.Agreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,
    )
    # Consent withdrawn: no nurture step or marketing e-mail goes to the lead after this.
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            # On PostgreSQL its index also carries the id (INCLUDE, leads migration 0018):
            # ingestion finds a batch's known leads from the index alone.
            models.UniqueConstraint(
                fields=["email_normalised"], name="lead_email_normalised_unique"
            ),
            # A bulk write that forgot the column would otherwise hide a lead from lookups.
            models.CheckConstraint(
                condition=~Q(email_normalised=""), name="lead_email_normalised_set"
            ),
        ]
        indexes = [
            # The scoring batches walk the marked leads in id order.
            models.Index(
                fields=["id"], condition=Q(needs_scoring=True), name="lead_needs_scoring_by_id"
            ),
            models.Index(fields=["stage", "status"], name="lead_stage_status"),
            models.Index(fields=["owner", "stage"], name="lead_owner_stage"),
            # Scoring and the review walk one agreement's leads.
            models.Index(fields=["agreement", "id"], name="lead_agreement_id"),
            models.Index(fields=["updated_at"], name="lead_updated_at"),
            # The KPI rollups range-scan each of these (leads migration 0008 says why btree).
            models.Index(fields=["created_at"], name="lead_created_at"),
            *(
                models.Index(
                    fields=[column],
                    name=f"lead_{column}",
                    condition=Q(**{f"{column}__isnull": False}),
                )
                for column in ("mql_at", "sql_at", "opportunity_at", "customer_at")
            ),
        ]

    def __str__(self):
        return self.name or self.email

    def save(self, *args, **kwargs):
        # Derived from the e-mail on every save, so no path that saves a lead (services, the
        # admin, the shell, tests) can store a constraint column out of step with the address.
        self.email_normalised = email_normalise(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_normalised"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("leads:detail", args=[self.pk])

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class LeadEvent(models.Model):
    # No index of its own: event_lead_type_at (lead, type, occurred_at) starts with it, and
    # each of 1,000 events of a batch lands on a random page of either (migration 0016).
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", db_index=False)
    # No index of its own: every query by type also names the lead (event_lead_type_at), and
    # two indexes on a handful of values cost each ingested event two entries (migration 0016).
    type = models.SlugField(max_length=40, db_index=False)
    occurred_at = models.DateTimeField()
    # occurred_at as days since the Unix epoch: lets the scoring SQL decay points with plain
    # arithmetic, the same on PostgreSQL and SQLite.
    occurred_day = models.FloatField()
    properties = models.JSONField(default=dict, blank=True)
    # NULL, not "", when absent: the unique constraint must ignore events without one.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_event_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "type", "occurred_at"], name="event_lead_type_at"),
            # Every scoring batch asks which of its leads ever sent an unsubscribe: a few rows
            # among millions of events, so a partial index answers from a handful of pages.
            models.Index(
                fields=["lead"], name="event_unsubscribe", condition=Q(type="unsubscribe")
            ),
        ]

    def __str__(self):
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ScoringMark(models.Model):
    """A known lead with new activity, waiting for the next scoring run.

    Event ingestion records one of these instead of setting the lead's needs_scoring and
    updated_at: both columns are indexed, so that update wrote a new version of the lead row
    and an entry in each of the lead table's indexes, 70-90 ms of a 1,000-event batch for
    its 500 known leads at a million leads, where a mark is one row and one key. The scoring
    run scores the marked leads first (leads.services.pipeline), writing each lead row once
    however many batches it received. New activity no longer moves updated_at, which says
    when the lead's own record last changed; the activity is in its events.
    """

    # No foreign key in the database: its check at commit cost one query per marked lead
    # (500 a batch), and a mark is only a hint. Django still deletes a deleted lead's mark,
    # and a mark left by a lead deleted in SQL marks nothing when the run applies it.
    lead = models.OneToOneField(
        Lead, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    def __str__(self):
        return f"lead {self.lead_id} waits for scoring"


class StageChange(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.CharField(max_length=40, blank=True, help_text=_("The job that made the change."))
    reason = models.CharField(max_length=300)
    version = models.ForeignKey(
        AgreementVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["to_stage", "at"], name="stage_change_to_at"),
            # The KPI rollups' "first entry into a stage" probe: is there an earlier change of
            # this lead into this stage? One index lookup per change instead of a lead's list.
            models.Index(fields=["lead", "to_stage", "at"], name="stage_change_lead_to_at"),
        ]

    def __str__(self):
        return f"{self.from_stage or '—'} → {self.to_stage}"


class Handoff(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("handoff status", "Open")
        AT_RISK = "at_risk", _("At risk")
        BREACHED = "breached", _("Breached")
        MET = "met", _("Met")
        RETURNED = "returned", _("Returned")

    class Trigger(models.TextChoices):
        SCORE = "score", _("Reached the MQL threshold")
        EVENT = "event", _("Conversion event")
        MANUAL = "manual", _("Handed off by hand")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="handoffs")
    # None while the handoff waits in the unassigned queue: nobody was available (issue 11).
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handoffs",
    )
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=20, choices=Trigger)
    trigger_detail = models.CharField(max_length=200, blank=True)
    handed_off_at = models.DateTimeField()
    at_risk_at = models.DateTimeField()
    due_at = models.DateTimeField()
    accept_due_at = models.DateTimeField()
    first_touch_at = models.DateTimeField(null=True, blank=True)
    # Business time from handoff to first touch, kept for speed-to-lead medians.
    response_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    breached_at = models.DateTimeField(null=True, blank=True)
    # The job run that flagged it: concurrent runs each notify only what their own claim won.
    flag_claim = models.UUIDField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(max_length=40, blank=True)
    return_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who held the lead when its response deadline was met (the first touch) or breached (the
    # deadline): written once, so reassigning the lead later moves the lead, never the result.
    response_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    breach_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The latest clock pause's end (the buyer asked to be contacted then), and the business
    # minutes all pauses took: the deadlines were moved by them, compliance counts them out.
    paused_until = models.DateTimeField(null=True, blank=True)
    paused_business_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(returned_at__isnull=True, accepted_at__isnull=True),
                name="one_open_handoff_per_lead",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="handoff_untouched_due",
                condition=Q(first_touch_at__isnull=True, status__in=["open", "at_risk"]),
            ),
            models.Index(
                fields=["at_risk_at"],
                name="handoff_open_at_risk",
                condition=Q(first_touch_at__isnull=True, status="open"),
            ),
            models.Index(fields=["rep", "status"], name="handoff_rep_status"),
            models.Index(fields=["handed_off_at"], name="handoff_handed_off_at"),
            # The KPI rollups range-scan each of these (leads migration 0008 says why btree).
            models.Index(fields=["due_at"], name="handoff_due_at"),
            *(
                models.Index(
                    fields=[column],
                    name=f"handoff_{column}",
                    condition=Q(**{f"{column}__isnull": False}),
                )
                for column in (
                    "first_touch_at",
                    "breached_at",
                    "accepted_at",
                    "rejected_at",
                    "returned_at",
                )
            ),
            # A rep's queue and the team's loads: active handoffs only (see migration 0009).
            models.Index(
                fields=["rep", "due_at"],
                include=["id", "status", "first_touch_at", "at_risk_at"],
                name="handoff_active_rep_due",
                condition=Q(accepted_at__isnull=True, returned_at__isnull=True),
            ),
            # The breach job re-reads the rows its claim won.
            models.Index(
                fields=["flag_claim"],
                name="handoff_flag_claim",
                condition=Q(flag_claim__isnull=False),
            ),
            # Round robin reads each active rep's latest handoff: one index probe per rep.
            models.Index(fields=["rep", "-handed_off_at", "-id"], name="handoff_rep_latest"),
        ]

    def __str__(self):
        return f"{self.lead} → {self.rep}"

    @property
    def is_active(self) -> bool:
        """Still in the rep's hands: neither accepted nor returned."""
        return self.accepted_at is None and self.returned_at is None


class HandoffPause(models.Model):
    """The buyer asked to be contacted later: the handoff's clock stood still until then."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="pauses")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The rep who held the lead (a manager may record the pause for them).
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300)
    starts_at = models.DateTimeField()
    until = models.DateTimeField()
    # Business minutes the pause covers in the handoff version's calendar.
    business_minutes = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__gt=F("starts_at")), name="handoff_pause_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["rep", "starts_at"], name="handoff_pause_rep_start")]

    def __str__(self):
        return f"{self.handoff_id} paused until {self.until:%Y-%m-%d %H:%M}"


class ContactAttempt(models.Model):
    class Source(models.TextChoices):
        APP = "app", _("App")
        API = "api", _("API")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outbound")
        INBOUND = "inbound", _("Inbound")

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="attempts")
    channel = models.CharField(max_length=20, choices=Channel)
    disposition = models.CharField(max_length=40)
    is_conversation = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The rep who held the lead when the attempt was made (a manager may log it for them).
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Where the attempt was logged: in the app, or reported by a CRM or dialer through the
    # API (source_name says which one, e.g. HubSpot), so the timeline can say so.
    source = models.CharField(max_length=10, choices=Source, default=Source.APP)
    source_name = models.CharField(max_length=60, blank=True)
    direction = models.CharField(
        max_length=10, choices=Direction, default=Direction.OUTBOUND, blank=True
    )
    # The reporting system's id of the activity: a batch sent again stores nothing new.
    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["handoff", "at"], name="attempt_handoff_at"),
            # The KPI rollups count a range of days' attempts.
            models.Index(fields=["at"], name="attempt_at"),
            # The cadence job's "no conversation yet" test (see migration 0009).
            models.Index(
                fields=["handoff"], name="attempt_conversation", condition=Q(is_conversation=True)
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.disposition}"


class HandoffAssignment(models.Model):
    """A handoff given from one rep to another: who did it, when and why (the lead's timeline)."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="assignments")
    from_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["handoff", "at"], name="assignment_handoff_at")]

    def __str__(self):
        return f"{self.handoff_id}: {self.from_rep_id} → {self.to_rep_id}"


class NurtureEnrollment(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="enrollments")
    track = models.ForeignKey(NurtureTrack, on_delete=models.PROTECT, related_name="+")
    next_step = models.ForeignKey(
        NurtureStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    steps_done = models.PositiveIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    automatic = models.BooleanField(default=True)
    reason = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(completed_at__isnull=True),
                name="one_active_enrollment_per_lead",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_step_at"],
                name="enrollment_due",
                condition=Q(completed_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.lead} in {self.track}"


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # What it is about, e.g. "breach:42": the database refuses a second notice of one event.
    key = models.CharField(max_length=80)
    message = models.CharField(max_length=300)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_notification_per_event"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self):
        return self.message


class RescoreRun(models.Model):
    """A full rescore, durable while it runs: the lead rows are written once, by the scoring
    statement, and never marked first.

    The run walks lead ids in ranges of `chunk` up to `until_id` (the highest id when it
    started; leads created later are scored as new leads). Each range commits with the run's
    new `last_id`, so a run killed half-way is resumed from there by the next scoring run.
    """

    started_at = models.DateTimeField()
    last_id = models.BigIntegerField(help_text=_("Leads up to this id are rescored."))
    until_id = models.BigIntegerField()
    chunk = models.PositiveIntegerField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Rescore from {self.started_at:%Y-%m-%d %H:%M}: {self.last_id}/{self.until_id}"


class AuditEntry(models.Model):
    """Who exported or erased a lead's personal data, and when (LGPD / GDPR accountability).

    `lead_id` is a plain number, not a foreign key: the entry must outlive the lead it is about.
    """

    class Action(models.TextChoices):
        EXPORT = "export", _("Personal data exported")
        ERASE = "erase", _("Personal data erased")

    action = models.CharField(max_length=20, choices=Action)
    lead_id = models.PositiveBigIntegerField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead_id", "at"], name="audit_lead_at")]

    def __str__(self):
        return f"{self.get_action_display()}: lead {self.lead_id}"


class ImportJob(models.Model):
    """A CSV import: validated in full, then stored in one transaction (all or nothing)."""

    class Kind(models.TextChoices):
        LEADS = "leads", _("Leads")
        EVENTS = "events", _("Events")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        VALIDATING = "validating", _("Checking rows")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Refused: nothing imported")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind)
    filename = models.CharField(max_length=200)
    content = models.TextField()
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The run working on it renews claimed_at as it goes; a claim left to expire means the run
    # died and the sweeper starts the import over. Each claim adds one attempt, which also
    # tells a run whether the import is still its own.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweeper's scan: only unfinished imports, a handful at any time.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "validating", "importing"]),
                name="importjob_unfinished",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} import {self.filename}"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
