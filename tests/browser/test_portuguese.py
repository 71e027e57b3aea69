"""A Brazilian team's day in Portuguese: a browser set to pt-BR gets the login page, the SLA, the
rep's queue and the monthly review in Portuguese with Brazilian formats, on the Portuguese demo;
the menu's switch turns a person's pages to English and the choice stays with them.

Screenshots of the SLA, the queue and the review go to test-artifacts/ (pt-*.png)."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from people.models import Preferences
from tests.browser.conftest import TIMEOUT_MS, screenshot

pytestmark = pytest.mark.browser

BRAZILIAN_TIME = re.compile(r"\b\d{2}h\d{2}\b")
BRAZILIAN_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


@pytest.fixture
def portuguese_demo(transactional_db, monkeypatch):
    import leads.demo

    monkeypatch.setattr(leads.demo, "DEMO_LEADS", 60)
    monkeypatch.setattr(leads.demo, "DEMO_DAYS", 40)
    call_command("load_demo", language="pt-br", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123


@pytest.fixture
def brazilian_page(browser):
    context = browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "pt-br")
    page.get_by_label("Usuário").fill(username)
    page.get_by_label("Senha").fill("demo")
    page.get_by_role("button", name="Entrar").click()
    expect(page.locator("#user-menu")).to_be_visible()


def test_a_brazilian_team_works_in_portuguese_and_a_rep_switches_to_english(
    brazilian_page, live_server, portuguese_demo
):
    page = brazilian_page
    _log_in(page, live_server, "marina")
    nav = page.locator("nav")
    nav.get_by_role("link", name="O SLA").click()
    expect(page.locator("h1")).to_contain_text("Acordos")
    page.locator("main").get_by_role("link", name="SLA de Crescimento Altamira").first.click()
    expect(page.locator("main")).to_contain_text("Metas compartilhadas")
    screenshot(page, "pt-sla")
    nav.get_by_role("link", name="Revisão mensal").click()
    expect(page.locator("h1")).to_contain_text("Revisão mensal")
    expect(page.locator("main")).to_contain_text("R$")
    screenshot(page, "pt-review")
    page.locator("#user-menu").click()
    page.get_by_role("button", name="Sair").click()

    _log_in(page, live_server, "rita")
    nav.get_by_role("link", name="Minha fila").click()
    queue = page.locator("main")
    expect(queue).to_contain_text("Prazo")
    assert BRAZILIAN_TIME.search(queue.inner_text()), "times read 14h30 in Portuguese"
    screenshot(page, "pt-queue")

    # The switch: English from now on, for this person wherever they log in.
    page.locator("#language-menu").click()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="My queue")).to_be_visible()
    assert Preferences.objects.get(user__username="rita").language == "en"
