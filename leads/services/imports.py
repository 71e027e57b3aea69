"""CSV import of leads and events: every row checked first, then all stored or none.

Rows are validated by the API's own serializers, so a CSV row and a JSON item are refused
for the same reasons, and stored through the same services (lead_upsert, events_ingest).
Line numbers count the header as line 1, like a spreadsheet's row numbers.
"""

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements.selectors import event_types_in_force
from slaportal.csv_files import CsvRefused
from slaportal.language import language_of
from slaportal.numbers import number
from slaportal.queue import enqueue

from ..api.serializers import (
    EventInputSerializer,
    LeadInputSerializer,
    event_input,
    lead_upsert_arguments,
    validate_each,
)
from ..models import ImportJob
from .ingestion import events_ingest, lead_upsert

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
SYNC_MAX_ROWS = 500
PREVIEW_ROWS = 20
# Progress is committed once per chunk: often enough to move the bar, rarely enough to be cheap.
CHUNK_ROWS = 500
EVENTS_PER_INGEST = 1000
MAX_REPORTED_ERRORS = 1000
# An import whose runs keep dying (say, out of memory) is refused rather than retried forever.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class FileFormat:
    fields: tuple[str, ...]
    required: tuple[str, ...]
    prefix: str  # "attributes." columns fill one dict field of the serializer

    @property
    def bag(self) -> str:
        return self.prefix.rstrip(".")

    def describe(self) -> str:
        return ", ".join([*self.fields, f"{self.prefix}<key>"])


FORMATS = {
    ImportJob.Kind.LEADS: FileFormat(
        fields=(
            "email",
            "first_name",
            "last_name",
            "phone",
            "title",
            "company",
            "company_size",
            "industry",
            "country",
            "source",
        ),
        required=("email",),
        prefix="attributes.",
    ),
    ImportJob.Kind.EVENTS: FileFormat(
        fields=("email", "type", "occurred_at", "external_id"),
        required=("email", "type", "occurred_at"),
        prefix="properties.",
    ),
}

# One example row per kind, for the downloadable template.
EXAMPLES = {
    ImportJob.Kind.LEADS: {
        "email": "ana@example.com",
        "first_name": "Ana",
        "last_name": "Souza",
        "title": "Head of Marketing",
        "company": "Acme",
        "company_size": "250",
        "industry": "SaaS",
        "country": "BR",
        "source": "webinar",
        "attributes.seats": "40",
    },
    ImportJob.Kind.EVENTS: {
        "email": "ana@example.com",
        "type": "pricing_page_view",
        "occurred_at": "2026-11-26T14:00:00Z",
        "external_id": "web-1001",
        "properties.page": "/pricing",
    },
}


# The file as a whole cannot be imported: one kind of refusal with the visitors' CSV.
ImportRefused = CsvRefused


@dataclass(frozen=True)
class RowError:
    line: int  # 0 for the file as a whole
    column: str
    message: str

    def __str__(self):
        where = [_("line %(line)s") % {"line": self.line}] if self.line else []
        if self.column:
            where.append(_("column %(column)s") % {"column": self.column})
        if not where:
            return self.message
        return _("%(where)s: %(message)s") % {"where": ", ".join(where), "message": self.message}


@dataclass(frozen=True)
class ParsedRow:
    line: int
    data: dict  # the serializer's input
    width: int  # up to the last cell with a value, to catch rows longer than the header


@dataclass(frozen=True)
class ParsedFile:
    kind: str
    columns: list[str]
    rows: list[ParsedRow]
    header_errors: list[RowError]


@dataclass(frozen=True)
class PreviewRow:
    line: int
    values: list
    bad: bool


@dataclass
class ImportPreview:
    kind: str
    columns: list[str]
    total_rows: int
    rows: list[PreviewRow]
    errors: list[RowError]
    error_count: int

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def runs_in_background(self) -> bool:
        return self.total_rows > SYNC_MAX_ROWS


@dataclass
class ImportOutcome:
    status: str
    total_rows: int
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    leads_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    def summary(self, kind: str) -> str:
        if kind == ImportJob.Kind.LEADS:
            done = ngettext(
                "%(created)s lead created, %(updated)s updated",
                "%(created)s leads created, %(updated)s updated",
                self.created,
            ) % {"created": number(self.created), "updated": number(self.updated)}
        else:
            done = ", ".join(
                [
                    ngettext("%(n)s event stored", "%(n)s events stored", self.created)
                    % {"n": number(self.created)},
                    ngettext("%(n)s duplicate skipped", "%(n)s duplicates skipped", self.duplicates)
                    % {"n": number(self.duplicates)},
                    ngettext("%(n)s new lead", "%(n)s new leads", self.leads_created)
                    % {"n": number(self.leads_created)},
                ]
            )
        return ngettext(
            "Imported %(n)s row: %(done)s.", "Imported %(n)s rows: %(done)s.", self.total_rows
        ) % {"n": number(self.total_rows), "done": done}


