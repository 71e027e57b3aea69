"""Who sees which language: the person's choice, the switch's cookie, the browser, the
workspace; the API by Accept-Language alone; the switch and the settings pages, with refusals."""

import pytest
from django.conf import settings
from django.utils import translation

from people.models import Preferences
from slaportal.language import language_of
from slaportal.workspace import workspace, workspace_update

pytestmark = pytest.mark.django_db

PORTUGUESE_HOME = "Início"


def _lang(response) -> str:
    return response.headers["Content-Language"]


def test_the_browser_language_is_used_when_the_person_chose_none(client_for, sales_rep):
    client = client_for(sales_rep)
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9,en;q=0.8")) == "pt-br"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="pt")) == "pt-br"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB")) == "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert '<html lang="pt-br">' in response.content.decode()
    assert "Accept-Language" in response.headers["Vary"]


def test_a_browser_asking_for_no_language_we_speak_gets_the_workspace_default(
    client_for, sales_rep
):
    client = client_for(sales_rep)
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,fr;q=0.8")) == "en"
    workspace_update(default_language="pt-br")
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,fr;q=0.8")) == "pt-br"
    assert _lang(client.get("/")) == "pt-br"
    # A visitor who has not logged in gets the site's language: the login page costs no query.
    assert _lang(client_for(None).get("/accounts/login/")) == settings.LANGUAGE_CODE


def test_the_persons_choice_beats_the_browser_and_follows_them_to_a_new_session(
    client_for, sales_rep
):
    Preferences.objects.create(user=sales_rep, language="pt-br")
    client = client_for(sales_rep)  # logs in: the choice is copied into the session
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US")) == "pt-br"


def test_the_switch_stores_the_choice_for_a_person_and_a_cookie_for_a_visitor(
    client_for, sales_rep
):
    client = client_for(sales_rep)
    response = client.post("/i18n/setlang/", {"language": "pt-br", "next": "/leads/queue/"})
    assert response.status_code == 302 and response.url == "/leads/queue/"
    assert Preferences.objects.get(user=sales_rep).language == "pt-br"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "pt-br"
    assert PORTUGUESE_HOME in client.get("/").content.decode()

    visitor = client_for(None)
    visitor.post("/i18n/setlang/", {"language": "pt-br", "next": "/accounts/login/"})
    assert visitor.cookies[settings.LANGUAGE_COOKIE_NAME].value == "pt-br"
    assert _lang(visitor.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")) == "pt-br"


def test_the_switch_refuses_a_language_we_do_not_speak_and_stores_nothing(client_for, sales_rep):
    client = client_for(sales_rep)
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert response.status_code == 400
    assert "“xx” is not a language this product speaks." in response.content.decode()
    assert not Preferences.objects.filter(user=sales_rep).exists()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get("/i18n/setlang/").status_code == 405


def test_a_person_sets_their_language_on_their_settings_page(client_for, viewer):
    client = client_for(viewer)
    assert client.get("/people/me/").status_code == 200
    response = client.post("/people/me/", {"language": "pt-br"}, follow=True)
    assert Preferences.objects.get(user=viewer).language == "pt-br"
    assert "Suas configurações foram salvas." in response.content.decode()
    client.post("/people/me/", {"language": ""})
    assert Preferences.objects.get(user=viewer).language == ""
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_a_bad_language_on_the_settings_page_is_refused_with_its_reason(client_for, viewer):
    response = client_for(viewer).post("/people/me/", {"language": "klingon"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Preferences.objects.filter(user=viewer).exists()


def test_managers_set_the_workspace_language_and_currency(client_for, marketing_manager):
    client = client_for(marketing_manager)
    assert client.get("/people/workspace/").status_code == 200
    client.post("/people/workspace/", {"default_language": "pt-br", "currency": "BRL"})
    assert (workspace().default_language, workspace().currency) == ("pt-br", "BRL")


def test_a_bad_currency_is_refused_and_nothing_changes(client_for, sales_manager):
    response = client_for(sales_manager).post(
        "/people/workspace/", {"default_language": "en", "currency": "XYZ"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert workspace().currency == "USD"


def test_reps_and_viewers_may_not_change_the_workspace(client_for, sales_rep, viewer):
    for person in (sales_rep, viewer):
        client = client_for(person)
        assert client.get("/people/workspace/").status_code == 403
        response = client.post(
            "/people/workspace/", {"default_language": "pt-br", "currency": "BRL"}
        )
        assert response.status_code == 403
    assert workspace().currency == "USD"
    assert client_for(None).get("/people/me/").status_code == 302


def test_the_api_keeps_english_keys_and_answers_errors_in_the_callers_language(
    client_for, sales_rep
):
    Preferences.objects.create(user=sales_rep, language="pt-br")
    anonymous = client_for(None)
    english = anonymous.get("/api/v1/leads/", HTTP_ACCEPT_LANGUAGE="en")
    portuguese = anonymous.get("/api/v1/leads/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert english.status_code == portuguese.status_code in (401, 403)
    assert set(english.json()) == set(portuguese.json()) == {"detail"}
    assert english.json()["detail"] != portuguese.json()["detail"]
    assert "autenticação" in portuguese.json()["detail"]
    # A person's page preference does not change what their API client reads.
    assert _lang(client_for(sales_rep).get("/api/v1/leads/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_jobs_write_to_a_person_in_their_language(sales_rep, viewer):
    Preferences.objects.create(user=sales_rep, language="pt-br")
    assert language_of(sales_rep) == "pt-br"
    assert language_of(viewer) == "en"
    workspace_update(default_language="pt-br")
    assert language_of(viewer) == "pt-br"
    assert language_of(None) == "pt-br"


def test_the_javascript_catalogue_is_served_in_the_pages_language(client_for, sales_rep):
    response = client_for(sales_rep).get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 200
    assert "django.gettext" in response.content.decode()
    with translation.override("pt-br"):
        assert translation.get_language() == "pt-br"
