"""Website visitors per day and source: the funnel's top, which arrives by API and by CSV.

Both doors check items with VisitorCountInputSerializer and store through
visitor_counts_upsert, so a CSV row and a JSON item are refused for the same reasons in the
same words. A batch or a file is stored whole or not at all.
"""

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from slaportal.csv_files import CsvRefused
from slaportal.numbers import number

from .models import VisitorCount
from .periods import Month
from .rollups import rollup_stamp_bump

MAX_ITEMS_PER_BATCH = 1000
MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 5000
PREVIEW_ROWS = 100
MAX_REPORTED_ERRORS = 200
COLUMNS = ("date", "source", "visitors")
POSTGRES_INT_MAX = 2_147_483_647
FIRST_DAY = date(2000, 1, 1)  # the review's months start in 2000 (Month.parse)
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_HINT = _("use YYYY-MM-DD, e.g. 2026-10-05")


@dataclass(frozen=True)
class VisitorRow:
    day: date
    source: str
    visitors: int


class VisitorDateField(serializers.DateField):
    """A calendar day written YYYY-MM-DD; spreadsheet dates like 10/5/2026 are ambiguous."""

    def to_internal_value(self, value):
        if isinstance(value, datetime):
            raise serializers.ValidationError(
                gettext("Send the day only: %(hint)s.") % {"hint": DATE_HINT}
            )
        if isinstance(value, date):
            return value
        text = str(value).strip()[:40]
        if not DATE_PATTERN.fullmatch(text):
            raise serializers.ValidationError(
                gettext("'%(text)s' is not a date: %(hint)s.") % {"text": text, "hint": DATE_HINT}
            )
        try:
            return date.fromisoformat(text)
        except ValueError:
            message = gettext("'%(text)s' is not a date: there is no such date.") % {"text": text}
            raise serializers.ValidationError(message) from None


class VisitorCountInputSerializer(serializers.Serializer):
    """One day's visitors from one source; sending the same day and source again replaces it."""

    date = VisitorDateField(help_text="The day counted, YYYY-MM-DD.")
    source = serializers.CharField(
        max_length=100,
        help_text="Where the visitors came from, e.g. website or webinar; the leads' source.",
    )
    visitors = serializers.IntegerField(
        min_value=0,
        max_value=POSTGRES_INT_MAX,
        help_text="Visitors on that day from that source, 0 or more.",
        error_messages={"min_value": _("Visitors cannot be negative.")},
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                # A misspelt key would otherwise vanish without a word.
                message = gettext("Unknown field: send %(columns)s.") % {
                    "columns": ", ".join(COLUMNS)
                }
                raise serializers.ValidationError({str(name): [message] for name in unknown})
        return super().to_internal_value(data)

    def validate_date(self, value: date) -> date:
        if value < FIRST_DAY:
            raise serializers.ValidationError(
                gettext("%(day)s is out of range: send days from 2000 on.")
                % {"day": value.isoformat()}
            )
        # A day of slack: somewhere in the world tomorrow has already begun.
        if value > timezone.now().date() + timedelta(days=1):
            raise serializers.ValidationError(
                gettext("%(day)s is in the future: count a day's visitors once it is over.")
                % {"day": value.isoformat()}
            )
        return value


def visitor_rows_validate(
    items: list,
    *,
    position: Callable[[int], str] = lambda index: gettext("item %(index)s") % {"index": index},
) -> tuple[list[VisitorRow | None], dict[int, dict]]:
    """Check every item; returns a row (or None when bad) per item and the errors by index.

    The same day and source twice in one batch is refused on the later item: which of the two
    figures is meant cannot be guessed. `position` names an item in that message (the API
    speaks of items, the CSV page of lines).
    """
    checker = VisitorCountInputSerializer()
    rows: list[VisitorRow | None] = []
    errors: dict[int, dict] = {}
    seen: dict[tuple[date, str], int] = {}
    for index, item in enumerate(items):
        try:
            data = checker.run_validation(item)
        except serializers.ValidationError as error:
            detail = error.detail
            errors[index] = detail if isinstance(detail, dict) else {"non_field_errors": detail}
            rows.append(None)
            continue
        row = VisitorRow(data["date"], data["source"], data["visitors"])
        key = (row.day, row.source)
        if key in seen:
            errors[index] = {
                "source": [
                    gettext(
                        "%(day)s and '%(source)s' already appear in %(position)s: send each day "
                        "and source once."
                    )
                    % {
                        "day": row.day.isoformat(),
                        "source": row.source,
                        "position": position(seen[key]),
                    }
                ]
            }
            rows.append(None)
            continue
        seen[key] = index
        rows.append(row)
    return rows, errors


def visitor_counts_upsert(*, rows: Iterable[VisitorRow]) -> int:
    """Store each day's visitors per source; a day and source already stored is replaced.

    Returns how many rows were stored. Callers validate first (visitor_rows_validate); a day and
    source repeated here keeps the last figure, since one statement cannot write a row twice.
    """
    latest = {(row.day, row.source): row.visitors for row in rows}
    if not latest:
        return 0
    # Sorted, so two batches writing the same days lock their rows in the same order.
    objects = [
        VisitorCount(day=day, source=source, visitors=visitors)
        for (day, source), visitors in sorted(latest.items())
    ]
    # Atomic: bulk_create splits a long list into several statements on SQLite.
    with transaction.atomic():
        VisitorCount.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["day", "source"],
            update_fields=["visitors", "updated_at"],
        )
        # The funnel's first step changed: a cached report of those months is stale.
        rollup_stamp_bump(months={Month.of(day) for day, _ in latest})
    return len(objects)