def import_template(*, kind: str) -> str:
    out = io.StringIO()
    example = EXAMPLES[kind]
    csv.writer(out, lineterminator="\n").writerows([list(example), list(example.values())])
    return out.getvalue()


def _parse(kind: str, content: str) -> ParsedFile:
    spec = FORMATS[kind]
    if not content.strip():
        raise ImportRefused(_("The file is empty."))
    first_line = content.partition("\n")[0]
    if not first_line.strip():
        raise ImportRefused(_("The first line must be the header row, and it is blank."))
    # Spreadsheets set to Portuguese or German save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        columns, header_errors = _read_header(header, spec)
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise ImportRefused(
                    _("The file has more than %(max)s rows; split it into parts.")
                    % {"max": number(MAX_ROWS)}
                )
            rows.append((line, cells))
    except csv.Error as error:
        raise ImportRefused(
            _("This is not a well-formed CSV file: %(error)s.") % {"error": error}
        ) from error
    if not rows:
        raise ImportRefused(_("The file has no rows under its header."))
    parsed = [
        ParsedRow(line, _row_input(cells, columns, spec), _width(cells)) for line, cells in rows
    ]
    return ParsedFile(kind=kind, columns=columns, rows=parsed, header_errors=header_errors)


def _width(cells: list[str]) -> int:
    # Spreadsheets pad rows with empty cells; only a value past the header is a problem.
    return max((index + 1 for index, cell in enumerate(cells) if cell.strip()), default=0)


def _read_header(header: list[str], spec: FileFormat) -> tuple[list[str], list[RowError]]:
    columns, errors = [], []
    for raw in header:
        name = raw.strip()
        lowered = name.lower()
        if lowered in spec.fields:
            name = lowered
        elif lowered.startswith(spec.prefix) and len(name) > len(spec.prefix):
            name = spec.prefix + name[len(spec.prefix) :].strip()
        elif name:
            errors.append(
                RowError(
                    1,
                    name,
                    _("unknown column; this kind of file takes %(columns)s.")
                    % {"columns": spec.describe()},
                )
            )
        if name and name in columns:
            errors.append(RowError(1, name, _("the column appears twice.")))
        columns.append(name)
    for name in spec.required:
        if name not in columns:
            errors.append(RowError(1, name, _("missing required column.")))
    return columns, errors


def _row_input(cells: list[str], columns: list[str], spec: FileFormat) -> dict:
    data, bag = {}, {}
    for name, cell in zip(columns, cells, strict=False):
        value = cell.strip()
        if not name or not value:
            # An empty cell leaves the stored value alone, as a field left out of the API does.
            continue
        if name.startswith(spec.prefix):
            bag[name[len(spec.prefix) :]] = value
        else:
            data[name] = value
    if bag:
        data[spec.bag] = bag
    return data


Validator = Callable[[list[ParsedRow]], tuple[list, list[RowError]]]


def _validator(kind: str, columns: list[str]) -> Validator:
    """Checks rows with the API's serializer for this kind; the catalogue is read once."""
    spec = FORMATS[kind]
    if kind == ImportJob.Kind.EVENTS:
        now = timezone.now()
        serializer = EventInputSerializer
        context = {"catalogue": event_types_in_force(at=now), "now": now}
    else:
        serializer, context = LeadInputSerializer, {}

    def validate(rows: list[ParsedRow]):
        errors = []
        cleaned, problems = validate_each(serializer, [row.data for row in rows], context=context)
        for index, row in enumerate(rows):
            if row.width > len(columns):
                message = ngettext(
                    "%(values)s values, but the header has %(columns)s column.",
                    "%(values)s values, but the header has %(columns)s columns.",
                    len(columns),
                ) % {"values": row.width, "columns": len(columns)}
                errors.append(RowError(row.line, "", message))
                cleaned[index] = None
            for column, message in _flatten(problems.get(index, {}), spec):
                errors.append(RowError(row.line, column, message))
        return cleaned, errors

    return validate


def _flatten(detail, spec: FileFormat):
    if isinstance(detail, list):
        for message in detail:
            yield "", str(message)
        return
    for name, messages in detail.items():
        column = "" if name == "non_field_errors" else name
        if isinstance(messages, dict):
            for key, nested in messages.items():
                for message in nested:
                    yield f"{spec.prefix}{key}", str(message)
        else:
            for message in messages:
                yield column, str(message)


