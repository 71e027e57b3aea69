"""The SLA document as people read it: human labels for stored codes, grouped numbers.

The document (agreements.document) keeps what was stored (`demo_request`, `first_name`,
`1000000`), in English, and published snapshots are frozen that way, so diffs compare like with
like. The reading page, the diff and the exports pass it through `document_readable` on the way
out instead, so old snapshots and new drafts read the same, in the reader's language and formats
(`localise`: the registry of parts says which label is which field). Pure: the labels come in
as arguments.
"""

import copy
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext, gettext_lazy

from slaportal import clock, numbers

from .summary import number

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# Settings whose value is a comma-separated list of codes, by (part, label as the document has it).
EVENT_LISTS = {("handoff", "Trigger events"), ("qualification", "Custom event types")}
FIELD_LISTS = {("handoff", "Required fields")}
EVENT_COLUMNS = {("interest", "Event type")}
# A machine name beside its human label ("Code" / "Label") only repeats it for people; the API
# and the CSV exports keep it.
MACHINE_COLUMNS = {"Code", "Slug"}


def readable_number(value: str) -> str:
    """ "1000000" → "1,000,000"; smaller numbers, dates and words are left as they are."""
    if isinstance(value, str) and NUMBER.match(value) and abs(Decimal(value)) >= 1000:
        return number(Decimal(value))
    return value


def _codes(value: str, labels: dict[str, str]) -> str:
    codes = [code.strip() for code in value.split(",") if code.strip()]
    return ", ".join(labels.get(code) or code.replace("_", " ").capitalize() for code in codes)


def document_readable(
    document: dict,
    *,
    event_labels: dict[str, str],
    field_labels: dict[str, str],
    keep_machine_columns: bool = False,
) -> dict:
    readable = copy.deepcopy(document)
    for part in readable["parts"]:
        for block in part["settings"]:
            fields = []
            for label, value in block["fields"]:
                if (part["slug"], label) in EVENT_LISTS and value:
                    value = _codes(value, event_labels)
                elif (part["slug"], label) in FIELD_LISTS and value:
                    value = _codes(value, field_labels)
                else:
                    value = readable_number(value)
                fields.append([label, value])
            block["fields"] = fields
        for rowset in part["rows"]:
            columns = rowset["columns"]
            keep = [
                i
                for i, column in enumerate(columns)
                if keep_machine_columns or not (column in MACHINE_COLUMNS and "Label" in columns)
            ]
            events = {i for i, c in enumerate(columns) if (rowset["key"], c) in EVENT_COLUMNS}
            rowset["columns"] = [columns[i] for i in keep]
            for item in rowset["items"]:
                values = item["values"]
                item["values"] = [
                    _codes(values[i], event_labels) if i in events else readable_number(values[i])
                    for i in keep
                ]
                # Each value with its column, for tables that stack into cards on a phone.
                item["cells"] = list(zip(rowset["columns"], item["values"], strict=True))
    return readable


def version_readable(version, document: dict, *, keep_machine_columns: bool = False) -> dict:
    """`document_readable` with the labels of this version's catalogue, in the reader's
    language."""
    from .forms import LEAD_FIELDS, event_type_choices

    event_labels = {code: str(label) for code, label in event_type_choices(version)}
    field_labels = {name: str(label) for name, label in LEAD_FIELDS}
    # Numbers grouped the English way first, which `localise` reads back and writes out in
    # the reader's format.
    with translation.override("en"):
        readable = document_readable(
            document,
            event_labels=event_labels,
            field_labels=field_labels,
            keep_machine_columns=keep_machine_columns,
        )
    return localise(readable)


# The reader's language ----------------------------------------------------------------------

PLAN_TITLE = "Needed to reach the revenue target"  # as the stored document has it
PLAN_TITLE_SHOWN = gettext_lazy("Needed to reach the revenue target")
MONEY_FIELDS = {"revenue_target", "average_deal_size"}
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Labelled:
    """A settings block or a list of rows of the registry, with its fields by English label."""

    entry: object  # parts.SettingsBlock or parts.RowSet
    names: dict  # English label -> field name


@functools.cache
def _index() -> tuple[dict, dict, dict]:
    """(settings blocks by (part, English title), row lists by key, choices by model field):
    what a stored English label stands for. Built once: English labels never change at run
    time."""
    from .document import _label
    from .parts import PARTS

    blocks, rowsets, choices = {}, {}, {}
    with translation.override("en"):
        for part in PARTS:
            for block in part.settings:
                names = {_label(block.form, name): name for name in block.fields()}
                blocks[(part.slug, str(block.title))] = Labelled(block, names)
            for rowset in part.rowsets:
                names = {_label(rowset.form, name): name for name in rowset.fields()}
                rowsets[rowset.key] = Labelled(rowset, names)
            for entry in (*part.settings, *part.rowsets):
                for name in entry.fields():
                    field = _model_field(entry.model, name)
                    if field is not None and field.choices:
                        choices[(entry.model, name)] = {str(lbl): lbl for _v, lbl in field.choices}
    return blocks, rowsets, choices


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value.replace(",", "")) if NUMBER.match(value.replace(",", "")) else None
    except (InvalidOperation, AttributeError):
        return None


