"""`{% load part_rows %}`: how wide a field of a part's row is, from what it holds.

Equal columns cut a goal's name to "US$ 1" and its target to "100" at 1366 px while the
rationale took the whole width. A form may name its fields' widths (`RowForm.widths`); other
fields get a width from their widget. Phones get one or two fields a line.
"""

from django import template

register = template.Library()

WIDTHS = {
    "wide": "col-12 col-md-6 col-xl-4",
    "wider": "col-12 col-md-6 col-xl-5",
    "medium": "col-6 col-md-4 col-xl-3",
    "narrow": "col-6 col-md-3 col-xl-2",
    "full": "col-12",
    "check": "col-12 col-sm-auto pt-sm-4",
}
BY_WIDGET = {
    "textarea": "full",
    "checkbox": "check",
    "checkboxselectmultiple": "full",
    "number": "narrow",
    "date": "narrow",
    "select": "medium",
}


@register.filter
def row_width(field) -> str:
    named = getattr(field.form, "widths", {}).get(field.name)
    return WIDTHS[named or BY_WIDGET.get(field.widget_type, "medium")]
