"""One e-mail normalisation for Python and the database (issue 7, item 9).

Run on PostgreSQL too: the duplicates came from PostgreSQL's LOWER differing from Python's.
"""

import importlib
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leads.emails import InvalidEmail, email_normalise
from leads.models import Lead
from leads.services.ingestion import EventInput, events_ingest, lead_upsert
from slaportal.roles import Role
from tests.factories import UserFactory
from tests.leads.test_api import LEADS, api

SAME_PERSON = [
    ("u@İSTANBUL.com", "U@istanbul.com"),
    ("ana@bücher.de", "ANA@xn--bcher-kva.de"),
    ("ana@BÜCHER.DE", "ana@bücher.de"),
    ("Straße@example.com", "STRASSE@example.com"),
    ("  Ana@Globex.COM ", "ana@globex.com"),
    ("ａｎａ@example.com", "ana@example.com"),  # full-width letters, as some keyboards type
]


@pytest.mark.parametrize("first, second", SAME_PERSON)
def test_spellings_of_one_address_normalise_alike(first, second):
    assert email_normalise(first) == email_normalise(second)


@pytest.mark.parametrize(
    "email, normalised",
    [
        ("u@İSTANBUL.com", "u@istanbul.com"),
        ("ana@bücher.de", "ana@xn--bcher-kva.de"),
        # IDNA 2008 keeps ß in a domain: faß.de and fass.de are two registered names.
        ("ana@faß.de", "ana@xn--fa-hia.de"),
        ("ana@FASS.de", "ana@fass.de"),
    ],
)
def test_the_domain_is_stored_as_punycode_ascii(email, normalised):
    assert email_normalise(email) == normalised


@pytest.mark.parametrize("email", ["no-at-sign", "@example.com", "ana@", "ana@xn--zz.de"])
def test_what_cannot_be_normalised_is_refused(email):
    with pytest.raises(InvalidEmail):
        email_normalise(email)


# Properties -----------------------------------------------------------------------------------

local_parts = st.text(
    st.characters(codec="utf-8", exclude_characters="@", exclude_categories=("Cs",)),
    min_size=1,
    max_size=30,
).filter(lambda text: text.strip())
# Letters IDNA 2008 allows, in Latin, Cyrillic and Greek, besides ASCII; no ß or final sigma,
# whose upper case names a different domain (FASS.de is not faß.de).
labels = st.text("abcxyz0189äöüéñçåøжбдλμπ", min_size=1, max_size=12)
domains = st.builds(
    lambda names, tld: ".".join([*names, tld]),
    st.lists(labels, min_size=1, max_size=3),
    st.sampled_from(["com", "de", "com.br", "xn--p1ai"]),
)


@example(local="\u00a8", domain="0.com")  # NFKC makes "¨" a space and a combining mark
@given(local=local_parts, domain=domains)
def test_normalising_twice_changes_nothing(local, domain):
    once = email_normalise(f"{local}@{domain}")

    assert email_normalise(once) == once


@given(
    local=st.text("abcdefghijklmnopqrstuvwxyzäöüéñçåøжбдλμπß0123456789._+-", min_size=1),
    domain=domains,
)
def test_case_does_not_make_another_person(local, domain):
    email = f"{local}@{domain}"

    assert email_normalise(email.upper()) == email_normalise(email)
    assert email_normalise(email.title()) == email_normalise(email)


@given(domain=domains)
def test_the_stored_domain_is_ascii_and_its_own_normal_form(domain):
    normalised = email_normalise(f"ana@{domain}")

    assert normalised.isascii()
    assert email_normalise(normalised) == normalised


# Every write path, and the database ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("first, second", SAME_PERSON)
def test_upserting_another_spelling_updates_the_one_lead(first, second):
    lead, created = lead_upsert(email=first, fields={"title": "CEO"})
    again, created_again = lead_upsert(email=second, fields={"company": "Globex"})

    assert created and not created_again and again.pk == lead.pk
    assert Lead.objects.count() == 1
    assert Lead.objects.get().email == first.strip()  # as typed first, for display


@pytest.mark.django_db
def test_events_under_another_spelling_go_to_the_same_lead():
    now = timezone.now()
    lead, _ = lead_upsert(email="U@istanbul.com", fields={})

    result = events_ingest(
        events=[
            EventInput("u@İSTANBUL.com", "page_view", now),
            EventInput("ana@bücher.de", "page_view", now),
            EventInput("ANA@xn--bcher-kva.de", "page_view", now),
        ],
        now=now,
    )

    assert (result.created, result.leads_created) == (3, 1)
    assert lead.events.count() == 1
    assert Lead.objects.get(email="ana@bücher.de").events.count() == 2


