"""Accessibility wiring that needs no browser: form errors tied to their fields, the error
summary, the charts' words and tables, table headers. The browser checks are in
tests/browser/test_axe.py (axe-core on every page) and tests/browser/test_keyboard.py."""

import re
from pathlib import Path

from django import forms
from django.template import Context, Template

from kpis.chart_text import chart_texts

ROOT = Path(__file__).resolve().parent.parent


class SampleForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As it appears on the contract.")
    size = forms.IntegerField(label="Company size")
    channel = forms.ChoiceField(
        label="Channel", choices=[("phone", "Phone"), ("email", "E-mail")], widget=forms.RadioSelect
    )

    def clean(self):
        raise forms.ValidationError("The whole form is wrong.")


def _render(form) -> str:
    return Template("{% load crispy_forms_tags %}{{ form|crispy }}").render(Context({"form": form}))


def test_an_invalid_crispy_form_ties_each_error_to_its_field_and_lists_them_at_the_top():
    html = _render(SampleForm(data={"size": "many"}))
    # The field says it is invalid and points at its error (and keeps its help text).
    name = re.search(r"<input[^>]*name=\"name\"[^>]*>", html)[0]
    assert 'aria-invalid="true"' in name
    described = re.search(r'aria-describedby="([^"]+)"', name)[1].split()
    assert set(described) == {"id_name_helptext", "id_name_error"}
    for element_id in described:
        assert f'id="{element_id}"' in html
    assert re.search(
        r'id="id_name_error"[^>]*>\s*<[a-z]+[^>]*><strong>This field is required', html
    )
    # The summary comes first, says nothing was saved, and links to each field.
    summary = html[: html.index("<input")]
    assert 'role="alert"' in summary and "Nothing was saved" in summary
    assert '<a class="alert-link" href="#id_name">Name: This field is required.</a>' in summary
    assert 'href="#id_size">Company size: Enter a whole number.' in summary
    # A radio group is linked through its first option, which exists.
    assert 'href="#id_channel_0"' in summary and 'id="id_channel_0"' in html
    assert "The whole form is wrong." in summary


def test_a_valid_or_unbound_form_shows_no_summary():
    assert "error-summary" not in _render(SampleForm())


def test_every_chart_of_the_review_has_a_summary_and_a_table():
    data = {
        "funnel": {"labels": ["Leads", "MQLs"], "counts": [40, 12], "plan": [50, None]},
        "trends": {
            "labels": ["Oct 2026", "Nov 2026"],
            "leads": [30, 40],
            "mqls": [10, 12],
            "sqls": [4, 5],
            "compliance": [80.0, 92.5],
        },
        "reps": {"labels": ["Rita", "Rafael"], "compliance": [90.0, None], "breaches": [1, 3]},
        "targets": {"compliance": 90},
        "reasons": {"labels": ["Bad fit"], "rejected": [2], "returned": [1]},
    }
    texts = chart_texts(data)
    assert texts["funnel"].summary == "This month: 40 Leads, 12 MQLs."
    assert texts["funnel"].rows == [["Leads", "40", "50"], ["MQLs", "12", "—"]]
    assert "leads went from 30 to 40" in texts["trends"].summary
    assert "compliance was 92.5%" in texts["trends"].summary
    assert texts["reps"].rows == [["Rita", "90%", "1"], ["Rafael", "—", "3"]]
    assert "Rafael with 3" in texts["reps"].summary and "target: 90%" in texts["reps"].summary
    assert "3 leads rejected or returned" in texts["reasons"].summary
    empty = chart_texts({})
    assert all(text.summary and not text.rows for text in empty.values())


def test_no_template_has_an_empty_table_header():
    empty = re.compile(r"<th[^>]*>\s*</th>")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if empty.search(path.read_text())
    ]
    assert offenders == []
