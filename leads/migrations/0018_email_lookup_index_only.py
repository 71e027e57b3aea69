"""On PostgreSQL the lead's e-mail index carries its id (issue 9, ingestion speed).

Each 1,000-event batch looks up its ~600 e-mails to find the known leads' ids. With the id
only in the table, each lookup read a random page of the 291 MB lead table after the index
(15-37 ms a batch on the 1 M-lead bench); with INCLUDE (id) an index-only scan answers in
5-7 ms. Uniqueness is still on the e-mail alone, under the same constraint name.

Only the database changes: Django would skip a UniqueConstraint with `include` on SQLite
altogether (no covering indexes there), which would drop the uniqueness itself, so the model
keeps the plain constraint and PostgreSQL gets the covering one. Rebuilding the index blocks
writes to the lead table for a few seconds at a million leads.
"""

from django.db import migrations

TABLE, NAME = "leads_lead", "lead_email_normalised_unique"


def covering(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {NAME}")
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {NAME} UNIQUE (email_normalised) INCLUDE (id)"
        )


def plain(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {NAME}")
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {NAME} UNIQUE (email_normalised)")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0017_scoring_marks"),
    ]

    operations = [migrations.RunPython(covering, plain)]
