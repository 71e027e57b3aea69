"""The monthly review, its exports, the menu and the JavaScript catalog in Brazilian Portuguese.

English stays the default (tests/kpis hold it); here the browser asks for pt-BR, and the page,
the CSV, the PDF and the API's error messages answer in Portuguese with Brazilian formats,
while the API's keys and values stay English.
"""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from agreements import exports as sla_exports
from kpis import exports
from kpis.periods import Month

pytestmark = pytest.mark.django_db
PT = {"HTTP_ACCEPT_LANGUAGE": "pt-br"}
NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_review_page_reads_in_portuguese_with_brazilian_numbers(
    october, client_for, marketing_manager
):
    html = client_for(marketing_manager).get("/review/2026-10/", **PT).content.decode()
    for text in (
        "Revisão mensal: outubro de 2026",
        "Placar",
        "Metas compartilhadas",
        "O que cada lado prometeu e fez",
        "Repasses violados",
        "Itens de ação",
        "Cumprimento por vendedor",
        "Visitantes",
        "1.000",  # the month's visitors, grouped the Brazilian way
        "Exportar",
        "Pacote da revisão (PDF)",
    ):
        assert text in html, text
    for english in ("Scorecard", "Monthly review:", "Breached handoffs", "Action items"):
        assert english not in html, english


def test_a_running_month_reads_as_partial_in_portuguese(october, client_for, viewer):
    html = client_for(viewer).get("/review/2026-11/", **PT).content.decode()
    assert "Mês parcial:" in html and "20/11/2026 12h00" in html


def test_the_csv_headers_and_titles_follow_the_request_language(
    october, client_for, marketing_manager
):
    client = client_for(marketing_manager)
    response = client.get("/review/2026-10/scorecard.csv", **PT)
    header = next(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert header[:4] == ["tipo", "metrica", "nome", "responsavel"]
    assert "mes_anterior" in header
    english = client.get("/review/2026-10/scorecard.csv").content.decode()
    assert english.lstrip("\ufeff").startswith("kind,metric,name,owner")


def test_the_review_pack_pdf_is_written_in_portuguese(
    october, client_for, marketing_manager, monkeypatch
):
    written = []
    line_of = sla_exports.SlaPdf.line_of

    def spy_line(pdf, text, *args, **kwargs):
        written.append(str(text))
        return line_of(pdf, text, *args, **kwargs)

    rowset = exports.pdf_rowset

    def spy_rowset(pdf, rows, *args, **kwargs):
        written.append(rows["title"])
        written.extend(rows["columns"])
        written.extend(value for item in rows["items"] for value in item["values"])
        return rowset(pdf, rows, *args, **kwargs)

    monkeypatch.setattr(sla_exports.SlaPdf, "line_of", spy_line)
    monkeypatch.setattr(exports, "pdf_rowset", spy_rowset)
    response = client_for(marketing_manager).get("/review/2026-10/pack.pdf", **PT)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = "\n".join(written)
    for portuguese in (
        "Revisão mensal: outubro de 2026",
        "Placar",
        "O que cada lado prometeu e fez",
        "Marketing prometeu / entregou",
        "Repasses violados",
        "Notas da reunião",
        "Cumprimento por vendedor",
    ):
        assert portuguese in text, portuguese
    assert "Monthly review" not in text and "Scorecard" not in text


def test_review_figures_use_brazilian_formats():
    with translation.override("pt-br"):
        assert exports.percent(0.425) == "42,5%"
        assert exports.number(1234) == "1.234"
        assert exports.number(1234.5) == "1.234,5"
        assert Month(2026, 10).label == "outubro de 2026"
        assert exports.hours(90) == "1,5 h"
    with translation.override("en"):
        assert exports.percent(0.425) == "42.5%"
        assert exports.number(1234) == "1,234"
        assert Month(2026, 10).label == "October 2026"


def test_the_kpi_api_keeps_english_keys_and_translates_its_error(october, client_for, viewer):
    client = client_for(viewer)
    refused = client.get("/api/v1/kpis/?month=2026-13", **PT)
    assert refused.status_code == 400
    assert refused.json() == {"month": ["'2026-13' não é um mês: o mês deve ser de 01 a 12."]}
    english = client.get("/api/v1/kpis/?month=2026-13")
    assert english.json() == {"month": ["'2026-13' is not a month: the month must be 01 to 12."]}
    answered = client.get("/api/v1/kpis/?month=2026-10", **PT).json()
    assert "funnel" in answered and "kpis" in answered
    assert {row["stage"] for row in answered["funnel"]} >= {"lead", "mql"}
    assert [row["label"] for row in answered["funnel"]][:3] == ["Visitors", "Leads", "MQLs"]


def test_the_menu_is_in_portuguese(client_for, marketing_manager):
    html = client_for(marketing_manager).get("/", **PT).content.decode()
    for text in ("Início", "O SLA", "Equipe", "Revisão mensal", "Dados", "Integrações", "Sair"):
        assert text in html, text
    assert 'aria-label="Menu"' in html and "Gerente de marketing" in html
    assert ">Log out<" not in html and ">Monthly review<" not in html


def test_a_rep_sees_my_queue_in_portuguese(client_for, sales_rep):
    html = client_for(sales_rep).get("/", **PT).content.decode()
    assert "Minha fila" in html and "Vendedor" in html


def test_the_login_and_404_pages_are_in_portuguese(client, client_for, viewer):
    assert "Entrar" in client.get("/accounts/login/", **PT).content.decode()
    missing = client_for(viewer).get("/no-such-page/", **PT)
    assert missing.status_code == 404 and "Página não encontrada" in missing.content.decode()


def test_the_javascript_catalog_serves_the_chart_labels_in_portuguese(client):
    catalog = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    # The catalog escapes non-ASCII letters: "Violações" is "Viola\\u00e7\\u00f5es" in it.
    assert '"Tabela"' in catalog and '"Cumprimento (%)"' in catalog
    assert "Viola\\u00e7\\u00f5es" in catalog


def test_the_integrations_and_notification_pages_are_in_portuguese(client_for, marketing_manager):
    client = client_for(marketing_manager)
    index = client.get("/integrations/", **PT).content.decode()
    assert "Endpoints de webhook" in index and "Canais de chat da equipe" in index
    preferences = client.get("/integrations/notifications/", **PT).content.decode()
    assert "Quais avisos chegam até você, e onde." in preferences


def test_a_viewer_reads_home_and_a_refusal_in_portuguese(client_for, viewer):
    client = client_for(viewer)
    home = client.get("/", **PT).content.decode()
    assert "Leia o SLA vigente e como as duas equipes o cumprem." in home and "Leitor" in home
    refused = client.get("/integrations/", **PT)
    assert refused.status_code == 403
    assert "Esta página não está aberta ao seu papel" in refused.content.decode()
