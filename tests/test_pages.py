"""The pages around the product: branded error pages and the favicon."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import path
from django.views.decorators.http import require_safe
from django.views.defaults import server_error

from slaportal.urls import urlpatterns as site_urls


@require_safe
def _refuse(request):
    raise PermissionDenied("Your role does not allow this.")


urlpatterns = [path("refuse/", _refuse), *site_urls]


def test_an_unknown_page_is_a_branded_404_with_the_navigation_and_a_way_home(client_for, sales_rep):
    response = client_for(sales_rep).get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-testid="error-404"' in page
    assert "There is nothing here" in page
    assert 'href="/leads/queue/"' in page  # the rep's navigation is there
    assert "Back to Home" in page and 'href="/"' in page


def test_a_rep_refused_a_manager_page_gets_a_branded_403(client_for, sales_rep):
    response = client_for(sales_rep).get("/leads/team/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="error-403"' in page
    assert "This page is not open to your role" in page
    assert "Back to Home" in page


@pytest.mark.urls("tests.test_pages")
def test_permission_denied_anywhere_renders_the_403_page(client_for, viewer):
    response = client_for(viewer).get("/refuse/")
    assert response.status_code == 403
    assert 'data-testid="error-403"' in response.content.decode()


def test_the_500_page_renders_without_a_request_context_or_the_database():
    # No db fixture: pytest-django refuses any query, as a broken database would.
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert 'data-testid="error-500"' in page
    assert "Something went wrong on our side" in page
    assert 'href="/"' in page and "Back to Home" in page


def test_the_favicon_is_served_and_linked(client_for, viewer):
    icon = client_for(None).get("/favicon.ico")
    assert icon.status_code == 302 and icon.url == "/static/favicon.svg"
    assert "<svg" in Path(finders.find("favicon.svg")).read_text()
    home = client_for(viewer).get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg"' in home


def test_every_page_starts_with_a_skip_link_to_its_main_content(client_for, sales_rep):
    page = client_for(sales_rep).get("/leads/queue/").content.decode()
    body = page.split("<body", 1)[1]
    first_link = body.split("<a ", 1)[1]
    assert first_link.startswith('class="visually-hidden-focusable skip-link" href="#main"')
    assert "Skip to main content" in first_link.split("</a>", 1)[0]
    assert '<main id="main"' in page
