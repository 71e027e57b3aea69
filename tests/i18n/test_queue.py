"""The rep queue and the team view in Brazilian Portuguese (issue 13), and the fast rows
(issue 9): the rows' text is made in Python once per page, so these pages are checked in both
languages, row by row."""

import pytest
from django.urls import reverse
from django.utils import translation

from agreements import models as am
from slaportal.clock import IN_FORCE_KEY, local_time
from tests.leads.conftest import clock, hand_off, other_rep, sla  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

PT = {"HTTP_ACCEPT_LANGUAGE": "pt-br"}


def page(client, url, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_queue_in_portuguese(hand_off, sales_rep, client_for):  # noqa: F811
    handoff = hand_off()
    html = page(client_for(sales_rep), reverse("leads:queue"), **PT)
    with translation.override("pt-br"):
        due = local_time(handoff.due_at, zone="UTC")
    for text in (
        "Minha fila",
        "1 repasse ativo",
        "Os mais urgentes primeiro",
        f"Prazo do primeiro contato: {due}",
        "Faltam ",
        "Perfil ",
        "Interesse ",
        "(120 funcionários)",
        "0 tentativa",
        "Motivo:",
        'aria-label="Ações"',
        "Registrar tentativa",
        "Aceitar",
        "Devolver",
        "Aberto",
    ):
        assert text in html, text
    # The pt-BR time format: "14h30", never "14:30".
    assert due.split(" ")[2].count("h") == 1
    for english in ("Log attempt", "First touch due", " left<", "Why:", "Nothing waiting"):
        assert english not in html, english


def test_the_queue_in_english_is_unchanged(hand_off, sales_rep, client_for):  # noqa: F811
    handoff = hand_off()
    html = page(client_for(sales_rep), reverse("leads:queue"))
    for text in (
        "My queue",
        "1 active handoff",
        f"First touch due {local_time(handoff.due_at, zone='UTC')}",
        "Fit ",
        "(120 staff)",
        "0 attempts",
        "Log attempt",
        "Accept",
        "Return",
        f'id="handoff-{handoff.pk}"',
        f'hx-target="#handoff-{handoff.pk}"',
        'name="csrfmiddlewaretoken"',
    ):
        assert text in html, text


def test_the_team_view_in_portuguese(hand_off, other_rep, sales_manager, client_for):  # noqa: F811
    hand_off()
    hand_off(other_rep)
    html = page(client_for(sales_manager), reverse("leads:team"), **PT)
    for text in (
        "Equipe de vendas",
        "Carga por vendedor",
        "Repasses ativos",
        'data-label="Vendedor"',
        'data-label="Tentativas"',
        'data-label="Reatribuir"',
        "Passar Lead1 Silva para",
        'placeholder="Motivo (opcional)"',
        ">Passar</button>",
        "prazo: ",
    ):
        assert text in html, text
    for english in ("Sales team", "Load per rep", "Give ", "Why (optional)"):
        assert english not in html, english


def test_a_row_escapes_what_people_typed(hand_off, sales_rep, sales_manager, client_for):  # noqa: F811
    hand_off(first_name='<b>"Ana"</b>', company="Globex & <Sons>")
    for client, url in (
        (client_for(sales_rep), reverse("leads:queue")),
        (client_for(sales_manager), reverse("leads:team")),
    ):
        html = page(client, url)
        assert "<b>" not in html
        assert "&lt;b&gt;&quot;Ana&quot;&lt;/b&gt;" in html
        assert "Globex &amp; &lt;Sons&gt;" in html


def test_the_cached_zone_follows_a_calendar_saved_after_it_was_cached(sla):  # noqa: F811
    from slaportal.clock import sla_in_force

    assert sla_in_force().time_zone == "UTC"
    calendar = am.BusinessCalendar.objects.get(version=sla)
    calendar.time_zone = "America/Sao_Paulo"
    calendar.save()
    assert sla_in_force().time_zone == "America/Sao_Paulo"


def test_the_version_in_force_is_read_once_then_cached(hand_off, sales_rep, client_for):  # noqa: F811
    from django.core.cache import cache

    hand_off()
    client = client_for(sales_rep)
    page(client, reverse("leads:queue"))
    assert cache.get(IN_FORCE_KEY) is not None
