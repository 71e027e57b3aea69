"""Bad input gets a 400 that names the field, and nothing is stored (issue 7, items 8 and 10).

NUL characters are refused by PostgreSQL only, so run this file on PostgreSQL too.
"""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from agreements import models as m
from leads.models import Lead, LeadEvent
from leads.services.imports import import_preview
from slaportal.roles import Role
from tests.factories import UserFactory
from tests.leads.test_api import EVENTS, LEADS, api, counts, event, iso
from tests.leads.test_imports import form_errors, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration(db):
    return UserFactory(username="webform", role=Role.INTEGRATION)


def post_raw(user, url: str, body: str):
    """A body as a client may send it, e.g. with a lone surrogate escape ("\\ud800") that a
    Python JSON encoder would refuse to produce."""
    return api(user).post(url, data=body.encode(), content_type="application/json")


def deep(levels: int, leaf=1):
    value = leaf
    for _ in range(levels):
        value = {"x": value}
    return value


# NUL characters and lone surrogates ---------------------------------------------------------


@pytest.mark.parametrize(
    "payload, field, key",
    [
        ({"attributes": {"plan": "pro\u0000"}}, "attributes", "plan"),
        ({"attributes": {"plan": {"tier": ["a", "b\u0000"]}}}, "attributes", "plan"),
        ({"first_name": "Ana\u0000"}, "first_name", None),
        ({"company": "\u0000"}, "company", None),
    ],
)
def test_a_nul_character_in_a_lead_is_refused_naming_the_field(integration, payload, field, key):
    response = api(integration).post(LEADS, {"email": "ana@example.com", **payload}, format="json")

    assert response.status_code == 400
    errors = response.json()[field]
    message = " ".join(errors[key] if key else errors)
    assert "NUL" in message or "Null characters" in message
    assert counts() == (0, 0)


def test_a_nul_character_in_an_attribute_key_is_refused(integration):
    response = api(integration).post(
        LEADS, {"email": "ana@example.com", "attributes": {"pl\u0000an": "pro"}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["attributes"] == [
        "A key contains a NUL character (\\u0000), which cannot be stored."
    ]
    assert counts() == (0, 0)


def test_a_nul_character_in_event_properties_refuses_the_whole_batch(integration):
    batch = [event(), event(properties={"page": {"path": "/pricing\u0000"}})]

    response = api(integration).post(EVENTS, batch, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "1": {
                "properties": {
                    "page": [
                        "page.path contains a NUL character (\\u0000), which cannot be stored."
                    ]
                }
            }
        }
    }
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "url, body, where",
    [
        (
            LEADS,
            '{"email": "ana@example.com", "attributes": {"plan": "\\ud800"}}',
            "attributes.plan",
        ),
        (LEADS, '{"email": "ana@example.com", "title": "CEO \\udfff"}', "title"),
        (LEADS, '{"email": "ana@example.com", "attributes": {"\\ud800": 1}}', "attributes a key"),
        (
            EVENTS,
            '[{"email": "ana@example.com", "type": "page_view", '
            '"occurred_at": "2026-01-01T00:00:00Z", "properties": {"p": ["\\ud83d"]}}]',
            "0.properties.p.0",
        ),
    ],
)
def test_a_lone_surrogate_anywhere_in_the_body_is_refused_naming_where(
    integration, url, body, where
):
    response = post_raw(integration, url, body)

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert f"{where} contains a lone surrogate" in detail
    assert counts() == (0, 0)


def test_a_lone_surrogate_is_refused_by_the_serializers_too():
    """The CSV import and other Python callers skip the parser; the fields check again."""
    from leads.api.serializers import LeadInputSerializer

    serializer = LeadInputSerializer(
        data={"email": "ana@example.com", "attributes": {"plan": "\ud800"}}
    )

    assert not serializer.is_valid()
    assert "lone surrogate" in str(serializer.errors["attributes"]["plan"][0])


# Nesting ---------------------------------------------------------------------------------


def test_json_nested_100_000_deep_is_refused_not_a_server_error(integration):
    body = '{"email": "ana@example.com", "attributes": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = post_raw(integration, LEADS, body)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    assert counts() == (0, 0)


def test_a_deep_events_batch_is_refused_not_a_server_error(integration):
    response = post_raw(integration, EVENTS, "[" * 100_000 + "]" * 100_000)

    assert response.status_code == 400
    assert counts() == (0, 0)


def test_attributes_may_nest_20_levels_but_not_21(integration):
    client = api(integration)

    ok = client.post(LEADS, {"email": "ok@example.com", "attributes": deep(20)}, format="json")
    too_deep = client.post(
        LEADS, {"email": "no@example.com", "attributes": deep(21)}, format="json"
    )

    assert ok.status_code == 201
    assert too_deep.status_code == 400
    assert "nested deeper than 20 levels" in too_deep.json()["attributes"]["x"][0]
    assert list(Lead.objects.values_list("email", flat=True)) == ["ok@example.com"]


