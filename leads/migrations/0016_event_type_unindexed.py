"""Drop the two indexes of leadevent.type (issue 9, ingestion speed).

A SlugField is indexed by default, and on PostgreSQL that is two indexes: a btree and a
varchar_pattern_ops one for LIKE. No query asks for events by type alone: scoring, consent and
the handoff trigger all name the lead too, which event_lead_type_at (lead_id, type,
occurred_at) answers, and the full rescore joins every event to the rules by type, a scan
either way. Nothing filters types with LIKE. Each ingested event still paid an entry in both,
2,000 index insertions (and their WAL) per 1,000-event batch, on 10 M-row indexes.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0015_ingest_speed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="leadevent",
            name="type",
            field=models.SlugField(db_index=False, max_length=40),
        ),
    ]