def _display(cleaned: dict | None, row: ParsedRow, column: str, spec: FileFormat) -> str:
    """A good row shows as the serializer read it (BR upper-cased, the time with its zone)."""
    source = cleaned if cleaned is not None else row.data
    if column.startswith(spec.prefix):
        value = (source.get(spec.bag) or {}).get(column[len(spec.prefix) :])
    else:
        value = source.get(column)
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def import_preview(*, kind: str, content: str) -> ImportPreview:
    """Check every row without storing anything; ImportRefused for an unusable file."""
    parsed = _parse(kind, content)
    spec = FORMATS[kind]
    if parsed.header_errors:
        return ImportPreview(
            kind=kind,
            columns=parsed.columns,
            total_rows=len(parsed.rows),
            rows=[],
            errors=parsed.header_errors,
            error_count=len(parsed.header_errors),
        )
    cleaned, errors = _validator(kind, parsed.columns)(parsed.rows)
    bad_lines = {error.line for error in errors}
    shown = [name for name in parsed.columns if name]
    rows = [
        PreviewRow(
            line=row.line,
            values=[_display(cleaned[index], row, name, spec) for name in shown],
            bad=row.line in bad_lines,
        )
        for index, row in enumerate(parsed.rows[:PREVIEW_ROWS])
    ]
    return ImportPreview(
        kind=kind,
        columns=shown,
        total_rows=len(parsed.rows),
        rows=rows,
        errors=errors[:MAX_REPORTED_ERRORS],
        error_count=len(errors),
    )


def import_create(
    *, kind: str, filename: str, content: str, by
) -> tuple[ImportJob, ImportOutcome | None]:
    """Record a confirmed import and run it: at once when small, else in the background.

    Returns the job and, when it ran at once, its outcome.
    """
    total = len(_parse(kind, content).rows)
    job = ImportJob.objects.create(
        kind=kind, filename=filename[:200], content=content, total_rows=total, created_by=by
    )
    if total <= SYNC_MAX_ROWS:
        return job, import_run(import_id=job.pk)
    enqueue("leads.tasks.run_import", str(job.pk))
    return job, None


def import_run(*, import_id) -> ImportOutcome:
    """Claim the import, validate every row (progress and claim renewed per chunk), then store
    all rows and mark the import done in one transaction: all or nothing.

    Safe to run twice, even at once, and after a crash: a job done or refused is left alone;
    a job another live run holds is left to it (its claim is fresh, or its row is locked while
    it stores); a job whose run died is claimed again and starts over, since nothing of the
    dead run was stored. The store step locks the job and checks the claim is still its own.
    """
    jobs = ImportJob.objects.filter(pk=import_id)
    attempt = _claim(jobs)
    if attempt is None:
        return _outcome_of(jobs.defer("content").get())
    job = jobs.defer("content").select_related("created_by").get()
    # The errors are stored for the person who uploaded the file: in their language, also
    # when a worker runs the import.
    with translation.override(language_of(job.created_by)):
        return _import_run(jobs, job, attempt, import_id)


def _import_run(jobs, job: ImportJob, attempt: int, import_id) -> ImportOutcome:
    # Only this claim may move the import on: a run that lost its claim stops writing.
    mine = jobs.filter(attempts=attempt).exclude(status=ImportJob.Status.DONE)
    if attempt > MAX_ATTEMPTS:
        message = _(
            "The import stopped %(times)s times before it finished, so nothing was "
            "stored. Upload the file again, perhaps in smaller parts."
        ) % {"times": MAX_ATTEMPTS}
        return _fail(mine, job.total_rows, [RowError(0, "", message)])
    content = jobs.values_list("content", flat=True).get()
    try:
        parsed = _parse(job.kind, content)
    except ImportRefused as refused:
        return _fail(mine, job.total_rows, [RowError(0, "", str(refused))])
    total = len(parsed.rows)
    mine.update(total_rows=total)
    if parsed.header_errors:
        return _fail(mine, total, parsed.header_errors)

    validate = _validator(job.kind, parsed.columns)
    cleaned, errors = [], []
    for start in range(0, total, CHUNK_ROWS):
        chunk_cleaned, chunk_errors = validate(parsed.rows[start : start + CHUNK_ROWS])
        cleaned.extend(chunk_cleaned)
        errors.extend(chunk_errors)
        mine.update(processed_rows=min(start + CHUNK_ROWS, total), claimed_at=timezone.now())
    if errors:
        return _fail(mine, total, errors)

    mine.update(status=ImportJob.Status.IMPORTING, claimed_at=timezone.now())
    now = timezone.now()
    try:
        with transaction.atomic():
            # Held until the rows commit: while it is held, the sweeper sees a live run.
            locked = jobs.select_for_update().defer("content").get()
            if locked.status == ImportJob.Status.DONE or locked.attempts != attempt:
                return _outcome_of(locked)
            from slaportal.language import in_team_language

            with in_team_language():
                reason = _("Imported from %(file)s") % {"file": job.filename}
            outcome = _store(job.kind, cleaned, now=now, reason=reason)
            jobs.update(
                status=ImportJob.Status.DONE, processed_rows=total, errors=[], finished_at=now
            )
    except DatabaseError:
        logger.exception("Import %s failed while storing", import_id)
        message = _("The database refused the import, so nothing was stored. Try again.")
        return _fail(mine, total, [RowError(0, "", message)])
    return outcome


