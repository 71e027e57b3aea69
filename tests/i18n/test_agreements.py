"""The SLA in Brazilian Portuguese (issue 13): its pages, its exports, its refusals and its
notices read in the reader's language, with Brazilian numbers, money and dates, while the
managers' own text stays as they wrote it."""

import pytest
from django.core import mail

from agreements import exports, services
from agreements.document import build_document
from agreements.models import Goal
from leads.models import Notification
from people.models import Preferences
from slaportal.outbox import outbox_deliver
from slaportal.workspace import workspace_update
from tests.agreements.test_views import GOAL, goals_post

PT = {"HTTP_ACCEPT_LANGUAGE": "pt-br"}
R = "R$\u00a0"  # Babel writes money with a no-break space after the symbol


@pytest.fixture
def brl(db):
    workspace_update(currency="BRL")


@pytest.fixture
def planned(client_for, marketing_manager, draft, brl):
    """A draft with the article's reverse-funnel plan and a revenue goal."""
    url = f"/sla/{draft.agreement_id}/versions/{draft.pk}/parts/goals/"
    response = client_for(marketing_manager).post(url, goals_post(0, [GOAL]))
    assert response.status_code == 302
    return draft


def _page(client, url) -> str:
    response = client.get(url, **PT)
    assert response.status_code == 200
    return response.content.decode()


def test_the_agreement_list_and_the_new_agreement_form_are_in_portuguese(
    client_for, marketing_manager, agreement, sales_manager, django_user_model
):
    services.agreement_create(
        name="Second SLA",
        marketing_manager=marketing_manager,
        sales_manager=sales_manager,
        by=marketing_manager,
    )
    client = client_for(marketing_manager)
    listing = _page(client, "/sla/")
    assert "Acordos" in listing and "Novo acordo" in listing
    form = _page(client, "/sla/new/")
    assert "Criar e começar o primeiro rascunho" in form
    assert "Equipe de marketing" in form and "Gerente de vendas" in form


def test_the_sla_reads_in_portuguese_with_brazilian_money_and_dates(
    client_for, marketing_manager, planned
):
    page = _page(client_for(marketing_manager), planned.get_absolute_url())
    for label in (
        "As sete seções",
        "Metas compartilhadas",
        "Planejador de funil reverso",
        "Meta de receita",
        "Necessário para atingir a meta de receita",
        "Enviar para aprovação",
    ):
        assert label in page, label
    assert f"{R}1.000.000,00" in page  # the planner's target and the revenue goal
    assert "Nova receita" in page and "01/01/2026" in page
    assert "1.000 (83,3 por mês)" in page  # MQLs worked back from the plan
    # The managers' own text is theirs.
    assert "US$ 1M new revenue" in page and "Board plan" in page
    assert "Shared goals" not in page and "Revenue target" not in page


def test_each_part_editor_is_in_portuguese(client_for, marketing_manager, sales_manager, draft):
    titles = {
        "goals": "Salvar metas compartilhadas",
        "definitions": "Adicionar estágio",
        "qualification": "Prévia: pontue um lead de exemplo",
        "nurture": "Adicionar fluxo",
        "kpis": "Reunião de revisão mensal",
        "scope": "Prévia: os leads que este escopo rege",
        "calendar": "Preencher feriados nacionais",
        "handoff": "Política de repasse",
        "cadence": "Códigos de resultado",
    }
    for slug, label in titles.items():
        manager = sales_manager if slug in ("handoff", "cadence") else marketing_manager
        url = f"/sla/{draft.agreement_id}/versions/{draft.pk}/parts/{slug}/"
        page = _page(client_for(manager), url)
        assert label in page, slug
        assert "Voltar ao rascunho" in page


def test_a_published_snapshot_reads_in_portuguese_and_diffs_with_a_draft(
    client_for, marketing_manager, sales_manager, planned, brl
):
    services.version_submit(version=planned, by=marketing_manager, change_note="v1")
    services.version_approve(version=planned, by=marketing_manager, side="marketing")
    services.version_approve(version=planned, by=sales_manager, side="sales")
    planned.refresh_from_db()
    # The snapshot is stored in English whoever publishes it...
    assert planned.snapshot["parts"][0]["title"] == "Shared goals"
    client = client_for(marketing_manager)
    page = _page(client, planned.get_absolute_url())
    # ... and read in the reader's language.
    assert "Metas compartilhadas" in page and f"{R}1.000.000,00" in page
    assert "v1 · vigente" in page

    draft = services.amendment_start(agreement=planned.agreement, by=marketing_manager)
    history = _page(client, f"/sla/{planned.agreement_id}/history/")
    assert "Histórico de Acme SLA" in history and "Rascunho em andamento" in history
    diff = _page(client, f"/sla/{planned.agreement_id}/diff/?from={planned.pk}&to={draft.pk}")
    assert "As duas versões são idênticas." in diff  # same words, whatever the language


def test_the_markdown_and_the_pdf_are_in_portuguese(
    client_for, marketing_manager, planned, monkeypatch
):
    client = client_for(marketing_manager)
    base = f"/sla/{planned.agreement_id}/versions/{planned.pk}/"
    text = b"".join(client.get(base + "sla.md", **PT)).decode()
    assert text.startswith("# Acme SLA: acordo de nível de serviço")
    assert "**Versão:** Rascunho · Rascunho · ainda não vigente" in text
    assert "## O que prometemos um ao outro" in text
    assert f"- **Meta de receita:** {R}1.000.000,00" in text
    assert "| Nome | Métrica | Meta |" in text

    written = []
    original = exports.SlaPdf.line_of

    def spy(self, line, *args, **kwargs):
        written.append(line)
        return original(self, line, *args, **kwargs)

    monkeypatch.setattr(exports.SlaPdf, "line_of", spy)
    pdf = b"".join(client.get(base + "sla.pdf", **PT))
    assert pdf.startswith(b"%PDF")
    assert "Acme SLA: acordo de nível de serviço" in written
    assert "1. Metas compartilhadas" in written
    assert "Metas" in written  # the goals table's title


