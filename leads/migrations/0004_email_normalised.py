"""Leads are one per email_normalise(email): fill the new column, merge the duplicates it
reveals into the oldest lead of each group, then make the column unique.

The old constraint was on LOWER(email), whose rules differ between PostgreSQL and Python,
so one person could hold two leads (u@İSTANBUL.com / U@istanbul.com, bücher.de /
xn--bcher-kva.de). Merging keeps everything the duplicates gathered: their events, stage
changes, handoffs (with their attempts), enrollments and notifications move to the survivor,
whose blank fields are filled from them, and the lead is re-scored by the next scoring run.
"""

from collections import defaultdict

from django.db import migrations, models
from django.utils import timezone

STAGE_ORDER = ["lead", "mql", "sql", "opportunity", "customer"]
STAGE_TIMES = ["lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at"]
TEXT_FIELDS = ["first_name", "last_name", "phone", "title", "company", "industry", "country", "source"]
BATCH = 1000


def normalise_leniently(email: str) -> str:
    from leads.emails import InvalidEmail, email_normalise

    try:
        return email_normalise(email)
    except InvalidEmail:
        # Stored before validation refused such domains; still one form per spelling.
        return email.strip().casefold()


def merge_leads(apps, *, survivor_id: int, duplicate_ids: list[int], now) -> None:
    """Move everything of the duplicates to the survivor, fill its blanks, delete them."""
    Lead = apps.get_model("leads", "Lead")
    Handoff = apps.get_model("leads", "Handoff")
    NurtureEnrollment = apps.get_model("leads", "NurtureEnrollment")
    survivor = Lead.objects.get(pk=survivor_id)
    duplicates = list(Lead.objects.filter(pk__in=duplicate_ids).order_by("created_at", "pk"))
    everyone = [survivor, *duplicates]

    # One open handoff and one active enrollment per lead (constraints): the survivor's, or
    # else the oldest duplicate's, stays open; the others are closed as duplicates, not lost.
    open_handoffs = list(
        Handoff.objects.filter(
            lead__in=everyone, returned_at__isnull=True, accepted_at__isnull=True
        ).order_by("handed_off_at", "pk")
    )
    open_handoffs.sort(key=lambda handoff: handoff.lead_id != survivor_id)
    Handoff.objects.filter(pk__in=[h.pk for h in open_handoffs[1:]]).update(
        returned_at=now,
        status="returned",
        return_reason="duplicate",
        return_note=f"Closed when its lead was merged into lead {survivor_id} (same e-mail).",
    )
    active = list(
        NurtureEnrollment.objects.filter(lead__in=everyone, completed_at__isnull=True).order_by(
            "enrolled_at", "pk"
        )
    )
    active.sort(key=lambda enrollment: enrollment.lead_id != survivor_id)
    NurtureEnrollment.objects.filter(pk__in=[e.pk for e in active[1:]]).update(completed_at=now)

    for relation in Lead._meta.get_fields(include_hidden=True):
        if relation.auto_created and not relation.concrete and relation.one_to_many:
            relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": duplicate_ids}
            ).update(**{relation.field.name: survivor_id})

    furthest = max(everyone, key=lambda lead: STAGE_ORDER.index(lead.stage))
    if furthest is not survivor:
        # The lead is as far along as its furthest copy, with that copy's owner and status.
        for name in ["stage", "status", "owner_id", "returned_at", *STAGE_TIMES[1:]]:
            setattr(survivor, name, getattr(furthest, name))
    for duplicate in duplicates:
        for name in TEXT_FIELDS:
            if not getattr(survivor, name):
                setattr(survivor, name, getattr(duplicate, name))
        for name in ["company_size", "deal_value", "owner_id"]:
            if getattr(survivor, name) is None:
                setattr(survivor, name, getattr(duplicate, name))
        survivor.attributes = {**(duplicate.attributes or {}), **(survivor.attributes or {})}
    times = [lead.lead_at for lead in everyone if lead.lead_at]
    survivor.lead_at = min(times) if times else None
    survivor.updated_at = max(lead.updated_at for lead in everyone)
    survivor.needs_scoring = True
    survivor.save()
    Lead.objects.filter(pk__in=duplicate_ids).delete()


def normalise_and_merge(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    if schema_editor.connection.vendor == "postgresql":
        # Deleting merged leads leaves deferred foreign-key checks pending, and PostgreSQL
        # refuses to alter a table with pending trigger events later in this migration.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    groups = defaultdict(list)
    rows = Lead.objects.order_by("created_at", "pk").values_list("pk", "email")
    for pk, email in rows.iterator(chunk_size=BATCH):
        groups[normalise_leniently(email)].append(pk)
    now = timezone.now()
    for pks in groups.values():
        if len(pks) > 1:
            merge_leads(apps, survivor_id=pks[0], duplicate_ids=pks[1:], now=now)
    survivors = [(pks[0], key) for key, pks in groups.items()]
    for start in range(0, len(survivors), BATCH):
        batch = survivors[start : start + BATCH]
        leads = [Lead(pk=pk, email_normalised=key) for pk, key in batch]
        Lead.objects.bulk_update(leads, ["email_normalised"])
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0003_lead_deal_value"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="lead",
            name="lead_email_unique_ignoring_case",
        ),
        migrations.AddField(
            model_name="lead",
            name="email_normalised",
            field=models.TextField(editable=False, null=True),
        ),
        migrations.RunPython(normalise_and_merge, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="lead",
            name="email_normalised",
            field=models.TextField(editable=False),
        ),
        migrations.AlterField(
            model_name="lead",
            name="email",
            field=models.EmailField(
                help_text="As the lead typed it; shown and written to.", max_length=254
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.UniqueConstraint(
                fields=["email_normalised"], name="lead_email_normalised_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=~models.Q(email_normalised=""), name="lead_email_normalised_set"
            ),
        ),
    ]
