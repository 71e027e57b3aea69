"""The fault suite: kill -9 real workers mid-job, stop the broker mid-traffic, run periodic jobs
twice at once and race sign-offs, then count what was lost or doubled.

Each scenario adds a row to the fault table printed at the end of the run, and fails on any
loss or double. `make test-faults` runs it (see conftest.py for what it needs).
"""

import email
import importlib.util
import re
import threading
import time
from collections import Counter
from datetime import timedelta
from functools import cache

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import Count, JSONField
from django.utils import timezone

from agreements import models as am
from agreements import services as sla
from agreements.scoring import Activity, score_lead
from agreements.selectors import qualification_rules
from leads.models import (
    Handoff,
    ImportJob,
    Lead,
    LeadEvent,
    Notification,
    ScoringMark,
    StageChange,
)

from .harness import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SWEEP = "leads.tasks.sweep_stuck_work"
HAS_OUTBOX = importlib.util.find_spec("slaportal.outbox") is not None
DELIVER = ["slaportal.tasks.deliver_outbox"] if HAS_OUTBOX else []


# Data in bulk, with SQL: the scenarios need tens of thousands of rows in seconds ------------


def _insert(model, overrides: dict[str, str], source: str, params=()) -> int:
    """INSERT ... SELECT with a SQL expression per overridden column and each other column's
    model default, so the statement keeps working when columns are added."""
    columns, values, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in overrides:
            values.append(overrides[field.name])
        elif isinstance(field, JSONField):
            values.append("'{}'::jsonb")
        elif field.null and not field.has_default():
            values.append("NULL")
        else:
            values.append("%s")
            defaults.append(field.get_db_prep_save(field.get_default(), connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*defaults, *params])
        return cursor.rowcount


def insert_leads(count: int, *, prefix: str = "p", needs_scoring: bool, **overrides) -> int:
    """Leads p1..pN@example.com: every second one a director, sizes spread over 0-199."""
    columns = {
        "email": f"'{prefix}' || g || '@example.com'",
        # Already in the canonical form leads.emails.email_normalise gives (ASCII, lower).
        "email_normalised": f"'{prefix}' || g || '@example.com'",
        "title": "CASE WHEN g %% 2 = 0 THEN 'IT Director' ELSE 'Analyst' END",
        "company_size": "(g * 37) %% 200",
        "needs_scoring": "true" if needs_scoring else "false",
        "created_at": "now() - interval '2 days'",
        "updated_at": "now() - interval '2 days'",
        "lead_at": "now() - interval '2 days'",
        **overrides,
    }
    return _insert(Lead, columns, "FROM generate_series(1, %s) g", [count])


def insert_events() -> int:
    """0-2 pricing page views per lead, and a demo request for every seventh lead."""
    day = "EXTRACT(EPOCH FROM now() - interval '1 day') / 86400"
    common = {
        "occurred_at": "now() - interval '1 day'",
        "occurred_day": day,
        "received_at": "now() - interval '1 day'",
    }
    views = _insert(
        LeadEvent,
        {"lead": "l.id", "type": "'pricing_page_view'", **common},
        "FROM leads_lead l, generate_series(1, l.id %% 3) n",
    )
    demos = _insert(
        LeadEvent,
        {"lead": "l.id", "type": "'demo_request'", **common},
        "FROM leads_lead l WHERE l.id %% 7 = 0",
    )
    return views + demos


def expected_scores(version) -> dict[int, tuple[int, int, bool]]:
    """What a clean run gives each lead: the pure scoring core, once per distinct input."""
    fit_rules, interest_rules, thresholds = qualification_rules(version=version)
    events = Counter(LeadEvent.objects.values_list("lead_id", "type"))
    now = timezone.now()

    @cache
    def score(title, size, views, demos):
        activities = [Activity("pricing_page_view", now)] * views
        activities += [Activity("demo_request", now)] * demos
        result = score_lead(
            attributes={"title": title, "company_size": size},
            activities=activities,
            fit_rules=fit_rules,
            interest_rules=interest_rules,
            thresholds=thresholds,
            now=now,
        )
        return result.fit, result.interest, result.is_mql

    return {
        pk: score(title, size, events[(pk, "pricing_page_view")], events[(pk, "demo_request")])
        for pk, title, size in Lead.objects.values_list("pk", "title", "company_size")
    }


