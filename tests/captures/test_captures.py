"""Form captures: a website form posts a lead to a secret URL; managers see what came in."""

import pytest
from django.test import Client

from captures.models import CapturePost, FormCapture
from captures.services import capture_create
from leads.models import Handoff, Lead, LeadEvent
from leads.services.pipeline import pipeline_run
from tests.cache import cache_clear


@pytest.fixture
def capture(marketing_manager):
    return capture_create(
        by=marketing_manager,
        name="Demo form",
        event_type=FormCapture.Event.DEMO_REQUEST,
        email_field="your-email",
        company_size_field="size",
    )


def url(capture) -> str:
    return f"/hooks/forms/{capture.token}/"


FORM = {
    "your-email": "Ana@Globex.com",
    "first_name": "Ana",
    "company": "Globex",
    "size": "120",
    "title": "IT Director",
    "utm_campaign": "spring",
}


def test_a_json_post_creates_the_lead_and_its_event(capture):
    # Posted from other sites, with no CSRF cookie: the secret token is the credential.
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(capture), FORM, content_type="application/json")

    assert response.status_code == 200, response.content
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.company_size) == ("Ana@Globex.com", "Ana", 120)
    assert lead.attributes == {"title": "IT Director", "utm_campaign": "spring"}
    assert LeadEvent.objects.get().type == "demo_request"
    post = CapturePost.objects.get()
    assert post.outcome == "accepted" and post.lead == lead


def test_a_form_encoded_post_updates_a_known_lead(capture):
    Client().post(url(capture), FORM, content_type="application/json")
    response = Client().post(url(capture), {**FORM, "your-email": "ana@globex.com", "size": "200"})

    assert response.status_code == 200, response.content
    assert Lead.objects.get().company_size == 200
    assert LeadEvent.objects.count() == 2


def test_a_demo_request_from_a_form_becomes_a_handed_off_lead(sla, sales_rep, marketing_manager):
    capture = capture_create(
        by=marketing_manager, name="Demo", event_type="demo_request", email_field="email"
    )
    body = {"email": "ana@globex.com", "company_size": "120"}
    body["title"] = "IT Director"
    assert Client().post(url(capture), body).status_code == 200
    # The form's title lands in attributes; fit comes from the mapped company size and the
    # demo request's interest, as the SLA's trigger on demo_request fires.
    pipeline_run()  # what the scoring task does
    lead = Lead.objects.get()
    assert Handoff.objects.filter(lead=lead, rep=sales_rep).exists()


def test_an_unknown_token_is_404(capture):
    assert Client().post("/hooks/forms/nope/", FORM).status_code == 404


def test_a_get_is_refused(capture):
    assert Client().get(url(capture)).status_code == 405


def test_a_disabled_capture_refuses_posts_and_stores_no_lead(capture):
    capture.is_active = False
    capture.save()
    response = Client().post(url(capture), FORM)
    assert response.status_code == 403
    assert not Lead.objects.exists()
    assert CapturePost.objects.get().reason == "capture disabled"


def test_the_honeypot_drops_a_bot_post_and_logs_only_that(capture):
    response = Client().post(url(capture), {**FORM, "website": "http://spam.example"})
    assert response.status_code == 200
    assert not Lead.objects.exists() and not LeadEvent.objects.exists()
    post = CapturePost.objects.get()
    assert (post.outcome, post.reason) == ("dropped", "dropped: honeypot")


def test_a_post_without_email_is_refused_with_its_reason_and_nothing_stored(capture):
    response = Client().post(url(capture), {"first_name": "Ana"})
    assert response.status_code == 400
    assert response.json()["message"] == "missing e-mail (field 'your-email')"
    assert not Lead.objects.exists()
    post = CapturePost.objects.get()
    assert (post.outcome, post.reason) == ("refused", "missing e-mail (field 'your-email')")


def test_a_bad_value_is_refused_naming_the_form_field(capture):
    response = Client().post(url(capture), {**FORM, "size": "lots"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("size: ")
    assert not Lead.objects.exists()


def test_posts_beyond_the_rate_get_429(capture):
    capture.rate_per_minute = 2
    capture.save()
    cache_clear()
    answers = [Client().post(url(capture), FORM).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def test_a_rotated_token_retires_the_old_url(capture, client_for, marketing_manager):
    old = url(capture)
    response = client_for(marketing_manager).post(f"/captures/{capture.pk}/rotate/")
    assert response.status_code == 302
    capture.refresh_from_db()
    assert Client().post(old, FORM).status_code == 404
    assert Client().post(url(capture), FORM).status_code == 200


def test_managers_create_a_capture_and_see_its_posts(client_for, marketing_manager):
    client = client_for(marketing_manager)
    response = client.post(
        "/captures/new/",
        {
            "name": "Contact us",
            "event_type": "contact_sales",
            "email_field": "email",
            "honeypot_field": "website",
            "rate_per_minute": 60,
        },
    )
    capture = FormCapture.objects.get()
    assert response.status_code == 302 and response.url == f"/captures/{capture.pk}/"
    Client().post(url(capture), {"first_name": "No e-mail"})
    page = client.get(response.url).content.decode()
    assert capture.token in page
    assert "missing e-mail (field &#x27;email&#x27;)" in page
    assert "Form captures" in client.get("/").content.decode()


@pytest.mark.parametrize("who", ["sales_rep", "viewer"])
def test_reps_and_viewers_may_not_manage_captures(request, client_for, capture, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get("/captures/").status_code == 403
    assert client.get(f"/captures/{capture.pk}/").status_code == 403
    assert client.post(f"/captures/{capture.pk}/rotate/").status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client, capture):
    assert client.get("/captures/").status_code == 302


def test_a_rate_out_of_bounds_is_refused_by_the_form(client_for, marketing_manager):
    response = client_for(marketing_manager).post(
        "/captures/new/",
        {"name": "X", "event_type": "form_submit", "email_field": "email", "rate_per_minute": 0},
    )
    assert response.status_code == 200
    assert "Choose between 1 and 10,000 posts a minute." in response.content.decode()
    assert not FormCapture.objects.exists()