# The CSV import refuses the same cells ---------------------------------------------------------


@pytest.fixture
def manager(client_for, marketing_manager):
    return client_for(marketing_manager)


NUL_CSV = "email,first_name,attributes.plan\nana@example.com,Ana,pro\x00\nbo@example.com,B\x00o,\n"


def test_an_uploaded_csv_with_a_nul_byte_is_refused_as_a_whole(manager):
    response = upload(manager, NUL_CSV)

    assert form_errors(response) == ["This is not a CSV file (it holds binary data)."]
    assert counts() == (0, 0)


def test_csv_rows_with_a_nul_character_are_row_errors_naming_line_and_column():
    """Rows are checked by the API's serializers, whatever reads the file."""
    preview = import_preview(kind="leads", content=NUL_CSV)

    assert [str(error) for error in preview.errors] == [
        "line 2, column attributes.plan: plan contains a NUL character (\\u0000), which "
        "cannot be stored.",
        "line 3, column first_name: Null characters are not allowed.",
    ]
    assert counts() == (0, 0)


# When an event happened ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "occurred_at",
    ["0001-01-01T00:00:00Z", "1900-01-01T00:00:00Z", "1999-12-31T23:59:59Z"],
)
def test_an_event_before_2000_is_refused(integration, occurred_at):
    response = api(integration).post(EVENTS, [event(occurred_at=occurred_at)], format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["0"]["occurred_at"] == [
        "Before 2000-01-01: check the date; a default such as 0001-01-01 or 1900-01-01 is "
        "not when the activity happened."
    ]
    assert counts() == (0, 0)


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_dates_at_the_edge_of_the_calendar_are_refused_not_a_server_error(integration, occurred_at):
    response = api(integration).post(EVENTS, [event(occurred_at=occurred_at)], format="json")

    assert response.status_code == 400
    assert "occurred_at" in response.json()["errors"]["0"]
    assert counts() == (0, 0)


def test_an_event_more_than_a_day_ahead_is_refused(integration):
    ahead = iso(timezone.now() + timedelta(days=1, minutes=5))

    response = api(integration).post(EVENTS, [event(occurred_at=ahead)], format="json")

    assert response.status_code == 400
    assert "More than a day in the future" in response.json()["errors"]["0"]["occurred_at"][0]


def test_an_event_of_2000_is_accepted(integration):
    response = api(integration).post(
        EVENTS, [event(occurred_at="2000-01-01T00:00:00Z")], format="json"
    )

    assert response.status_code == 201


# A resent external_id ---------------------------------------------------------------------------


def test_a_resent_external_id_with_a_new_email_creates_nothing(integration):
    client = api(integration)
    client.post(EVENTS, [event("ana@example.com", external_id="form-1")], format="json")

    response = client.post(
        EVENTS,
        [event("bo@example.com", external_id="form-1"), event("cy@example.com")],
        format="json",
    )

    assert response.status_code == 201
    assert response.json() == {
        "created": 1,
        "duplicates": 1,
        "leads_created": 1,
        "duplicate_indexes": [0],
    }
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ana@example.com",
        "cy@example.com",
    ]
    assert LeadEvent.objects.get(external_id="form-1").lead.email == "ana@example.com"


def test_one_external_id_twice_in_a_batch_creates_only_the_first_ones_lead(integration):
    batch = [
        event("ana@example.com", external_id="x-1"),
        event("bo@example.com", external_id="x-1"),
    ]

    response = api(integration).post(EVENTS, batch, format="json")

    assert response.json()["duplicate_indexes"] == [1]
    assert list(Lead.objects.values_list("email", flat=True)) == ["ana@example.com"]


# The SLA editor ------------------------------------------------------------------------------


@pytest.mark.parametrize("revision", [None, "", "abc", "-1"])
def test_a_part_edit_without_a_valid_revision_is_refused_and_saves_nothing(
    agreement, draft, marketing_manager, client_for, revision
):
    from tests.agreements.test_views import GOAL, goals_post

    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "goals"])
    data = goals_post(0, [GOAL])
    if revision is None:
        del data["revision"]
    else:
        data["revision"] = revision

    response = client_for(marketing_manager).post(url, data)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page and "reload the page" in page
    assert not m.Goal.objects.filter(version=draft).exists()
    draft.refresh_from_db()
    assert draft.revision_of("goals") == 0


def test_a_holiday_prefill_without_a_revision_adds_nothing(
    agreement, draft, sales_manager, client_for
):
    url = reverse("agreements:holidays_prefill", args=[agreement.pk, draft.pk])

    response = client_for(sales_manager).post(url, {"country": "BR", "year": "2026"}, follow=True)

    assert "missing its revision" in response.content.decode()
    assert not m.Holiday.objects.filter(version=draft).exists()