def test_a_refused_goal_says_why_in_portuguese_and_stores_nothing(
    client_for, marketing_manager, draft
):
    url = f"/sla/{draft.agreement_id}/versions/{draft.pk}/parts/goals/"
    bad = dict(GOAL, period_end="2025-01-01")
    response = client_for(marketing_manager).post(url, goals_post(0, [bad]), **PT)
    page = response.content.decode()
    assert response.status_code == 200
    assert "O período deve terminar no mesmo dia do início ou depois." in page
    assert "Nada foi salvo: corrija os campos marcados abaixo." in page
    assert not Goal.objects.filter(version=draft).exists()


def test_a_refused_submission_says_why_in_portuguese(client_for, marketing_manager, draft):
    url = f"/sla/{draft.agreement_id}/versions/{draft.pk}/submit/"
    response = client_for(marketing_manager).post(
        url, {"change_note": "x", "effective_at": "2020-01-01T09:00"}, **PT
    )
    assert "A data de vigência não pode estar no passado." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_contradictions_read_in_portuguese_and_keep_their_key(
    client_for, marketing_manager, planned
):
    from django.utils import translation

    from agreements.selectors import version_consistency

    Goal.objects.filter(version=planned).update(target=900000)
    with translation.override("en"):
        english = [item.contradiction for item in version_consistency(version=planned)]
    with translation.override("pt-br"):
        portuguese = [item.contradiction for item in version_consistency(version=planned)]
    assert [c.key for c in english] == [c.key for c in portuguese]
    assert f"{R}1.000.000,00" in portuguese[0].message and f"{R}900.000,00" in portuguese[0].message
    page = _page(client_for(marketing_manager), planned.get_absolute_url())
    assert f"O planejador de funil reverso mira {R}1.000.000,00 de receita" in page


def test_the_approver_is_told_in_their_own_language(draft, marketing_manager, sales_manager):
    Preferences.objects.update_or_create(user=sales_manager, defaults={"language": "pt-br"})
    services.version_submit(version=draft, by=marketing_manager, change_note="v1")
    outbox_deliver()
    notice = Notification.objects.get(user=sales_manager)
    assert notice.message.endswith("enviou um rascunho de “Acme SLA” para a sua aprovação.")
    assert "para a sua aprovação" in mail.outbox[0].subject + mail.outbox[0].body


def test_the_document_is_built_in_english_whatever_the_language(draft):
    from django.utils import translation

    with translation.override("pt-br"):
        document = build_document(draft)
    assert document["parts"][0]["title"] == "Shared goals"
    assert document["version"]["status"] == "Draft"


def test_the_decisions_page_is_in_portuguese(client_for, marketing_manager, published):
    page = _page(
        client_for(marketing_manager), f"/sla/discussions/versions/{published.pk}/decisions/"
    )
    assert "Como a v1 foi decidida" in page
    assert "Nenhuma discussão ou sugestão nesta versão." in page


def _main(html: str) -> str:
    """The page's own content: the menu around it belongs to base.html."""
    return html[html.index('<main id="main"') : html.index("</main>")]


def _left_in_main(client, url: str, data: set[str]) -> list[str]:
    from zoneinfo import available_timezones

    from tests.i18n.english_left import english_words, visible_texts

    english = set(visible_texts(_main(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())))
    portuguese = visible_texts(_main(client.get(url, **PT).content.decode()))
    shown = sorted((value for value in data if value in "\n".join(portuguese)), key=len)[::-1]
    said_as_is = available_timezones() | {"SMS"}  # zone names; "SMS" is SMS in Portuguese too
    return [
        text
        for text in dict.fromkeys(portuguese)
        if text in english and text not in said_as_is and english_words(text, shown)
    ]


def test_no_english_is_left_on_the_sla_pages(
    client_for, marketing_manager, sales_manager, planned, django_user_model
):
    from discussions import services as conversation
    from tests.i18n.english_left import data_strings

    services.version_submit(version=planned, by=marketing_manager, change_note="v1")
    services.version_approve(version=planned, by=marketing_manager, side="marketing")
    services.version_approve(version=planned, by=sales_manager, side="sales")
    draft = services.amendment_start(agreement=planned.agreement, by=marketing_manager)
    conversation.thread_open(
        version=draft, by=marketing_manager, part="handoff", title="Faster?", text="@sergio 3h?"
    )
    base = f"/sla/{planned.agreement_id}"
    pages = {
        marketing_manager: [
            "/sla/new/",
            f"{base}/",
            f"{base}/history/",
            f"{base}/diff/?from={planned.pk}&to={draft.pk}",
            planned.get_absolute_url(),
            draft.get_absolute_url(),
            f"/sla/discussions/versions/{planned.pk}/decisions/",
            *(
                f"{base}/versions/{draft.pk}/parts/{slug}/"
                for slug in ("goals", "definitions", "qualification", "nurture", "kpis")
            ),
            *(f"{base}/versions/{draft.pk}/parts/{slug}/" for slug in ("scope", "calendar")),
        ],
        sales_manager: [f"{base}/versions/{draft.pk}/parts/{s}/" for s in ("handoff", "cadence")],
    }
    data = data_strings()
    left = [
        f"{url}: {text!r}"
        for user, urls in pages.items()
        for url in urls
        for text in _left_in_main(client_for(user), url, data)
    ]
    assert left == [], "\n".join(left)
