"""The review's action-item form: errors beside the form, and a URL that answers a reload."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis.models import ActionItem

NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))
URL = "/review/2026-10/actions/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager(sla, client_for, marketing_manager):
    return client_for(marketing_manager)


def test_an_htmx_post_with_errors_answers_the_form_alone_with_its_errors_on_top(manager, rep):
    response = manager.post(URL, {"text": "", "owner": rep.pk, "due_date": "2026-12-01"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<form") and 'id="action-form"' in html
    assert 'hx-target="this"' in html and 'hx-swap="outerHTML"' in html
    summary = html.index('id="action-form-errors"')
    assert summary < html.index('name="text"')  # the summary comes before the fields
    assert "data-focus-on-load" in html and 'role="alert"' in html
    assert "Say what has to be done." in html
    assert "<nav" not in html  # not the 5,000-pixel page
    assert not ActionItem.objects.exists()


def test_a_post_without_javascript_shows_the_form_page_with_the_errors(manager, rep):
    response = manager.post(URL, {"text": "Coach Rita", "owner": rep.pk, "due_date": "2026-11-19"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "New action item" in html and 'id="action-form-errors"' in html
    assert "The due date has passed" in html
    assert 'value="Coach Rita"' in html  # what was typed is kept
    assert 'id="breaches-table"' not in html


def test_a_good_htmx_post_from_the_review_reloads_it(manager, rep):
    response = manager.post(
        URL,
        {"text": "Coach Rita", "owner": rep.pk, "due_date": "2026-12-01"},
        HTTP_HX_CURRENT_URL="http://testserver/review/2026-10/",
        **HTMX,
    )
    assert response.headers["HX-Refresh"] == "true"
    assert ActionItem.objects.get().text == "Coach Rita"


def test_a_good_htmx_post_from_elsewhere_goes_to_the_review(manager, rep):
    response = manager.post(
        URL, {"text": "Coach Rita", "owner": rep.pk, "due_date": "2026-12-01"}, **HTMX
    )
    assert response.headers["HX-Redirect"] == "/review/2026-10/#actions"


def test_a_good_post_redirects_to_the_review(manager, rep):
    response = manager.post(URL, {"text": "Coach Rita", "owner": rep.pk, "due_date": "2026-12-01"})
    assert response.status_code == 302 and response.url == "/review/2026-10/#actions"


def test_reloading_the_form_url_goes_back_to_the_review_instead_of_405(manager):
    response = manager.get(URL)
    assert response.status_code == 302 and response.url == "/review/2026-10/#actions"


def test_readers_may_not_open_the_form_url(sla, client_for, sales_rep, viewer):
    assert client_for(sales_rep).get(URL).status_code == 403
    assert client_for(viewer).get(URL).status_code == 403


def test_the_review_embeds_the_htmx_form(manager):
    html = manager.get("/review/2026-10/").content.decode()
    assert 'id="action-form"' in html and f'hx-post="{URL}"' in html
