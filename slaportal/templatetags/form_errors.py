"""The error summary every form shows above its fields when it comes back with errors.

One summary for any mix of forms and formsets (a part's settings forms and its row formsets),
each error a link to its field, so a keyboard or screen-reader user reaches the field from the
list. The fields themselves carry aria-invalid and aria-describedby (Django's BoundField, with
crispy-forms' error blocks whose ids match); static/js/app.js focuses the first invalid field.
"""

from django import template
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet

register = template.Library()


def _forms(items):
    for item in items:
        if isinstance(item, BaseForm):
            yield item
        elif isinstance(item, BaseFormSet):
            yield item
            yield from item.forms
        elif isinstance(item, list | tuple):
            yield from _forms(item)


def _field_anchor(field) -> str:
    """The element a link should land on: the input itself, or a group's first option."""
    widget = field.field.widget
    if getattr(widget, "input_type", "") in ("radio", "checkbox") and hasattr(widget, "choices"):
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


def error_list(*items) -> list[dict]:
    errors = []
    for form in _forms(items):
        if isinstance(form, BaseFormSet):
            errors += [{"message": e, "anchor": ""} for e in form.non_form_errors()]
            continue
        errors += [{"message": e, "anchor": ""} for e in form.non_field_errors()]
        for field in form:
            for message in field.errors:
                anchor = "" if field.is_hidden else _field_anchor(field)
                errors.append({"label": field.label, "message": message, "anchor": anchor})
    return errors


@register.inclusion_tag("partials/error_summary.html")
def error_summary(*items, id="error-summary"):
    return {"errors": error_list(*items), "summary_id": id}
