"""Figures for the monthly review: daily rollups, visitor counts, and the meeting's record."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext

from agreements.models import Agreement


class VisitorCount(models.Model):
    """Website visitors per day and source: the top of the funnel, which leads never see."""

    day = models.DateField()
    source = models.CharField(max_length=100)
    visitors = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "source"]
        constraints = [
            models.UniqueConstraint(fields=["day", "source"], name="one_count_per_day_source")
        ]

    def __str__(self):
        return f"{self.day} {self.source}: {self.visitors}"


class DailyFigure(models.Model):
    """One additive figure of one day (in the review's time zone), by agreement, rep and source.

    Written only by kpis.rollups, which replaces a day's rows as a whole, so the monthly
    review sums these instead of scanning leads, events and attempts.
    """

    day = models.DateField()
    metric = models.CharField(max_length=40)
    # The agreement the figure belongs to (issue 11): a handoff's figures to the agreement of
    # the version it was handed off under, a lead's to the agreement governing it; empty for
    # leads no agreement covers. "All agreements" is the sum over every row.
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=100, blank=True)
    segment = models.CharField(max_length=20, blank=True, help_text="company size band")
    key = models.CharField(max_length=40, blank=True, help_text="e.g. a return reason code")
    value = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["day", "metric"], name="daily_figure_day_metric"),
            models.Index(fields=["agreement", "day", "metric"], name="daily_figure_agreement_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.metric}={self.value}"


class DailyValue(models.Model):
    """One measured value behind a median or 90th percentile, filed under its local day.

    Medians are not additive, so a month's cannot be summed from daily figures; storing the
    values themselves (one row per handoff touched, lead leaving a stage, or gap between two
    attempts: tens of thousands a month at a million leads) keeps the percentiles exact and
    the month's read one indexed range scan. A histogram would be smaller but would round
    the figures the review has always shown. Written only by kpis.rollups, with DailyFigure.
    """

    day = models.DateField()
    metric = models.CharField(max_length=40)
    # As on DailyFigure: one agreement's values, and "all" as every row's.
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    value = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["day", "metric"], name="daily_value_day_metric"),
            models.Index(fields=["agreement", "day", "metric"], name="daily_value_agreement_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.metric}: {self.value}"


class RollupStamp(models.Model):
    """A month's rollup generation: a fresh token whenever its rollups or visitor counts
    change, so a cached report keyed on the tokens is never stale and never needlessly cold."""

    month = models.DateField(unique=True, help_text="The first day of the month.")
    token = models.CharField(max_length=32)
    # The last rollup of any of its days, changed or not: what the running month's figures
    # are "as of".
    rolled_up_at = models.DateTimeField()

    def __str__(self):
        return f"{self.month:%Y-%m} {self.token}"


class ReviewMeeting(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month reviewed.")
    notes = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "month"], name="one_review_per_month")
        ]

    def __str__(self):
        return gettext("Review of %(month)s") % {
            "month": date_format(self.month, "YEAR_MONTH_FORMAT")
        }


class ActionItem(models.Model):
    """An action agreed in a review; open items carry over to the following months."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The review month in which it was agreed.")
    text = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(
                fields=["agreement", "month"],
                name="action_item_month",
                condition=Q(done_at__isnull=True),
            )
        ]

    def __str__(self):
        return self.text