def _claim(jobs) -> int | None:
    """Take the import for this run; returns the attempt number, or None when the import is
    finished or a live run holds it."""
    now = timezone.now()
    with transaction.atomic():
        # A run storing rows holds the row lock: skip it rather than wait for it.
        job = jobs.select_for_update(skip_locked=True).defer("content").first()
        if job is None or job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            return None
        if job.claimed_at is not None and job.claimed_at > now - import_claim_timeout():
            return None
        attempt = job.attempts + 1
        jobs.update(
            status=ImportJob.Status.VALIDATING, processed_rows=0, claimed_at=now, attempts=attempt
        )
        return attempt


def import_claim_timeout() -> timedelta:
    # Longer than a chunk of validation takes: the run renews its claim after every chunk.
    return timedelta(seconds=settings.IMPORT_CLAIM_SECONDS)


def imports_to_resume(*, now=None) -> list:
    """Imports no live run holds: waiting past a short grace (the task was never sent or was
    lost), or claimed by a run that stopped renewing its claim (its worker died)."""
    now = now or timezone.now()
    unfinished = ImportJob.objects.filter(
        status__in=[
            ImportJob.Status.PENDING,
            ImportJob.Status.VALIDATING,
            ImportJob.Status.IMPORTING,
        ]
    )
    waiting = Q(
        claimed_at__isnull=True,
        created_at__lt=now - timedelta(seconds=settings.IMPORT_PENDING_GRACE_SECONDS),
    )
    abandoned = Q(claimed_at__lt=now - import_claim_timeout())
    return list(unfinished.filter(waiting | abandoned).values_list("pk", flat=True))


def _store(kind: str, rows: list[dict], *, now, reason: str) -> ImportOutcome:
    outcome = ImportOutcome(status=ImportJob.Status.DONE, total_rows=len(rows))
    if kind == ImportJob.Kind.LEADS:
        for data in rows:
            _, created = lead_upsert(**lead_upsert_arguments(data), now=now, reason=reason)
            if created:
                outcome.created += 1
            else:
                outcome.updated += 1
        return outcome
    # Batches keep each statement's parameters under SQLite's limit; the enclosing
    # transaction still makes the whole file one unit.
    for start in range(0, len(rows), EVENTS_PER_INGEST):
        batch = [event_input(data) for data in rows[start : start + EVENTS_PER_INGEST]]
        result = events_ingest(events=batch, now=now, reason=reason)
        outcome.created += result.created
        outcome.duplicates += result.duplicates
        outcome.leads_created += result.leads_created
    return outcome


def _fail(jobs, total: int, errors: list[RowError]) -> ImportOutcome:
    # `jobs` is the caller's own claim: a run that lost its claim refuses nothing.
    reported = errors[:MAX_REPORTED_ERRORS]
    if len(errors) > len(reported):
        more = len(errors) - len(reported)
        reported.append(
            RowError(
                0,
                "",
                ngettext("… and %(n)s more error.", "… and %(n)s more errors.", more)
                % {"n": number(more)},
            )
        )
    jobs.exclude(status=ImportJob.Status.DONE).update(
        status=ImportJob.Status.FAILED,
        errors=[asdict(error) for error in reported],
        finished_at=timezone.now(),
    )
    return ImportOutcome(status=ImportJob.Status.FAILED, total_rows=total, errors=reported)


def _outcome_of(job: ImportJob) -> ImportOutcome:
    return ImportOutcome(
        status=job.status,
        total_rows=job.total_rows,
        errors=[RowError(**error) for error in job.errors],
    )


def import_jobs_recent(*, limit: int = 10):
    # The content can be megabytes: lists and the progress poll never load it.
    return ImportJob.objects.select_related("created_by").defer("content")[:limit]