def mails(maildir) -> list[tuple[str, str, str]]:
    """(recipient, subject, Message-ID) of every message the file-based backend wrote."""
    found = []
    for path in sorted(maildir.iterdir()):
        for chunk in path.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk)
            subject = re.sub(r"\s+", " ", str(message["Subject"] or ""))
            found.append((str(message["To"]), subject, str(message["Message-ID"])))
    return found


def mail_doubles(found) -> tuple[int, int]:
    """(doubles, resent copies): a double is a second message about the same notice under a
    new Message-ID; a resent copy repeats the Message-ID (the outbox sends e-mail at least
    once, and receivers drop a repeated Message-ID)."""
    per_notice = Counter((to, subject) for to, subject, _ in found)
    per_id = Counter(found)
    distinct_ids = Counter((to, subject) for to, subject, _ in per_id)
    doubles = sum(n - 1 for n in distinct_ids.values())
    resent = sum(per_notice.values()) - sum(distinct_ids.values())
    return doubles, resent


# (a) kill -9 mid-rescore --------------------------------------------------------------------

RESCORE_LEADS = 20_000


def test_a_rescore_killed_mid_run_scores_every_lead_once(
    publish_sla, workers, send, pump, fault_table
):
    version = publish_sla()
    insert_leads(RESCORE_LEADS, needs_scoring=False)
    insert_events()
    expected = expected_scores(version)
    worker = workers("rescore-1")
    started = timezone.now()

    send("leads.tasks.rescore_all_leads")
    rescored = Lead.objects.filter(needs_scoring=False, scored_at__gte=started)
    wait_until(rescored.exists, timeout=90, interval=0.05, what="the first committed batch")
    before_kill = rescored.count()
    worker.kill_pool()
    time.sleep(0.5)
    worker.kill()  # and the whole worker: its message may be gone for the visibility timeout

    workers("rescore-2")
    pump(
        lambda: (
            not Lead.objects.filter(needs_scoring=True).exists()
            and rescored.count() == RESCORE_LEADS
        ),
        tasks=[SWEEP],
        timeout=120,
        what="every lead rescored",
    )

    rows = Lead.objects.values_list("pk", "fit_score", "interest_score", "score", "stage")
    right = sum(
        1
        for pk, fit, interest, total, stage in rows
        if (fit, interest, stage == "mql") == expected[pk] and total == fit + interest
    )
    promoted = Counter(StageChange.objects.filter(to_stage="mql").values_list("lead_id", flat=True))
    doubled = sum(count - 1 for count in promoted.values())
    lost = RESCORE_LEADS - right + (RESCORE_LEADS - rescored.count())
    fault_table.add(
        "(a) kill -9 mid-rescore",
        expected=RESCORE_LEADS,
        got=right,
        lost=lost,
        doubled=doubled,
        note=f"killed after {before_kill:,} leads",
    )
    assert (lost, doubled) == (0, 0)
    assert before_kill < RESCORE_LEADS, "the rescore finished before the kill"


# (b) kill -9 mid-import ---------------------------------------------------------------------

IMPORT_ROWS = 20_000


