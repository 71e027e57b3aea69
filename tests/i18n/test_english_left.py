"""Every page, as every role that can open it, rendered in Portuguese: no English left
(tests/i18n/english_left.py says what counts). The pages are the walk of tests/walk.py, so a
page added later is checked from the day it lands.

I18N_PAGES=sla/,review/ limits the walk to the routes starting with those prefixes (handy while
translating one area); the full walk runs otherwise.
"""

import os

import pytest
from django.test import Client

from tests.walk import ANONYMOUS_PAGES, PAGES, ROLES, routes, seed

from .english_left import data_strings, english_left


@pytest.fixture
def samples(db, monkeypatch):
    import leads.demo

    monkeypatch.setattr(leads.demo, "DEMO_LEADS", 60)
    monkeypatch.setattr(leads.demo, "DEMO_DAYS", 40)
    return seed()


def _wanted(route: str) -> bool:
    prefixes = [p for p in os.environ.get("I18N_PAGES", "").split(",") if p]
    return not prefixes or any(route.startswith(p) for p in prefixes)


def test_no_page_is_left_in_english_for_a_portuguese_reader(samples):
    from django.contrib.auth import get_user_model

    data = data_strings()
    targets = [
        (route, url)
        for route in routes()
        if route in PAGES and _wanted(route)
        for url in PAGES[route](samples)
    ]
    clients = {"anonymous": Client()}
    for who, username in ROLES.items():
        clients[who] = Client()
        clients[who].force_login(get_user_model().objects.get(username=username))
    left, checked = [], 0
    for who, client in clients.items():
        for route, url in targets:
            if (who == "anonymous") != (route in ANONYMOUS_PAGES):
                continue
            if client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code != 200:
                continue  # not a page this role can open
            checked += 1
            left.extend(f"{url} as {who}: {text!r}" for text in english_left(client, url, data))
    assert checked >= len(targets)
    assert left == [], f"{len(left)} texts left in English:\n" + "\n".join(left)
