"""Drop three indexes that another index already starts with (issue 9, ingestion speed).

Event ingestion writes 1,000 events and marks the batch's ~500 known leads per request. Each
event row goes into every index of leads_leadevent, and marking a lead (needs_scoring and
updated_at are indexed, so the update is never HOT) writes a new entry into every index of
leads_lead. Entries keyed by a lead id land on random pages of a 10 M-row index, and the first
write to a page after a checkpoint logs the whole page: EXPLAIN (ANALYZE, WAL) of 1,000 event
inserts on the 1 M-lead bench gave ~1,800 full-page images (14 MB of WAL), half of them from
leadevent.lead_id, which event_lead_type_at (lead_id, type, occurred_at) makes redundant:
lookups by lead and the foreign key's cascade checks use that index's first column. Without
it: 7.5 MB, 30 % less time. Likewise lead.agreement_id (lead_agreement_id is (agreement_id,
id)) and lead.owner_id (lead_owner_stage is (owner_id, stage)): marking 500 leads 15-25 %
faster. The foreign keys themselves stay: only the indexes are dropped (AlterField alone would
drop and re-validate each foreign key, a scan of the 10 M events).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0005_handoff_pauses"),
        ("leads", "0014_handoff_pauses"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Django's own names for the single-column indexes of these foreign keys.
    _dropped = [
        ("leads_lead_agreement_id_d99c5fb6", "leads_lead", "agreement_id"),
        ("leads_lead_owner_id_1f4568d0", "leads_lead", "owner_id"),
        ("leads_leadevent_lead_id_426caf75", "leads_leadevent", "lead_id"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="agreement",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="leads",
                        to="agreements.agreement",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="owned_leads",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="leadevent",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="leads.lead",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in _dropped
            ],
        ),
    ]
