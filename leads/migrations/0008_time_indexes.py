"""Indexes on the time columns the KPI rollups range-scan (issue 9).

kpis.rollups counts a range of local days per metric: leads by created_at and by the moment
they entered each stage, handoffs by due_at and by when they were touched, breached,
accepted, rejected or returned, and attempts by when they were made. Without these each of
those statements is a sequential scan of a million leads or handoffs.

Why btree and not BRIN: BRIN pays off only where the column follows the table's physical
order. created_at and attempt.at nearly do (append-mostly), but the stage and decision
columns are written by later UPDATEs, which PostgreSQL places wherever there is room, so a
BRIN range on them would match most of the table. A btree on created_at at a million rows
is ~20 MB and is also what SQLite (the default database) can build, so one migration serves
both. The nullable columns are partial (IS NOT NULL): most leads never reach SQL, and a
range condition implies NOT NULL, so the planner uses them and they stay small.

stage_change_lead_to_at serves the rollups' "first entry into a stage" anti-join (no earlier
change of the same lead into the same stage): one index probe per change in the range.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0002_consistency_acceptance'),
        ('leads', '0007_job_resumability'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='contactattempt',
            index=models.Index(fields=['at'], name='attempt_at'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(fields=['due_at'], name='handoff_due_at'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('first_touch_at__isnull', False)), fields=['first_touch_at'], name='handoff_first_touch_at'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('breached_at__isnull', False)), fields=['breached_at'], name='handoff_breached_at'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('accepted_at__isnull', False)), fields=['accepted_at'], name='handoff_accepted_at'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('rejected_at__isnull', False)), fields=['rejected_at'], name='handoff_rejected_at'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('returned_at__isnull', False)), fields=['returned_at'], name='handoff_returned_at'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(fields=['created_at'], name='lead_created_at'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('mql_at__isnull', False)), fields=['mql_at'], name='lead_mql_at'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('sql_at__isnull', False)), fields=['sql_at'], name='lead_sql_at'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('opportunity_at__isnull', False)), fields=['opportunity_at'], name='lead_opportunity_at'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('customer_at__isnull', False)), fields=['customer_at'], name='lead_customer_at'),
        ),
        migrations.AddIndex(
            model_name='stagechange',
            index=models.Index(fields=['lead', 'to_stage', 'at'], name='stage_change_lead_to_at'),
        ),
    ]
