"""Two people saved the same part: a field-by-field, three-way merge of the editor's data.

A part's editor data is flattened to a JSON-ready `values` dict:

    {"settings": {"policy-response_target_hours": ["4.00"], ...},
     "rows": {"kpi": {"12": {"target": ["90.00"], ...}, "new3": {...}}},
     "deleted": {"kpi": ["14"]}}

Rows are keyed by their id, not their position on the page, so a row the other person added
or removed does not shift the rest. `base` is what the editor loaded (carried in the form,
signed), `mine` what they posted, `theirs` what is saved now. Where mine and theirs differ
the person chooses; the side that changed a field since `base` is the default, and a field
both changed has no default, so nothing is overwritten without a choice. The resolution is
turned back into ordinary editor data and saved through the same part-save service.
"""

from dataclasses import dataclass

from django import forms
from django.core import signing
from django.http import QueryDict
from django.utils.translation import gettext as _

from .parts import Part

SALT = "agreements.part-values"
MINE, THEIRS = "mine", "theirs"


# Values ------------------------------------------------------------------------------------


def _is_multiple(field) -> bool:
    return isinstance(field.widget, forms.SelectMultiple | forms.CheckboxSelectMultiple)


def _clean(values: list[str], field) -> list[str]:
    out = [str(v).replace("\r\n", "\n").strip() for v in values]
    return sorted(out) if _is_multiple(field) else out


def _bound_raw(bound_field) -> list[str]:
    """What the browser posts for a field as the page renders it."""
    field = bound_field.field
    value = bound_field.value()
    if isinstance(field.widget, forms.CheckboxInput):
        return ["on"] if field.widget.check_test(value) else []
    formatted = field.widget.format_value(value)
    if isinstance(formatted, list | tuple):
        return _clean(
            [v for v in formatted if v != ""] if _is_multiple(field) else formatted, field
        )
    return _clean(["" if formatted is None else formatted], field)


def part_values(*, part: Part, version) -> dict:
    """The part as it is saved now, as the editor would post it untouched."""
    values: dict = {"settings": {}, "rows": {}, "deleted": {}}
    for block in part.settings:
        form = block.bound_form(version)
        for name in block.fields():
            values["settings"][form[name].html_name] = _bound_raw(form[name])
    for rowset in part.rowsets:
        rows = values["rows"][rowset.key] = {}
        for form in rowset.formset(version).forms:
            rows[str(form.instance.pk)] = {name: _bound_raw(form[name]) for name in rowset.fields()}
    return values


def posted_values(*, part: Part, version, data) -> dict:
    """The editor's posted data as values (unknown keys ignored, missing checkboxes off)."""
    values: dict = {"settings": {}, "rows": {}, "deleted": {}}
    for block in part.settings:
        fields = block.form(version=version).fields
        for name in block.fields():
            key = f"{block.key}-{name}"
            values["settings"][key] = _clean(data.getlist(key), fields[name])
    for rowset in part.rowsets:
        fields = rowset.form(version=version).fields
        rows = values["rows"][rowset.key] = {}
        deleted = values["deleted"][rowset.key] = []
        try:
            total = min(int(data.get(f"{rowset.key}-TOTAL_FORMS", "0")), 1000)
        except ValueError:
            total = 0
        for index in range(total):
            prefix = f"{rowset.key}-{index}"
            row_id = (data.get(f"{prefix}-id") or "").strip() or f"new{index}"
            rows[row_id] = {
                name: _clean(data.getlist(f"{prefix}-{name}"), fields[name])
                for name in rowset.fields()
            }
            if data.get(f"{prefix}-DELETE"):
                deleted.append(row_id)
    return values


def values_sign(values: dict) -> str:
    return signing.dumps(values, salt=SALT, compress=True)


def values_unsign(token: str | None) -> dict | None:
    if not token:
        return None
    try:
        return signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None


