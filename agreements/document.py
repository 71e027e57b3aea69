"""The SLA as a document: a plain, JSON-ready description of a version's seven parts.

One function builds it from a version's rows, in English; publication stores it as the version's
snapshot, and the reading page, the diff and the Markdown/PDF exports all read this same shape,
through agreements.reading, which puts it in the reader's language:

    {"agreement": {...}, "version": {...},
     "parts": [{"slug", "number", "title", "side", "summary",
                "settings": [{"title", "fields": [[label, value], ...]}],
                "rows": [{"key", "title", "columns": [...],
                          "items": [{"key": row_key, "values": [...]}]}]}]}
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db import models
from django.utils import translation

from slaportal.clock import local_time

from . import models as m
from .funnel import plan_from
from .parts import PARTS
from .text import normalised


def display_value(instance, name: str) -> str:
    model_field = instance._meta.get_field(name)
    if isinstance(model_field, models.ManyToManyField):
        return ", ".join(sorted(_person(user) for user in getattr(instance, name).all()))
    value = getattr(instance, name)
    if value is None or value == "":
        return ""
    if isinstance(model_field, models.ForeignKey):
        return str(value)
    if model_field.choices:
        return str(getattr(instance, f"get_{name}_display")())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_list_item_label(name, item) for item in value)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _list_item_label(name: str, item) -> str:
    if name == "working_days":
        return ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[int(item)]
    return str(item)


def _label(form_class, name: str) -> str:
    form_field = form_class.base_fields.get(name)
    label = form_field.label if form_field and form_field.label else name.replace("_", " ")
    return str(label)[0].upper() + str(label)[1:]


def _plan_block(version) -> dict | None:
    plan = m.FunnelPlan.objects.filter(version=version).first()
    if plan is None:
        return None
    result = plan_from(plan)
    if not result.is_complete:
        return None
    return {
        "title": "Needed to reach the revenue target",
        "fields": [
            [step.stage, f"{step.total:,} ({step.per_month:.1f} a month) — {step.arithmetic}"]
            for step in result.steps
        ],
    }


def version_document(version: m.AgreementVersion) -> dict:
    """The document of a version: its snapshot once published, else built from its rows."""
    if version.snapshot is not None:
        return version.snapshot
    return build_document(version)


def build_document(version: m.AgreementVersion) -> dict:
    """Always in English: a snapshot is compared with drafts built later, by whoever opens
    them, so it must not depend on its reader's language. agreements.reading translates it on
    the way out."""
    with translation.override("en"):
        return _document(version)


def _document(version: m.AgreementVersion) -> dict:
    agreement = version.agreement
    parts = []
    for part in PARTS:
        settings = []
        for block in part.settings:
            instance = block.instance(version)
            settings.append(
                {
                    "title": str(block.title),
                    "fields": [
                        [_label(block.form, n), display_value(instance, n)] for n in block.fields()
                    ],
                }
            )
        if part.slug == "goals" and (plan := _plan_block(version)):
            settings.append(plan)
        rows = []
        for rowset in part.rowsets:
            names = rowset.fields()
            queryset = rowset.queryset(version).select_related(
                *[
                    n
                    for n in names
                    if isinstance(rowset.model._meta.get_field(n), models.ForeignKey)
                ]
            )
            rows.append(
                {
                    "key": rowset.key,
                    "title": str(rowset.title),
                    "columns": [_label(rowset.form, n) for n in names],
                    "items": [
                        {"key": str(row.row_key), "values": [display_value(row, n) for n in names]}
                        for row in queryset
                    ],
                }
            )
        parts.append(
            {
                "slug": part.slug,
                "number": part.number,
                "title": str(part.title),
                "side": part.side,
                "summary": str(part.summary),
                "settings": settings,
                "rows": rows,
            }
        )
    return {
        "agreement": {
            "name": agreement.name,
            "marketing_team": agreement.marketing_team,
            "sales_team": agreement.sales_team,
            "marketing_manager": _person(agreement.marketing_manager),
            "sales_manager": _person(agreement.sales_manager),
        },
        "version": {
            "label": str(version.label),
            "number": version.number,
            "status": str(version.get_status_display()),
            "effective_at": version.effective_at.isoformat() if version.effective_at else None,
            # As people read it: in the version's own calendar zone, zone named.
            "effective_local": local_time(
                version.effective_at,
                zone=m.BusinessCalendar.objects.filter(version=version)
                .values_list("time_zone", flat=True)
                .first(),
            ),
            "change_note": version.change_note,
        },
        "parts": parts,
    }


def _person(user) -> str:
    return user.get_full_name() or user.username


# Diff ------------------------------------------------------------------------------------


@dataclass
class RowChange:
    kind: str  # added, removed, changed
    columns: list[str]
    old: list[str] | None = None
    new: list[str] | None = None

    @property
    def changed_cells(self) -> list[tuple[str, str, str]]:
        if self.kind != "changed":
            return []
        return [
            (c, o, n)
            for c, o, n in zip(self.columns, self.old, self.new, strict=True)
            if normalised(o) != normalised(n)
        ]

    @property
    def summary(self) -> str:
        values = self.new if self.kind == "added" else self.old
        return " · ".join(v for v in values if v)[:160]


@dataclass
class PartDiff:
    slug: str
    title: str
    settings: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # block, label, old, new
    rows: list[tuple[str, RowChange]] = field(default_factory=list)  # rowset title, change

    @property
    def is_empty(self) -> bool:
        return not self.settings and not self.rows

    @property
    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": len(self.settings)}
        for _, change in self.rows:
            counts[change.kind] += 1
        return counts


def diff_documents(old: dict, new: dict) -> list[PartDiff]:
    """Part-by-part differences: settings values that changed, rows added, removed or changed.

    Rows are matched by their row_key, which an amendment keeps, so editing a goal's target
    shows as a change of that goal, not as one goal removed and another added.
    """
    old_parts = {part["slug"]: part for part in old["parts"]}
    diffs = []
    for part in new["parts"]:
        before = old_parts.get(part["slug"], {"settings": [], "rows": []})
        diff = PartDiff(part["slug"], part["title"])
        old_blocks = {block["title"]: dict(block["fields"]) for block in before["settings"]}
        for block in part["settings"]:
            previous = old_blocks.get(block["title"], {})
            for label, value in block["fields"]:
                if normalised(previous.get(label, "")) != normalised(value):
                    diff.settings.append((block["title"], label, previous.get(label, ""), value))
        old_rowsets = {rowset["key"]: rowset for rowset in before["rows"]}
        for rowset in part["rows"]:
            old_items = {
                item["key"]: item for item in old_rowsets.get(rowset["key"], {}).get("items", [])
            }
            new_keys = set()
            for item in rowset["items"]:
                new_keys.add(item["key"])
                previous = old_items.get(item["key"])
                if previous is None:
                    diff.rows.append(
                        (rowset["title"], RowChange("added", rowset["columns"], new=item["values"]))
                    )
                elif normalised(previous["values"]) != normalised(item["values"]):
                    diff.rows.append(
                        (
                            rowset["title"],
                            RowChange(
                                "changed",
                                rowset["columns"],
                                old=previous["values"],
                                new=item["values"],
                            ),
                        )
                    )
            for key, item in old_items.items():
                if key not in new_keys:
                    diff.rows.append(
                        (
                            rowset["title"],
                            RowChange("removed", rowset["columns"], old=item["values"]),
                        )
                    )
        diffs.append(diff)
    return diffs
