"""The scoring job's work: score leads, move crossers to MQL, fire the handoff triggers."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext

from agreements.models import AgreementVersion, HandoffPolicy, NurtureStep, NurtureTrack
from agreements.scopes import scopes_ordered
from agreements.scoring import Thresholds
from agreements.selectors import (
    qualification_rules,
    version_in_force,
    version_scope,
    versions_in_force,
    workspace_agreement,
)
from slaportal.events import events_emit_many
from slaportal.language import in_team_language
from slaportal.lookups import Many

from ..models import (
    Handoff,
    Lead,
    LeadEvent,
    NurtureEnrollment,
    RescoreRun,
    ScoringMark,
    Stage,
    StageChange,
)
from ..scoring import leads_score_changed, leads_score_rows
from .consent import leads_unsubscribe_from_events
from .handoffs import HandoffRequest, handoffs_create_bulk, missing_handoff_fields
from .notifications import Notice, languages_of, notify_many, written_for
from .scopes import governing_agreement_expression, leads_resolve

# Marked leads per batch: one scoring statement and one set of follow-ups each. At 10,000 a
# batch commits in a few seconds at most, so ingestion waits little on its row locks; the
# statement binds the ids twice on SQLite, which stays under its 32,766 parameters.
BATCH = 10_000
# A full rescore walks the lead ids in about this many ranges, each of RESCORE_CHUNK_MIN to
# RESCORE_CHUNK_MAX ids (the id lists that follow a range stay under SQLite's 32,766
# parameters).
RESCORE_RANGES = 20
RESCORE_CHUNK_MIN = 2_000
RESCORE_CHUNK_MAX = 25_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class PipelineResult:
    # Lead rows the scoring wrote: every marked lead, and in a full rescore only the leads
    # whose score or scoring version changed.
    scored: int = 0
    promoted: int = 0
    handed_off: int = 0
    unsubscribed: int = 0
    nurtured: int = 0


@dataclass(frozen=True)
class _Leads:
    """The leads a step looks at: a batch's ids, or every lead in an id range (low exclusive,
    high inclusive). A range scan reads a range's leads far faster than one index lookup per
    id, so a rescore that changed most of a range looks at the whole range."""

    ids: list[int] | None = None
    id_range: tuple[int, int] | None = None
    # A range holds every agreement's leads: a step under one version looks at its own.
    agreement_id: int | None = None

    def where(self, field: str = "pk") -> Q:
        if self.id_range is not None:
            low, high = self.id_range
            within = Q(**{f"{field}__gt": low, f"{field}__lte": high})
            if self.agreement_id is not None:
                own = "agreement_id" if field == "pk" else "lead__agreement_id"
                within &= Q(**{own: self.agreement_id})
            # Marked leads in the range wait for their batch: their stored score is stale.
            return within & Q(needs_scoring=False) if field == "pk" else within
        return Q(**{f"{field}__any_of": Many(self.ids)})

    def __bool__(self) -> bool:
        return self.id_range is not None or bool(self.ids)


@dataclass(slots=True)
class _LeadState:
    """What the steps after scoring decide on, as the scoring statement left the lead's row;
    each step updates it as it changes the row, so the next step needs no second read."""

    stage: str
    status: str
    fit_score: int
    interest_score: int
    score: int
    returned_at: datetime | None
    unsubscribed_at: datetime | None
    # Whether the lead has any event of a type its policy hands off on, as the batch's scoring
    # statement saw; None where nobody looked (a rescore range, SQLite).
    converted: bool | None = None


_STATE_COLUMNS = (
    "stage",
    "status",
    "fit_score",
    "interest_score",
    "score",
    "returned_at",
    "unsubscribed_at",
)


def _lead_states(leads: _Leads) -> dict[int, _LeadState]:
    """The leads of a rescore range in one read (a batch has them from its scoring statement)."""
    if not leads:
        return {}
    rows = Lead.objects.filter(leads.where()).order_by().values_list("pk", *_STATE_COLUMNS)
    return {pk: _LeadState(*values) for pk, *values in rows}


def current_version(now: datetime | None = None) -> AgreementVersion | None:
    """The default agreement's version in force: what a page about no lead in particular
    shows (stage labels, the clock's zone). The lead engine never uses it: each lead follows
    its own agreement's version (versions_in_force, lead_version_in_force)."""
    agreement = workspace_agreement()
    return version_in_force(agreement=agreement, at=now) if agreement else None


@dataclass(frozen=True)
class _Plan:
    """One agreement's version in force and its scoring rules, read once per run."""

    version: AgreementVersion
    rules: dict

    @property
    def thresholds(self) -> Thresholds:
        return self.rules["thresholds"]


def _plans(now: datetime) -> dict[int, _Plan]:
    plans = {}
    for agreement_id, version in versions_in_force(at=now).items():
        fit, interest, thresholds = qualification_rules(version=version)
        rules = {"fit_rules": fit, "interest_rules": interest, "thresholds": thresholds}
        plans[agreement_id] = _Plan(version=version, rules={**rules, "now": now})
    return plans


def pipeline_run(*, now: datetime | None = None, all_leads: bool = False) -> PipelineResult:
    """Score the leads that need it (with `all_leads`, first start a full rescore), then
    promote, hand off and enrol the leads whose score or version changed.

    Two kinds of work, each in batches committed on their own, so a large backlog never
    becomes one huge transaction and a run killed half-way keeps what it did:

    - A full rescore (rescore_start) is a RescoreRun row: a cursor over lead ids that each
      range advances in the range's transaction. If the run dies, the row says where to go
      on, and the next run (the periodic one, or this task redelivered) finishes it. The lead
      rows are written once, by the scoring statement, and only when their score changes.
    - Leads marked needs_scoring (new activity, new attributes) are scored in batches that
      lock their leads, ingestion's marks (ScoringMark) first. A full rescore leaves marked
      leads to these batches. Each lead row is written once, by its scoring statement.

    Two runs at once share the work instead of doing it twice: a range locks its RescoreRun
    row and a batch its leads, and the other run skips what is locked (on PostgreSQL; SQLite
    runs one writer at a time).
    """
    now = now or timezone.now()
    plans = _plans(now)
    result = PipelineResult()
    if not plans:
        return result
    if all_leads:
        rescore_start(now=now)
    _rescore_ranges(result, plans, now)
    # New attributes may move a lead to another agreement: each batch settles that as it
    # claims its leads, from the scopes of the same versions that score them.
    governing = governing_agreement_expression(
        scopes_ordered(version_scope(version=plan.version) for plan in plans.values())
    )
    # Each agreement's handoff policy, read at its first batch: its scoring statement flags
    # the leads with a conversion event, and only those have their conversions read.
    policies: dict[int, HandoffPolicy | None] = {}
    # Ingestion's marks first, then the leads marked needs_scoring. Each walk has a cursor
    # that ends it: a lead marked again behind it waits for the next run.
    last_id = 0
    while True:
        with transaction.atomic():
            marks = _marks_take(after=last_id)
            if not marks:
                break
            last_id = marks[-1]
            # The marked leads are claimed, skipping a lead another run holds: that lead
            # gets its mark back for the next run (waiting here could deadlock with a batch
            # of events whose foreign-key checks lock the same leads).
            claimed = _claim(Lead.objects.filter(pk__any_of=Many(marks)), governing)
            _marks_give_back(set(marks) - {pk for pk, _ in claimed})
            _score_claimed(claimed, plans, policies, result, now, new_activity=True)
    last_id = 0
    while True:
        with transaction.atomic():
            claimed = _claim(Lead.objects.filter(needs_scoring=True, pk__gt=last_id), governing)
            if not claimed:
                return result
            last_id = claimed[-1][0]
            _score_claimed(claimed, plans, policies, result, now)


def _marks_take(*, after: int) -> list[int]:
    """The next batch of ingestion's marks after this lead id, in id order, taken: one
    statement locks them (two runs at once take different marks) and deletes them, so the
    batch's transaction holds them until it commits, and a run that dies gives them back by
    rolling back."""
    table = connection.ops.quote_name(ScoringMark._meta.db_table)
    batch = f"SELECT {{}} FROM {table} WHERE lead_id > %s ORDER BY lead_id LIMIT %s"
    if connection.features.has_select_for_update_skip_locked:
        # The rows locked are deleted by their physical address (ctid): looking each up
        # again by its key cost twice as much (51-71 ms against 26 for 10,000 marks).
        # Marks are never updated, so the address the lock returned stays the row's.
        sql = (
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
            f"{batch.format('ctid')} FOR UPDATE SKIP LOCKED)) RETURNING lead_id"
        )
    else:  # SQLite: one writer at a time, no row locks to skip
        sql = f"DELETE FROM {table} WHERE lead_id IN ({batch.format('lead_id')}) RETURNING lead_id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, BATCH])
        return sorted(pk for (pk,) in cursor.fetchall())


def _marks_give_back(unclaimed: set[int]) -> None:
    """Marks taken for leads the claim skipped: a lead another run holds gets its mark back
    for the next run; a lead deleted since (marks have no foreign key) does not."""
    if not unclaimed:
        return
    held = Lead.objects.filter(pk__any_of=list(unclaimed)).values_list("pk", flat=True)
    ScoringMark.objects.bulk_create(
        [ScoringMark(lead_id=pk) for pk in sorted(held)], ignore_conflicts=True
    )


def _claim(leads, governing) -> list[tuple[int, int | None]]:
    """(id, governing agreement) of up to BATCH of these leads, in id order, locked, skipping
    the leads another run holds.

    The claim reads each lead's governing agreement with its lock, and the lead's scoring
    statement stores it in the same write: the rows are read once and written once (a
    resolution UPDATE before the scoring wrote the batch's rows a second time, a third of a
    batch at a million leads).
    """
    return list(
        leads.select_for_update(skip_locked=True)
        .order_by("pk")
        .annotate(governing=governing)
        .values_list("pk", "governing")[:BATCH]
    )


def _score_claimed(
    claimed: list[tuple[int, int | None]],
    plans: dict,
    policies: dict,
    result: PipelineResult,
    now: datetime,
    *,
    new_activity: bool = False,
) -> None:
    """Score a claimed batch under each lead's agreement, then promote, hand off and enrol."""
    if not claimed:
        return
    ids = [pk for pk, _ in claimed]
    result.unsubscribed += leads_unsubscribe_from_events(lead_ids=ids, now=now)
    by_agreement: dict[int | None, list[int]] = {}
    for pk, agreement_id in claimed:
        by_agreement.setdefault(agreement_id, []).append(pk)
    # Leads no agreement in force governs have no rules to score them: their mark clears so
    # they are not looked at again until something about them changes.
    ungoverned = by_agreement.pop(None, [])
    if ungoverned:
        Lead.objects.filter(pk__any_of=Many(ungoverned)).update(needs_scoring=False, agreement=None)
    for agreement_id, own_ids in by_agreement.items():
        plan = plans[agreement_id]
        version = plan.version
        if agreement_id not in policies:
            policies[agreement_id] = HandoffPolicy.objects.filter(version=version).first()
        policy = policies[agreement_id]
        # Every marked lead is written (its mark clears), so the rows are the whole batch,
        # read back by the scoring statement itself: at a million leads each further read of
        # 10,000 scattered lead rows cost about as much as a tenth of the scoring.
        rows = leads_score_rows(
            **plan.rules,
            lead_ids=own_ids,
            version_id=version.pk,
            governing_agreement_id=agreement_id,
            columns=_STATE_COLUMNS,
            flag_event_types=policy.trigger_events if policy else (),
            new_activity=new_activity,
        )
        result.scored += len(rows)
        states = {pk: _LeadState(*values) for pk, *values in rows}
        result.promoted += _promote_mqls(states, version, plan.thresholds, now)
        result.handed_off += _fire_handoff_triggers(states, version, now, policy)
        result.nurtured += _enrol_below_mql(states, version, now)


def rescore_start(*, now: datetime) -> RescoreRun | None:
    """Record a full rescore of every current lead, committed before any lead is scored.

    A rescore still under way is superseded: the new one starts from the first lead, under
    the rules in force now.
    """
    with transaction.atomic():
        RescoreRun.objects.filter(finished_at__isnull=True).update(finished_at=now)
        bounds = Lead.objects.aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["high"] is None:
            return None
        span = bounds["high"] - bounds["low"] + 1
        # A few large ranges: each pays its statements' planning once, and a kill loses at
        # most one range's work.
        chunk = min(max(-(-span // RESCORE_RANGES), RESCORE_CHUNK_MIN), RESCORE_CHUNK_MAX)
        return RescoreRun.objects.create(
            started_at=now, last_id=bounds["low"] - 1, until_id=bounds["high"], chunk=chunk
        )


def _rescore_ranges(result: PipelineResult, plans: dict[int, _Plan], now: datetime) -> None:
    """Work off the full rescore under way, a committed range at a time: each range's leads
    are resolved to their agreements, then each agreement's version scores its own leads."""
    while True:
        with transaction.atomic():
            run = (
                RescoreRun.objects.select_for_update(skip_locked=True)
                .filter(finished_at__isnull=True)
                .order_by("-pk")
                .first()
            )
            if run is None:
                return
            low, high = run.last_id, min(run.last_id + run.chunk, run.until_id)
            # A published version may have moved scopes: the range's leads follow it first.
            leads_resolve(id_range=(low, high), now=now)
            for agreement_id, plan in plans.items():
                _rescore_range(result, plan, agreement_id, low, high, now)
            run.last_id = high
            if high >= run.until_id:
                run.finished_at = now
            run.save(update_fields=["last_id", "finished_at"])


def _rescore_range(
    result: PipelineResult, plan: _Plan, agreement_id: int, low: int, high: int, now: datetime
) -> None:
    """One agreement's leads in one range of a full rescore, under its version in force."""
    version = plan.version
    # Marked leads are left to the batches, which lock them: a mark set by new activity while
    # this statement runs is then never cleared by it.
    changed = leads_score_changed(
        **plan.rules,
        id_range=(low, high),
        version_id=version.pk,
        marked_only=False,
        agreement_id=agreement_id,
    )
    result.scored += len(changed)
    if len(changed) * 4 >= high - low:
        scope = triggers = _lead_states(_Leads(id_range=(low, high), agreement_id=agreement_id))
    else:
        # Only leads whose score or version changed can newly qualify, except MQLs still
        # waiting for a rep: a rescore tries those again.
        waiting = (
            Lead.objects.filter(
                pk__gt=low,
                pk__lte=high,
                agreement_id=agreement_id,
                stage=Stage.MQL,
                status=Lead.Status.OPEN,
            )
            .order_by()
            .values_list("pk", flat=True)
        )
        triggers = _lead_states(_Leads(ids=sorted({*changed, *waiting})))
        scope = {pk: triggers[pk] for pk in changed if pk in triggers}
    result.promoted += _promote_mqls(scope, version, plan.thresholds, now)
    result.handed_off += _fire_handoff_triggers(triggers, version, now)
    result.nurtured += _enrol_below_mql(scope, version, now)


def leads_waiting_for_scoring() -> bool:
    """Whether any lead is marked for scoring (the partial index on needs_scoring answers it,
    and ingestion's marks), or a full rescore is unfinished."""
    return (
        RescoreRun.objects.filter(finished_at__isnull=True).exists()
        or ScoringMark.objects.exists()
        or Lead.objects.filter(needs_scoring=True).exists()
    )


def _is_mql(lead: _LeadState, thresholds: Thresholds) -> bool:
    if (
        lead.fit_score >= thresholds.mql_min_fit
        and lead.interest_score >= thresholds.mql_min_interest
    ):
        return True
    return thresholds.mql_min_total is not None and lead.score >= thresholds.mql_min_total


def _promote_mqls(leads: dict[int, _LeadState], version, thresholds: Thresholds, now) -> int:
    # Leads back from sales re-qualify through new activity or nurture, not their old score;
    # a new lead nurtured because it was below MQL qualifies as soon as it crosses it.
    promoted = [
        pk
        for pk, lead in sorted(leads.items())
        if lead.stage == Stage.LEAD
        and (
            lead.status == Lead.Status.OPEN
            or lead.status == Lead.Status.NURTURING
            and lead.returned_at is None
        )
        and _is_mql(lead, thresholds)
    ]
    if not promoted:
        return 0
    NurtureEnrollment.objects.filter(lead_id__in=promoted, completed_at__isnull=True).update(
        completed_at=now
    )
    Lead.objects.filter(pk__in=promoted).update(
        stage=Stage.MQL, mql_at=now, status=Lead.Status.OPEN
    )
    # Stored for everyone to read later: in the team's language, like every stage change.
    with in_team_language():
        if thresholds.mql_min_total is None:
            rule = gettext("fit ≥ %(fit)s and interest ≥ %(interest)s")
        else:
            rule = gettext("fit ≥ %(fit)s and interest ≥ %(interest)s, or total ≥ %(total)s")
        rule %= {
            "fit": thresholds.mql_min_fit,
            "interest": thresholds.mql_min_interest,
            "total": thresholds.mql_min_total,
        }
        reasons = {
            pk: gettext(
                "Score fit %(fit)s + interest %(interest)s reached the MQL threshold (%(rule)s)"
            )
            % {"fit": leads[pk].fit_score, "interest": leads[pk].interest_score, "rule": rule}
            for pk in promoted
        }
    StageChange.objects.bulk_create(
        StageChange(
            lead_id=pk,
            from_stage=Stage.LEAD,
            to_stage=Stage.MQL,
            at=now,
            job="score_leads",
            version=version,
            reason=reasons[pk],
        )
        for pk in promoted
    )
    for pk in promoted:
        leads[pk].stage, leads[pk].status = Stage.MQL, Lead.Status.OPEN
    events_emit_many("lead.mql", promoted, now=now)
    return len(promoted)


def _fire_handoff_triggers(
    leads: dict[int, _LeadState], version, now: datetime, policy: HandoffPolicy | None = None
) -> int:
    candidates = [pk for pk, lead in leads.items() if lead.stage in (Stage.LEAD, Stage.MQL)]
    if not candidates:
        return 0
    policy = policy or HandoffPolicy.objects.get(version=version)
    # Two index lookups on the batch's ids rather than an anti-join: its plan turns into a
    # nested loop over every open handoff whenever the statistics lag behind a bulk insert.
    with_sales = set(
        Handoff.objects.filter(
            lead_id__any_of=Many(candidates), accepted_at__isnull=True, returned_at__isnull=True
        )
        .order_by()
        .values_list("lead_id", flat=True)
    )
    eligible = {pk: leads[pk] for pk in candidates if pk not in with_sales}
    triggered: dict[int, tuple[str, str]] = {}
    if policy.trigger_events and eligible:
        # Only conversions after the lead's last return count: an old demo request must not
        # send a returned lead straight back. One query for the batch, driven by the batch's
        # ids through the events' (lead, type) index; the newest conversion names the trigger.
        # Only the leads with any conversion at all, where the scoring statement said which:
        # at a million leads one in ten has one, and the lookup of a 10,000-lead batch took
        # 80-150 ms (two index descents per lead, one per trigger type) for ~400 rows.
        converting = [pk for pk, lead in eligible.items() if lead.converted is not False]
        fresh = (
            LeadEvent.objects.filter(
                lead_id__any_of=Many(converting), type__in=policy.trigger_events
            )
            .order_by()
            .values_list("lead_id", "type", "occurred_at", "pk", "received_at")
        )
        newest: dict[int, tuple] = {}
        for lead_id, event_type, occurred_at, pk, received_at in fresh:
            if received_at <= (eligible[lead_id].returned_at or EPOCH):
                continue
            if lead_id not in newest or (occurred_at, pk) > newest[lead_id][1:]:
                newest[lead_id] = (event_type, occurred_at, pk)
        for pk, (event_type, *_) in newest.items():
            triggered[pk] = (Handoff.Trigger.EVENT, event_type)
    if policy.trigger_on_score:
        with in_team_language():  # the handoff's stored detail, read by everyone later
            reached = gettext("Reached the MQL threshold")
        for pk, lead in eligible.items():
            if lead.stage == Stage.MQL and lead.status == Lead.Status.OPEN:
                triggered.setdefault(pk, (Handoff.Trigger.SCORE, reached))
    if not triggered:
        return 0
    requests, notices = [], []
    # The manager's language is read once, not once per lead that lacks a field (a query and
    # a cache read each: 9 of each in a 10,000-lead batch at a million leads).
    manager_languages: dict[int, str] = {}
    for lead in Lead.objects.filter(pk__in=triggered).order_by("created_at", "pk"):
        trigger, detail = triggered[lead.pk]
        missing = missing_handoff_fields(lead=lead, policy=policy)
        if missing:
            manager = version.agreement.marketing_manager
            manager_languages = manager_languages or languages_of([manager])
            # The field names too, in the manager's language.
            with written_for(manager, manager_languages):
                fields = ", ".join(map(str, missing_handoff_fields(lead=lead, policy=policy)))
                message = gettext("%(lead)s qualifies for sales but lacks %(fields)s.") % {
                    "lead": lead,
                    "fields": fields,
                }
            notices.append(
                Notice(
                    user=manager,
                    key=f"missing-info:{lead.pk}:{version.pk}",
                    lead=lead,
                    message=message,
                )
            )
            continue
        requests.append(HandoffRequest(lead.pk, trigger, detail))
    notify_many(notices, now=now)
    handoffs = handoffs_create_bulk(requests=requests, version=version, now=now)
    for handoff in handoffs:
        lead = leads[handoff.lead_id]
        lead.stage, lead.status = Stage.MQL, Lead.Status.HANDED_OFF
    return len(handoffs)


def _enrol_below_mql(leads: dict[int, _LeadState], version, now: datetime) -> int:
    """Enrol the batch's new leads that scored below MQL in the SLA's "below MQL" track.

    A lead qualifies once: never returned by sales, never enrolled in any track, consent
    not withdrawn. Running twice enrols nobody twice.
    """
    candidates = [
        pk
        for pk, lead in sorted(leads.items())
        if lead.stage == Stage.LEAD
        and lead.status == Lead.Status.OPEN
        and lead.returned_at is None
        and lead.unsubscribed_at is None
    ]
    if not candidates:
        return 0
    track = (
        NurtureTrack.objects.filter(version=version, entry_condition=NurtureTrack.Entry.BELOW_MQL)
        .order_by("position", "id")
        .first()
    )
    if track is None:
        return 0
    first = NurtureStep.objects.filter(track=track).order_by("position", "id").first()
    if first is None:
        return 0
    enrolled = set(
        NurtureEnrollment.objects.filter(lead_id__any_of=Many(candidates))
        .order_by()
        .values_list("lead_id", flat=True)
    )
    new_below_mql = [pk for pk in candidates if pk not in enrolled]
    if not new_below_mql:
        return 0
    with in_team_language():
        below = gettext("New lead below the MQL threshold")
    NurtureEnrollment.objects.bulk_create(
        [
            NurtureEnrollment(
                lead_id=pk,
                track=track,
                next_step=first,
                next_step_at=now + timedelta(days=first.wait_days),
                automatic=True,
                reason=below,
                enrolled_at=now,
            )
            for pk in new_below_mql
        ]
    )
    events_emit_many("nurture.enrolled", new_below_mql, now=now)
    for pk in new_below_mql:
        leads[pk].status = Lead.Status.NURTURING
    return Lead.objects.filter(pk__in=new_below_mql).update(
        status=Lead.Status.NURTURING, updated_at=now
    )
