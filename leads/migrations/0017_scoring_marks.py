"""Scoring marks: ingestion stops rewriting the lead rows of known leads (issue 9).

Marking a known lead for scoring set needs_scoring (in the partial index the scoring run
claims by) and updated_at (indexed for the API's updated_since): never a HOT update, so every
marked lead got a new row version and an entry in each lead index. EXPLAIN (ANALYZE, WAL) of
marking 500 leads on the 1 M-lead bench: 70-90 ms, ~5,500 WAL records, ~1,500 full-page
images. A mark is a row of one key. The scoring run scores the marked leads and drops their
marks in the same transaction, writing each lead row once however many batches it received.
The mark has no foreign key in the database: checking it at commit was one more query per
marked lead.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0016_event_type_unindexed"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScoringMark",
            fields=[
                (
                    "lead",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="leads.lead",
                    ),
                ),
            ],
        ),
    ]
