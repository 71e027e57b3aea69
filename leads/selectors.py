"""Reads of the lead engine shared by pages, the API and jobs."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext

from agreements.business_hours import add_business_days, add_business_time, business_time_between
from agreements.models import (
    AgreementVersion,
    CadenceStep,
    Channel,
    DispositionCode,
    EventType,
    NurtureStep,
    NurtureTrack,
    ReturnReason,
)
from agreements.models import Stage as SlaStage
from agreements.scoring import Activity, RulePoints, ScoreResult, score_assemble, score_lead
from agreements.selectors import (
    _published_memoised,
    lead_version_in_force,
    qualification_rules,
    version_calendar,
    workspace_version_query,
)
from agreements.summary import in_sentence
from slaportal.clock import local_time, sla_in_force, zone_of
from slaportal.roles import Role, has_role

from .models import (
    ContactAttempt,
    Handoff,
    HandoffAssignment,
    HandoffPause,
    Lead,
    LeadEvent,
    Notification,
    Stage,
)
from .scoring import interest_tallies
from .services.pipeline import current_version


def leads_visible_to(user):
    """Managers and viewers see every lead; a rep sees only the leads they own."""
    leads = Lead.objects.all()
    if has_role(user, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.VIEWER, Role.INTEGRATION):
        return leads
    if has_role(user, Role.SALES_REP):
        return leads.filter(owner=user)
    return leads.none()


def handoffs_visible_to(user):
    handoffs = Handoff.objects.all()
    if has_role(user, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.VIEWER, Role.INTEGRATION):
        return handoffs
    if has_role(user, Role.SALES_REP):
        return handoffs.filter(rep=user)
    return handoffs.none()


def open_handoff(lead: Lead) -> Handoff | None:
    return lead.handoffs.filter(accepted_at__isnull=True, returned_at__isnull=True).first()


def lead_score_breakdown(
    lead: Lead, *, now=None, version=None, activities: list[Activity] | None = None
) -> ScoreResult | None:
    """Which rule gave which points under `version` (the same rules the SQL applies).

    By default the version that produced the stored score, so the explanation matches the
    number beside it; the version in force only for a lead never scored. `activities`: the
    lead's events when the caller has read them already.
    """
    now = now or timezone.now()
    version = version or lead.scored_version or lead_version_in_force(lead=lead, at=now)
    if version is None:
        return None
    fit, interest, thresholds = qualification_rules(version=version)
    if activities is None:
        # Plain tuples: model instances from lead.events would each fetch their lead_id.
        activities = [
            Activity(type_, at, properties)
            for type_, at, properties in lead.events.values_list(
                "type", "occurred_at", "properties"
            )
        ]
    return score_lead(
        attributes=_lead_attributes(lead),
        activities=activities,
        fit_rules=fit,
        interest_rules=interest,
        thresholds=thresholds,
        now=now,
    )


# "Not given": None is a meaningful value (no version in force, no handoff).
_UNSET = object()


@dataclass
class ScoreExplanation:
    """A score breakdown and the SLA version whose rules it applies."""

    version: object
    result: ScoreResult
    # What the version is to this lead: it "scored" it, and/or its latest "handoff" is
    # measured against it.
    roles: list[str]


def lead_score_explanations(
    lead: Lead,
    *,
    now=None,
    in_force=_UNSET,
    latest_handoff=_UNSET,
    activities: list[Activity] | None = None,
) -> list[ScoreExplanation]:
    """The breakdown by the version that scored the lead and, for a handed-off lead, by the
    version its handoff is measured against (one breakdown when they are the same).

    The lead page passes what it has read already (the version in force, the latest
    handoff, the events), so the explanation costs only the rules of each version.
    """
    now = now or timezone.now()
    explanations: list[ScoreExplanation] = []
    if in_force is _UNSET:
        in_force = None if lead.scored_version else lead_version_in_force(lead=lead, at=now)
    scored = lead.scored_version or in_force
    if activities is None and scored is not None:
        activities = [
            Activity(type_, at, properties)
            for type_, at, properties in lead.events.values_list(
                "type", "occurred_at", "properties"
            )
        ]
    if scored is not None:
        result = lead_score_breakdown(lead, now=now, version=scored, activities=activities)
        explanations.append(ScoreExplanation(version=scored, result=result, roles=["scored"]))
    handoff = latest_handoff
    if handoff is _UNSET:
        handoff = (
            lead.handoffs.select_related("version__agreement").order_by("-handed_off_at").first()
        )
    if handoff is not None:
        if scored is not None and handoff.version_id == scored.pk:
            explanations[0].roles.append("handoff")
        else:
            result = lead_score_breakdown(
                lead, now=now, version=handoff.version, activities=activities
            )
            explanations.append(
                ScoreExplanation(version=handoff.version, result=result, roles=["handoff"])
            )
    return explanations


# Rep queue, team overview, lead page ------------------------------------------------------

URGENCY_BREACHED, URGENCY_AT_RISK, URGENCY_OPEN, URGENCY_TOUCHED = range(4)
URGENCY_SLUGS = {
    URGENCY_BREACHED: "breached",
    URGENCY_AT_RISK: "at_risk",
    URGENCY_OPEN: "open",
    URGENCY_TOUCHED: "met",
}
ACTIVE = Q(accepted_at__isnull=True, returned_at__isnull=True)


def _urgency_sql(now, table: str = Handoff._meta.db_table) -> tuple[str, list]:
    """Urgency from the clock, not only the stored status: the breach job runs every few
    minutes, and a handoff past its deadline must not sit below open ones meanwhile.

    SQL, so the page query (handoffs_page) and the ORM (handoffs_by_urgency) share one rule."""
    now = connection.ops.adapt_datetimefield_value(now)
    status, untouched = f"{table}.status", f"{table}.first_touch_at IS NULL"
    sql = (
        f"CASE WHEN {status} = %s OR {untouched} AND {table}.due_at <= %s"
        f" THEN {URGENCY_BREACHED}"
        f" WHEN {status} = %s OR {untouched} AND {table}.at_risk_at <= %s"
        f" THEN {URGENCY_AT_RISK}"
        f" WHEN {untouched} THEN {URGENCY_OPEN} ELSE {URGENCY_TOUCHED} END"
    )
    return sql, [Handoff.Status.BREACHED, now, Handoff.Status.AT_RISK, now]


def _urgency(now) -> RawSQL:
    return RawSQL(*_urgency_sql(now), output_field=IntegerField())


def attempts_made_subquery():
    # A subquery rather than Count(): no GROUP BY over every selected column of the row.
    return Coalesce(
        Subquery(
            ContactAttempt.objects.filter(handoff=OuterRef("pk"))
            .order_by()
            .values("handoff")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def handoffs_by_urgency(handoffs, *, now=None):
    """Active handoffs, breached first, then at risk, then untouched by due soonest; the
    handoffs already touched in time come last."""
    now = now or timezone.now()
    return (
        handoffs.filter(ACTIVE)
        .annotate(urgency=_urgency(now), attempts_made=attempts_made_subquery())
        .order_by("urgency", "due_at", "pk")
    )


# What a row reads of the handoff and its joined rows (QueueRow.describe, the score breakdown):
# a lead's lifecycle times, a handoff's closing fields and a version's document are never shown,
# and decoding them was most of the cost of reading a page of rows.
_HANDOFF_ROW = (
    "lead",
    "rep",
    "version",
    "trigger",
    "trigger_detail",
    "handed_off_at",
    "at_risk_at",
    "due_at",
    "accept_due_at",
    "first_touch_at",
    "status",
    "paused_until",
)
_LEAD_ROW = tuple(
    f"lead__{name}"
    for name in (
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "company",
        "company_size",
        "fit_score",
        "interest_score",
        "stage",
        "owner",
        "agreement",
    )
)
# The rest of _lead_attributes: the queue explains each lead's score.
_LEAD_SCORED = tuple(f"lead__{name}" for name in ("industry", "country", "source", "attributes"))
_VERSION_FIELDS = ("agreement", "number", "status", "published_at")
_VERSION_ROW = ("version__agreement__name", *(f"version__{name}" for name in _VERSION_FIELDS[1:]))
_REP_FIELDS = ("first_name", "last_name", "username")


def rep_queue(*, rep):
    """A rep's handoffs as queue rows read them; handoffs_page orders and pages them."""
    return (
        Handoff.objects.filter(rep=rep)
        .select_related("lead", "version__agreement")
        .only(*_HANDOFF_ROW, *_LEAD_ROW, *_LEAD_SCORED, *_VERSION_ROW)
    )