def test_the_body_is_json_the_test_client_cannot_make_by_itself():
    """Guards post_raw: json.dumps would escape a lone surrogate, not refuse it."""
    assert json.loads('"\\ud800"') == "\ud800"


# The events' fast path ------------------------------------------------------------------------

_NOW = timezone.now()
# Half the draws of each field are a good value, so that whole good items come up often.
_emails = st.just("ana@example.com") | st.sampled_from(
    ["ana@example.com", "Ana@Example.COM", " ana@example.com", "ana@example.com ", "", "ana",
     "ana@", "ana@-x.com", "ana@xn--bcher-kva.de", "josé@bücher.de", "a\u0000@x.com",
     "a" * 250 + "@x.co", "ana@localhost", 7, None, True, ["ana@example.com"]]
)  # fmt: skip
_types = st.just("page_view") | st.sampled_from(
    ["page_view", "demo_request", "Page_view", " page_view", "", "nope", "x" * 41, 3, None]
)
_times = st.just(iso(_NOW)) | st.sampled_from(
    [iso(_NOW), "2026-11-26T14:00:00Z", "2026-11-26T14:00:00+02:00", " 2026-11-26T14:00:00Z ",
     "2026-11-26T14:00:00", "2026-13-01T00:00:00Z", "2026-11-26", "yesterday", "",
     "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z", iso(_NOW + timedelta(days=2)),
     "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", 1700000000, None]
)  # fmt: skip
_properties = st.just({"path": "/"}) | st.sampled_from(
    [{}, {"path": "/pricing"}, {"n": 1, "ok": True, "none": None, "f": 1.5}, {"deep": deep(20)},
     {"deep": deep(21)}, {"bad": "x\u0000"}, {"k\u0000": 1}, {"s": "\ud800"}, {"list": [1, "a"]},
     {"é": "ü"}, [], "x", None]
)  # fmt: skip
_external_ids = st.just("form-1") | st.sampled_from(
    ["form-1", "", "  ", " form-1 ", "x" * 200, "x" * 201, "f\u0000", "fé", 12, None, False]
)
_ABSENT_KEY = object()
FAST_HITS = []


@st.composite
def event_items(draw):
    item = {
        "email": draw(_emails),
        "type": draw(_types),
        "occurred_at": draw(_times),
        "properties": draw(_properties | st.just(_ABSENT_KEY)),
        "external_id": draw(_external_ids | st.just(_ABSENT_KEY)),
    }
    for key in draw(st.sets(st.sampled_from(["email", "type", "occurred_at"]), max_size=1)):
        item[key] = _ABSENT_KEY
    if draw(st.booleans()) and draw(st.booleans()):
        item["extra"] = 1
    return {key: value for key, value in item.items() if value is not _ABSENT_KEY}


@settings(max_examples=400, deadline=None)
@given(item=event_items())
def test_the_events_fast_path_answers_as_drf_or_leaves_the_item_to_it(item):
    from rest_framework.exceptions import ValidationError

    from leads.api.serializers import EventInputSerializer

    checker = EventInputSerializer(
        context={"catalogue": {"page_view", "demo_request"}, "now": _NOW}
    )
    fast = checker.fast_validate(item)
    try:
        expected = checker.run_validation(item)
    except ValidationError:
        expected = None
    if fast is not None:
        FAST_HITS.append(1)
        assert fast == dict(expected)
        assert type(fast["occurred_at"]) is type(expected["occurred_at"])
        assert fast["occurred_at"].tzinfo == expected["occurred_at"].tzinfo


def test_a_plain_event_takes_the_fast_path():
    from leads.api.serializers import EventInputSerializer

    checker = EventInputSerializer(context={"catalogue": {"page_view"}, "now": _NOW})

    for item in [
        event(),
        event(properties={"path": "/pricing"}, external_id="form-1"),
        event(occurred_at="2026-11-26T14:00:00+02:00", external_id=""),
    ]:
        assert checker.fast_validate(item) == dict(checker.run_validation(item))


_json_text = st.sampled_from(["a", "", "x\u0000", "\ud800", "é", "ü\u0000", "k"])
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _json_text,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(_json_text | st.integers(), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(deadline=None)
@given(value=_json, max_depth=st.integers(1, 4), check_nul=st.booleans())
def test_json_problem_shortcut_finds_a_problem_exactly_when_the_full_walk_does(
    value, max_depth, check_nul
):
    from leads.api.parsers import _first_problem, _has_problem

    expected = _first_problem(value, max_depth=max_depth, check_nul=check_nul)

    assert _has_problem(value, max_depth=max_depth, check_nul=check_nul) == (expected is not None)
