"""Where a contact attempt came from (app or API, and which integration) and its external id.

- external_id UNIQUE (NULL allowed): the activities API looks a batch's ids up in one query
  and the constraint is what makes a repeated batch store nothing even when two copies race.
  Attempts logged in the app keep NULL, which a unique index does not compare, so the index
  holds only API-reported attempts.
- The other columns have constant defaults: on PostgreSQL 11+ adding them rewrites nothing.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_scoring_speed"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactattempt",
            name="direction",
            field=models.CharField(
                blank=True,
                choices=[("outbound", "Outbound"), ("inbound", "Inbound")],
                default="outbound",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="contactattempt",
            name="external_id",
            field=models.CharField(blank=True, max_length=200, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="contactattempt",
            name="source",
            field=models.CharField(
                choices=[("app", "App"), ("api", "API")], default="app", max_length=10
            ),
        ),
        migrations.AddField(
            model_name="contactattempt",
            name="source_name",
            field=models.CharField(blank=True, max_length=60),
        ),
    ]