def test_b_an_import_killed_mid_run_stores_every_row_once(
    publish_sla, people, workers, pump, fault_table
):
    from leads.services.imports import import_create

    publish_sla()
    at = (timezone.now() - timedelta(hours=2)).isoformat()
    content = "email,type,occurred_at,external_id\n" + "".join(
        f"i{n % 4000}@example.com,pricing_page_view,{at},imp-{n}\n" for n in range(IMPORT_ROWS)
    )
    worker = workers("import-1")

    job, _ = import_create(
        kind="events", filename="big.csv", content=content, by=people["marketing"]
    )
    jobs = ImportJob.objects.filter(pk=job.pk)
    wait_until(
        lambda: jobs.filter(status="importing").exists(),
        timeout=120,
        interval=0.05,
        what="the import to start storing",
    )
    time.sleep(0.5)
    state_at_kill = jobs.values_list("status", flat=True).get()
    worker.kill_pool()
    time.sleep(0.5)
    worker.kill()

    workers("import-2")
    pump(
        lambda: jobs.filter(status__in=["done", "failed"]).exists(),
        tasks=[SWEEP],
        timeout=150,
        what="the import to finish",
    )

    job.refresh_from_db()
    stored = LeadEvent.objects.filter(external_id__startswith="imp-")
    count, distinct = stored.count(), stored.values("external_id").distinct().count()
    fault_table.add(
        "(b) kill -9 mid-import",
        expected=IMPORT_ROWS,
        got=distinct,
        lost=IMPORT_ROWS - distinct,
        doubled=count - distinct,
        note=f"killed while {state_at_kill}; {job.status} after {job.attempts} attempts",
    )
    assert job.status == "done", job.errors
    assert (IMPORT_ROWS - distinct, count - distinct) == (0, 0)


# (c) kill -9 mid-breach-notification --------------------------------------------------------

BREACHES = 1_000


def _overdue_handoffs(version, reps) -> int:
    insert_leads(BREACHES, prefix="b", needs_scoring=False, status="'handed_off'")
    past = "now() - interval '3 hours'"
    return _insert(
        Handoff,
        {
            "lead": "l.id",
            "rep": f"(ARRAY[{', '.join(str(rep.pk) for rep in reps)}])[1 + l.id %% {len(reps)}]",
            "version": str(version.pk),
            "trigger": "'score'",
            "handed_off_at": "now() - interval '1 day'",
            "at_risk_at": past,
            "due_at": past,
            "accept_due_at": past,
        },
        "FROM leads_lead l WHERE l.email LIKE 'b%%'",
    )


@pytest.mark.skipif(
    not HAS_OUTBOX, reason="needs the outbox (slaportal.outbox) being built on main; merge it"
)
def test_c_breach_notices_killed_mid_run_are_told_exactly_once(
    publish_sla, people, workers, send, pump, maildir, fault_table
):
    version = publish_sla()
    _overdue_handoffs(version, people["reps"])
    worker = workers("breach-1")

    send("leads.tasks.flag_breaches")
    send(*DELIVER)
    wait_until(
        lambda: len(mails(maildir)) >= 200,
        timeout=150,
        interval=0.05,
        what="the first 200 e-mails",
    )
    told_before_kill = len(mails(maildir))
    worker.kill_pool()
    time.sleep(0.5)
    worker.kill()

    workers("breach-2")
    recipients = 2  # the rep and the sales manager, in the app and by e-mail
    pump(
        lambda: (
            Notification.objects.filter(key__startswith="breach:").count() >= BREACHES * recipients
            and len(mails(maildir)) >= BREACHES * recipients
        ),
        tasks=["leads.tasks.flag_breaches", *DELIVER, SWEEP],
        timeout=150,
        what="every breach told",
    )
    time.sleep(3)  # anything still in flight would show up as a double now

    notices = Counter(
        Notification.objects.filter(key__startswith="breach:").values_list("user_id", "key")
    )
    found = mails(maildir)
    mail_doubled, resent = mail_doubles(found)
    told_by_mail = len({(to, subject) for to, subject, _ in found if "breached" in subject})
    breached = Handoff.objects.filter(status="breached").count()
    expected = BREACHES * recipients * 2  # in-app and e-mail
    got = len(notices) + told_by_mail
    doubled = sum(n - 1 for n in notices.values()) + mail_doubled
    fault_table.add(
        "(c) kill -9 mid-breach notices",
        expected=expected,
        got=got,
        lost=expected - got,
        doubled=doubled,
        note=f"killed after {told_before_kill:,} e-mails; {resent} resent with the same id",
    )
    assert breached == BREACHES
    assert (expected - got, doubled) == (0, 0)


# (d) the broker stops and restarts while events arrive --------------------------------------

API_BATCHES = 90
PER_BATCH = 10