def _value(model, name: str, value, *, money: bool = False):
    """One stored value as the reader reads it: choices and yes/no in their language, numbers,
    money, dates and times in their formats. Anything else (people's text) as it is."""
    if not isinstance(value, str) or value == "":
        return value
    if name == "working_days":
        days = dict(zip(WEEKDAY_NAMES, WEEKDAYS_ABBR.values(), strict=True))
        return ", ".join(str(days.get(day.strip(), day.strip())) for day in value.split(","))
    field = _model_field(model, name)
    if field is None:
        return value
    choices = _index()[2].get((model, name))
    if choices:
        return str(choices.get(value, value))
    if isinstance(field, models.BooleanField):
        return {"Yes": gettext("Yes"), "No": gettext("No")}.get(value, value)
    if isinstance(field, models.DecimalField | models.IntegerField):
        amount = _decimal(value)
        if amount is None:
            return value
        if money:
            return numbers.money(amount)
        return number(amount)
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        try:
            return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    if isinstance(field, models.TimeField):
        try:
            return formats.time_format(time.fromisoformat(value), clock.time_format())
        except ValueError:
            return value
    return value


def _plan_fields(planner: dict) -> list | None:
    """The reverse-funnel plan worked out again from the planner's stored inputs, so its
    sentences read in the reader's language (a snapshot keeps them in English)."""
    from .funnel import PLAN_INPUTS, plan_funnel

    inputs = {}
    for name in PLAN_INPUTS:
        amount = _decimal(str(planner.get(name, "")))
        if amount is None:
            return None
        inputs[name] = int(amount) if name == "months" else amount
    result = plan_funnel(**inputs)
    if not result.is_complete:
        return None
    return [
        [
            step.label,
            gettext("%(total)s (%(per_month)s a month) — %(arithmetic)s")
            % {
                "total": numbers.number(step.total),
                "per_month": numbers.number(step.per_month, 1),
                "arithmetic": step.arithmetic,
            },
        ]
        for step in result.steps
    ]


def _version_localised(version: dict, parts: list[dict]) -> dict:
    from .models import AgreementVersion

    with translation.override("en"):
        statuses = {str(label): label for label in AgreementVersion.Status.labels}
    version = dict(version)
    version["status"] = str(statuses.get(version.get("status"), version.get("status") or ""))
    if version.get("label") == "Draft":
        version["label"] = gettext("Draft")
    if version.get("effective_at"):
        from slaportal.clock import local_time

        zone = next(
            (
                value
                for part in parts
                if part["slug"] == "calendar"
                for block in part["settings"]
                for label, value in block["fields"]
                if label == "Time zone" and value
            ),
            None,
        )
        try:
            version["effective_local"] = local_time(
                datetime.fromisoformat(version["effective_at"]), zone=zone
            )
        except (ValueError, KeyError):
            pass
    return version


def localise(document: dict) -> dict:
    """The (readable) document in the active language: the registry's titles, labels and
    column names, the catalogue's choices, and the reader's number, money and date formats.
    A label the registry no longer knows (an old snapshot's) is left as it was stored."""
    from .parts import PARTS_BY_SLUG

    if document.get("localised"):
        return document
    blocks, rowsets, _choices = _index()
    out = copy.deepcopy(document)
    english_parts = document["parts"]
    for part in out["parts"]:
        registered = PARTS_BY_SLUG.get(part["slug"])
        if registered is not None:
            part["title"], part["summary"] = str(registered.title), str(registered.summary)
        settings = []
        planner = {}
        for block in part["settings"]:
            known = blocks.get((part["slug"], block["title"]))
            if known is None:
                if block["title"] == PLAN_TITLE:
                    fields = _plan_fields(planner)
                    block = {
                        "title": str(PLAN_TITLE_SHOWN),
                        "fields": fields if fields is not None else block["fields"],
                    }
                settings.append(block)
                continue
            fields = []
            for label, value in block["fields"]:
                name = known.names.get(label)
                if name is None:
                    fields.append([label, value])
                    continue
                planner[name] = value
                model = known.entry.model
                shown = _value(model, name, value, money=name in MONEY_FIELDS)
                fields.append([_localised_label(known.entry.form, name), shown])
            settings.append({"title": str(known.entry.title), "fields": fields})
        part["settings"] = settings
        for rowset in part["rows"]:
            known = rowsets.get(rowset["key"])
            if known is None:
                continue
            names = [known.names.get(column) for column in rowset["columns"]]
            metric = names.index("metric") if "metric" in names else None
            for item in rowset["items"]:
                revenue = metric is not None and item["values"][metric] == "New revenue"
                item["values"] = [
                    _value(known.entry.model, name, value, money=revenue and name == "target")
                    if name
                    else value
                    for name, value in zip(names, item["values"], strict=True)
                ]
            rowset["title"] = str(known.entry.title)
            rowset["columns"] = [
                _localised_label(known.entry.form, name) if name else column
                for name, column in zip(names, rowset["columns"], strict=True)
            ]
            for item in rowset["items"]:
                if "cells" in item:
                    item["cells"] = list(zip(rowset["columns"], item["values"], strict=True))
    out["version"] = _version_localised(out["version"], english_parts)
    out["localised"] = True
    return out


def _localised_label(form_class, name: str) -> str:
    from .document import _label

    return _label(form_class, name)