def visitor_counts_for_month(month: Month):
    return VisitorCount.objects.filter(day__gte=month.first_day, day__lte=month.last_day).order_by(
        "day", "source"
    )


def visitor_counts_recent(*, limit: int = 60):
    return VisitorCount.objects.order_by("-day", "source")[:limit]


# The CSV door ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int  # the header is line 1, like a spreadsheet's row numbers
    column: str
    message: str

    def __str__(self):
        if self.column:
            where = gettext("line %(line)s, column %(column)s") % {
                "line": self.line,
                "column": self.column,
            }
        else:
            where = gettext("line %(line)s") % {"line": self.line}
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class PreviewRow:
    line: int
    day: str
    source: str
    visitors: str
    stored: int | None  # the figure this row replaces, None when new
    bad: bool


@dataclass
class VisitorsPreview:
    total_rows: int
    rows: list[PreviewRow]
    errors: list[RowError]
    error_count: int
    good: list[VisitorRow]  # empty unless every row is good: nothing partial gets stored
    replaced: int = 0  # good rows whose day and source are stored already

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def total_visitors(self) -> int:
        return sum(row.visitors for row in self.good)

    @property
    def sources(self) -> list[str]:
        return sorted({row.source for row in self.good})

    @property
    def first_day(self) -> date | None:
        return min((row.day for row in self.good), default=None)

    @property
    def last_day(self) -> date | None:
        return max((row.day for row in self.good), default=None)


def _read(content: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    lines = content.splitlines()
    if not lines or not lines[0].strip():
        raise CsvRefused(gettext("The file is empty."))
    # Spreadsheets set to Portuguese or German save CSV with semicolons.
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_CSV_ROWS:
                message = gettext("The file has more than %(rows)s rows; split it into parts.") % {
                    "rows": number(MAX_CSV_ROWS)
                }
                raise CsvRefused(message)
            rows.append((line, cells))
    except csv.Error as error:
        raise CsvRefused(
            gettext("This is not a well-formed CSV file: %(error)s.") % {"error": error}
        ) from error
    if not rows:
        raise CsvRefused(gettext("The file has no rows under its header."))
    return header, rows


def _header_errors(header: list[str]) -> list[RowError]:
    errors = []
    for position, name in enumerate(header):
        if name and name not in COLUMNS:
            message = gettext("unknown column; the file takes %(columns)s.") % {
                "columns": ", ".join(COLUMNS)
            }
            errors.append(RowError(1, name, message))
        elif name and name in header[:position]:
            errors.append(RowError(1, name, gettext("the column appears twice.")))
    for name in COLUMNS:
        if name not in header:
            errors.append(RowError(1, name, gettext("missing required column.")))
    return errors


def visitors_csv_preview(*, content: str) -> VisitorsPreview:
    """Check every row without storing anything; CsvRefused for an unreadable file."""
    header, lines = _read(content)
    header_errors = _header_errors(header)
    if header_errors:
        return VisitorsPreview(len(lines), [], header_errors, len(header_errors), [])
    items, errors = [], []
    for line, cells in lines:
        if len(cells) > len(header):
            message = gettext("%(values)s values, but the header has %(columns)s columns.") % {
                "values": len(cells),
                "columns": len(header),
            }
            errors.append(RowError(line, "", message))
        # Spreadsheets leave trailing separators after the last column: harmless while empty.
        for position, cell in enumerate(cells[: len(header)]):
            if not header[position] and cell.strip():
                message = gettext(
                    "a value in column %(position)s, which has no name in the header."
                ) % {"position": position + 1}
                errors.append(RowError(line, "", message))
        # An empty cell is a missing value: the serializer then says which one is required.
        items.append(
            {
                name: cell.strip()
                for name, cell in zip(header, cells, strict=False)
                if name and cell.strip()
            }
        )
    line_of = [line for line, _ in lines]
    rows, problems = visitor_rows_validate(
        items, position=lambda index: gettext("line %(line)s") % {"line": line_of[index]}
    )
    for index, detail in sorted(problems.items()):
        for column, messages in detail.items():
            for message in messages:
                name = "" if column == "non_field_errors" else column
                errors.append(RowError(line_of[index], name, str(message)))
    errors.sort(key=lambda error: error.line)
    good = [row for row in rows if row is not None]
    bad_lines = {error.line for error in errors}
    stored = _stored_figures(good)
    checked = [
        PreviewRow(
            line=line,
            day=item.get("date", ""),
            source=item.get("source", ""),
            visitors=item.get("visitors", ""),
            stored=stored.get((row.day, row.source)) if row else None,
            bad=line in bad_lines,
        )
        for (line, _), item, row in zip(lines, items, rows, strict=True)
    ]
    return VisitorsPreview(
        total_rows=len(lines),
        rows=checked[:PREVIEW_ROWS],
        errors=errors[:MAX_REPORTED_ERRORS],
        error_count=len(errors),
        good=good if not errors else [],
        replaced=sum(row.stored is not None for row in checked),
    )


def _stored_figures(rows: list[VisitorRow]) -> dict[tuple[date, str], int]:
    """What the file would replace, in one query over its days and sources."""
    if not rows:
        return {}
    days = {row.day for row in rows}
    sources = {row.source for row in rows}
    wanted = {(row.day, row.source) for row in rows}
    stored = VisitorCount.objects.filter(
        day__gte=min(days), day__lte=max(days), source__in=sources
    ).values_list("day", "source", "visitors")
    return {(day, source): visitors for day, source, visitors in stored if (day, source) in wanted}


def visitors_csv_import(*, content: str) -> VisitorsPreview:
    """Check the file again and store every row, or nothing when any row is bad."""
    preview = visitors_csv_preview(content=content)
    if preview.ok:
        visitor_counts_upsert(rows=preview.good)
    return preview
