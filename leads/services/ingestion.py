"""Leads and activity arriving from the website, marketing automation or a CRM.

Input is validated before it gets here (API serializers, CSV rows); these functions store it
and flag the touched leads for the scoring job, which they enqueue after the commit.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from agreements.scopes import governing_agreement
from agreements.selectors import scopes_in_force
from slaportal.events import event_emit, events_emit_many
from slaportal.queue import enqueue

from ..emails import email_normalise
from ..models import Lead, LeadEvent, ScoringMark, Stage, StageChange
from ..scoring import epoch_days
from .scopes import leads_resolve

logger = logging.getLogger(__name__)

# Set while a scoring run is queued and has not started: batches arriving meanwhile add their
# leads to that run instead of queueing one run each (two API clients posting 1,000-event
# batches queued ten runs a second, each scoring a handful of leads). The run clears it as it
# starts; the expiry only matters if the queued task is lost, and then the periodic scoring
# run and the sweeper pick the marked leads up anyway.
SCORING_QUEUED_KEY = "leads:scoring-queued"
SCORING_QUEUED_SECONDS = 60

# The lead fields a scope rule can name (agreements.scopes; custom rules read attributes).
SCOPE_FIELDS = ("title", "industry", "country", "source", "company_size")

LEAD_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "title",
    "company",
    "company_size",
    "industry",
    "country",
    "source",
)


@dataclass(frozen=True)
class EventInput:
    email: str
    type: str
    occurred_at: datetime
    properties: dict = field(default_factory=dict)
    external_id: str | None = None


@dataclass(frozen=True)
class IngestResult:
    created: int
    duplicates: int
    leads_created: int
    # 0-based positions in the batch of the events skipped as already received.
    duplicate_indexes: list[int] = field(default_factory=list)


def scoring_request() -> None:
    """Ask for a scoring run of the marked leads, unless one is already queued."""
    try:
        first = cache.add(SCORING_QUEUED_KEY, 1, SCORING_QUEUED_SECONDS)
    except Exception:  # noqa: BLE001 - no cache: queue the run, as before coalescing
        logger.warning("Cache unreachable: queueing a scoring run regardless", exc_info=True)
        first = True
    if first:
        enqueue("leads.tasks.score_new_activity")


def scoring_request_taken() -> None:
    """The scoring run starts: the next batch must queue a run of its own."""
    try:
        cache.delete(SCORING_QUEUED_KEY)
    except Exception:  # noqa: BLE001 - the key expires by itself
        logger.warning("Cache unreachable: the scoring request key will expire", exc_info=True)


def _new_lead(email: str, now: datetime, **fields) -> Lead:
    return Lead(
        email=email.strip(),
        email_normalised=email_normalise(email),
        created_at=now,
        updated_at=now,
        lead_at=now,
        **fields,
    )


def _record_creation(leads: list[Lead], now: datetime, reason: str) -> None:
    StageChange.objects.bulk_create(
        StageChange(
            lead=lead, from_stage="", to_stage=Stage.LEAD, at=now, reason=reason, job="ingest"
        )
        for lead in leads
    )


def lead_upsert(
    *,
    email: str,
    fields: dict,
    attributes: dict | None = None,
    now=None,
    reason: str = "Created through the API",
) -> tuple[Lead, bool]:
    """Create or update the lead with this e-mail (as email_normalise sees it).

    Returns (lead, created). A known lead keeps the e-mail it was created with.
    """
    now = now or timezone.now()
    email = email.strip()
    values = {key: value for key, value in fields.items() if key in LEAD_FIELDS}
    try:
        with transaction.atomic():
            lead = (
                Lead.objects.select_for_update()
                .filter(email_normalised=email_normalise(email))
                .first()
            )
            created = lead is None
            if created:
                lead = _new_lead(email, now, attributes=attributes or {}, **values)
                lead.save()
                _record_creation([lead], now, reason)
                event_emit("lead.created", lead, now=now)
            else:
                for key, value in values.items():
                    setattr(lead, key, value)
                if attributes:
                    lead.attributes = {**lead.attributes, **attributes}
                lead.needs_scoring = True
                lead.updated_at = now
                lead.save()
            # Its agreement follows its attributes at once, so the lead page and the API name
            # it before the scoring run (which resolves the marked leads again) comes round.
            if leads_resolve(lead_ids=[lead.pk], now=now):
                lead.refresh_from_db(fields=["agreement"])
    except IntegrityError:
        # Another request created the same e-mail a moment ago: update that lead instead.
        return lead_upsert(
            email=email, fields=fields, attributes=attributes, now=now, reason=reason
        )
    scoring_request()
    return lead, created


def events_ingest(
    *, events: list[EventInput], now=None, reason: str = "Created by its first activity"
) -> IngestResult:
    """Store a batch of events, all or nothing; an event whose external id is known is a no-op."""
    now = now or timezone.now()
    try:
        return _events_store(events, now, reason)
    except IntegrityError:
        # A concurrent batch created the same new lead or event first; the batch is all or
        # nothing, so storing it again against what that batch stored is safe.
        return _events_store(events, now, reason)


_EVENT_COLUMNS = (
    "lead_id",
    "type",
    "occurred_at",
    "occurred_day",
    "properties",
    "external_id",
    "received_at",
)


def _events_insert(rows: list[tuple], *, received_at: datetime) -> None:
    """Store events given as (lead_id, type, occurred_at, occurred_day, properties,
    external_id) rows.

    On PostgreSQL with COPY: building the model instances and the one INSERT of 1,000 rows
    cost more than storing them. Elsewhere a multi-row INSERT. A known external id fails
    the whole batch either way (IntegrityError), which events_ingest retries.
    """
    connection = connections[router.db_for_write(LeadEvent)]
    if connection.vendor != "postgresql":
        LeadEvent.objects.bulk_create(
            [
                LeadEvent(
                    lead_id=lead_id,
                    type=type_,
                    occurred_at=occurred_at,
                    occurred_day=occurred_day,
                    properties=properties,
                    external_id=external_id,
                    received_at=received_at,
                )
                for lead_id, type_, occurred_at, occurred_day, properties, external_id in rows
            ],
            batch_size=1000,
        )
        return
    from psycopg.types.json import Jsonb

    quote = connection.ops.quote_name
    statement = (
        f"COPY {quote(LeadEvent._meta.db_table)} "
        f"({', '.join(quote(column) for column in _EVENT_COLUMNS)}) FROM STDIN"
    )
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(statement) as copy:
            for lead_id, type_, occurred_at, occurred_day, properties, external_id in rows:
                copy.write_row(
                    (
                        lead_id,
                        type_,
                        occurred_at,
                        occurred_day,
                        Jsonb(properties),
                        external_id,
                        received_at,
                    )
                )


def _events_store(events: list[EventInput], now, reason: str) -> IngestResult:
    with transaction.atomic():
        # Duplicates first: a resent event must not create its lead (under a new e-mail) or
        # touch anything else.
        external_ids = [event.external_id for event in events if event.external_id]
        seen = set(
            LeadEvent.objects.filter(external_id__any_of=external_ids).values_list(
                "external_id", flat=True
            )
        )
        fresh, duplicate_indexes = [], []
        for index, event in enumerate(events):
            if event.external_id:
                if event.external_id in seen:
                    duplicate_indexes.append(index)
                    continue
                seen.add(event.external_id)
            fresh.append((email_normalise(event.email), event))

        # The first spelling of a new e-mail in the batch is the one its lead keeps.
        spellings = {}
        for normalised, event in fresh:
            spellings.setdefault(normalised, event.email.strip())
        # The known leads are found and marked in one go; a new lead is born marked.
        lead_ids = _leads_mark(list(spellings))
        missing = [key for key in sorted(spellings) if key not in lead_ids]
        created_ids = _leads_create([spellings[key] for key in missing], missing, now, reason)
        lead_ids.update(created_ids)
        if created_ids:
            # Ids, not rows: the outbox reads the rows only when someone listens.
            events_emit_many("lead.created", list(created_ids.values()), now=now)

        new_events = [
            (
                lead_ids[normalised],
                event.type,
                event.occurred_at,
                epoch_days(event.occurred_at),
                event.properties or {},
                event.external_id or None,
            )
            for normalised, event in fresh
        ]
        _events_insert(new_events, received_at=now)
    if new_events:
        scoring_request()
    return IngestResult(
        created=len(new_events),
        duplicates=len(duplicate_indexes),
        leads_created=len(created_ids),
        duplicate_indexes=duplicate_indexes,
    )


def _leads_mark(normalised: list[str]) -> dict[str, int]:
    """Find the known leads among these normalised e-mails and mark them for the scoring
    run (ScoringMark); returns their ids by normalised e-mail.

    The lead rows are not written: the scoring run scores the marked leads and drops the
    marks. On PostgreSQL one statement is both the lookup and the mark,
    the marks inserted in id order so two batches that share leads take their keys in the
    same order.
    """
    if not normalised:
        return {}
    connection = connections[router.db_for_write(Lead)]
    if connection.vendor != "postgresql":
        lead_ids = dict(
            Lead.objects.filter(email_normalised__any_of=normalised).values_list(
                "email_normalised", "pk"
            )
        )
        ScoringMark.objects.bulk_create(
            [ScoringMark(lead_id=pk) for pk in sorted(lead_ids.values())],
            ignore_conflicts=True,
        )
        return lead_ids
    quote = connection.ops.quote_name
    lead, mark = quote(Lead._meta.db_table), quote(ScoringMark._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH known AS (SELECT {quote('email_normalised')}, {quote('id')} FROM {lead} "
            f"WHERE {quote('email_normalised')} = ANY(%s)), "
            f"marked AS (INSERT INTO {mark} ({quote('lead_id')}) "
            f"SELECT {quote('id')} FROM known ORDER BY {quote('id')} ON CONFLICT DO NOTHING) "
            f"SELECT {quote('email_normalised')}, {quote('id')} FROM known",
            [normalised],
        )
        return dict(cursor.fetchall())


def _leads_create(
    emails: list[str], normalised: list[str], now: datetime, reason: str
) -> dict[str, int]:
    """Create a lead (and its "created" stage change) per e-mail, under the agreement that
    governs it; returns the new ids by normalised e-mail.

    On PostgreSQL one statement from two arrays: Django's bulk_create prepared some 3,500
    field values per 100 leads, one by one, for rows that differ only in their e-mail. Such
    leads have nothing but an e-mail, which no scope rule reads, so one answer of the scopes'
    pure core (the one leads_resolve's SQL is tested against) is every new lead's agreement,
    stored with the row instead of rewriting the rows with one UPDATE per scope.
    """
    if not emails:
        return {}
    connection = connections[router.db_for_write(Lead)]
    if connection.vendor != "postgresql":
        created = Lead.objects.bulk_create(_new_lead(email, now) for email in emails)
        if not all(lead.pk for lead in created):
            created = list(Lead.objects.filter(email_normalised__in=normalised))
        _record_creation(created, now, reason)
        leads_resolve(lead_ids=[lead.pk for lead in created], now=now)
        return {lead.email_normalised: lead.pk for lead in created}
    lead = _new_lead("template@example.invalid", now)
    lead.agreement_id = governing_agreement(scopes_in_force(at=now), _scope_attributes(lead))
    change = StageChange(from_stage="", to_stage=Stage.LEAD, at=now, reason=reason, job="ingest")
    leads_columns, leads_values, params = _insert_columns(
        connection, lead, {"email": "new.email", "email_normalised": "new.email_normalised"}
    )
    change_columns, change_values, change_params = _insert_columns(
        connection, change, {"lead_id": "created.id"}
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH created AS (INSERT INTO {quote(Lead._meta.db_table)} ({leads_columns}) "
            f"SELECT {leads_values} FROM unnest(%s::text[], %s::text[]) "
            f"AS new(email, email_normalised) RETURNING {quote('id')}, "
            f"{quote('email_normalised')}), "
            f"changes AS (INSERT INTO {quote(StageChange._meta.db_table)} ({change_columns}) "
            f"SELECT {change_values} FROM created) "
            f"SELECT {quote('email_normalised')}, {quote('id')} FROM created",
            [*params, [email.strip() for email in emails], normalised, *change_params],
        )
        return dict(cursor.fetchall())


def _scope_attributes(lead: Lead) -> dict:
    """What scope rules read of a lead, as agreements.scopes.scope_matches takes it."""
    return {**lead.attributes, **{key: getattr(lead, key) for key in SCOPE_FIELDS}}


def _insert_columns(connection, template, varying: dict[str, str]) -> tuple[str, str, list]:
    """The column list, the SELECT list and its parameters of an INSERT … SELECT of rows like
    `template`, whose `varying` attributes come from the SQL expressions given instead."""
    columns, values, params = [], [], []
    for model_field in template._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.attname in varying:
            values.append(varying[model_field.attname])
            continue
        values.append(f"%s::{model_field.db_type(connection)}")
        value = getattr(template, model_field.attname)
        params.append(model_field.get_db_prep_save(value, connection))
    return ", ".join(columns), ", ".join(values), params