@pytest.mark.django_db
def test_the_api_upserts_by_the_normalised_address():
    client = api(UserFactory(username="webform", role=Role.INTEGRATION))

    first = client.post(LEADS, {"email": "ana@bücher.de"}, format="json")
    second = client.post(LEADS, {"email": "Ana@XN--BCHER-KVA.DE"}, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.django_db
def test_the_api_refuses_an_address_whose_domain_cannot_be_encoded():
    client = api(UserFactory(username="webform", role=Role.INTEGRATION))

    response = client.post(LEADS, {"email": "ana@xn--zz.de"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_saving_a_lead_keeps_its_normalised_address_in_step():
    now = timezone.now()
    lead = Lead.objects.create(email="Ana@Bücher.de", created_at=now, updated_at=now)
    lead.email = "Bo@Bücher.de"
    lead.save(update_fields=["email"])

    lead.refresh_from_db()
    assert lead.email_normalised == "bo@xn--bcher-kva.de"


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_second_lead_of_one_normalised_address():
    now = timezone.now()
    Lead.objects.create(email="u@İSTANBUL.com", created_at=now, updated_at=now)

    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(email="U@istanbul.com", created_at=now, updated_at=now)
    # A bulk write bypasses save(); the database refuses a lead without the column.
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.bulk_create([Lead(email="x@example.com", created_at=now, updated_at=now)])
    assert Lead.objects.count() == 1


# The data migration ---------------------------------------------------------------------------

BEFORE = [("leads", "0003_lead_deal_value")]
AFTER = [("leads", "0004_email_normalised")]


@pytest.fixture
def migrated_back(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_merges_duplicates_into_the_oldest_lead(migrated_back):
    apps = migrated_back
    Lead = apps.get_model("leads", "Lead")
    LeadEvent = apps.get_model("leads", "LeadEvent")
    StageChange = apps.get_model("leads", "StageChange")
    Handoff = apps.get_model("leads", "Handoff")
    Notification = apps.get_model("leads", "Notification")
    User = apps.get_model("auth", "User")
    Agreement = apps.get_model("agreements", "Agreement")
    AgreementVersion = apps.get_model("agreements", "AgreementVersion")
    now = timezone.now()
    rep = User.objects.create(username="rita")
    agreement = Agreement.objects.create(name="SLA", marketing_manager=rep, sales_manager=rep)
    version = AgreementVersion.objects.create(agreement=agreement)

    def lead(email, minutes_ago, **fields):
        at = now - timedelta(minutes=minutes_ago)
        return Lead.objects.create(email=email, created_at=at, updated_at=at, **fields)

    # Spellings the old LOWER(email) constraint let through on both databases.
    oldest = lead("ana@bücher.de", 30, first_name="Ana", attributes={"plan": "pro"})
    copy = lead("ANA@xn--bcher-kva.de", 20, title="CEO", attributes={"plan": "free", "seats": 9})
    lead("STRASSE@example.com", 10, stage="mql")  # newer, yet further along: lends its stage
    original = lead("straße@example.com", 40)
    alone = lead("bo@example.com", 5)
    LeadEvent.objects.create(
        lead=copy, type="page_view", occurred_at=now, occurred_day=1, received_at=now
    )
    StageChange.objects.create(lead=copy, to_stage="lead", at=now, reason="created")
    handoff_fields = {
        "rep": rep,
        "version": version,
        "trigger": "manual",
        "handed_off_at": now,
        "at_risk_at": now,
        "due_at": now,
        "accept_due_at": now,
    }
    kept = Handoff.objects.create(lead=oldest, **handoff_fields)
    closed = Handoff.objects.create(lead=copy, **handoff_fields)
    Notification.objects.create(user=rep, key="breach:1", message="m", lead=copy, created_at=now)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Lead = apps.get_model("leads", "Lead")

    leads = {lead.pk: lead for lead in Lead.objects.all()}
    assert set(leads) == {oldest.pk, original.pk, alone.pk}
    ana = leads[oldest.pk]
    assert (ana.email, ana.email_normalised) == ("ana@bücher.de", "ana@xn--bcher-kva.de")
    assert (ana.first_name, ana.title) == ("Ana", "CEO")
    assert ana.attributes == {"plan": "pro", "seats": 9}
    assert apps.get_model("leads", "LeadEvent").objects.get().lead_id == ana.pk
    assert apps.get_model("leads", "StageChange").objects.get().lead_id == ana.pk
    assert apps.get_model("leads", "Notification").objects.get().lead_id == ana.pk
    handoffs = apps.get_model("leads", "Handoff").objects.order_by("pk")
    assert [(h.pk, h.lead_id, h.returned_at is None) for h in handoffs] == [
        (kept.pk, ana.pk, True),
        (closed.pk, ana.pk, False),
    ]
    strasse = leads[original.pk]
    assert (strasse.email_normalised, strasse.stage) == ("strasse@example.com", "mql")
    assert leads[alone.pk].email_normalised == "bo@example.com"


def test_the_merge_function_is_importable_from_the_migration():
    module = importlib.import_module("leads.migrations.0004_email_normalised")

    assert module.normalise_leniently("Ana@Bücher.de") == "ana@xn--bcher-kva.de"
    # A domain stored before validation refused it still gets one form.
    assert module.normalise_leniently("Ana@xn--zz.de") == "ana@xn--zz.de"


def _idna_answer(domain: str) -> str | None:
    import idna

    try:
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None


ascii_labels = st.text("aZz09-_x. ", min_size=0, max_size=8) | st.sampled_from(
    ["xn--bcher-kva", "ab--cd", "-a", "a-", "a" * 63, "a" * 64, "XN--P1AI", "a.", ""]
)


@example(domain="a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61)  # 253 characters
@example(domain="a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62)  # 254
@settings(deadline=None)
@given(domain=st.lists(ascii_labels, min_size=1, max_size=4).map(".".join))
def test_an_ascii_domain_encodes_as_the_idna_package_encodes_it(domain):
    """The ASCII shortcut of _domain answers what idna answers, or refuses what it refuses."""
    from leads.emails import _domain

    _domain.cache_clear()
    expected = _idna_answer(domain.replace("\u0130", "i"))
    if expected is None:
        with pytest.raises(InvalidEmail):
            _domain(domain)
    else:
        assert _domain(domain) == expected
