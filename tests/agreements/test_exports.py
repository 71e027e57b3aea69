"""Markdown and PDF exports of the SLA document (pure: a hand-built document dict)."""

from types import SimpleNamespace

import pytest

from agreements import exports


def make_document(**overrides) -> dict:
    document = {
        "agreement": {
            "name": "Acme Corp",
            "marketing_team": "Acme Marketing",
            "sales_team": "Acme Sales",
            "marketing_manager": "Maria Souza",
            "sales_manager": "Sam Lee",
        },
        "version": {
            "label": "v3",
            "number": 3,
            "status": "Published",
            "effective_at": "2025-02-01T00:00:00+00:00",
            "change_note": "Faster response.",
        },
        "parts": [
            {
                "slug": "calendar",
                "number": None,
                "title": "Business-hours calendar",
                "side": "shared",
                "summary": "Time zone and hours.",
                "settings": [
                    {
                        "title": "Working hours",
                        "fields": [["Time zone", "America/Sao_Paulo"], ["Holiday country", ""]],
                    }
                ],
                "rows": [
                    {
                        "key": "holiday",
                        "title": "Holidays",
                        "columns": ["Date", "Name"],
                        "items": [],
                    }
                ],
            },
            {
                "slug": "goals",
                "number": 1,
                "title": "Shared goals",
                "side": "shared",
                "summary": "SMART goals.",
                "settings": [],
                "rows": [
                    {
                        "key": "goal",
                        "title": "Goals",
                        "columns": ["Name", "Target", "Rationale"],
                        "items": [
                            {
                                "key": "k1",
                                "values": ["New revenue", "1000000", "Board | plan\nFY25"],
                            }
                        ],
                    }
                ],
            },
            {
                "slug": "handoff",
                "number": 4,
                "title": "Handoffs",
                "side": "sales",
                "summary": "When leads pass to sales.",
                "settings": [
                    {
                        "title": "Handoff policy",
                        "fields": [["Response target hours", "4"], ["Named owner", ""]],
                    }
                ],
                "rows": [],
            },
        ],
    }
    document.update(overrides)
    return document


def test_markdown_has_title_version_and_teams():
    text = exports.document_markdown(make_document())

    assert text.startswith("# Acme Corp: service-level agreement")
    assert "v3 · Published · effective 2025-02-01" in text
    assert "Faster response." in text
    assert "Acme Marketing, managed by Maria Souza" in text
    assert "Acme Sales, managed by Sam Lee" in text


def test_markdown_numbers_parts_and_puts_unnumbered_parts_last():
    text = exports.document_markdown(make_document())

    goals, handoff = text.index("## 1. Shared goals"), text.index("## 4. Handoffs")
    calendar = text.index("## Business-hours calendar")
    assert goals < handoff < calendar


def test_markdown_says_who_drafts_each_part():
    text = exports.document_markdown(make_document())

    assert "_Drafted by the sales side: Acme Sales, Sam Lee._" in text
    assert "_Drafted by both sides together: Acme Marketing and Acme Sales._" in text


def test_markdown_settings_are_bullets_without_empty_values():
    text = exports.document_markdown(make_document())

    assert "- **Response target hours:** 4" in text
    assert "Named owner" not in text
    assert "Holiday country" not in text


def test_markdown_rowset_is_a_table_with_pipes_and_newlines_escaped():
    text = exports.document_markdown(make_document())

    assert "| Name | Target | Rationale |" in text
    assert "| --- | --- | --- |" in text
    assert "| New revenue | 1000000 | Board \\| plan<br>FY25 |" in text


def test_markdown_empty_rowset_says_none_yet():
    text = exports.document_markdown(make_document())

    holidays = text.index("### Holidays")
    assert text[holidays:].startswith("### Holidays\n\n_None yet._")


def test_markdown_of_a_draft_says_not_yet_in_effect():
    document = make_document(
        version={
            "label": "Draft",
            "number": None,
            "status": "Draft",
            "effective_at": None,
            "change_note": "",
        }
    )

    text = exports.document_markdown(document)

    assert "Draft · Draft · not yet in effect" in text
    assert "Change note" not in text


def test_pdf_is_a_pdf_of_some_substance():
    data = exports.document_pdf(make_document())

    assert data.startswith(b"%PDF")
    assert len(data) > 2000


def test_pdf_renders_unicode_and_a_very_long_cell():
    document = make_document()
    document["parts"][1]["rows"][0]["items"].append(
        {"key": "k2", "values": ["Leads → MQL ≥ 30% — São Paulo, Curaçao, €", "5", "x" * 2000]}
    )
    document["parts"][1]["rows"][0]["items"].append(
        {"key": "k3", "values": ["Words", "6", "word " * 2000]}
    )

    data = exports.document_pdf(document)

    assert data.startswith(b"%PDF")


def test_pdf_renders_empty_parts():
    document = make_document(
        parts=[
            {
                "slug": "kpis",
                "number": 7,
                "title": "KPIs",
                "side": "shared",
                "summary": "",
                "settings": [{"title": "Empty", "fields": []}],
                "rows": [{"key": "kpi", "title": "KPIs", "columns": ["Metric"], "items": []}],
            },
            {
                "slug": "nurture",
                "number": 5,
                "title": "Nurture",
                "side": "marketing",
                "summary": "",
                "settings": [],
                "rows": [],
            },
        ]
    )

    assert exports.document_pdf(document).startswith(b"%PDF")


def test_pdf_falls_back_to_a_core_font_without_dejavu(monkeypatch, tmp_path):
    monkeypatch.setattr(exports, "DEJAVU_DIR", tmp_path)
    document = make_document()
    document["parts"][1]["rows"][0]["items"][0]["values"][0] = "Leads → MQL ≥ 30% ≤ 50% — ç ã € 漢"

    data = exports.document_pdf(document)

    assert data.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("name", "number", "extension", "expected"),
    [
        ("Acme", 3, "md", "acme-sla-v3.md"),
        ("Acme", None, "pdf", "acme-sla-draft.pdf"),
        ("Ação & Vendas Ltda.", 12, "pdf", "acao-vendas-ltda-sla-v12.pdf"),
        ("→→", 1, "md", "agreement-sla-v1.md"),
    ],
)
def test_filename_slugs_the_agreement_name(name, number, extension, expected):
    version = SimpleNamespace(agreement=SimpleNamespace(name=name), number=number)

    assert exports.filename(version, extension) == expected


@pytest.mark.django_db
def test_exports_of_a_real_agreement(draft, published):
    from agreements.document import build_document, version_document

    draft_text = exports.document_markdown(build_document(draft))
    snapshot = version_document(published)

    for heading in (
        "## 1. Shared goals",
        "## 2. Definitions",
        "## 7. KPIs",
        "## Business-hours calendar",
    ):
        assert heading in draft_text
    assert "| Lifecycle stage | mql |" in draft_text
    assert exports.document_markdown(snapshot).startswith("# Acme SLA: service-level agreement")
    assert exports.document_pdf(snapshot).startswith(b"%PDF")
    assert exports.filename(published, "pdf") == "acme-sla-sla-v1.pdf"
