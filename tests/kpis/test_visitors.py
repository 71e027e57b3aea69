"""Visitor counts: the upsert service, POST/GET /api/v1/visitors/ and the managers' CSV page."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kpis.models import VisitorCount
from kpis.periods import Month
from kpis.selectors import month_report
from kpis.visitors import VisitorRow, visitor_counts_upsert
from slaportal.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
VISITORS = "/api/v1/visitors/"
PAGE = "/review/visitors/"
CONFIRM = "/review/visitors/confirm/"
NOW = datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))
OCT = Month(2026, 10)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def stored() -> set[tuple[date, str, int]]:
    return set(VisitorCount.objects.values_list("day", "source", "visitors"))


def count(day="2026-10-05", source="website", visitors=1000, **extra) -> dict:
    return {"date": day, "source": source, "visitors": visitors, **extra}


@pytest.fixture(autouse=True)
def frozen_now():
    # Days after tomorrow are refused as future: pin "today" for the dates below.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def integration(db):
    return UserFactory(username="webform", role=Role.INTEGRATION)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def already_stored(db):
    visitor_counts_upsert(rows=[VisitorRow(date(2026, 10, 5), "website", 900)])
    return stored()


# The service ------------------------------------------------------------------------------


def test_upserting_the_same_day_and_source_replaces_the_figure(db):
    first = visitor_counts_upsert(
        rows=[
            VisitorRow(date(2026, 10, 5), "website", 900),
            VisitorRow(date(2026, 10, 5), "webinar", 40),
        ]
    )
    again = visitor_counts_upsert(rows=[VisitorRow(date(2026, 10, 5), "website", 1000)])

    assert (first, again) == (2, 1)
    assert stored() == {(date(2026, 10, 5), "website", 1000), (date(2026, 10, 5), "webinar", 40)}


def test_a_repeated_day_and_source_within_one_call_keeps_the_last_figure(db):
    rows = [
        VisitorRow(date(2026, 10, 5), "website", 1),
        VisitorRow(date(2026, 10, 5), "website", 2),
    ]

    assert visitor_counts_upsert(rows=rows) == 1
    assert stored() == {(date(2026, 10, 5), "website", 2)}


def test_stored_visitors_reach_the_reviews_funnel_at_once(db):
    visitor_counts_upsert(
        rows=[
            VisitorRow(date(2026, 10, 1), "website", 700),
            VisitorRow(date(2026, 10, 31), "ads", 300),
            VisitorRow(date(2026, 11, 1), "website", 5),
        ]
    )

    assert month_report(month=OCT, now=NOW).funnel[0].count == 1000


# The API ----------------------------------------------------------------------------------


def test_a_valid_batch_is_stored(marketing_manager):
    batch = [count(), count(source="webinar", visitors=120), count("2026-10-06", visitors=0)]

    response = api(marketing_manager).post(VISITORS, batch, format="json")

    assert response.status_code == 201
    assert response.json() == {"stored": 3}
    assert stored() == {
        (date(2026, 10, 5), "website", 1000),
        (date(2026, 10, 5), "webinar", 120),
        (date(2026, 10, 6), "website", 0),
    }


def test_resending_replaces_without_duplicates(marketing_manager, already_stored):
    client = api(marketing_manager)

    client.post(VISITORS, [count(visitors=1000)], format="json")
    response = client.post(VISITORS, [count(visitors=1100)], format="json")

    assert response.status_code == 201
    assert stored() == {(date(2026, 10, 5), "website", 1100)}


def test_posted_counts_show_in_the_kpi_funnel(marketing_manager, viewer):
    api(marketing_manager).post(VISITORS, [count(visitors=250)], format="json")

    funnel = api(viewer).get("/api/v1/kpis/", {"month": "2026-10"}).json()["funnel"]

    assert funnel[0] == {
        "stage": "visitor",
        "label": "Visitors",
        "count": 250,
        "conversion_from_previous": None,
    }


@pytest.mark.parametrize(
    "item,field,message",
    [
        (count(day="2026-13-01"), "date", "'2026-13-01' is not a date: there is no such date."),
        (count(day="2026-02-30"), "date", "'2026-02-30' is not a date: there is no such date."),
        (
            count(day="2026-1-5"),
            "date",
            "'2026-1-5' is not a date: use YYYY-MM-DD, e.g. 2026-10-05.",
        ),
        (
            count(day="05/10/2026"),
            "date",
            "'05/10/2026' is not a date: use YYYY-MM-DD, e.g. 2026-10-05.",
        ),
        (
            count(day="2026-10-05T10:00:00Z"),
            "date",
            "'2026-10-05T10:00:00Z' is not a date: use YYYY-MM-DD, e.g. 2026-10-05.",
        ),
        (count(day="1999-12-31"), "date", "1999-12-31 is out of range: send days from 2000 on."),
        (
            count(day="2026-11-22"),
            "date",
            "2026-11-22 is in the future: count a day's visitors once it is over.",
        ),
        ({"date": "2026-10-05", "visitors": 1}, "source", "This field is required."),
        (count(source=""), "source", "This field may not be blank."),
        (count(source="x" * 101), "source", "Ensure this field has no more than 100 characters."),
        (count(visitors=-1), "visitors", "Visitors cannot be negative."),
        (count(visitors=1.5), "visitors", "A valid integer is required."),
        (count(visitors="many"), "visitors", "A valid integer is required."),
        (count(visitors=True), "visitors", "A valid integer is required."),
        ({"date": "2026-10-05", "source": "website"}, "visitors", "This field is required."),
        (count(visitor=3), "visitor", "Unknown field: send date, source, visitors."),
        ("website", "non_field_errors", "Invalid data. Expected a dictionary, but got str."),
    ],
)
def test_each_bad_item_is_refused_by_index_and_field_and_nothing_is_stored(
    marketing_manager, already_stored, item, field, message
):
    batch = [count("2026-10-05", visitors=5000), count("2026-10-06"), item]

    response = api(marketing_manager).post(VISITORS, batch, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["2"][field] == [message]
    assert list(response.json()["errors"]) == ["2"]
    assert stored() == already_stored


def test_every_bad_item_is_reported_not_just_the_first(marketing_manager):
    batch = [count(visitors=-1), count("2026-10-06"), count("nope", source="")]

    errors = api(marketing_manager).post(VISITORS, batch, format="json").json()["errors"]

    assert set(errors) == {"0", "2"}
    assert set(errors["2"]) == {"date", "source"}


def test_the_same_day_and_source_twice_in_a_batch_is_refused_on_the_later_item(
    marketing_manager,
):
    batch = [count(), count(source="ads"), count(visitors=7)]

    response = api(marketing_manager).post(VISITORS, batch, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "2": {
            "source": [
                "2026-10-05 and 'website' already appear in item 0: send each day and source once."
            ]
        }
    }
    assert stored() == set()


@pytest.mark.parametrize(
    "body,message",
    [
        (
            count(),
            'Send a JSON list of counts, e.g. [{"date": "2026-10-05", "source": "website", '
            '"visitors": 1000}].',
        ),
        ("website,1000", "Send a JSON list of counts"),
        ([], "The list is empty: send 1 to 1,000 counts."),
        (
            [count(visitors=n) for n in range(1001)],
            "Send at most 1,000 counts per request; this batch has 1,001.",
        ),
    ],
)
def test_a_batch_that_is_not_a_list_of_1_to_1000_is_refused_whole(
    marketing_manager, already_stored, body, message
):
    response = api(marketing_manager).post(VISITORS, body, format="json")

    assert response.status_code == 400
    (refusal,) = response.json()["errors"]["batch"]
    assert refusal.startswith(message)
    assert stored() == already_stored


def test_a_full_batch_of_1000_is_accepted(integration):
    days = [date(2026, 1, 1).toordinal() + n for n in range(250)]
    batch = [
        count(date.fromordinal(day).isoformat(), source, 10)
        for day in days
        for source in ("website", "ads", "webinar", "events")
    ]

    response = api(integration).post(VISITORS, batch, format="json")

    assert (response.status_code, response.json()) == (201, {"stored": 1000})


def test_a_month_of_counts_is_listed_by_day_and_source(viewer, already_stored):
    visitor_counts_upsert(
        rows=[
            VisitorRow(date(2026, 10, 5), "ads", 100),
            VisitorRow(date(2026, 10, 1), "website", 10),
            VisitorRow(date(2026, 11, 1), "website", 99),
        ]
    )

    body = api(viewer).get(VISITORS, {"month": "2026-10"}).json()

    assert (body["month"], body["total"]) == ("2026-10", 1010)
    assert [(c["date"], c["source"], c["visitors"]) for c in body["counts"]] == [
        ("2026-10-01", "website", 10),
        ("2026-10-05", "ads", 100),
        ("2026-10-05", "website", 900),
    ]
    assert all(c["updated_at"] for c in body["counts"])


def test_listing_needs_a_proper_month(viewer):
    response = api(viewer).get(VISITORS, {"month": "2026-13"})

    assert response.status_code == 400
    assert response.json() == {"month": ["'2026-13' is not a month: the month must be 01 to 12."]}


@pytest.mark.parametrize("who", ["marketing_manager", "sales_manager", "integration", "superuser"])
def test_managers_superusers_and_integrations_may_post(request, who):
    user = request.getfixturevalue(who)

    assert api(user).post(VISITORS, [count()], format="json").status_code == 201


@pytest.mark.parametrize("who", ["sales_rep", "viewer", "no_role_user"])
def test_reps_viewers_and_users_without_a_role_may_not_post(request, who):
    response = api(request.getfixturevalue(who)).post(VISITORS, [count()], format="json")

    assert response.status_code == 403
    assert stored() == set()


@pytest.mark.parametrize("who", ["sales_rep", "viewer", "integration"])
def test_every_role_may_list(request, who):
    response = api(request.getfixturevalue(who)).get(VISITORS, {"month": "2026-10"})

    assert response.status_code == 200


def test_anonymous_callers_get_401(db):
    assert api().post(VISITORS, [count()], format="json").status_code == 401
    assert api().get(VISITORS, {"month": "2026-10"}).status_code == 401
    assert stored() == set()


def test_the_schema_documents_the_batch_as_a_list(viewer):
    api = APIClient()
    api.force_login(viewer)  # the schema is served to logged-in users and tokens only
    schema = api.get("/api/schema/", {"format": "json"}).json()

    post = schema["paths"]["/api/v1/visitors/"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert {"201", "400"} <= set(post["responses"])


# The CSV page -----------------------------------------------------------------------------


def csv_file(text: str, name="visitors.csv", encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


GOOD_CSV = "date,source,visitors\n2026-10-05,website,1000\n2026-10-05,webinar,120\n"


def upload(client, text=GOOD_CSV, **kwargs):
    return client.post(PAGE, {"file": csv_file(text, **kwargs)})


def test_the_page_lists_recent_counts(client_for, marketing_manager, already_stored):
    response = client_for(marketing_manager).get(PAGE)

    assert response.status_code == 200
    recent = response.content.decode()
    assert "website" in recent and "900" in recent


def test_an_upload_is_previewed_and_nothing_is_stored_until_confirmed(
    client_for, marketing_manager, already_stored
):
    response = upload(client_for(marketing_manager))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.ok and preview.total_rows == 2
    assert [(r.line, r.day, r.source, r.visitors, r.stored) for r in preview.rows] == [
        (2, "2026-10-05", "website", "1000", 900),
        (3, "2026-10-05", "webinar", "120", None),
    ]
    assert preview.replaced == 1 and preview.total_visitors == 1120
    assert response.context["staged"]
    assert b"Store 2 counts" in response.content
    assert stored() == already_stored


def test_confirming_stores_every_row_and_replaces_stored_figures(
    client_for, marketing_manager, already_stored
):
    client = client_for(marketing_manager)
    staged = upload(client).context["staged"]

    response = client.post(CONFIRM, {"staged": staged}, follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert b"Stored 2 visitor counts from visitors.csv (1,120 visitors)" in response.content
    assert stored() == {(date(2026, 10, 5), "website", 1000), (date(2026, 10, 5), "webinar", 120)}
    assert month_report(month=OCT, now=NOW).funnel[0].count == 1120


def test_confirming_twice_stores_the_same_figures_once(client_for, marketing_manager):
    client = client_for(marketing_manager)
    staged = upload(client).context["staged"]

    client.post(CONFIRM, {"staged": staged})
    client.post(CONFIRM, {"staged": staged})

    assert VisitorCount.objects.count() == 2


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_stored(
    client_for, marketing_manager, already_stored
):
    text = (
        "date,source,visitors\n"
        "2026-10-06,website,10\n"
        "2026-13-01,website,10\n"
        "2026-10-07,,-5\n"
        "\n"
        "2026-10-06,website,11\n"
        "2026-10-08,ads,1,extra\n"
    )

    response = upload(client_for(marketing_manager), text)

    preview = response.context["preview"]
    assert [str(error) for error in preview.errors] == [
        "line 3, column date: '2026-13-01' is not a date: there is no such date.",
        "line 4, column source: This field is required.",
        "line 4, column visitors: Visitors cannot be negative.",
        "line 6, column source: 2026-10-06 and 'website' already appear in line 2: send each "
        "day and source once.",
        "line 7: 4 values, but the header has 3 columns.",
    ]
    assert [row.line for row in preview.rows if row.bad] == [3, 4, 6, 7]
    assert response.context["staged"] is None
    assert b"Store " not in response.content
    assert b"line 4, column visitors: Visitors cannot be negative." in response.content
    assert stored() == already_stored


@pytest.mark.parametrize(
    "header,problem",
    [
        ("date,source", "line 1, column visitors: missing required column."),
        (
            "date,source,visitors,country",
            "line 1, column country: unknown column; the file takes date, source, visitors.",
        ),
        ("date,source,visitors,date", "line 1, column date: the column appears twice."),
    ],
)
def test_a_bad_header_is_reported_on_line_1(client_for, marketing_manager, header, problem):
    response = upload(client_for(marketing_manager), f"{header}\n2026-10-05,website,1000\n")

    assert problem in [str(error) for error in response.context["preview"].errors]
    assert stored() == set()


def test_spreadsheet_files_are_read_with_semicolons_a_bom_and_odd_header_case(
    client_for, marketing_manager
):
    text = "\ufeffDate; Source ;VISITORS;\r\n2026-10-05;website;1000;\r\n"

    client = client_for(marketing_manager)
    response = upload(client, text)

    assert response.context["preview"].ok
    client.post(CONFIRM, {"staged": response.context["staged"]})
    assert stored() == {(date(2026, 10, 5), "website", 1000)}


@pytest.mark.parametrize(
    "text,name,encoding,message",
    [
        ("", "visitors.csv", "utf-8", "The submitted file is empty."),
        (
            "date,source,visitors\n",
            "visitors.csv",
            "utf-8",
            "The file has no rows under its header.",
        ),
        (GOOD_CSV, "visitors.xlsx", "utf-8", "Upload a .csv file"),
        ("date,source,visitors\n2026-10-05,café,1\n", "visitors.csv", "latin-1", "not UTF-8"),
        ('date,source,visitors\n2026-10-05,"web\n', "visitors.csv", "utf-8", "well-formed"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_message(
    client_for, marketing_manager, text, name, encoding, message
):
    response = upload(client_for(marketing_manager), text, name=name, encoding=encoding)

    assert response.status_code == 200
    assert "preview" not in response.context
    assert message in " ".join(response.context["form"].errors["file"])


def test_a_tampered_or_stale_confirmation_stores_nothing(client_for, marketing_manager):
    client = client_for(marketing_manager)
    staged = upload(client).context["staged"]

    tampered = client.post(CONFIRM, {"staged": staged[:-2] + "xx"}, follow=True)
    with time_machine.travel(NOW.replace(hour=14), tick=False):
        stale = client.post(CONFIRM, {"staged": staged}, follow=True)

    for response in (tampered, stale):
        assert b"no longer waiting to be confirmed" in response.content
    assert stored() == set()


def test_one_manager_cannot_confirm_anothers_upload(client_for, marketing_manager, sales_manager):
    staged = upload(client_for(marketing_manager)).context["staged"]

    client_for(sales_manager).post(CONFIRM, {"staged": staged})

    assert stored() == set()


@pytest.mark.parametrize("who", ["sales_manager", "superuser"])
def test_managers_and_superusers_use_the_page(client_for, request, who):
    assert client_for(request.getfixturevalue(who)).get(PAGE).status_code == 200


@pytest.mark.parametrize("who", ["sales_rep", "viewer", "integration", "no_role_user"])
def test_other_roles_are_refused_the_page_and_its_confirmation(client_for, request, who):
    client = client_for(request.getfixturevalue(who))

    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"file": csv_file(GOOD_CSV)}).status_code == 403
    assert client.post(CONFIRM, {"staged": "x"}).status_code == 403
    assert stored() == set()


def test_anonymous_visitors_go_to_the_login_page(client_for, db):
    response = client_for(None).get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/review/visitors/")