def _post_with_retries(client, batch) -> tuple[bool, int]:
    """POST like a well-behaved client: retry the same batch on 5xx, 429 or a broken
    connection. Returns (accepted, how many tries)."""
    for attempt in range(1, 8):
        try:
            response = client.post("/api/v1/events/", batch, format="json")
        except Exception:  # noqa: BLE001 - a dropped connection, seen by a real client
            time.sleep(0.2)
            continue
        if response.status_code in (200, 201):
            return True, attempt
        if response.status_code >= 500 or response.status_code == 429:
            time.sleep(0.2)
            continue
        raise AssertionError(f"refused: {response.status_code} {response.content[:300]}")
    return False, attempt


def test_d_events_posted_while_the_broker_restarts_are_stored_once_and_scored(
    publish_sla, people, workers, pump, redis_server, fault_table
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    publish_sla()
    workers("api-1")
    client = APIClient(raise_request_exception=True)
    token = Token.objects.create(user=people["integration"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    at = (timezone.now() - timedelta(minutes=30)).isoformat()
    accepted, retried = set(), 0
    try:
        for number in range(API_BATCHES):
            if number == API_BATCHES // 3:
                redis_server.stop()
            if number == 2 * API_BATCHES // 3:
                redis_server.start()
            batch = [
                {
                    "email": f"api{number}-{item}@example.com",
                    "type": "pricing_page_view",
                    "occurred_at": at,
                    "external_id": f"api-{number}-{item}",
                }
                for item in range(PER_BATCH)
            ]
            ok, tries = _post_with_retries(client, batch)
            retried += tries - 1
            if ok:
                accepted.update(event["external_id"] for event in batch)
    finally:
        if redis_server.process is None:
            redis_server.start()

    api_leads = Lead.objects.filter(email__startswith="api")
    pump(
        lambda: (
            not ScoringMark.objects.exists() and not api_leads.filter(needs_scoring=True).exists()
        ),
        tasks=[SWEEP],
        timeout=120,
        what="every posted lead scored",
    )
    stored = LeadEvent.objects.filter(external_id__startswith="api-")
    count, distinct = stored.count(), stored.values("external_id").distinct().count()
    unscored = api_leads.exclude(interest_score=5).count()
    sent = API_BATCHES * PER_BATCH
    fault_table.add(
        "(d) broker restart mid-POSTs",
        expected=sent,
        got=distinct,
        lost=(sent - len(accepted)) + (len(accepted) - distinct) + unscored,
        doubled=count - distinct,
        note=f"{len(accepted):,} accepted, {retried} retries, {unscored} unscored",
    )
    assert len(accepted) == sent
    assert (distinct, count, unscored) == (sent, sent, 0)


# (e) two beat schedulers: every periodic job sent twice at once ------------------------------

HANDOFF_LEADS = 300


def test_e_periodic_jobs_sent_twice_at_once_do_their_work_once(
    publish_sla, people, workers, send, pump, maildir, fault_table
):
    publish_sla(trigger_on_score=True)
    # Directors of companies over 50 with a demo request: every one qualifies and is handed off.
    insert_leads(
        HANDOFF_LEADS,
        needs_scoring=True,
        title="'IT Director'",
        company_size="100",
    )
    _insert(
        LeadEvent,
        {
            "lead": "l.id",
            "type": "'demo_request'",
            "occurred_at": "now() - interval '1 hour'",
            "occurred_day": "EXTRACT(EPOCH FROM now() - interval '1 hour') / 86400",
            "received_at": "now() - interval '1 hour'",
        },
        "FROM leads_lead l",
    )
    workers("beat-a", concurrency=2)
    workers("beat-b", concurrency=2)

    for _ in range(2):  # two schedulers, each sending the job
        send("leads.tasks.score_new_activity")
        send("leads.tasks.score_new_activity")
    pump(
        lambda: Handoff.objects.values("lead").distinct().count() >= HANDOFF_LEADS,
        tasks=DELIVER,
        timeout=120,
        what="every lead handed off",
    )
    # Now every handoff is overdue; two schedulers flag breaches at the same moment.
    Handoff.objects.update(
        at_risk_at=timezone.now() - timedelta(hours=2), due_at=timezone.now() - timedelta(hours=1)
    )
    for _ in range(2):
        send("leads.tasks.flag_breaches")
        send("leads.tasks.flag_breaches")
    pump(
        lambda: Notification.objects.filter(key__startswith="breach:").count() >= 2 * HANDOFF_LEADS,
        tasks=DELIVER,
        timeout=120,
        what="every breach told",
    )
    time.sleep(3)  # a double still in flight would land now

    handoffs = Handoff.objects.count()
    handed = Handoff.objects.values("lead").distinct().count()
    promotions = StageChange.objects.filter(to_stage="mql")
    promoted = promotions.values("lead").distinct().count()
    breach_notices = Notification.objects.filter(key__startswith="breach:")
    told = breach_notices.values("user", "key").distinct().count()
    mail_doubled, _ = mail_doubles([m for m in mails(maildir) if "breached" in m[1]])
    doubled = (
        (handoffs - handed)
        + (promotions.count() - promoted)
        + (breach_notices.count() - told)
        + mail_doubled
    )
    expected = 3 * HANDOFF_LEADS  # handed off, told the rep, told the manager
    got = handed + told
    fault_table.add(
        "(e) two schedulers at once",
        expected=expected,
        got=got,
        lost=expected - got,
        doubled=doubled,
        note=f"{handoffs:,} handoffs, {breach_notices.count():,} breach notices",
    )
    assert (expected - got, doubled) == (0, 0)


# (f) approve racing reopen and resubmit ------------------------------------------------------

TRIES = 25


def _race(*actions) -> list[BaseException | None]:
    barrier = threading.Barrier(len(actions))
    outcomes: list[BaseException | None] = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=30)
            action()
        except (ValidationError, Exception) as error:  # noqa: BLE001 - counted by the test
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _unpublished(version) -> bool:
    """Logged as published, yet no longer published: the defect this race used to cause."""
    version.refresh_from_db()
    logged = version.events.filter(kind=am.VersionEvent.Kind.PUBLISHED).exists()
    return logged and version.status != am.AgreementVersion.Status.PUBLISHED


def test_f_approve_racing_reopen_and_resubmit_never_unpublishes(publish_sla, people, fault_table):
    marketing, sales = people["marketing"], people["sales"]
    agreement = publish_sla().agreement
    unpublished = 0
    for attempt in range(2 * TRIES):
        draft = sla.amendment_start(agreement=agreement, by=marketing, note=f"try {attempt}")
        sla.version_submit(version=draft, by=marketing, change_note=f"try {attempt}")
        sla.version_approve(version=draft, by=marketing, side="marketing")

        def reopen(draft=draft, resubmit=attempt % 2):
            sla.version_reopen(version=draft, by=marketing)
            if resubmit:
                sla.version_submit(version=draft, by=marketing, change_note="resubmit")

        _race(
            lambda draft=draft: sla.version_approve(version=draft, by=sales, side="sales"), reopen
        )
        unpublished += _unpublished(draft)
        draft.refresh_from_db()
        # Leave no open draft for the next try: finish the sign-off.
        if draft.status != am.AgreementVersion.Status.PUBLISHED:
            if draft.status == am.AgreementVersion.Status.DRAFT:
                sla.version_submit(version=draft, by=marketing, change_note="again")
            draft.refresh_from_db()
            if draft.marketing_approved_at is None:
                sla.version_approve(version=draft, by=marketing, side="marketing")
            draft.refresh_from_db()
            if draft.status != am.AgreementVersion.Status.PUBLISHED:
                sla.version_approve(version=draft, by=sales, side="sales")
    numbers = Counter(
        agreement.versions.filter(status="published").values_list("number", flat=True)
    )
    reused = sum(n - 1 for n in numbers.values())
    published = agreement.versions.filter(status="published").annotate(n=Count("pk")).count()
    fault_table.add(
        "(f) approve vs reopen/resubmit",
        expected=2 * TRIES + 1,
        got=published,
        lost=unpublished,
        doubled=reused,
        note=f"{2 * TRIES} races ({TRIES} reopen, {TRIES} reopen+resubmit)",
    )
    assert (unpublished, reused) == (0, 0)
    assert published == 2 * TRIES + 1
