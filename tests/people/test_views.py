"""The people pages (issue 11): managers list, invite and edit users; a sales manager sets
absences for any rep and a rep only their own; the unassigned queue is the sales manager's.
Every refused role is refused, and bad input is refused with nothing stored."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from leads.models import Handoff
from people.models import Absence, RepProfile
from slaportal.models import OutboxMessage
from slaportal.roles import Role

User = get_user_model()

PAGES_FOR_MANAGERS = ["/people/", "/people/invite/"]


# Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "no_role_user"])
def test_the_people_pages_are_refused_to_non_managers(request, client_for, sales_rep, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/people/").status_code == 403
    assert client.get(f"/people/{sales_rep.pk}/").status_code == 403
    response = client.post("/people/invite/", {"email": "x@example.com", "first_name": "X"})
    assert response.status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_the_people_pages_send_anonymous_visitors_to_log_in(client):
    assert client.get("/people/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["sales_manager", "marketing_manager"])
def test_managers_see_the_people_page(request, client_for, sales_rep, role):
    page = client_for(request.getfixturevalue(role)).get("/people/")
    assert page.status_code == 200
    assert "Rita" in page.content.decode()


@pytest.mark.parametrize("role", ["viewer", "marketing_manager", "no_role_user"])
def test_the_absences_page_is_refused_to_other_roles(request, client_for, sales_rep, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/people/absences/").status_code == 403
    response = client.post("/people/absences/", _absence_data(sales_rep))
    assert response.status_code == 403
    assert not Absence.objects.exists()


@pytest.mark.parametrize("role", ["sales_rep", "viewer", "marketing_manager"])
def test_the_unassigned_queue_is_the_sales_managers(request, client_for, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/people/unassigned/").status_code == 403
    assert client.post("/people/unassigned/assign/").status_code == 403
    assert client.post("/people/unassigned/1/assign/", {"rep": 1}).status_code == 403


# Invite and edit ---------------------------------------------------------------------------


def test_a_manager_invites_a_rep_who_gets_a_set_password_link(client_for, sales_manager):
    response = client_for(sales_manager).post(
        "/people/invite/",
        {
            "email": "Nina@Example.com",
            "first_name": "Nina",
            "last_name": "Souza",
            "role": Role.SALES_REP,
            "team": "SMB",
            "capacity": "12",
        },
    )

    assert response.status_code == 302
    nina = User.objects.get(email="nina@example.com")
    assert not nina.has_usable_password()
    assert list(nina.groups.values_list("name", flat=True)) == [Role.SALES_REP]
    assert (nina.rep_profile.team, nina.rep_profile.capacity) == ("SMB", 12)
    mail = OutboxMessage.objects.get(channel="email", key=f"email:{nina.pk}:invitation")
    assert mail.payload["to"] == ["nina@example.com"]
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.payload["body"])[1]

    # The link lets her choose a password, then log in.
    from django.test import Client

    browser = Client()
    form_page = browser.get(link, follow=True)
    assert form_page.status_code == 200
    assert "Choose your password" in form_page.content.decode()
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "A-long-pass-4-Nina", "new_password2": "A-long-pass-4-Nina"},
    )
    assert done.status_code == 302
    nina.refresh_from_db()
    assert nina.check_password("A-long-pass-4-Nina")


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"email": "rita@example.com", "first_name": "Rita"}, "already has an account"),
        ({"email": "not-an-email", "first_name": "X"}, "valid email"),
        ({"email": "y@example.com", "first_name": "", "role": Role.SALES_REP}, "required"),
        ({"email": "y@example.com", "first_name": "Y", "role": Role.INTEGRATION}, "valid choice"),
        ({"email": "y@example.com", "first_name": "Y", "capacity": "0"}, "greater than"),
    ],
)
def test_a_bad_invitation_is_refused_and_nothing_stored(
    client_for, sales_manager, sales_rep, data, field_error
):
    users = User.objects.count()
    response = client_for(sales_manager).post("/people/invite/", {"role": Role.SALES_REP, **data})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert field_error in page
    assert User.objects.count() == users
    assert not OutboxMessage.objects.filter(channel="email").exists()


def test_a_manager_changes_a_reps_role_team_capacity_and_deactivates_them(
    client_for, sales_manager, sales_rep
):
    response = client_for(sales_manager).post(
        f"/people/{sales_rep.pk}/",
        {"role": Role.VIEWER, "team": "Enterprise", "capacity": "5", "is_active": ""},
    )

    assert response.status_code == 302
    sales_rep.refresh_from_db()
    assert not sales_rep.is_active
    assert list(sales_rep.groups.values_list("name", flat=True)) == [Role.VIEWER]
    assert RepProfile.objects.get(user=sales_rep).capacity == 5


def test_a_manager_may_not_deactivate_themselves(client_for, sales_manager):
    response = client_for(sales_manager).post(
        f"/people/{sales_manager.pk}/", {"role": Role.SALES_MANAGER, "is_active": ""}
    )

    assert response.status_code == 400
    assert "deactivate yourself" in response.content.decode()
    sales_manager.refresh_from_db()
    assert sales_manager.is_active


def test_a_bad_capacity_is_refused_and_nothing_stored(client_for, sales_manager, sales_rep):
    response = client_for(sales_manager).post(
        f"/people/{sales_rep.pk}/",
        {"role": Role.SALES_REP, "capacity": "-3", "is_active": "on"},
    )

    assert response.status_code == 400
    assert not RepProfile.objects.exists()


# Absences ----------------------------------------------------------------------------------


def _absence_data(rep, *, start_days=1, end_days=3, **extra):
    now = timezone.localtime()
    return {
        "rep": rep.pk,
        "starts_at": (now + timedelta(days=start_days)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=end_days)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Holiday",
        "on_start": "keep",
        **extra,
    }


def test_a_sales_manager_sets_an_absence_for_any_rep(client_for, sales_manager, sales_rep):
    response = client_for(sales_manager).post("/people/absences/", _absence_data(sales_rep))

    assert response.status_code == 302
    absence = Absence.objects.get()
    assert (absence.rep, absence.created_by, absence.on_start) == (
        sales_rep,
        sales_manager,
        "keep",
    )
    assert "Holiday" in client_for(sales_manager).get("/people/absences/").content.decode()


def test_a_rep_sets_their_own_absence(client_for, sales_rep):
    data = _absence_data(sales_rep)
    del data["rep"]

    response = client_for(sales_rep).post("/people/absences/", data)

    assert response.status_code == 302
    assert Absence.objects.get().rep == sales_rep


def test_a_rep_is_refused_an_absence_for_another_rep(client_for, sales_rep, other_rep):
    response = client_for(sales_rep).post("/people/absences/", _absence_data(other_rep))

    assert response.status_code == 403
    assert not Absence.objects.exists()


def test_a_rep_sees_only_their_own_absences_and_cannot_cancel_others(
    client_for, sales_manager, sales_rep, other_rep
):
    client_for(sales_manager).post("/people/absences/", _absence_data(other_rep))
    absence = Absence.objects.get()

    page = client_for(sales_rep).get("/people/absences/").content.decode()
    assert "Rafael" not in page
    response = client_for(sales_rep).post(f"/people/absences/{absence.pk}/cancel/")
    assert response.status_code == 403
    assert Absence.objects.exists()
    client_for(other_rep).post(f"/people/absences/{absence.pk}/cancel/")
    assert not Absence.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_days": 3, "end_days": 1}, "must end after it starts"),
        ({"start_days": -5, "end_days": -1}, "over already"),
        ({"reason": ""}, "required"),
        ({"starts_at": "tomorrow"}, "valid date"),
    ],
)
def test_a_bad_absence_is_refused_and_nothing_stored(
    client_for, sales_manager, sales_rep, change, message
):
    days = {key: change.pop(key) for key in ("start_days", "end_days") if key in change}
    data = {**_absence_data(sales_rep, **days), **change}

    response = client_for(sales_manager).post("/people/absences/", data)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert message in page
    assert not Absence.objects.exists()


def test_an_overlapping_absence_is_refused(client_for, sales_manager, sales_rep):
    client = client_for(sales_manager)
    client.post("/people/absences/", _absence_data(sales_rep))

    response = client.post("/people/absences/", _absence_data(sales_rep, start_days=2))

    assert response.status_code == 400
    assert Absence.objects.count() == 1


# The unassigned queue ----------------------------------------------------------------------


def test_the_sales_manager_sees_and_assigns_a_waiting_lead(
    handoff, client_for, sales_manager, sales_rep, other_rep
):
    Handoff.objects.filter(pk=handoff.pk).update(rep=None)
    client = client_for(sales_manager)

    page = client.get("/people/unassigned/").content.decode()
    assert f'id="waiting-{handoff.pk}"' in page

    response = client.post(f"/people/unassigned/{handoff.pk}/assign/", {"rep": other_rep.pk})
    assert response.status_code == 302
    assert Handoff.objects.get(pk=handoff.pk).rep == other_rep
    assert f'id="waiting-{handoff.pk}"' not in client.get("/people/unassigned/").content.decode()


def test_assigning_to_someone_who_is_not_a_rep_is_refused(
    handoff, client_for, sales_manager, viewer
):
    Handoff.objects.filter(pk=handoff.pk).update(rep=None)

    client_for(sales_manager).post(f"/people/unassigned/{handoff.pk}/assign/", {"rep": viewer.pk})

    assert Handoff.objects.get(pk=handoff.pk).rep is None


def test_the_menu_shows_people_to_managers_and_absences_to_reps(
    client_for, sales_manager, sales_rep, viewer
):
    assert 'href="/people/unassigned/"' in client_for(sales_manager).get("/").content.decode()
    rep_home = client_for(sales_rep).get("/").content.decode()
    assert 'href="/people/absences/"' in rep_home
    assert 'href="/people/"' not in rep_home
    viewer_home = client_for(viewer).get("/").content.decode()
    assert 'href="/people/"' not in viewer_home and "/people/absences/" not in viewer_home
