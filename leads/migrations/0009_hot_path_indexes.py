"""Indexes for the hot paths of issue 9, each for a query that scanned a whole table.

- handoff_active_rep_due (rep, due_at) INCLUDE (id, status, first_touch_at, at_risk_at)
  WHERE accepted_at IS NULL AND returned_at IS NULL: a rep's queue, the team's loads per rep
  and the narrow id sort of the team page read only active handoffs (about 10 k of 1 M at
  scale), and every column their urgency needs is in the index, so all three are index-only
  scans (queue ids 0.2 ms, team ids 2.3 ms, rep loads 6.5 ms at 1 M handoffs; before: the
  queue used handoff_rep_status, which also holds every closed handoff of the rep, and the
  loads joined every handoff ever made, 3.4 s). Partial, so it stays small however long the
  history grows. (INCLUDE is PostgreSQL's; elsewhere it is a plain partial index.)
- handoff_flag_claim (flag_claim) WHERE flag_claim IS NOT NULL: breaches_flag re-reads the
  rows its claim UPDATE won by their token; that was a sequential scan of all handoffs
  (~100 ms each, twice a run, at 1 M handoffs) even when nothing was due. Only flagged rows
  carry a token, so the index holds the flagged history, not every handoff.
- attempt_conversation (handoff_id) WHERE is_conversation: cadence_apply keeps only active
  handoffs without a conversation; the anti-join read every attempt to find the few
  conversations. (Counting a handoff's attempts uses attempt_handoff_at, per active handoff,
  instead of joining and grouping the whole attempts table: 260 ms -> 55 ms with nothing to
  return at 1 M handoffs / 333 k attempts.)
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0008_time_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(
                condition=models.Q(("accepted_at__isnull", True), ("returned_at__isnull", True)),
                fields=["rep", "due_at"],
                include=["id", "status", "first_touch_at", "at_risk_at"],
                name="handoff_active_rep_due",
            ),
        ),
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(
                condition=models.Q(("flag_claim__isnull", False)),
                fields=["flag_claim"],
                name="handoff_flag_claim",
            ),
        ),
        migrations.AddIndex(
            model_name="contactattempt",
            index=models.Index(
                condition=models.Q(("is_conversation", True)),
                fields=["handoff"],
                name="attempt_conversation",
            ),
        ),
    ]
