"""The SLA as people read it: promises on top, human labels, grouped numbers, real lists,
on the page, in the Markdown and in the PDF."""

import pytest

from agreements import exports
from agreements.demo import demo_agreement_load, demo_users_load
from agreements.reading import document_readable, readable_number
from tests.agreements.test_summary import DEMO_MARKETING, DEMO_SALES


@pytest.fixture
def demo_v1(db):
    agreement = demo_agreement_load(demo_users_load())
    return agreement.versions.get(number=1)


def _url(version, tail=""):
    return f"/sla/{version.agreement_id}/versions/{version.pk}/{tail}"


def test_the_sla_page_opens_with_what_we_promise_each_other(client_for, sales_rep, demo_v1):
    page = client_for(sales_rep).get(_url(demo_v1)).content.decode()
    promises = page.index('id="promises"')
    assert promises < page.index('id="part-goals"')
    assert "What we promise each other" in page
    for sentence in (*DEMO_MARKETING, *DEMO_SALES):
        assert sentence in page


def test_the_sla_page_shows_labels_and_grouped_numbers_not_codes(client_for, viewer, demo_v1):
    page = client_for(viewer).get(_url(demo_v1)).content.decode()
    assert "Demo request, Contact-sales form" in page
    assert "Email, First name, Title, Company size" in page
    for code in ("demo_request", "first_name", "no_response", "pricing_page_view"):
        assert code not in page, code
    assert "1,000,000" in page and "1000000" not in page
    # The SQL criteria's "- " lines are a real list.
    assert "<li>Budget: the company can afford a plan of our size this year.</li>" in page


def test_the_agreement_page_shows_the_promises_of_the_version_in_force(client_for, viewer, demo_v1):
    page = client_for(viewer).get(f"/sla/{demo_v1.agreement_id}/").content.decode()
    assert "What we promise each other" in page
    assert "Marketing delivers about 84 MQLs a month to sales." in page


def test_the_markdown_export_starts_with_the_promises(client_for, viewer, demo_v1):
    text = b"".join(client_for(viewer).get(_url(demo_v1, "sla.md"))).decode()
    head = text.index("## What we promise each other")
    assert head < text.index("## 1. Shared goals")
    for sentence in (*DEMO_MARKETING, *DEMO_SALES):
        assert f"- {sentence}" in text
    assert "demo_request" not in text and "1,000,000" in text
    assert "\n  - Budget: the company can afford a plan of our size this year." in text


def test_the_pdf_carries_the_promises(client_for, viewer, demo_v1, monkeypatch):
    written = []
    original = exports.SlaPdf.line_of

    def spy(self, text, *args, **kwargs):
        written.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(exports.SlaPdf, "line_of", spy)
    response = client_for(viewer).get(_url(demo_v1, "sla.pdf"))
    assert b"".join(response).startswith(b"%PDF")
    start = written.index("What we promise each other")
    assert start < written.index("1. Shared goals")
    assert f"• {DEMO_SALES[0]}" in written


def test_reading_leaves_the_stored_document_alone():
    document = {
        "parts": [
            {
                "slug": "handoff",
                "settings": [
                    {"title": "Handoff policy", "fields": [["Trigger events", "demo_request"]]}
                ],
                "rows": [
                    {
                        "key": "reason",
                        "title": "Return reasons",
                        "columns": ["Code", "Label"],
                        "items": [{"key": "k", "values": ["no_response", "No response"]}],
                    }
                ],
            }
        ]
    }
    readable = document_readable(
        document, event_labels={"demo_request": "Demo request"}, field_labels={}
    )
    assert readable["parts"][0]["settings"][0]["fields"] == [["Trigger events", "Demo request"]]
    assert readable["parts"][0]["rows"][0]["columns"] == ["Label"]
    assert readable["parts"][0]["rows"][0]["items"][0]["values"] == ["No response"]
    assert document["parts"][0]["settings"][0]["fields"] == [["Trigger events", "demo_request"]]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1000000", "1,000,000"),
        ("1200000.50", "1,200,000.5"),
        ("999", "999"),
        ("2026-01-01", "2026-01-01"),
        ("US$", "US$"),
    ],
)
def test_only_big_plain_numbers_are_grouped(value, text):
    assert readable_number(value) == text


@pytest.mark.parametrize(
    ("username", "marketing", "sales"),
    [
        ("rafael", False, True),
        ("marina", True, False),
        ("sergio", False, True),
        ("vera", True, True),
    ],
)
def test_home_tells_each_role_what_the_sla_means_for_them(
    client_for, django_user_model, demo_v1, username, marketing, sales
):
    person = django_user_model.objects.get(username=username)  # the demo's rep, managers, viewer
    page = client_for(person).get("/").content.decode()
    # The demo also has an enterprise SLA: the article's box is the one under test.
    box = page[page.index(f'id="for-you-{demo_v1.agreement_id}"') :]
    box = box[: box.index("</section>")]
    assert "What this means for you" in box
    assert (DEMO_MARKETING[0] in box) is marketing
    assert (DEMO_SALES[0] in box) is sales