def team_handoffs():
    """Every rep's handoffs as team rows read them; handoffs_page orders and pages them."""
    return Handoff.objects.select_related("lead", "rep", "version__agreement").only(
        *_HANDOFF_ROW,
        *_LEAD_ROW,
        *_VERSION_ROW,
        *(f"rep__{name}" for name in _REP_FIELDS),
    )


def handoffs_page(*, rep=None, number, per_page: int, now=None):
    """A page of `rep`'s active handoffs (their queue) or, without a rep, of everyone's (the
    team view), in handoffs_by_urgency's order, read as rep_queue or team_handoffs reads rows.

    The sort and the count run over the handoffs' ids alone (the partial index of active
    handoffs answers them), and the same query returns each page row's urgency and attempts
    (PostgreSQL computes those after the LIMIT, for the page's rows only). The page's rows
    are then read whole by id in a plain query: sorting joined rows would drag each through
    the sort. The page query is SQL written once: the ORM took 2 ms of CPU to build and
    compile it on every page.
    """
    now = now or timezone.now()
    try:
        wanted = max(int(number), 1)
    except (TypeError, ValueError):
        wanted = 1
    counted = _page_counted(rep, now, wanted, per_page)
    if not counted and wanted > 1:
        # Past the end: the last page, as Paginator.get_page gives it.
        total = _page_counted(rep, now, 1, 1)
        wanted = max(-(-total[0][1] // per_page), 1) if total else 1
        counted = _page_counted(rep, now, wanted, per_page)
    paginator = Paginator([], per_page)
    paginator.count = counted[0][1] if counted else 0  # a cached_property: asks no more
    page = paginator.page(wanted)
    facts = {pk: (urgency, attempts) for pk, _, urgency, attempts in counted}
    rows = _page_rows(list(facts), rep=rep) if facts else []
    for handoff in rows:
        handoff.urgency, handoff.attempts_made = facts[handoff.pk]
    by_id = {handoff.pk: handoff for handoff in rows}
    page.object_list = [by_id[pk] for pk in facts if pk in by_id]
    return page


def _page_counted(rep, now, number: int, per_page: int) -> list[tuple]:
    """(id, total, urgency, attempts) of a page of active handoffs, the total counted in the
    same query by an uncorrelated subquery (PostgreSQL runs it once, an index-only count).
    A COUNT(*) OVER () window made the database materialise every active handoff before
    sorting: 3.8 ms against 1.4 ms for the team view's 3,000 active handoffs."""
    table = Handoff._meta.db_table
    urgency, urgency_params = _urgency_sql(now)
    mine, mine_params = "", []
    if rep is not None:
        mine, mine_params = f"AND {table}.rep_id = %s", [rep.pk]
    active = f"{table}.accepted_at IS NULL AND {table}.returned_at IS NULL"
    sql = f"""
        SELECT {table}.id, (SELECT COUNT(*) FROM {table} WHERE {active} {mine}) AS total,
               {urgency} AS urgency,
               (SELECT COUNT(*) FROM {ContactAttempt._meta.db_table} attempt
                WHERE attempt.handoff_id = {table}.id) AS attempts_made
        FROM {table}
        WHERE {active} {mine}
        ORDER BY urgency, {table}.due_at, {table}.id
        LIMIT %s OFFSET %s
    """
    params = [*mine_params, *urgency_params, *mine_params, per_page, (number - 1) * per_page]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _RowReader:
    """A page's handoffs read whole by id, with their lead, version and agreement (and, for
    the team view, rep), in SQL written once per process.

    The same read through the ORM (select_related and only) cost a page 4.5 (queue) to 7.9
    (team) ms of CPU: a millisecond compiling the query, the rest building four or five model
    instances per row. Here each row builds its handoff and lead; the page's few versions,
    agreements and reps are built once each and shared by their rows.
    """

    def __init__(self, *, with_rep: bool):
        self.with_rep = with_rep
        agreement_model = AgreementVersion._meta.get_field("agreement").related_model
        lead_fields = _LEAD_ROW if with_rep else _LEAD_ROW + _LEAD_SCORED
        self.parts = [
            (Handoff, "h", _attnames(Handoff, _HANDOFF_ROW)),
            # The team view does not explain scores: no attributes to decode.
            (Lead, "l", _attnames(Lead, [name.removeprefix("lead__") for name in lead_fields])),
            (AgreementVersion, "v", _attnames(AgreementVersion, _VERSION_FIELDS)),
            (agreement_model, "a", _attnames(agreement_model, ["name"])),
        ]
        joins = [
            f"JOIN {Lead._meta.db_table} l ON l.id = h.lead_id",
            f"JOIN {AgreementVersion._meta.db_table} v ON v.id = h.version_id",
            f"JOIN {agreement_model._meta.db_table} a ON a.id = v.agreement_id",
        ]
        if with_rep:
            user_model = get_user_model()
            self.parts.append((user_model, "u", _attnames(user_model, _REP_FIELDS)))
            joins.append(f"LEFT JOIN {user_model._meta.db_table} u ON u.id = h.rep_id")
        quote = connection.ops.quote_name
        columns = ", ".join(
            f"{alias}.{quote(name)}" for _, alias, names in self.parts for name in names
        )
        self.sql = (
            f"SELECT {columns} FROM {Handoff._meta.db_table} h {' '.join(joins)} "
            "WHERE h.id = ANY(%s)"
        )

        # Where each model's columns sit in a fetched row.
        self.slices, at = [], 0
        for model, _, names in self.parts:
            # The fields that decode what the database returns (JSON arrives as text).
            decoders = [
                (position, field.from_db_value)
                for position, field in enumerate(model._meta.get_field(name) for name in names)
                if hasattr(field, "from_db_value")
            ]
            self.slices.append((model, names, slice(at, at + len(names)), decoders))
            at += len(names)

    def _build(self, index: int, values):
        model, names, columns, decoders = self.slices[index]
        values = values[columns]
        if decoders:
            values = list(values)
            for position, decode in decoders:
                values[position] = decode(values[position], None, connection)
        return model.from_db(connection.alias, names, values)

    def read(self, ids: list[int], *, rep=None) -> list[Handoff]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [ids])
            fetched = cursor.fetchall()
        versions, reps = {}, {}
        rows = []
        for values in fetched:
            handoff = self._build(0, values)
            Handoff.lead.field.set_cached_value(handoff, self._build(1, values))
            if handoff.version_id not in versions:
                version = versions[handoff.version_id] = self._build(2, values)
                AgreementVersion.agreement.field.set_cached_value(version, self._build(3, values))
            Handoff.version.field.set_cached_value(handoff, versions[handoff.version_id])
            if self.with_rep and handoff.rep_id is not None:
                if handoff.rep_id not in reps:
                    reps[handoff.rep_id] = self._build(4, values)
                Handoff.rep.field.set_cached_value(handoff, reps[handoff.rep_id])
            elif rep is not None:
                Handoff.rep.field.set_cached_value(handoff, rep)
            rows.append(handoff)
        return rows


def _attnames(model, names) -> list[str]:
    """The columns of `names` and the primary key, in the model's field order (from_db's)."""
    wanted = {model._meta.get_field(name).attname for name in names} | {model._meta.pk.attname}
    return [field.attname for field in model._meta.concrete_fields if field.attname in wanted]


_row_readers: dict[bool, _RowReader] = {}


def _page_rows(ids: list[int], *, rep) -> list[Handoff]:
    """The page's handoffs by id, as rep_queue (with `rep`) or team_handoffs reads them."""
    if connection.vendor != "postgresql":  # no arrays to bind: the ORM's IN list
        if rep is None:
            return list(team_handoffs().filter(pk__in=ids).order_by())
        rows = list(rep_queue(rep=rep).filter(pk__in=ids).order_by())
        for handoff in rows:
            Handoff.rep.field.set_cached_value(handoff, rep)
        return rows
    with_rep = rep is None
    if with_rep not in _row_readers:
        _row_readers[with_rep] = _RowReader(with_rep=with_rep)
    return _row_readers[with_rep].read(ids, rep=rep)


def sales_reps():
    """Everyone holding the rep role, active or not: an inactive rep may still hold leads."""
    return (
        get_user_model()
        .objects.filter(groups__name=Role.SALES_REP)
        .order_by("first_name", "username")
        .distinct()
    )


def rep_loads(*, now=None) -> list:
    """Each rep (every holder of the role, active ones first), with their active handoffs,
    at risk and breached counted in one aggregate query.

    The join is to active handoffs only, read through their partial index by rep, never to
    every handoff a rep ever had. Written as SQL: the ORM's version (a FilteredRelation and
    three filtered counts) took 2 ms of CPU to build and compile on every team page, for a
    query that returns a handful of rows.
    """
    now = connection.ops.adapt_datetimefield_value(now or timezone.now())
    user_model = get_user_model()
    users = user_model._meta.db_table
    memberships = user_model.groups.through._meta.db_table
    groups = user_model.groups.field.related_model._meta.db_table
    breached = "h.status = %s OR h.first_touch_at IS NULL AND h.due_at <= %s"
    at_risk = "h.status = %s OR h.first_touch_at IS NULL AND h.at_risk_at <= %s"
    sql = f"""
        SELECT u.*, COUNT(h.id) AS active_count,
               SUM(CASE WHEN ({at_risk}) AND NOT ({breached}) THEN 1 ELSE 0 END)
                   AS at_risk_count,
               SUM(CASE WHEN {breached} THEN 1 ELSE 0 END) AS breached_count
        FROM {users} u
        JOIN {memberships} ug ON ug.user_id = u.id
        JOIN {groups} g ON g.id = ug.group_id AND g.name = %s
        LEFT JOIN {Handoff._meta.db_table} h
            ON h.rep_id = u.id AND h.accepted_at IS NULL AND h.returned_at IS NULL
        GROUP BY u.id
        ORDER BY u.is_active DESC, u.first_name, u.username
    """
    status = Handoff.Status
    params = [status.AT_RISK, now, status.BREACHED, now, status.BREACHED, now, Role.SALES_REP]
    return list(user_model.objects.raw(sql, params))


def stage_labels(*, version=None) -> dict[str, str]:
    """The SLA's names for the lifecycle slugs, falling back to the built-in ones."""
    labels = dict(Stage.choices)
    if version is not None:
        labels.update(
            SlaStage.objects.filter(
                version=version, kind=SlaStage.Kind.LIFECYCLE, slug__in=labels
            ).values_list("slug", "label")
        )
    return labels


def stage_labels_in_force() -> dict[str, str]:
    """stage_labels of the workspace's version in force, without a query once known: the
    version comes from the cache (slaportal.clock.sla_in_force) and a published version's
    stages never change. Read-only: the dict is shared."""
    in_force = sla_in_force()
    if in_force.version_id is None:
        return stage_labels()
    version = AgreementVersion(
        pk=in_force.version_id,
        status=AgreementVersion.Status.PUBLISHED,
        published_at=in_force.published_at,
    )
    return _published_memoised(
        "stage-labels",
        version,
        lambda: {slug: str(label) for slug, label in stage_labels(version=version).items()},
    )


def business_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h {minutes:02d}m"
    return f"{hours}h" if hours else f"{minutes}m"


@dataclass
class CadenceDue:
    number: int
    channel: str
    channel_label: str
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class UrgencyBadge:
    css: str
    icon: str  # a Bootstrap icon's class, or "" for none
    text: str


class RowWords:
    """The words of a page of queue rows in the active language, translated once per page:
    a row only fills numbers and times into them (a page has 25 to 50 rows)."""

    def __init__(self):
        self.language = translation.get_language()
        self.in_time = gettext("First touch in time")
        self.late = gettext("First touch late")
        self.overdue = gettext("Overdue by %(duration)s")
        self.left = gettext("%(duration)s left")
        self.first_touch_due = gettext("First touch due %(when)s")
        self.due = gettext("due %(when)s")
        self.zone_title = gettext("Local time of the SLA’s business hours (%(zone)s)")
        self.paused = gettext("Clock paused until %(until)s: the buyer asked to wait")
        self.next_due = gettext("Next: step %(number)s, %(channel)s due %(when)s")
        self.next_was_due = gettext("Next: step %(number)s, %(channel)s was due %(when)s")
        self.cadence_complete = gettext("Cadence complete")
        self.scores = gettext("Fit %(fit)s · Interest %(interest)s")
        self.staff = gettext("(%(size)s staff)")
        self.reject_until = gettext("Until %(when)s")
        self.give_to = gettext("Give %(lead)s to")
        self.rule_kinds = {"fit": gettext("Fit rule"), "interest": gettext("Interest rule")}
        self.badges = {
            "breached": UrgencyBadge(
                "text-bg-danger", "bi-exclamation-octagon", pgettext("SLA status", "Breached")
            ),
            "at_risk": UrgencyBadge(
                "text-bg-warning", "bi-hourglass-split", pgettext("SLA status", "At risk")
            ),
            "open": UrgencyBadge("text-bg-primary", "", pgettext("SLA status", "Open")),
            "met": UrgencyBadge("text-bg-success", "bi-check2", pgettext("SLA status", "Met")),
        }
        self._attempts: dict[tuple[int, int], str] = {}
        # The rows' fixed labels, printed as {{ row.labels.accept }}: a {% translate %} node
        # per label per row was a third of rendering the team view.
        self.labels = {
            "lead": gettext("Lead"),
            "rep": gettext("Rep"),
            "sla": gettext("SLA"),
            "attempts": gettext("Attempts"),
            "reassign": gettext("Reassign"),
            "why_reassign": gettext("Why (shown on the lead’s timeline)"),
            "why_optional": gettext("Why (optional)"),
            "give": pgettext("give a lead to a rep", "Give"),
            "not_reassigned": gettext("Not reassigned: %(error)s"),
            "scores_title": gettext("Fit score / interest score"),
            "governing_title": gettext(
                "The agreement and version this handoff is measured against"
            ),
            "moved_title": gettext(
                "The lead moved into another agreement’s scope; this handoff keeps the deadline "
                "it was given."
            ),
            "moved": gettext("Moved to another agreement"),
            "why": gettext("Why:"),
            "actions": gettext("Actions"),
            "log_attempt": gettext("Log attempt"),
            "accept": gettext("Accept"),
            "reject": gettext("Reject"),
            "return": pgettext("return a lead to marketing", "Return"),
            "pause": gettext("Buyer asked to wait"),
            "enrol": gettext("Enrol in nurture"),
        }

    def attempts(self, made: int, total: int) -> str:
        """ "2 attempts of 3" (or "2 attempts" with no cadence), one ngettext per distinct pair."""
        key = (made, total)
        if key not in self._attempts:
            if total:
                text = ngettext(
                    "%(count)s attempt of %(total)s", "%(count)s attempts of %(total)s", made
                ) % {"count": made, "total": total}
            else:
                text = ngettext("%(count)s attempt", "%(count)s attempts", made) % {"count": made}
            self._attempts[key] = text
        return self._attempts[key]


# The class of the row's time left, by urgency.
TIME_CLASSES = {
    "breached": "text-danger",
    "at_risk": "text-warning-emphasis",
    "open": "",
    "met": "text-success",
}


@dataclass
class RecentEvent:
    """One of a row's latest events, as the row shows it."""

    type: str
    occurred_at: datetime
    label: str


@dataclass
class RuleBadge:
    css: str
    title: str
    text: str


@dataclass
class QueueRow:
    """What a rep needs to decide on one handoff, computed for one page of the queue.

    Besides the facts, the row carries its display text (times in its calendar's zone,
    sentences in the active language): the row templates only print strings, which keeps
    rendering a page of 25 to 50 rows cheap.
    """

    handoff: Handoff
    urgency: str
    stage_label: str
    time_left: timedelta | None
    overdue_by: timedelta | None
    next_step: CadenceDue | None
    steps_total: int
    score: ScoreResult | None
    attempts_count: int = 0
    recent_events: list[LeadEvent | RecentEvent] = field(default_factory=list)
    can_reject: bool = False
    can_enrol: bool = False
    # Deadlines read in the zone whose business hours they count, not the server's.
    time_zone: str = "UTC"
    # The lead's page and the handoff's actions (ROW_URLS), built once per page of rows.
    lead_url: str = ""
    urls: dict[str, str] = field(default_factory=dict)
    # Display text, filled by queue_rows.
    pk: str = ""
    lead_label: str = ""
    badge: UrgencyBadge | None = None
    time_class: str = ""
    time_label: str = ""
    first_touch_due: str = ""
    due: str = ""
    zone_title: str = ""
    paused: str = ""
    attempts: str = ""
    attempts_made: str = ""
    next_label: str = ""
    next_class: str = ""
    scores: str = ""
    staff: str = ""
    governing: str = ""
    moved: bool = False
    why: str = ""
    why_detail: str = ""
    rule_badges: list[RuleBadge] = field(default_factory=list)
    recent: list[tuple[str, str]] = field(default_factory=list)
    reject_title: str = ""
    may_pause: bool = False
    give_to: str = ""
    # The page's fixed labels (RowWords.labels), shared by its rows.
    labels: dict[str, str] = field(default_factory=dict)
    # The team view's: who holds the handoff and the reassign menu's options (safe HTML).
    rep_name: str = ""
    rep_options: str = ""

    @property
    def top_rules(self) -> list[RulePoints]:
        if self.score is None:
            return []
        return sorted(self.score.breakdown, key=lambda hit: -hit.points)[:3]

    @property
    def trigger_detail(self) -> str:
        return handoff_trigger_detail(self.handoff)

    def describe(self, words: RowWords, *, now) -> None:
        """Fills the display text (see the class)."""
        handoff, lead = self.handoff, self.handoff.lead
        zone = zone_of(self.time_zone)
        self.pk = str(handoff.pk)
        self.labels = words.labels
        self.lead_label = str(lead)
        self.badge = words.badges[self.urgency]
        self.time_class = TIME_CLASSES[self.urgency]
        if handoff.first_touch_at:
            self.time_label = (
                words.in_time if handoff.first_touch_at <= handoff.due_at else words.late
            )
        elif self.overdue_by is not None:
            self.time_label = words.overdue % {"duration": business_duration(self.overdue_by)}
        else:
            self.time_label = words.left % {"duration": business_duration(self.time_left)}
        language = words.language
        due = local_time(handoff.due_at, zone=zone, language=language)
        self.first_touch_due = words.first_touch_due % {"when": due}
        self.due = words.due % {"when": due}
        self.zone_title = words.zone_title % {"zone": self.time_zone}
        if handoff.paused_until is not None and handoff.paused_until > now:
            self.paused = words.paused % {
                "until": local_time(handoff.paused_until, zone=zone, language=language)
            }
        made = self.attempts_count
        self.attempts_made = str(made)
        self.attempts = words.attempts(made, self.steps_total)
        step = self.next_step
        if step is not None:
            sentence = words.next_was_due if step.overdue else words.next_due
            self.next_label = sentence % {
                "number": step.number,
                "channel": step.channel_label,
                "when": local_time(step.due_at, zone=zone, language=language),
            }
            self.next_class = "text-danger" if step.overdue else "text-secondary"
        elif self.steps_total:
            self.next_label, self.next_class = words.cadence_complete, "text-secondary"
        self.scores = words.scores % {"fit": lead.fit_score, "interest": lead.interest_score}
        if lead.company_size:
            self.staff = words.staff % {"size": lead.company_size}
        version = handoff.version
        self.governing = f"{version.agreement.name} {version.label}"
        self.moved = bool(lead.agreement_id and lead.agreement_id != version.agreement_id)
        self.why = choice_label(Handoff.Trigger, handoff.trigger, language)
        detail = self.trigger_detail
        self.why_detail = detail if detail and detail != self.why else ""
        self.rule_badges = [_rule_badge(hit, words) for hit in self.top_rules]
        self.recent = [
            (str(event.label), local_time(event.occurred_at, zone=zone, language=language))
            for event in self.recent_events
        ]
        if self.can_reject:
            self.reject_title = words.reject_until % {
                "when": local_time(handoff.accept_due_at, zone=zone, language=language)
            }
        self.may_pause = not handoff.first_touch_at and self.urgency != "breached"
        self.give_to = words.give_to % {"lead": self.lead_label}


def _rule_badge(hit: RulePoints, words: RowWords) -> RuleBadge:
    if hit.points < 0:
        css = "text-bg-danger"
    elif hit.kind == "fit":
        css = "text-bg-info"
    else:
        css = "text-bg-secondary"
    sign = "+" if hit.points > 0 else ""
    times = f" ×{hit.occurrences}" if hit.occurrences > 1 else ""
    return RuleBadge(
        css=css,
        title=words.rule_kinds.get(hit.kind, hit.kind),
        text=f"{sign}{hit.points} {hit.rule}{times}",
    )


class _VersionCache:
    """Per-version reads (calendar, cadence, allowed tracks) fetched once for a page; those of
    a published version are kept for the life of the process (its parts are frozen, see
    agreements.selectors._published_memoised), so a page of rows under one version reads none."""

    def __init__(self, versions, *, enrollable: set[int] | None = None):
        versions = {version.pk: version for version in versions}
        self._calendars = {}
        self.steps: dict[int, list[CadenceStep]] = {
            pk: _published_memoised("cadence", version, partial(_cadence_read, version))
            for pk, version in versions.items()
        }
        if enrollable is not None:
            self.enrollable = enrollable
            return
        self.enrollable = {
            pk
            for pk, version in versions.items()
            if _published_memoised("enrollable", version, partial(_enrollable_read, version))
        }

    def calendar(self, version):
        if version.pk not in self._calendars:
            self._calendars[version.pk] = version_calendar(version=version)
        return self._calendars[version.pk]


def _cadence_read(version) -> list[CadenceStep]:
    return list(CadenceStep.objects.filter(version=version).order_by("position", "id"))


def _enrollable_read(version) -> bool:
    return NurtureTrack.objects.filter(version=version, reps_may_enrol=True).exists()


def _step_due(step: CadenceStep, start: datetime, calendar) -> datetime:
    if step.offset_unit == CadenceStep.OffsetUnit.BUSINESS_HOURS:
        return add_business_time(start, timedelta(hours=step.offset), calendar)
    return add_business_days(start, step.offset, calendar)


def _lead_attributes(lead: Lead) -> dict:
    own = {
        name: getattr(lead, name)
        for name in ("title", "company_size", "industry", "country", "source")
    }
    return {**lead.attributes, **own}


def leads_score_breakdowns(leads, *, now=None, version=None) -> dict[int, ScoreResult]:
    """lead_score_breakdown for many leads with a fixed number of queries."""
    now = now or timezone.now()
    leads = list(leads)
    version = version or current_version(now)
    if version is None or not leads:
        return {}
    fit, interest, thresholds = qualification_rules(version=version)
    # The database tallies each rule's points: a page of leads with thousands of events
    # returns a few rows per lead instead of every event.
    tallies = interest_tallies(
        interest_rules=interest,
        thresholds=thresholds,
        now=now,
        lead_ids=[lead.pk for lead in leads],
    )
    return {
        lead.pk: score_assemble(
            attributes=_lead_attributes(lead),
            fit_rules=fit,
            interest_rules=interest,
            interest_tallies=tallies.get(lead.pk, {}),
            thresholds=thresholds,
        )
        for lead in leads
    }


# Events the product records itself, beside the scored catalogue (EventType).
OWN_EVENT_LABELS = {"nurture_step": gettext_lazy("Nurture step")}


def event_label(event_type: str) -> str:
    """An event type's label in the active language (memoised per language: a queue page
    labels some 100 events, and translating each label was a tenth of its CPU)."""
    label = _choice_labels(EventType, translation.get_language()).get(event_type)
    if label is None:
        own = OWN_EVENT_LABELS.get(event_type)
        label = str(own) if own else event_type.replace("_", " ").capitalize()
    return label


def _recent_events(lead_ids, per_lead: int) -> dict[int, list[RecentEvent]]:
    """Each lead's latest `per_lead` events, newest first.

    Plain values, not LeadEvent instances (75 model instances were a tenth of a queue page),
    and SQL rather than the ORM's window expression, which cost a millisecond of CPU to
    build and compile on every queue page.
    """
    lead_ids = list(lead_ids)
    if not lead_ids:
        return {}
    if connection.vendor == "postgresql":
        among, params = "lead_id = ANY(%s)", [lead_ids]
    else:
        among, params = f"lead_id IN ({', '.join(['%s'] * len(lead_ids))})", lead_ids
    sql = f"""
        SELECT lead_id, type, occurred_at, id FROM (
            SELECT lead_id, type, occurred_at, id, ROW_NUMBER() OVER (
                PARTITION BY lead_id ORDER BY occurred_at DESC, id DESC) AS rank
            FROM {LeadEvent._meta.db_table} WHERE {among}
        ) ranked WHERE rank <= %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, per_lead])
        ranked = cursor.fetchall()
    if connection.vendor == "sqlite":  # datetimes arrive as text there
        convert = connection.ops.convert_datetimefield_value
        ranked = [(lead, kind, convert(at, None, connection), pk) for lead, kind, at, pk in ranked]
    recent: dict[int, list[tuple]] = defaultdict(list)
    for lead_id, type_, at, pk in ranked:
        recent[lead_id].append((at, pk, type_))
    return {
        lead_id: [
            RecentEvent(type_, at, event_label(type_))
            for at, _, type_ in sorted(events, reverse=True)
        ]
        for lead_id, events in recent.items()
    }


# The row's actions by their URL names; each takes the handoff's id.
ROW_URLS = ("accept", "attempt", "nurture", "reject", "return", "reassign", "pause")


def url_maker(name: str):
    """reverse(name, args=[pk]) for many ids at the price of one reverse: the URL's text
    around a marker id. Reversing five URLs for each of 25 rows was a tenth of a queue page."""
    marker = "2147483647"
    prefix, found, suffix = reverse(name, args=[int(marker)]).partition(marker)
    assert found, name

    def url(pk) -> str:
        return f"{prefix}{pk}{suffix}"

    return url


def queue_rows(
    handoffs,
    *,
    now=None,
    with_reasons: bool = True,
    labels: dict[str, str] | None = None,
    scores: dict[int, ScoreResult] | None = None,
    recent: dict[int, list[LeadEvent]] | None = None,
) -> list[QueueRow]:
    """Rows for handoffs from handoffs_by_urgency (with `lead` and `version` selected).

    The number of queries does not grow with the rows: everything per lead or per version
    is read in one query for the whole page. The lead page passes the stage labels, scores
    and recent events it has read already.
    """
    now = now or timezone.now()
    handoffs = list(handoffs)
    if not handoffs:
        return []
    enrollable = None
    if all(hasattr(handoff, "version_enrollable") for handoff in handoffs):
        enrollable = {h.version_id for h in handoffs if h.version_enrollable}
    versions = _VersionCache((handoff.version for handoff in handoffs), enrollable=enrollable)
    if labels is None:
        labels = stage_labels_in_force()
    lead_ids = [handoff.lead_id for handoff in handoffs]
    if with_reasons and scores is None and recent is None:
        scores = {}
        # Why a lead is here is told by the rules it was handed off under (one pass per
        # version on the page, usually one).
        by_version = defaultdict(list)
        for handoff in handoffs:
            by_version[handoff.version].append(handoff.lead)
        for version, leads in by_version.items():
            scores.update(leads_score_breakdowns(leads, now=now, version=version))
        recent = _recent_events(lead_ids, per_lead=3)
    scores = scores or {}
    recent = recent or {}
    lead_url = url_maker("leads:detail")
    action_urls = [(name, url_maker(f"leads:{name}")) for name in ROW_URLS]
    words = RowWords()
    rows = []
    for handoff in handoffs:
        calendar = versions.calendar(handoff.version)
        time_left = overdue_by = None
        if handoff.due_at > now:
            time_left = business_time_between(now, handoff.due_at, calendar)
        else:
            overdue_by = business_time_between(handoff.due_at, now, calendar)
        steps = versions.steps[handoff.version_id]
        attempts = getattr(handoff, "attempts_made", None)
        if attempts is None:
            attempts = handoff.attempts.count()
        next_step = None
        if attempts < len(steps):
            step = steps[attempts]
            due = _step_due(step, handoff.handed_off_at, calendar)
            next_step = CadenceDue(
                attempts + 1,
                step.channel,
                choice_label(Channel, step.channel, words.language),
                due,
                due <= now,
            )
        row = QueueRow(
            handoff=handoff,
            urgency=URGENCY_SLUGS[handoff.urgency],
            stage_label=labels.get(handoff.lead.stage, handoff.lead.stage),
            time_left=time_left,
            overdue_by=overdue_by,
            next_step=next_step,
            steps_total=len(steps),
            score=scores.get(handoff.lead_id),
            attempts_count=attempts,
            recent_events=recent.get(handoff.lead_id, []),
            can_reject=now <= handoff.accept_due_at,
            can_enrol=handoff.version_id in versions.enrollable,
            time_zone=calendar.time_zone,
            lead_url=lead_url(handoff.lead_id),
            urls={name: url(handoff.pk) for name, url in action_urls},
        )
        row.describe(words, now=now)
        rows.append(row)
    return rows


def queue_row(handoff_id: int, *, now=None, with_reasons: bool = True) -> QueueRow | None:
    """One row, re-read after an action; None once the handoff is closed."""
    handoffs = handoffs_by_urgency(
        Handoff.objects.filter(pk=handoff_id).select_related("lead", "version__agreement"), now=now
    )
    rows = queue_rows(handoffs, now=now, with_reasons=with_reasons)
    return rows[0] if rows else None


# Lead page timeline -----------------------------------------------------------------------

TIMELINE_PAGE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# (order, rank) of each kind of entry: `order` is what comes first among entries at the same
# instant; `rank` keeps two kinds of one order apart, so every entry has a distinct sort key
# (at, order, rank, seq) and a page can end after any entry.
_EVENT, _STAGE, _HANDOFF, _REASSIGN, _ATTEMPT, _NURTURE = 5, 4, 3, 2, 1, 0
_PAUSE = 6


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # event, stage, handoff, attempt, nurture
    title: str
    detail: str = ""
    by: str = ""
    order: int = 0
    rank: int = 0
    seq: int = 0

    @property
    def key(self) -> tuple:
        return (self.at, self.order, self.rank, self.seq)

    @property
    def cursor(self) -> str:
        return timeline_cursor(self.key)


@dataclass
class TimelinePage:
    """One page of a lead's timeline, newest first; `older` continues after its last entry."""

    items: list[TimelineItem]
    older: str | None = None
    is_first: bool = True


def timeline_cursor(key: tuple) -> str:
    at, order, rank, seq = key
    return f"{(at - _EPOCH) // timedelta(microseconds=1)}.{order}.{rank}.{seq}"


def timeline_cursor_parse(value: str | None) -> tuple | None:
    """The key of the entry a page continues after; None (the newest page) when unreadable."""
    try:
        micros, order, rank, seq = (int(part) for part in (value or "").split("."))
        return (_EPOCH + timedelta(microseconds=micros), order, rank, seq)
    except (ValueError, OverflowError):
        return None


def _older_than(before: tuple | None, order: int, rank: int, *, at: str = "at") -> Q:
    """Rows of one kind whose entries sort after `before`, as a filter (keyset pagination)."""
    if before is None:
        return Q()
    moment, before_order, before_rank, before_seq = before
    if (order, rank) < (before_order, before_rank):
        return Q(**{f"{at}__lte": moment})
    if (order, rank) > (before_order, before_rank):
        return Q(**{f"{at}__lt": moment})
    return Q(**{f"{at}__lt": moment}) | Q(**{at: moment, "pk__lt": before_seq})


@lru_cache(maxsize=128)
def _choice_labels(choices, language: str) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


def choice_label(choices, value: str, language: str | None = None) -> str:
    """A choice's label in the active language (or `language`), as get_FOO_display() gives
    it, without translating every label of the field on each call (which get_FOO_display does
    when it hashes the lazy labels): the queue reads two per row."""
    return _choice_labels(choices, language or translation.get_language()).get(value, value)


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


# Our own event properties whose values are codes (a nurture step's channel and stage).
_PROPERTY_VALUES = {
    "channel": dict(Channel.choices),
    "journey_stage": dict(NurtureStep.JourneyStage.choices),
}


def _describe_properties(properties: dict) -> str:
    return ", ".join(
        f"{key.replace('_', ' ')}: {_PROPERTY_VALUES.get(key, {}).get(value, value)}"
        for key, value in list(properties.items())[:4]
    )


# Who moved a lead when no person did: the job, as people call it.
JOB_LABELS = {
    "score_leads": gettext_lazy("lead scoring"),
    "apply_cadence": gettext_lazy("the follow-up cadence"),
    "crm_sync": gettext_lazy("CRM sync"),
    "handoff": gettext_lazy("the handoff"),
    "ingest": gettext_lazy("lead capture"),
    "api": gettext_lazy("the API"),
}


CADENCE_REASONS = {
    "no_response": gettext_lazy("No response after the cadence"),
    "no_progress": gettext_lazy("No progress within the cadence"),
    "nurture": gettext_lazy("Enrolled in nurture by sales"),
}


def _lead_events(lead: Lead, *, before=None, limit=None) -> list[tuple]:
    """(id, type, occurred_at, properties) newest first; plain tuples, so no event fetches
    its lead (a deferred lead_id would cost one query per event)."""
    events = (
        LeadEvent.objects.filter(lead=lead)
        .filter(_older_than(before, 0, _EVENT, at="occurred_at"))
        .order_by("-occurred_at", "-id")
        .values_list("id", "type", "occurred_at", "properties")
    )
    return list(events[:limit] if limit else events)


def _code_labels(version_ids, *, stages_of=None) -> dict[str, dict[str, str]]:
    """Labels of the return reasons and disposition codes of these versions and, given
    `stages_of`, the lifecycle stage names of that version: one query for all three."""
    parts = [
        ReturnReason.objects.filter(version_id__in=version_ids)
        .order_by()
        .annotate(part=Value("reason"))
        .values_list("code", "label", "part"),
        DispositionCode.objects.filter(version_id__in=version_ids)
        .order_by()
        .annotate(part=Value("disposition"))
        .values_list("code", "label", "part"),
    ]
    if stages_of is not None:
        parts.append(
            SlaStage.objects.filter(
                version=stages_of, kind=SlaStage.Kind.LIFECYCLE, slug__in=Stage.values
            )
            .order_by()
            .annotate(part=Value("stage"))
            .values_list("slug", "label", "part")
        )
    found = {"reason": {}, "disposition": {}, "stage": {}}
    for code, label, part in parts[0].union(*parts[1:], all=True):
        found[part][code] = label
    return found


def lead_timeline(
    lead: Lead,
    *,
    before: tuple | None = None,
    size: int = TIMELINE_PAGE,
    events: list[tuple] | None = None,
    handoffs: list[Handoff] | None = None,
    enrollments: list | None = None,
    code_labels: dict | None = None,
) -> TimelinePage:
    """Events, stage changes, handoffs, attempts and nurture enrolments, newest first, one
    page of `size` entries after `before` (a key from timeline_cursor_parse).

    A fixed number of queries whatever the lead's history: the kinds that can grow long
    (events, stage changes, attempts) read only the page's worth after the cursor; the few
    handoffs, reassignments and enrolments are read whole. The lead page passes the events,
    handoffs and enrolments it has read already.
    """
    items: list[TimelineItem] = []
    if events is None:
        events = _lead_events(lead, before=before, limit=size + 1)
    for pk, type_, at, properties in events:
        items.append(
            TimelineItem(
                at=at,
                kind="event",
                title=event_label(type_),
                detail=_describe_properties(properties),
                rank=_EVENT,
                seq=pk,
            )
        )
    changes = (
        lead.stage_changes.filter(_older_than(before, 1, _STAGE))
        .select_related("by")
        .order_by("-at", "-id")[: size + 1]
    )
    for change in changes:
        stages = gettext("%(from)s → %(to)s") % {
            "from": change.get_from_stage_display() or pgettext("stage before any", "New"),
            "to": change.get_to_stage_display(),
        }
        items.append(
            TimelineItem(
                at=change.at,
                kind="stage",
                title=stages,
                detail=change.reason,
                by=_person(change.by)
                or str(JOB_LABELS.get(change.job, change.job.replace("_", " "))),
                order=1,
                rank=_STAGE,
                seq=change.pk,
            )
        )
    if handoffs is None:
        handoffs = list(lead.handoffs.select_related("rep", "closed_by", "version__agreement"))
    if code_labels is None:
        code_labels = _code_labels({handoff.version_id for handoff in handoffs})
    reasons, dispositions = code_labels["reason"], code_labels["disposition"]
    assignments = list(
        HandoffAssignment.objects.filter(handoff__lead=lead)
        .select_related("from_rep", "to_rep", "by")
        .order_by("at", "id")
    )
    # Who the lead was first handed to: the handoff's rep is whoever holds it now.
    first_reps = {}
    for assignment in assignments:
        first_reps.setdefault(assignment.handoff_id, assignment.from_rep)
    for handoff in handoffs:
        items.extend(
            _handoff_items(
                handoff,
                {**CADENCE_REASONS, **reasons},
                first_rep=first_reps.get(handoff.pk, handoff.rep),
            )
        )
    for assignment in assignments:
        items.append(
            TimelineItem(
                at=assignment.at,
                kind="reassign",
                title=gettext("Reassigned from %(from)s to %(to)s")
                % {"from": _person(assignment.from_rep), "to": _person(assignment.to_rep)},
                detail=assignment.reason,
                by=_person(assignment.by),
                order=2,
                rank=_REASSIGN,
                seq=assignment.pk,
            )
        )
    # Clock pauses (issue 11): few per lead, read whole, and only when a handoff had one.
    paused = [handoff.pk for handoff in handoffs if handoff.paused_until is not None]
    pauses = HandoffPause.objects.filter(handoff_id__in=paused).select_related("by")
    for pause in pauses if paused else []:
        items.append(
            TimelineItem(
                at=pause.starts_at,
                kind="pause",
                title=gettext("Clock paused until %(until)s: the buyer asked to wait")
                % {"until": local_time(pause.until)},
                detail=pause.reason,
                by=_person(pause.by),
                order=2,
                rank=_PAUSE,
                seq=pause.pk,
            )
        )
    attempts = (
        ContactAttempt.objects.filter(handoff__lead=lead)
        .filter(_older_than(before, 3, _ATTEMPT))
        .select_related("by")
        .order_by("-at", "-id")[: size + 1]
    )
    for attempt in attempts:
        items.append(
            TimelineItem(
                at=attempt.at,
                kind="attempt",
                title=f"{attempt.get_channel_display()}: "
                f"{dispositions.get(attempt.disposition, attempt.disposition)}"
                f"{_attempt_origin(attempt)}",
                detail=attempt.note,
                by=_person(attempt.by),
                order=3,
                rank=_ATTEMPT,
                seq=attempt.pk,
            )
        )
    if enrollments is None:
        enrollments = list(lead.enrollments.select_related("track", "by"))
    for enrollment in enrollments:
        if enrollment.automatic:
            title = gettext("Enrolled in nurture track “%(track)s” automatically")
        else:
            title = gettext("Enrolled in nurture track “%(track)s” by hand")
        items.append(
            TimelineItem(
                at=enrollment.enrolled_at,
                kind="nurture",
                title=title % {"track": enrollment.track.name},
                detail=enrollment.reason,
                by=_person(enrollment.by),
                order=4,
                rank=_NURTURE,
                seq=enrollment.pk,
            )
        )
    if before is not None:
        items = [item for item in items if item.key < before]
    items.sort(key=lambda item: item.key, reverse=True)
    page = items[:size]
    older = page[-1].cursor if len(items) > size else None
    return TimelinePage(items=page, older=older, is_first=before is None)


def version_in_force_now(now=None, *, lead: Lead | None = None) -> AgreementVersion | None:
    """The version in force in one query: of the lead's own agreement when a lead is given
    (None when no agreement governs it), else of the workspace's default agreement (stage
    labels of pages about no lead in particular)."""
    if lead is None:
        in_force = Subquery(workspace_version_query(at=now).values("pk")[:1])
        return AgreementVersion.objects.filter(pk=in_force).select_related("agreement").first()
    if lead.agreement_id is None:
        return None
    return (
        AgreementVersion.objects.filter(
            agreement_id=lead.agreement_id,
            status=AgreementVersion.Status.PUBLISHED,
            effective_at__lte=now or timezone.now(),
        )
        .select_related("agreement")
        .order_by("-number")
        .first()
    )


@dataclass
class LeadPage:
    """Everything the lead page shows, read in a fixed number of queries."""

    in_force: AgreementVersion | None
    stage_label: str
    explanations: list[ScoreExplanation]
    timeline: TimelinePage
    enrollments: list
    active: Handoff | None
    row: QueueRow | None


def lead_page(lead: Lead, *, now=None, before: tuple | None = None) -> LeadPage:
    """The lead page: its scores, its open handoff as a queue row, one page of its timeline.

    Each thing is read once and shared: the events serve the score breakdown, the timeline
    and the row's recent activity; the handoffs serve the breakdown, the row and the
    timeline. So the count of queries is the same for a lead with 5 events or 5,000.
    """
    now = now or timezone.now()
    # The lead's own agreement: its version in force scores it and hands it off next.
    in_force = version_in_force_now(now, lead=lead)
    handoffs = list(
        lead.handoffs.select_related("rep", "closed_by", "version__agreement").annotate(
            urgency=_urgency(now),
            attempts_made=attempts_made_subquery(),
            version_enrollable=Exists(
                NurtureTrack.objects.filter(version=OuterRef("version"), reps_may_enrol=True)
            ),
        )
    )
    events = _lead_events(lead)
    activities = [Activity(type_, at, properties) for _, type_, at, properties in events]
    latest = max(handoffs, key=lambda h: (h.handed_off_at, h.pk), default=None)
    explanations = lead_score_explanations(
        lead, now=now, in_force=in_force, latest_handoff=latest, activities=activities
    )
    code_labels = _code_labels({handoff.version_id for handoff in handoffs}, stages_of=in_force)
    labels = {**dict(Stage.choices), **code_labels["stage"]}
    enrollments = list(lead.enrollments.select_related("track", "next_step", "by"))
    page_events = events
    if before is not None:
        page_events = [event for event in events if (event[2], 0, _EVENT, event[0]) < before]
    timeline = lead_timeline(
        lead,
        before=before,
        events=page_events[: TIMELINE_PAGE + 1],
        handoffs=handoffs,
        enrollments=enrollments,
        code_labels=code_labels,
    )
    active = next((handoff for handoff in handoffs if handoff.is_active), None)
    row = None
    if active is not None:
        score = next(
            (item.result for item in explanations if item.version.pk == active.version_id),
            None,
        )
        if score is None:
            score = lead_score_breakdown(
                lead, now=now, version=active.version, activities=activities
            )
        recent = []
        for pk, type_, at, properties in events[:3]:
            event = LeadEvent(pk=pk, lead=lead, type=type_, occurred_at=at, properties=properties)
            event.label = event_label(type_)
            recent.append(event)
        rows = queue_rows(
            [active], now=now, labels=labels, scores={lead.pk: score}, recent={lead.pk: recent}
        )
        row = rows[0]
    return LeadPage(
        in_force=in_force,
        stage_label=labels.get(lead.stage, lead.stage),
        explanations=explanations,
        timeline=timeline,
        enrollments=enrollments,
        active=active,
        row=row,
    )


def handoff_trigger_detail(handoff: Handoff) -> str:
    """The event type that fired a conversion trigger reads as its catalogue label."""
    if handoff.trigger == Handoff.Trigger.EVENT and handoff.trigger_detail:
        return event_label(handoff.trigger_detail)
    return handoff.trigger_detail


def _handoff_items(handoff: Handoff, reasons: dict[str, str], *, first_rep) -> list[TimelineItem]:
    detail = handoff_trigger_detail(handoff)
    items = [
        TimelineItem(
            at=handoff.handed_off_at,
            kind="handoff",
            title=(
                gettext("Handed to %(rep)s: %(trigger)s (%(detail)s)")
                if detail
                else gettext("Handed to %(rep)s: %(trigger)s")
            )
            % {
                "rep": _person(first_rep) or gettext("nobody yet"),
                "trigger": in_sentence(handoff.get_trigger_display()),
                "detail": detail,
            },
            detail=gettext("First touch due %(due)s under %(version)s")
            % {"due": local_time(handoff.due_at), "version": handoff.version},
            order=2,
        )
    ]
    if handoff.breached_at:
        items.append(
            TimelineItem(
                at=handoff.breached_at,
                kind="handoff",
                title=gettext("SLA breached: no first touch by the deadline"),
                order=2,
            )
        )
    if handoff.first_touch_at:
        in_time = handoff.first_touch_at <= handoff.due_at
        items.append(
            TimelineItem(
                at=handoff.first_touch_at,
                kind="handoff",
                title=gettext("First touch in time (SLA met)")
                if in_time
                else gettext("First touch after the deadline"),
                order=2,
            )
        )
    if handoff.accepted_at:
        items.append(
            TimelineItem(
                at=handoff.accepted_at,
                kind="handoff",
                title=gettext("Accepted by sales"),
                by=_person(handoff.closed_by),
                order=5,
            )
        )
    if handoff.returned_at:
        label = reasons.get(handoff.return_reason, handoff.return_reason)
        if handoff.rejected_at:
            title = gettext("Rejected: %(reason)s") % {"reason": label}
        else:
            title = gettext("Returned to marketing: %(reason)s") % {"reason": label}
        items.append(
            TimelineItem(
                at=handoff.returned_at,
                kind="handoff",
                title=title,
                detail=handoff.return_note,
                by=_person(handoff.closed_by),
                order=5,
            )
        )
    # Distinct keys for the entries of one handoff, the earliest written first among equals.
    for index, item in enumerate(items):
        item.rank = _HANDOFF
        item.seq = handoff.pk * 8 + 7 - index
    return items


def leads_search(*, user, query: str = "", stage: str = "", status: str = ""):
    leads = leads_visible_to(user).select_related("owner")
    for term in query.split():
        leads = leads.filter(
            Q(email__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(company__icontains=term)
        )
    if stage:
        leads = leads.filter(stage=stage)
    if status:
        leads = leads.filter(status=status)
    return leads


def notifications_for(user):
    return Notification.objects.filter(user=user).select_related("lead")


def unread_notification_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def _attempt_origin(attempt: ContactAttempt) -> str:
    """ " via API (HubSpot)" for an attempt a CRM reported; nothing for one logged here."""
    if attempt.source == ContactAttempt.Source.APP:
        return ""
    if attempt.source_name:
        return " " + gettext("via API (%(name)s)") % {"name": attempt.source_name}
    return " " + gettext("via API")


def paused_time_by_rep(*, bounds: tuple[datetime, datetime], agreement=None) -> list[dict]:
    """Business hours of clock pauses per rep for pauses that started within `bounds`
    ([start, end)), of one agreement's handoffs when given: the review shows how much time
    buyers' requests took off the clock."""
    start, end = bounds
    pauses = HandoffPause.objects.filter(starts_at__gte=start, starts_at__lt=end)
    if agreement is not None:
        pauses = pauses.filter(handoff__version__agreement=agreement)
    rows = (
        pauses.values("rep_id", "rep__first_name", "rep__last_name", "rep__username")
        .annotate(minutes=Sum("business_minutes"), pauses=Count("pk"))
        .order_by("-minutes", "rep__username")
    )
    return [
        {
            "rep_id": row["rep_id"],
            "name": " ".join(filter(None, [row["rep__first_name"], row["rep__last_name"]]))
            or row["rep__username"]
            or "—",
            "pauses": row["pauses"],
            "hours": round(row["minutes"] / 60, 1),
        }
        for row in rows
    ]
