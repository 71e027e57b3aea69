"""The SLA document as people read it: human labels for stored codes, grouped numbers.

The document (agreements.document) keeps what was stored (`demo_request`, `first_name`,
`1000000`), and published snapshots are frozen that way, so diffs compare like with like. The
reading page and the exports pass it through `document_readable` on the way out instead, so
old snapshots and new drafts read the same. Pure: the labels come in as arguments.
"""

import copy
import re
from decimal import Decimal

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
    document: dict, *, event_labels: dict[str, str], field_labels: dict[str, str]
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
                if not (column in MACHINE_COLUMNS and "Label" in columns)
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


def version_readable(version, document: dict) -> dict:
    """`document_readable` with the labels of this version's catalogue."""
    from .forms import LEAD_FIELDS, event_type_choices

    return document_readable(
        document, event_labels=dict(event_type_choices(version)), field_labels=dict(LEAD_FIELDS)
    )
