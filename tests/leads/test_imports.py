"""CSV import in the browser: preview, line-and-column errors, all or nothing, background jobs."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from leads.models import ImportJob, Lead, LeadEvent
from leads.services import imports
from leads.services.imports import import_create, import_run

START = "/leads/import/"
CONFIRM = "/leads/import/confirm/"

LEADS_CSV = (
    "email,first_name,title,company_size,country,attributes.seats\n"
    "ana@example.com,Ana,Head of Growth,250,br,40\n"
    "bo@example.com,Bo,,12,,\n"
    "cy@example.com,Cy,CTO,,US,7\n"
)


def upload(client, text: str | bytes, kind="leads", name="people.csv"):
    data = text.encode() if isinstance(text, str) else text
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(START, {"kind": kind, "file": file})


def recent(hours=1) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def counts() -> tuple[int, int]:
    return Lead.objects.count(), LeadEvent.objects.count()


def errors_of(response) -> list[str]:
    preview = response.context["preview"]
    return [str(error) for error in preview.errors] if preview else []


def form_errors(response) -> list[str]:
    return response.context["form"].errors.get("file", [])


@pytest.fixture
def manager(client_for, marketing_manager):
    return client_for(marketing_manager)


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(imports, "enqueue", lambda name, *args: sent.append((name, *args)))
    return sent


# Who may import ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["marketing_manager", "sales_manager"])
def test_managers_open_the_import_page(request, client_for, who):
    response = client_for(request.getfixturevalue(who)).get(START)

    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content


@pytest.mark.parametrize("who", ["sales_rep", "viewer", "no_role_user"])
def test_other_roles_are_refused_every_import_page(request, client_for, marketing_manager, who):
    job = ImportJob.objects.create(
        kind="leads", filename="x.csv", content="email\n", created_by=marketing_manager
    )
    client = client_for(request.getfixturevalue(who))

    assert client.get(START).status_code == 403
    assert upload(client, LEADS_CSV).status_code == 403
    assert client.post(CONFIRM, {"token": "x"}).status_code == 403
    assert client.get(f"{START}{job.pk}/").status_code == 403
    assert client.get(f"{START}template/leads.csv").status_code == 403
    assert counts() == (0, 0)


def test_anonymous_visitors_are_sent_to_log_in(client_for):
    response = client_for(None).get(START)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/leads/import/")


# Preview -----------------------------------------------------------------------------------


def test_uploading_shows_a_preview_and_stores_nothing(manager):
    response = upload(manager, LEADS_CSV)

    preview = response.context["preview"]
    assert preview.ok
    assert preview.total_rows == 3
    assert preview.columns == [
        "email",
        "first_name",
        "title",
        "company_size",
        "country",
        "attributes.seats",
    ]
    first = preview.rows[0]
    assert (first.line, first.values) == (
        2,
        ["ana@example.com", "Ana", "Head of Growth", "250", "BR", "40"],
    )
    assert response.context["token"]
    assert b"Import 3 rows" in response.content
    assert counts() == (0, 0)
    assert not ImportJob.objects.exists()


def test_the_preview_shows_the_first_20_rows(manager):
    rows = "".join(f"p{i}@example.com\n" for i in range(30))

    preview = upload(manager, "email\n" + rows).context["preview"]

    assert preview.total_rows == 30
    assert [row.line for row in preview.rows] == list(range(2, 22))


def test_bad_rows_are_reported_by_line_and_column_and_cannot_be_confirmed(manager):
    text = (
        "email,company_size,country,attributes.seats\n"
        "ana@example.com,250,BR,4\n"
        "not-an-email,12,BR,\n"
        "\n"
        "bo@example.com,many,Brazil,\n"
    )

    response = upload(manager, text)

    assert errors_of(response) == [
        "line 3, column email: Enter a valid email address.",
        "line 5, column company_size: A valid integer is required.",
        "line 5, column country: Use the two-letter ISO 3166 code, e.g. BR.",
    ]
    assert [row.bad for row in response.context["preview"].rows] == [False, True, True]
    assert response.context["token"] is None
    assert b'name="token"' not in response.content
    assert b"line 3, column email: Enter a valid email address." in response.content
    assert counts() == (0, 0)


def test_event_rows_are_checked_like_the_api(manager, marketing_manager):
    text = (
        "email,type,occurred_at,external_id,properties.plan\n"
        f"ana@example.com,pricing_page_view,{recent()},w-1,pro\n"
        f"ana@example.com,foo,{recent()},w-2,\n"
        "ana@example.com,page_view,2026-11-26T14:00:00,w-3,\n"
        "ana@example.com,page_view,next week,,\n"
        "ana@example.com,page_view,2999-01-01T00:00:00Z,,\n"
    )

    errors = errors_of(upload(manager, text, kind="events"))

    assert errors[0].startswith("line 3, column type: Unknown event type 'foo'. Known: ")
    assert errors[1:] == [
        "line 4, column occurred_at: Include a time zone, e.g. 2026-11-26T14:00:00Z",
        "line 5, column occurred_at: Datetime has wrong format. Use one of these formats "
        "instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        "line 6, column occurred_at: More than a day in the future: check the date and its "
        "time zone.",
    ]
    assert counts() == (0, 0)


def test_a_missing_required_column_is_reported_once(manager):
    text = "email,occurred_at\n" + "".join(f"p{i}@example.com,{recent()}\n" for i in range(50))

    response = upload(manager, text, kind="events")

    assert errors_of(response) == ["line 1, column type: missing required column."]
    assert response.content.count(b"missing required column") == 1


def test_unknown_and_repeated_columns_are_refused(manager):
    errors = errors_of(upload(manager, "email,compnay,email\nana@example.com,Acme,x\n"))

    assert errors[0].startswith("line 1, column compnay: unknown column; this kind of file takes")
    assert errors[1] == "line 1, column email: the column appears twice."


def test_a_row_longer_than_the_header_is_refused(manager):
    text = "email,title\nana@example.com,CEO,extra\nbo@example.com,CTO,,\n"

    errors = errors_of(upload(manager, text))

    # Empty padding cells, as spreadsheets write them, are no problem.
    assert errors == ["line 2: 3 values, but the header has 2 columns."]


def test_line_numbers_count_rows_with_line_breaks_inside_quotes_as_one(manager):
    text = 'email,title\nana@example.com,"Head of\nGrowth"\nbad,CEO\n'

    assert errors_of(upload(manager, text)) == [
        "line 3, column email: Enter a valid email address."
    ]


def test_semicolons_and_a_byte_order_mark_are_understood(manager):
    text = "\ufeffemail;first_name;company_size\nana@example.com;Ana;1000\n"

    preview = upload(manager, text.encode("utf-8")).context["preview"]

    assert preview.ok
    assert preview.rows[0].values == ["ana@example.com", "Ana", "1000"]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("people.csv", b"", "The file is empty."),
        ("people.csv", b"\n\n", "The file is empty."),
        ("people.csv", b"email\n", "The file has no rows under its header."),
        ("people.csv", b"\nemail\nana@example.com\n", "The first line must be the header"),
        ("people.xlsx", b"email\nana@example.com\n", "Upload a .csv file"),
        ("people.csv", b"PK\x03\x04\x00\x00binary", "This is not a CSV file"),
        ("people.csv", "email\nJosé@example.com\n".encode("latin-1"), "not UTF-8"),
        ("people.csv", b'email\n"ana@example.com\n', "not a well-formed CSV file"),
    ],
)
def test_files_that_cannot_be_read_get_a_clear_error(manager, name, data, message):
    response = upload(manager, data, name=name)

    assert response.status_code == 200
    assert any(message in error for error in form_errors(response)), form_errors(response)
    assert response.context.get("preview") is None
    assert counts() == (0, 0)


def test_a_file_over_10_mb_is_refused(manager):
    data = b"email\n" + b"a" * (10 * 1024 * 1024)

    response = upload(manager, data)

    assert form_errors(response) == ["The file is over 10 MB; split it into parts."]


def test_a_file_over_50000_rows_is_refused(manager):
    data = "email\n" + "".join(f"p{i}@x.io\n" for i in range(50_001))

    response = upload(manager, data)

    assert form_errors(response) == ["The file has more than 50,000 rows; split it into parts."]


def test_the_templates_download_as_csv_that_imports_cleanly(manager):
    for kind in ("leads", "events"):
        response = manager.get(f"{START}template/{kind}.csv")
        assert response["Content-Type"].startswith("text/csv")
        assert upload(manager, response.content, kind=kind).context["preview"].ok


# Confirm -----------------------------------------------------------------------------------


def test_confirming_a_small_file_imports_every_row_at_once(manager, sent_tasks):
    Lead.objects.create(
        email="BO@example.com", title="Buyer", created_at=timezone.now(), updated_at=timezone.now()
    )
    token = upload(manager, LEADS_CSV).context["token"]

    response = manager.post(CONFIRM, {"token": token}, follow=True)

    assert b"Imported 3 rows: 2 leads created, 1 updated." in response.content
    assert Lead.objects.count() == 3
    ana = Lead.objects.get(email="ana@example.com")
    assert (ana.first_name, ana.company_size, ana.country) == ("Ana", 250, "BR")
    assert ana.attributes == {"seats": "40"}
    # An empty cell leaves what was stored.
    assert Lead.objects.get(email__iexact="bo@example.com").title == "Buyer"
    assert ana.stage_changes.get().reason == "Imported from people.csv"
    job = ImportJob.objects.get()
    assert (job.status, job.processed_rows, job.total_rows) == ("done", 3, 3)
    assert sent_tasks == []


def test_confirming_an_events_file_stores_events_once_per_external_id(manager):
    text = (
        "email,type,occurred_at,external_id,properties.plan\n"
        f"ana@example.com,pricing_page_view,{recent()},w-1,pro\n"
        f"ana@example.com,demo_request,{recent()},w-2,\n"
        f"bo@example.com,page_view,{recent()},w-1,\n"
    )
    token = upload(manager, text, kind="events").context["token"]

    response = manager.post(CONFIRM, {"token": token}, follow=True)

    assert b"Imported 3 rows: 2 events stored, 1 duplicate skipped, 1 new lead." in response.content
    # Bo's only event repeats an external id: it is skipped whole, so no lead is made for Bo.
    assert counts() == (1, 2)
    assert LeadEvent.objects.get(external_id="w-1").properties == {"plan": "pro"}


def test_a_token_confirms_once_and_only_for_its_uploader(
    client_for, manager, sales_manager, sent_tasks
):
    token = upload(manager, LEADS_CSV).context["token"]

    stranger = client_for(sales_manager).post(CONFIRM, {"token": token}, follow=True)
    assert b"no longer waiting to be confirmed" in stranger.content
    manager.post(CONFIRM, {"token": token})
    again = manager.post(CONFIRM, {"token": token}, follow=True)

    assert b"no longer waiting to be confirmed" in again.content
    assert ImportJob.objects.count() == 1
    assert Lead.objects.count() == 3


def test_a_large_file_imports_in_the_background_with_progress(manager, sent_tasks):
    rows = "".join(f"p{i}@example.com,Person {i}\n" for i in range(501))
    token = upload(manager, "email,first_name\n" + rows).context["token"]

    response = manager.post(CONFIRM, {"token": token})

    job = ImportJob.objects.get()
    assert response["Location"] == f"/leads/import/{job.pk}/"
    assert (job.status, job.total_rows, job.processed_rows) == ("pending", 501, 0)
    assert sent_tasks == [("leads.tasks.run_import", str(job.pk))]
    assert Lead.objects.count() == 0
    waiting = manager.get(f"/leads/import/{job.pk}/")
    assert b'hx-trigger="every 1s"' in waiting.content

    outcome = import_run(import_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows) == ("done", 501, 501)
    assert job.progress_percent == 100
    assert job.finished_at is not None
    assert outcome.created == 501
    assert Lead.objects.count() == 501
    partial = manager.get(f"/leads/import/{job.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    assert b"hx-trigger" not in partial.content
    assert b"All 501 rows imported" in partial.content


def test_running_a_finished_import_again_changes_nothing(marketing_manager, sent_tasks):
    rows = "".join(f"p{i}@example.com\n" for i in range(600))
    job, outcome = import_create(
        kind="leads", filename="big.csv", content="email\n" + rows, by=marketing_manager
    )
    assert outcome is None
    import_run(import_id=job.pk)
    Lead.objects.filter(email="p1@example.com").update(first_name="Kept")

    again = import_run(import_id=str(job.pk))

    assert again.status == "done"
    assert (again.created, again.updated) == (0, 0)
    assert Lead.objects.count() == 600
    assert Lead.objects.get(email="p1@example.com").first_name == "Kept"


def test_a_background_import_with_a_bad_row_fails_and_stores_nothing(marketing_manager, manager):
    # The catalogue can change between preview and run; the run checks every row again.
    content = "email,type,occurred_at\n" + f"ana@example.com,page_view,{recent()}\n" * 3
    content += f"bo@example.com,retired_type,{recent()}\n"
    job = ImportJob.objects.create(
        kind="events", filename="late.csv", content=content, created_by=marketing_manager
    )

    outcome = import_run(import_id=job.pk)

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.processed_rows == job.total_rows == 4
    assert job.errors[0]["line"] == 5
    assert job.errors[0]["column"] == "type"
    assert str(outcome.errors[0]).startswith("line 5, column type: Unknown event type")
    assert counts() == (0, 0)
    page = manager.get(f"/leads/import/{job.pk}/")
    assert b"Nothing was imported" in page.content
    assert b"line 5, column type: Unknown event type" in page.content
    assert b"hx-trigger" not in page.content


def test_progress_is_counted_chunk_by_chunk(marketing_manager, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    seen = []
    real_validator = imports._validator

    def spying_validator(kind, columns):
        validate = real_validator(kind, columns)

        def validate_and_look(rows):
            seen.append(ImportJob.objects.get().processed_rows)
            return validate(rows)

        return validate_and_look

    monkeypatch.setattr(imports, "_validator", spying_validator)
    job = ImportJob.objects.create(
        kind="leads",
        filename="five.csv",
        content="email\n" + "".join(f"p{i}@example.com\n" for i in range(5)),
        created_by=marketing_manager,
    )

    import_run(import_id=job.pk)

    assert seen == [0, 2, 4]
    assert ImportJob.objects.get().processed_rows == 5
