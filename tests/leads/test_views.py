"""The rep queue and its actions, the lead page, the leads list, the team view and the
notifications: every page with every role, the htmx flows, and pinned query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import ContactAttempt, Handoff, Lead, Notification, NurtureEnrollment, Stage
from leads.selectors import timeline_cursor, timeline_cursor_parse
from leads.services.handoffs import attempt_log
from leads.services.ingestion import lead_upsert
from slaportal.outbox import outbox_deliver
from tests.leads.conftest import MONDAY_9

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ["marketing_manager", "sales_manager", "sales_rep", "viewer", "no_role_user", None]


@pytest.fixture
def users(marketing_manager, sales_manager, sales_rep, viewer, no_role_user):
    return {
        "marketing_manager": marketing_manager,
        "sales_manager": sales_manager,
        "sales_rep": sales_rep,
        "viewer": viewer,
        "no_role_user": no_role_user,
        None: None,
    }


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def text(response) -> str:
    return response.content.decode()


def attempt_post(**overrides):
    return {"channel": "phone", "disposition": "no_answer", "note": "Rang twice", **overrides}


# Who may open which page -------------------------------------------------------------------

PAGES = {
    # page: expected status per role; "login" for anonymous users
    "queue": {
        "marketing_manager": 200,
        "sales_manager": 200,
        "sales_rep": 200,
        "viewer": 403,
        "no_role_user": 403,
        None: "login",
    },
    "list": {
        "marketing_manager": 200,
        "sales_manager": 200,
        "sales_rep": 302,
        "viewer": 200,
        "no_role_user": 403,
        None: "login",
    },
    "team": {
        "marketing_manager": 200,
        "sales_manager": 200,
        "sales_rep": 403,
        "viewer": 403,
        "no_role_user": 403,
        None: "login",
    },
    "notifications": {
        "marketing_manager": 200,
        "sales_manager": 200,
        "sales_rep": 200,
        "viewer": 200,
        "no_role_user": 200,
        None: "login",
    },
    "detail": {
        "marketing_manager": 200,
        "sales_manager": 200,
        "sales_rep": 200,
        "viewer": 200,
        "no_role_user": 403,
        None: "login",
    },
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_page_is_open_to_its_roles_only(page, role, users, handoff, client_for):
    url = reverse(f"leads:{page}", args=[handoff.lead_id] if page == "detail" else [])
    response = client_for(users[role]).get(url)
    expected = PAGES[page][role]
    if expected == "login":
        assert_login_redirect(response)
    else:
        assert response.status_code == expected


def test_a_rep_is_sent_from_the_leads_list_to_their_queue(sales_rep, client_for, sla):
    response = client_for(sales_rep).get(reverse("leads:list"))
    assert response["Location"] == reverse("leads:queue")


ACTIONS = ["attempt", "accept", "reject", "return", "nurture"]


@pytest.fixture
def allowed_track(sla):
    from agreements.models import NurtureTrack

    return NurtureTrack.objects.get(version=sla, reps_may_enrol=True)


@pytest.fixture
def forbidden_track(sla):
    from agreements.models import NurtureTrack

    return NurtureTrack.objects.get(version=sla, reps_may_enrol=False)


def post_data(action, track):
    return {
        "attempt": attempt_post(),
        "accept": {},
        "reject": {"reason": "not_ready", "note": ""},
        "return": {"reason": "not_ready", "note": ""},
        "nurture": {"track": track.pk, "note": ""},
    }[action]


def assert_untouched(handoff):
    handoff.refresh_from_db()
    assert handoff.is_active
    assert handoff.first_touch_at is None
    assert not ContactAttempt.objects.filter(handoff=handoff).exists()
    assert not NurtureEnrollment.objects.filter(lead=handoff.lead).exists()


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ["marketing_manager", "viewer", "no_role_user", None])
def test_queue_actions_are_refused_to_roles_that_do_not_work_leads(
    action, role, users, handoff, allowed_track, client_for
):
    response = client_for(users[role]).post(
        reverse(f"leads:{action}", args=[handoff.pk]), post_data(action, allowed_track), **HTMX
    )
    if role is None:
        assert_login_redirect(response)
    else:
        assert response.status_code == 403
    assert_untouched(handoff)


@pytest.mark.parametrize("action", ACTIONS)
def test_a_rep_cannot_see_or_act_on_another_reps_handoff(
    action, hand_off, other_rep, sales_rep, allowed_track, client_for
):
    theirs = hand_off(other_rep)
    client = client_for(sales_rep)
    assert client.get(reverse("leads:detail", args=[theirs.lead_id])).status_code == 404
    assert client.get(reverse("leads:row", args=[theirs.pk]), **HTMX).status_code == 404
    if action != "accept":
        assert client.get(reverse(f"leads:{action}", args=[theirs.pk])).status_code == 404
    response = client.post(
        reverse(f"leads:{action}", args=[theirs.pk]), post_data(action, allowed_track), **HTMX
    )
    assert response.status_code == 404
    assert_untouched(theirs)


def test_a_sales_manager_may_act_on_any_reps_handoff(handoff, sales_manager, client_for):
    response = client_for(sales_manager).post(
        reverse("leads:attempt", args=[handoff.pk]), attempt_post(), **HTMX
    )
    assert response.status_code == 200
    assert handoff.attempts.get().by == sales_manager


# The queue -----------------------------------------------------------------------------------


def test_the_queue_puts_breached_first_then_at_risk_then_due_soonest(
    hand_off, sales_rep, client_for, clock
):
    ana = hand_off(first_name="Ana")  # 09:00, touched in time at 09:30: last
    clock.shift(timedelta(minutes=15))
    bruno = hand_off(first_name="Bruno")  # 09:15: due 13:15, breached at 13:20
    clock.shift(timedelta(minutes=45))
    hand_off(first_name="Carla")  # 10:00: at risk from 13:00, due 14:00
    clock.shift(timedelta(minutes=30))
    hand_off(first_name="Diego")  # 10:30: at risk from 13:30, due 14:30
    clock.shift(timedelta(minutes=15))
    hand_off(first_name="Eva")  # 10:45: due 14:45
    attempt_log(
        handoff=ana,
        channel="phone",
        disposition="no_answer",
        by=sales_rep,
        now=MONDAY_9 + timedelta(minutes=30),
    )
    clock.move_to(MONDAY_9.replace(hour=13, minute=20))

    # The breach job has not run yet: urgency comes from the clock, not only the status.
    assert Handoff.objects.get(pk=bruno.pk).status == Handoff.Status.OPEN
    page = text(client_for(sales_rep).get(reverse("leads:queue")))

    positions = [page.index(f'aria-label="{name} Silva"') for name in ("Bruno", "Carla")]
    positions += [page.index(f'aria-label="{name} Silva"') for name in ("Diego", "Eva", "Ana")]
    assert positions == sorted(positions)
    assert "urgency-breached" in page and "Overdue by 5m" in page
    assert "urgency-at_risk" in page and "40m left" in page
    assert "First touch in time" in page


def test_the_queue_shows_why_the_lead_came_and_the_next_cadence_step(
    handoff, sales_rep, client_for, clock
):
    clock.shift(timedelta(minutes=90))
    page = text(client_for(sales_rep).get(reverse("leads:queue")))
    assert "Conversion event" in page and "(Demo request)" in page
    assert "+30 Demo request" in page and "+20 Job title contains director" in page
    assert "Fit 30 · Interest 35" in page
    assert "Marketing qualified lead (MQL)" in page
    assert "2h 30m left" in page
    # Step 1 (phone, 1 business hour after the 09:00 handoff) is overdue at 10:30.
    assert "Next: step 1, Phone was due Mon 2 Mar 2026 10:00 (UTC)" in page


def test_the_next_cadence_step_follows_the_attempts_made(handoff, sales_rep, client_for):
    attempt_log(handoff=handoff, channel="phone", disposition="no_answer", by=sales_rep)
    page = text(client_for(sales_rep).get(reverse("leads:queue")))
    assert "1 attempt of 3" in page
    # Step 2 is an e-mail one business day after the handoff: Tuesday 09:00.
    assert "Next: step 2, Email due Tue 3 Mar 2026 09:00 (UTC)" in page


def test_a_manager_picks_whose_queue_to_see(
    hand_off, other_rep, sales_manager, marketing_manager, client_for
):
    hand_off(other_rep, first_name="Olga")
    url = reverse("leads:queue")
    page = text(client_for(sales_manager).get(url, {"rep": other_rep.pk}))
    assert "Queue of Rafael" in page and "Olga Silva" in page and "Log attempt" in page
    read_only = text(client_for(marketing_manager).get(url, {"rep": other_rep.pk}))
    assert "Olga Silva" in read_only and "Log attempt" not in read_only
    assert client_for(sales_manager).get(url, {"rep": 999_999}).status_code == 404
    assert client_for(sales_manager).get(url, {"rep": marketing_manager.pk}).status_code == 404


def test_the_queue_is_paginated_by_25(hand_off, sales_rep, client_for):
    for _ in range(26):
        hand_off()
    first = text(client_for(sales_rep).get(reverse("leads:queue")))
    assert first.count('class="card mb-2 shadow-sm urgency-') == 25
    second = text(client_for(sales_rep).get(reverse("leads:queue"), {"page": 2}))
    assert second.count('class="card mb-2 shadow-sm urgency-') == 1
    assert "26 active handoffs" in second
    # Past the end reads the last page, and a page that is no number the first, as
    # Paginator.get_page does.
    past = text(client_for(sales_rep).get(reverse("leads:queue"), {"page": 99}))
    assert past.count('class="card mb-2 shadow-sm urgency-') == 1
    garbled = text(client_for(sales_rep).get(reverse("leads:queue"), {"page": "x"}))
    assert garbled.count('class="card mb-2 shadow-sm urgency-') == 25


def test_an_empty_queue_says_so(sales_rep, client_for):
    page = text(client_for(sales_rep).get(reverse("leads:queue"), {"page": 3}))
    assert "Nothing waiting" in page
    assert "0 active handoffs" in page


# Logging an attempt with htmx ---------------------------------------------------------------


def test_log_attempt_opens_the_form_in_the_row_with_the_cadence_channel(
    handoff, sales_rep, client_for
):
    response = client_for(sales_rep).get(reverse("leads:attempt", args=[handoff.pk]), **HTMX)
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "leads/partials/queue_row.html"
    page = text(response)
    assert f'id="handoff-{handoff.pk}"' in page and "<html" not in page
    assert 'value="no_answer"' in page and "Left a voicemail" in page
    assert 'value="phone" checked' in page  # step 1 of the cadence is a call


def test_logging_an_attempt_in_time_rerenders_the_row_as_met(handoff, sales_rep, client_for, clock):
    clock.shift(timedelta(hours=1))
    response = client_for(sales_rep).post(
        reverse("leads:attempt", args=[handoff.pk]), attempt_post(), **HTMX
    )
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "leads/partials/queue_row.html"
    page = text(response)
    assert "Attempt logged: No answer." in page
    assert "1 attempt of 3" in page and "First touch in time" in page
    assert "urgency-met" in page
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.MET
    assert handoff.first_touch_at == MONDAY_9 + timedelta(hours=1)
    attempt = handoff.attempts.get()
    assert (attempt.channel, attempt.disposition, attempt.note) == (
        "phone",
        "no_answer",
        "Rang twice",
    )


def test_an_attempt_after_the_deadline_leaves_the_handoff_breached(
    handoff, sales_rep, client_for, clock
):
    clock.shift(timedelta(hours=5))
    page = text(
        client_for(sales_rep).post(
            reverse("leads:attempt", args=[handoff.pk]), attempt_post(), **HTMX
        )
    )
    assert "First touch late" in page
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.BREACHED


def test_without_htmx_an_attempt_redirects_to_the_queue_with_a_message(
    handoff, sales_rep, client_for
):
    response = client_for(sales_rep).post(
        reverse("leads:attempt", args=[handoff.pk]), attempt_post(), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("leads:queue")
    assert "Attempt logged: No answer." in text(response)


def test_without_htmx_an_action_form_is_a_full_page(handoff, sales_rep, client_for):
    response = client_for(sales_rep).get(reverse("leads:return", args=[handoff.pk]))
    page = text(response)
    assert "<html" in page and "Return to marketing" in page
    assert "Not ready to buy → nurture “Re-engagement”" in page


@pytest.mark.parametrize(
    "data, message",
    [
        (attempt_post(channel=""), "This field is required."),
        (attempt_post(channel="pigeon"), "Select a valid choice."),
        (attempt_post(disposition="meeting_booked"), "Select a valid choice."),
        (attempt_post(disposition=""), "This field is required."),
        (attempt_post(note="x" * 2001), "Ensure this value has at most 2000 characters"),
    ],
)
def test_bad_attempt_input_is_refused_with_a_message_and_nothing_stored(
    data, message, handoff, sales_rep, client_for
):
    response = client_for(sales_rep).post(reverse("leads:attempt", args=[handoff.pk]), data, **HTMX)
    assert response.status_code == 200
    page = text(response)
    assert "Nothing was saved" in page and message in page
    assert_untouched(handoff)


def test_cancel_restores_the_row(handoff, sales_rep, client_for):
    response = client_for(sales_rep).get(reverse("leads:row", args=[handoff.pk]), **HTMX)
    assert "Log attempt" in text(response) and '<form method="post" action="/' in text(response)


# Accept, reject, return, nurture ---------------------------------------------------------------


def test_accepting_makes_the_lead_an_sql(handoff, sales_rep, client_for):
    response = client_for(sales_rep).post(reverse("leads:accept", args=[handoff.pk]), **HTMX)
    assert response.status_code == 200
    assert "Accepted:" in text(response)
    assert [t.name for t in response.templates][0] == "leads/partials/queue_row_closed.html"
    lead = Lead.objects.get(pk=handoff.lead_id)
    assert lead.stage == Stage.SQL and lead.status == Lead.Status.ACCEPTED
    assert lead.stage_changes.first().by == sales_rep


def test_accepting_a_closed_handoff_says_so(handoff, sales_rep, client_for):
    client = client_for(sales_rep)
    client.post(reverse("leads:accept", args=[handoff.pk]), **HTMX)
    response = client.post(reverse("leads:accept", args=[handoff.pk]), **HTMX)
    assert "This handoff is closed" in text(response)
    assert Lead.objects.get(pk=handoff.lead_id).stage_changes.filter(to_stage="sql").count() == 1


def test_rejecting_within_the_accept_window_sends_the_lead_back(
    handoff, sales_rep, client_for, clock
):
    clock.shift(timedelta(hours=2))
    response = client_for(sales_rep).post(
        reverse("leads:reject", args=[handoff.pk]),
        {"reason": "wrong_contact", "note": "Left the company"},
        **HTMX,
    )
    assert "rejected back to marketing" in text(response)
    handoff.refresh_from_db()
    assert handoff.rejected_at is not None and handoff.return_reason == "wrong_contact"
    assert Lead.objects.get(pk=handoff.lead_id).status == Lead.Status.RETURNED


def test_rejecting_after_the_accept_window_is_refused_and_changes_nothing(
    handoff, sales_rep, client_for, clock
):
    clock.move_to(MONDAY_9 + timedelta(days=1, hours=1))  # window closed Monday 17:00
    response = client_for(sales_rep).post(
        reverse("leads:reject", args=[handoff.pk]), {"reason": "bad_fit", "note": ""}, **HTMX
    )
    assert response.status_code == 200
    page = text(response)
    assert (
        "The accept window closed at Mon 2 Mar 2026 17:00 (UTC)" in page
        and "Nothing was saved" in page
    )
    assert_untouched(handoff)
    assert Lead.objects.get(pk=handoff.lead_id).status == Lead.Status.HANDED_OFF


def test_the_reject_button_shows_only_within_the_accept_window(
    handoff, sales_rep, client_for, clock
):
    assert ">Reject</a>" in text(client_for(sales_rep).get(reverse("leads:queue")))
    clock.move_to(MONDAY_9 + timedelta(days=1, hours=1))
    assert ">Reject</a>" not in text(client_for(sales_rep).get(reverse("leads:queue")))


def test_returning_with_a_reason_enrols_the_lead_in_that_reasons_track(
    handoff, sales_rep, allowed_track, client_for
):
    response = client_for(sales_rep).post(
        reverse("leads:return", args=[handoff.pk]),
        {"reason": "not_ready", "note": "Budget next year"},
        **HTMX,
    )
    assert "returned to marketing" in text(response)
    handoff.refresh_from_db()
    assert handoff.return_reason == "not_ready" and handoff.return_note == "Budget next year"
    enrollment = NurtureEnrollment.objects.get(lead=handoff.lead)
    assert enrollment.track == allowed_track and enrollment.automatic
    assert Lead.objects.get(pk=handoff.lead_id).status == Lead.Status.NURTURING


@pytest.mark.parametrize("action", ["return", "reject"])
def test_a_return_reason_not_in_the_sla_is_refused(action, handoff, sales_rep, client_for):
    response = client_for(sales_rep).post(
        reverse(f"leads:{action}", args=[handoff.pk]), {"reason": "no_budget"}, **HTMX
    )
    assert "Select a valid choice" in text(response)
    assert_untouched(handoff)


def test_a_rep_enrols_a_lead_in_a_track_the_sla_allows(
    handoff, sales_rep, allowed_track, client_for
):
    response = client_for(sales_rep).post(
        reverse("leads:nurture", args=[handoff.pk]), {"track": allowed_track.pk}, **HTMX
    )
    assert "enrolled in “Re-engagement”" in text(response)
    enrollment = NurtureEnrollment.objects.get(lead=handoff.lead)
    assert enrollment.track == allowed_track
    assert not enrollment.automatic and enrollment.by == sales_rep
    handoff.refresh_from_db()
    assert handoff.returned_at is not None


def test_a_rep_cannot_enrol_a_lead_in_a_track_closed_to_reps(
    handoff, sales_rep, forbidden_track, client_for
):
    form = text(client_for(sales_rep).get(reverse("leads:nurture", args=[handoff.pk]), **HTMX))
    assert "Re-engagement" in form and "Education" not in form
    response = client_for(sales_rep).post(
        reverse("leads:nurture", args=[handoff.pk]), {"track": forbidden_track.pk}, **HTMX
    )
    assert "The SLA does not let reps enrol leads in that track" in text(response)
    assert_untouched(handoff)


# Reassigning from the team view ----------------------------------------------------------------


def test_the_sales_manager_reassigns_a_handoff(
    handoff, sales_rep, other_rep, sales_manager, client_for
):
    response = client_for(sales_manager).post(
        reverse("leads:reassign", args=[handoff.pk]), {"rep": other_rep.pk}, **HTMX
    )
    assert response.status_code == 200
    page = text(response)
    assert "given to Rafael" in page and 'hx-swap-oob="true"' in page
    handoff.refresh_from_db()
    assert handoff.rep == other_rep
    assert Lead.objects.get(pk=handoff.lead_id).owner == other_rep
    outbox_deliver()  # notices are delivered after commit
    assert Notification.objects.filter(user=other_rep, lead=handoff.lead).exists()


def test_reassigning_to_an_inactive_rep_is_refused(
    handoff, sales_rep, other_rep, sales_manager, client_for
):
    other_rep.is_active = False
    other_rep.save()
    page = text(
        client_for(sales_manager).post(
            reverse("leads:reassign", args=[handoff.pk]), {"rep": other_rep.pk}, **HTMX
        )
    )
    assert "Not reassigned: Choose an active sales rep." in page
    handoff.refresh_from_db()
    assert handoff.rep == sales_rep


@pytest.mark.parametrize("role", ["sales_rep", "marketing_manager", "viewer", "no_role_user"])
def test_only_the_sales_manager_reassigns(role, users, handoff, sales_rep, other_rep, client_for):
    response = client_for(users[role]).post(
        reverse("leads:reassign", args=[handoff.pk]), {"rep": other_rep.pk}, **HTMX
    )
    assert response.status_code == 403
    handoff.refresh_from_db()
    assert handoff.rep == sales_rep


def test_the_team_view_shows_loads_and_highlights_breaches(
    hand_off, sales_rep, other_rep, sales_manager, marketing_manager, client_for, clock
):
    hand_off(sales_rep, first_name="Ana")
    clock.shift(timedelta(hours=2))
    hand_off(other_rep, first_name="Bia")
    clock.shift(timedelta(hours=3, minutes=10))  # 14:10: Ana breached, Bia at risk
    page = text(client_for(sales_manager).get(reverse("leads:team")))
    assert page.index("Ana Silva") < page.index("Bia Silva")
    assert "table-danger" in page and "table-warning" in page
    loads = page[page.index('id="rep-loads"') :]
    assert "Rafael" in loads and "Rita" in loads
    assert 'name="rep"' in page
    read_only = text(client_for(marketing_manager).get(reverse("leads:team")))
    assert "Ana Silva" in read_only and 'name="rep"' not in read_only


def test_rep_loads_count_active_at_risk_and_breached_in_one_query(
    hand_off, sales_rep, other_rep, clock
):
    from leads.selectors import rep_loads

    hand_off(sales_rep)
    clock.shift(timedelta(hours=2))
    hand_off(sales_rep)
    hand_off(other_rep)
    clock.shift(timedelta(hours=3, minutes=10))
    with CaptureQueriesContext(connection) as queries:
        loads = {rep.username: rep for rep in rep_loads()}
    assert len(queries) == 1
    rita, rafael = loads["rita"], loads["rafael"]
    assert (rita.active_count, rita.at_risk_count, rita.breached_count) == (2, 1, 1)
    assert (rafael.active_count, rafael.at_risk_count, rafael.breached_count) == (1, 1, 0)


# The lead page ------------------------------------------------------------------------------------


def test_the_lead_page_shows_scores_and_a_timeline_of_everything(
    handoff, sales_rep, client_for, clock
):
    clock.shift(timedelta(minutes=30))
    attempt_log(
        handoff=handoff, channel="email", disposition="left_voicemail", note="Hi", by=sales_rep
    )
    page = text(client_for(sales_rep).get(reverse("leads:detail", args=[handoff.lead_id])))
    assert "Lead1 Silva" in page and "lead1@example.com" in page and "IT Director" in page
    assert "Job title contains director" in page and "+20" in page
    timeline = page[page.index('class="timeline') :]
    attempt = timeline.index("Email: Left a voicemail")
    handed = timeline.index("Handed to Rita")
    stage = timeline.index("Lead → MQL")
    event = timeline.index('fw-semibold">Demo request<')
    assert attempt < handed < stage < event  # newest first
    assert "by lead scoring" in timeline and "First touch in time" in timeline


def test_a_rep_loses_the_lead_page_once_the_lead_is_returned(handoff, sales_rep, client_for):
    client = client_for(sales_rep)
    client.post(reverse("leads:return", args=[handoff.pk]), {"reason": "not_ready"}, **HTMX)
    # The lead is marketing's again: the rep no longer sees it, a manager does.
    assert client.get(reverse("leads:detail", args=[handoff.lead_id])).status_code == 404


def test_a_manager_sees_returns_and_nurture_on_the_lead_page(
    handoff, sales_rep, sales_manager, client_for
):
    client_for(sales_rep).post(
        reverse("leads:return", args=[handoff.pk]), {"reason": "not_ready"}, **HTMX
    )
    page = text(client_for(sales_manager).get(reverse("leads:detail", args=[handoff.lead_id])))
    assert "Returned to marketing: Not ready to buy" in page
    assert "MQL → Lead" in page and "by Rita" in page
    assert "Enrolled in nurture track “Re-engagement” automatically" in page


def test_a_manager_hands_a_lead_off_by_hand(sla, sales_rep, marketing_manager, client_for):
    lead, _ = lead_upsert(email="new@example.com", fields={"first_name": "Nina"})
    client = client_for(marketing_manager)
    assert "Hand off now" in text(client.get(reverse("leads:detail", args=[lead.pk])))
    response = client.post(reverse("leads:hand_off", args=[lead.pk]), follow=True)
    assert "Handed to Rita" in text(response)
    handoff = Handoff.objects.get(lead=lead)
    assert handoff.trigger == Handoff.Trigger.MANUAL and handoff.rep == sales_rep
    assert "Hand off now" not in text(response)


def test_handing_off_twice_is_refused_with_a_message(handoff, sales_manager, client_for):
    response = client_for(sales_manager).post(
        reverse("leads:hand_off", args=[handoff.lead_id]), follow=True
    )
    assert "already with sales" in text(response)
    assert Handoff.objects.filter(lead=handoff.lead).count() == 1


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "no_role_user"])
def test_only_managers_hand_off_by_hand(role, users, sla, client_for):
    lead, _ = lead_upsert(email="new@example.com", fields={"first_name": "Nina"})
    response = client_for(users[role]).post(reverse("leads:hand_off", args=[lead.pk]))
    assert response.status_code in (403, 404)
    assert not Handoff.objects.filter(lead=lead).exists()


# The leads list -----------------------------------------------------------------------------------


def test_the_leads_list_searches_and_filters(hand_off, viewer, client_for, sla):
    hand_off(first_name="Ana", company="Initech")
    lead_upsert(email="bob@umbrella.example", fields={"first_name": "Bob", "company": "Umbrella"})
    client = client_for(viewer)
    url = reverse("leads:list")
    by_company = text(client.get(url, {"q": "initech"}))
    assert "Ana Silva" in by_company and "Bob" not in by_company
    by_email = text(client.get(url, {"q": "umbrella.example"}))
    assert "bob@umbrella.example" in by_email and "Ana Silva" not in by_email
    by_name = text(client.get(url, {"q": "ana silva"}))
    assert "Ana Silva" in by_name
    mqls = text(client.get(url, {"stage": "mql"}))
    assert "Ana Silva" in mqls and "bob@umbrella.example" not in mqls
    open_ones = text(client.get(url, {"status": "open"}))
    assert "bob@umbrella.example" in open_ones and "Ana Silva" not in open_ones
    assert client.get(url, {"stage": "nonsense"}).status_code == 200


# Notifications and the navbar ------------------------------------------------------------------


def test_notifications_list_newest_first_and_mark_all_read(handoff, sales_rep, client_for):
    client = client_for(sales_rep)
    page = text(client.get(reverse("leads:notifications")))
    assert "New lead for you: Lead1 Silva" in page
    assert f'href="{reverse("leads:detail", args=[handoff.lead_id])}"' in page
    assert 'id="unread-count">1<' in page
    response = client.post(reverse("leads:notifications_read"), follow=True)
    assert "Marked 1 notification read." in text(response)
    assert 'id="unread-count"' not in text(response)
    assert not Notification.objects.filter(user=sales_rep, read_at=None).exists()


def test_marking_read_needs_a_post_and_a_login(sales_rep, client_for, sla):
    assert client_for(sales_rep).get(reverse("leads:notifications_read")).status_code == 405
    assert_login_redirect(client_for(None).post(reverse("leads:notifications_read")))


def test_the_navbar_links_each_role_to_its_pages(users, client_for, sla):
    home = reverse("home")
    rep = text(client_for(users["sales_rep"]).get(home))
    assert "My queue" in rep and ">Team<" not in rep and ">Leads<" not in rep
    manager = text(client_for(users["sales_manager"]).get(home))
    assert ">Leads<" in manager and ">Team<" in manager and "The SLA" in manager
    assert "My queue" not in manager
    viewer = text(client_for(users["viewer"]).get(home))
    assert ">Leads<" in viewer and ">Team<" not in viewer
    assert 'href="/leads/notifications/"' in viewer


# Query counts -------------------------------------------------------------------------------------

# Session, user, roles, the page's ids with their total, its rows, then the queue's score
# tallies and recent events or the team's loads per rep, and the navbar's bell. The SLA's zone,
# stage labels and a published version's cadence come from caches (issue 9).
QUEUE_QUERIES = 8
TEAM_QUERIES = 7


def warm(client, url) -> None:
    """The first request of a test creates the workspace's settings row and fills the caches
    (the version in force, published versions' cadences): pins count the steady state."""
    assert client.get(url).status_code == 200


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_queue_costs_the_same_queries_for_5_and_25_handoffs(
    hand_off, sales_rep, client_for, django_assert_max_num_queries
):
    client = client_for(sales_rep)
    url = reverse("leads:queue")
    for _ in range(5):
        hand_off()
    attempt_log(
        handoff=Handoff.objects.first(), channel="phone", disposition="no_answer", by=sales_rep
    )
    warm(client, url)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        five = count_queries(client, url)
    for _ in range(20):
        hand_off()
    with django_assert_max_num_queries(QUEUE_QUERIES):
        twenty_five = count_queries(client, url)
    assert five == twenty_five


def test_the_team_view_costs_the_same_queries_for_5_and_25_handoffs(
    hand_off, sales_rep, other_rep, sales_manager, client_for, django_assert_max_num_queries
):
    client = client_for(sales_manager)
    url = reverse("leads:team")
    for index in range(5):
        hand_off(other_rep if index % 2 else sales_rep)
    warm(client, url)
    with django_assert_max_num_queries(TEAM_QUERIES):
        five = count_queries(client, url)
    for index in range(20):
        hand_off(other_rep if index % 2 else sales_rep)
    with django_assert_max_num_queries(TEAM_QUERIES):
        twenty_five = count_queries(client, url)
    assert five == twenty_five


LEAD_PAGE_QUERIES = 15  # 5 are the session, user, roles, SLA zone and the navbar's bell


def _add_events(lead, number):
    from django.utils import timezone

    from leads.services.ingestion import EventInput, events_ingest

    now = timezone.now()
    events_ingest(
        events=[
            EventInput(email=lead.email, type="pricing_page_view", occurred_at=now)
            for _ in range(number)
        ],
        now=now,
    )


def test_the_lead_page_costs_the_same_queries_for_5_and_80_events(
    handoff, sales_manager, client_for, django_assert_max_num_queries
):
    client = client_for(sales_manager)
    url = reverse("leads:detail", args=[handoff.lead_id])
    _add_events(handoff.lead, 3)  # 5 events with the fixture's two
    client.get(url)
    with django_assert_max_num_queries(LEAD_PAGE_QUERIES):
        few = count_queries(client, url)
    _add_events(handoff.lead, 75)
    with django_assert_max_num_queries(LEAD_PAGE_QUERIES):
        many = count_queries(client, url)
    assert few == many


def test_the_lead_timeline_pages_back_without_losing_or_repeating_an_entry(
    handoff, sales_manager, client_for, clock
):
    from leads.selectors import TIMELINE_PAGE, lead_timeline

    _add_events(handoff.lead, 78)  # 80 events, all at the same instant, plus the handoff's
    clock.shift(timedelta(minutes=30))
    attempt_log(handoff=handoff, channel="phone", disposition="no_answer", by=handoff.rep)
    everything = lead_timeline(handoff.lead, size=1000).items
    client = client_for(sales_manager)
    url = reverse("leads:detail", args=[handoff.lead_id])
    page = text(client.get(url))
    assert page.count('<li class="kind-') == TIMELINE_PAGE
    assert "Older entries" in page
    seen = []
    before = None
    while True:
        timeline = lead_timeline(handoff.lead, before=before)
        seen.extend(item.key for item in timeline.items)
        if timeline.older is None:
            break
        older_link = f"?before={timeline.older}"
        query = {"before": timeline_cursor(before)} if before else {}
        assert older_link in text(client.get(url, query))
        before = timeline_cursor_parse(timeline.older)
    assert seen == [item.key for item in everything]
    assert len(seen) == len(set(seen)) > TIMELINE_PAGE
    # htmx asks for the entries alone, with the link to the page after.
    partial = client.get(url, {"before": everything[TIMELINE_PAGE - 1].cursor}, **HTMX)
    assert [t.name for t in partial.templates][0] == "leads/partials/timeline_page.html"
    assert text(partial).count('<li class="kind-') == len(everything) - TIMELINE_PAGE


def test_an_unreadable_timeline_cursor_shows_the_newest_entries(handoff, sales_manager, client_for):
    url = reverse("leads:detail", args=[handoff.lead_id])
    response = client_for(sales_manager).get(url, {"before": "not-a-cursor"})
    assert response.status_code == 200
    assert "Demo request" in text(response)