# The merge (pure) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One place where the posted edit and the saved part differ.

    `kind` is "setting", "field" (a field of a row both have) or "row" (a row one side has
    and the other has not, or removed). `default` is the side that changed it since the
    editor loaded the part; empty when both did.
    """

    choice: str  # the form name of the choice
    kind: str
    key: str  # the settings key, or the rowset key
    row: str = ""
    field: str = ""
    mine: object = None
    theirs: object = None
    default: str = ""


def _default(base, mine, theirs) -> str:
    if base is None:
        return ""
    if mine == base:
        return THEIRS
    if theirs == base:
        return MINE
    return ""


def differences(base: dict | None, mine: dict, theirs: dict) -> list[Difference]:
    """Every field and row where mine and theirs differ, each with its default side."""
    base = base or {}
    out: list[Difference] = []
    base_settings = base.get("settings", {})
    for key, value in mine["settings"].items():
        saved = theirs["settings"].get(key, [])
        if value != saved:
            default = _default(base_settings.get(key) if base else None, value, saved)
            out.append(
                Difference(f"s:{key}", "setting", key, mine=value, theirs=saved, default=default)
            )
    for rowset, their_rows in theirs["rows"].items():
        my_rows = mine["rows"].get(rowset, {})
        deleted = set(mine["deleted"].get(rowset, []))
        base_rows = base.get("rows", {}).get(rowset, {}) if base else None
        for row_id, their_row in their_rows.items():
            mine_row = my_rows.get(row_id)
            if mine_row is None:
                # Added since I loaded the part (or never on my page): theirs unless removed.
                known = base_rows is not None and row_id in base_rows
                out.append(
                    Difference(
                        f"e:{rowset}:{row_id}",
                        "row",
                        rowset,
                        row_id,
                        mine=None,
                        theirs=their_row,
                        default=THEIRS if base_rows is not None and not known else "",
                    )
                )
                continue
            base_row = base_rows.get(row_id) if base_rows is not None else None
            if row_id in deleted:
                out.append(
                    Difference(
                        f"e:{rowset}:{row_id}",
                        "row",
                        rowset,
                        row_id,
                        mine=None,
                        theirs=their_row,
                        default=MINE if base_row is not None and their_row == base_row else "",
                    )
                )
                continue
            for name, value in mine_row.items():
                saved = their_row.get(name, [])
                if value != saved:
                    before = base_row.get(name) if base_row is not None else None
                    out.append(
                        Difference(
                            f"r:{rowset}:{row_id}:{name}",
                            "field",
                            rowset,
                            row_id,
                            name,
                            mine=value,
                            theirs=saved,
                            default=_default(before, value, saved),
                        )
                    )
        for row_id, mine_row in my_rows.items():
            if row_id in their_rows or row_id in deleted:
                continue
            if row_id.startswith("new"):
                default = MINE  # my new row: nobody else had it
            else:
                # Removed by them while I had it open: gone unless I changed it.
                base_row = base_rows.get(row_id) if base_rows is not None else None
                default = THEIRS if base_row is not None and base_row == mine_row else ""
            out.append(
                Difference(
                    f"e:{rowset}:{row_id}",
                    "row",
                    rowset,
                    row_id,
                    mine=mine_row,
                    theirs=None,
                    default=default,
                )
            )
    return out


class ChoiceMissing(ValueError):
    pass


def merged_values(mine: dict, theirs: dict, choices: dict[str, str], diffs) -> dict:
    """Theirs with each difference resolved as chosen; raises ChoiceMissing naming what is
    still to choose."""
    chosen = {}
    missing = []
    for diff in diffs:
        choice = choices.get(diff.choice) or ""
        if choice not in (MINE, THEIRS):
            missing.append(diff)
            continue
        chosen[diff.choice] = choice
    if missing:
        raise ChoiceMissing(missing)
    merged: dict = {"settings": dict(theirs["settings"]), "rows": {}, "deleted": {}}
    for key, value in mine["settings"].items():
        if chosen.get(f"s:{key}") == MINE:
            merged["settings"][key] = value
    for rowset, their_rows in theirs["rows"].items():
        my_rows = mine["rows"].get(rowset, {})
        rows = merged["rows"][rowset] = {}
        deleted = merged["deleted"][rowset] = []
        for row_id, their_row in their_rows.items():
            exists = chosen.get(f"e:{rowset}:{row_id}")
            row = dict(their_row)
            if row_id in my_rows:
                for name, value in my_rows[row_id].items():
                    if chosen.get(f"r:{rowset}:{row_id}:{name}") == MINE:
                        row[name] = value
            rows[row_id] = row
            if exists == MINE:
                deleted.append(row_id)  # mine removed it, or never had it
        for row_id, mine_row in my_rows.items():
            if row_id in their_rows or chosen.get(f"e:{rowset}:{row_id}") != MINE:
                continue
            if row_id in mine["deleted"].get(rowset, []):
                continue
            new_id = row_id if row_id.startswith("new") else f"new-restored-{row_id}"
            rows[new_id] = dict(mine_row)
    return merged


def values_post(values: dict, *, revision: int, base: dict | None) -> QueryDict:
    """Editor data for `values`: what the part editor would post, ready to bind its forms."""
    data = QueryDict(mutable=True)
    data["revision"] = str(revision)
    if base is not None:
        data["base"] = values_sign(base)
    for key, value in values["settings"].items():
        data.setlist(key, list(value))
    for rowset, rows in values["rows"].items():
        existing = [row_id for row_id in rows if not row_id.startswith("new")]
        added = [row_id for row_id in rows if row_id.startswith("new")]
        deleted = set(values.get("deleted", {}).get(rowset, []))
        for index, row_id in enumerate([*existing, *added]):
            prefix = f"{rowset}-{index}"
            if not row_id.startswith("new"):
                data[f"{prefix}-id"] = row_id
            for name, value in rows[row_id].items():
                data.setlist(f"{prefix}-{name}", list(value))
            if row_id in deleted:
                data[f"{prefix}-DELETE"] = "on"
        data[f"{rowset}-TOTAL_FORMS"] = str(len(existing) + len(added))
        data[f"{rowset}-INITIAL_FORMS"] = str(len(existing))
    return data


# Showing a difference ----------------------------------------------------------------------


def _field_objects(part: Part, version) -> dict[str, dict]:
    fields = {}
    for block in part.settings:
        form = block.form(version=version)
        for name in block.fields():
            fields[f"{block.key}-{name}"] = {"field": form.fields[name], "group": block.title}
    for rowset in part.rowsets:
        form = rowset.form(version=version)
        fields[rowset.key] = {"form_fields": form.fields, "group": rowset.title}
    return fields


def value_display(field, value) -> str:
    if value is None:
        return ""
    if isinstance(field.widget, forms.CheckboxInput):
        return _("Yes") if value else _("No")
    if hasattr(field, "choices"):
        labels = {}
        for key, label in field.choices:
            if isinstance(label, list | tuple):  # an optgroup
                labels.update({str(k): str(v) for k, v in label})
            else:
                labels[str(key)] = str(label)
        return ", ".join(labels.get(v, v) for v in value if v != "")
    return " ".join(value)


def _label(field, name: str) -> str:
    label = str(field.label or name.replace("_", " "))
    return label[:1].upper() + label[1:]


def row_summary(fields, row: dict | None) -> str:
    if not row:
        return ""
    shown = [value_display(fields[name], value) for name, value in list(row.items())[:3]]
    return " · ".join(v for v in shown if v)[:120]


@dataclass(frozen=True)
class ShownDifference:
    diff: Difference
    where: str
    label: str
    mine: str
    theirs: str


def differences_shown(*, part: Part, version, diffs, theirs: dict, mine: dict) -> list:
    """The differences as people read them: where, what, yours and theirs in words."""
    fields = _field_objects(part, version)
    shown = []
    for diff in diffs:
        if diff.kind == "setting":
            info = fields[diff.key]
            field = info["field"]
            name = diff.key.split("-", 1)[1]
            shown.append(
                ShownDifference(
                    diff,
                    info["group"],
                    _label(field, name),
                    value_display(field, diff.mine),
                    value_display(field, diff.theirs),
                )
            )
            continue
        info = fields[diff.key]
        form_fields = info["form_fields"]
        row = theirs["rows"].get(diff.key, {}).get(diff.row) or mine["rows"].get(diff.key, {}).get(
            diff.row
        )
        where = f"{info['group']}: {row_summary(form_fields, row)}"
        if diff.kind == "field":
            field = form_fields[diff.field]
            shown.append(
                ShownDifference(
                    diff,
                    where,
                    _label(field, diff.field),
                    value_display(field, diff.mine),
                    value_display(field, diff.theirs),
                )
            )
        else:
            shown.append(
                ShownDifference(
                    diff,
                    where,
                    _("The row"),
                    _("kept: %(row)s") % {"row": row_summary(form_fields, diff.mine)}
                    if diff.mine is not None
                    else _("removed"),
                    _("kept: %(row)s") % {"row": row_summary(form_fields, diff.theirs)}
                    if diff.theirs is not None
                    else _("removed"),
                )
            )
    return shown


# The editor's conflict flow ----------------------------------------------------------------


def conflict_state(*, part: Part, version, data=None, resolving=None) -> dict:
    """What the conflict chooser shows: from a stale save (`data`), or again from a chooser
    posted with a choice missing (`resolving`), keeping the choices already made."""
    if resolving is not None:
        mine = values_unsign(resolving.get("mine")) or {"settings": {}, "rows": {}, "deleted": {}}
        theirs = values_unsign(resolving.get("theirs")) or part_values(part=part, version=version)
        base = None
        chosen = {k: v for k, v in resolving.items() if k[:2] in ("s:", "r:", "e:")}
    else:
        mine = posted_values(part=part, version=version, data=data)
        theirs = part_values(part=part, version=version)
        base = values_unsign(data.get("base"))
        chosen = {}
    diffs = differences(base, mine, theirs)
    if chosen:
        diffs = [
            Difference(**{**d.__dict__, "default": chosen.get(d.choice, d.default)}) for d in diffs
        ]
    return {
        "differences": differences_shown(
            part=part, version=version, diffs=diffs, theirs=theirs, mine=mine
        ),
        "mine": values_sign(mine),
        "theirs": values_sign(theirs),
        "missing": [],
    }


def resolution_data(*, part: Part, version, data) -> QueryDict:
    """The chooser's choices as editor data: theirs, with what the person kept of theirs.

    The revision is the one the chooser showed; if someone saved again since, the save is a
    conflict again, with what the chooser showed as its base.
    """
    from django.core.exceptions import ValidationError

    mine, theirs = values_unsign(data.get("mine")), values_unsign(data.get("theirs"))
    try:
        revision = int(data.get("revision", ""))
    except ValueError:
        revision = None
    if mine is None or theirs is None or revision is None:
        raise ValidationError(_("Nothing was saved: the comparison was damaged; edit again."))
    diffs = differences(None, mine, theirs)
    merged = merged_values(mine, theirs, dict(data.items()), diffs)
    return values_post(merged, revision=revision, base=theirs)
