"""Form captures and the log of their posts.

- formcapture.token UNIQUE: every post to /hooks/forms/<token>/ looks its capture up by token.
- capturepost_recent (capture_id, received_at DESC): a capture's page lists its last posts;
  the log only grows, so without it that page would read every post of every capture.
"""

import captures.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("leads", "0011_attempt_source"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FormCapture",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120, verbose_name="name")),
                (
                    "token",
                    models.CharField(
                        default=captures.models.capture_token_new,
                        editable=False,
                        max_length=64,
                        unique=True,
                    ),
                ),
                (
                    "event_type",
                    models.CharField(
                        choices=[
                            ("form_submit", "Form submit"),
                            ("demo_request", "Demo request"),
                            ("contact_sales", "Contact-sales form"),
                        ],
                        default="form_submit",
                        max_length=40,
                        verbose_name="event recorded",
                    ),
                ),
                (
                    "email_field",
                    models.CharField(default="email", max_length=100, verbose_name="e-mail field"),
                ),
                (
                    "first_name_field",
                    models.CharField(
                        blank=True,
                        default="first_name",
                        max_length=100,
                        verbose_name="first name field",
                    ),
                ),
                (
                    "last_name_field",
                    models.CharField(
                        blank=True,
                        default="last_name",
                        max_length=100,
                        verbose_name="last name field",
                    ),
                ),
                (
                    "company_field",
                    models.CharField(
                        blank=True, default="company", max_length=100, verbose_name="company field"
                    ),
                ),
                (
                    "company_size_field",
                    models.CharField(
                        blank=True,
                        default="company_size",
                        max_length=100,
                        verbose_name="company size field",
                    ),
                ),
                (
                    "country_field",
                    models.CharField(
                        blank=True, default="country", max_length=100, verbose_name="country field"
                    ),
                ),
                (
                    "source_field",
                    models.CharField(
                        blank=True, default="source", max_length=100, verbose_name="source field"
                    ),
                ),
                (
                    "default_source",
                    models.CharField(
                        blank=True, max_length=100, verbose_name="source when the form sends none"
                    ),
                ),
                (
                    "honeypot_field",
                    models.CharField(
                        blank=True,
                        default="website",
                        help_text="A field hidden from people: a post that fills it is a bot's and is dropped. Leave empty for none.",
                        max_length=100,
                        verbose_name="honeypot field",
                    ),
                ),
                (
                    "rate_per_minute",
                    models.PositiveIntegerField(
                        default=60,
                        help_text="More posts in a minute get 429.",
                        verbose_name="posts per minute",
                    ),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["name", "id"],
            },
        ),
        migrations.CreateModel(
            name="CapturePost",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("received_at", models.DateTimeField()),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("accepted", "Accepted"),
                            ("refused", "Refused"),
                            ("dropped", "Dropped"),
                        ],
                        max_length=10,
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=300)),
                ("email", models.CharField(blank=True, max_length=254)),
                ("fields", models.JSONField(default=list)),
                (
                    "lead",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="leads.lead",
                    ),
                ),
                (
                    "capture",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="posts",
                        to="captures.formcapture",
                    ),
                ),
            ],
            options={
                "ordering": ["-received_at", "-id"],
                "indexes": [
                    models.Index(fields=["capture", "-received_at"], name="capturepost_recent")
                ],
            },
        ),
    ]
