"""A workspace at scale, generated straight into the app's tables (`manage.py seed_scale`).

It sits on top of `load_demo` (its users, reps, agreement and version in force) and adds N
leads with M scored events over the last twelve months, their stage history and stage columns,
handoffs (returned, accepted, and a few still open: fresh, at risk, overdue and worked), contact
attempts, a few reassignments, nurture enrolments and daily visitor counts.

On PostgreSQL everything is a handful of INSERT … SELECT over generate_series, driven by a
temporary plan table of one row per lead, so 1 M leads and 10 M events take minutes. Each
"random" choice is a hash of the row number (hashint8), so a seed of a given size is the same
every time. On SQLite (the tests, small sizes) a Python path writes the same shapes with
bulk_create.

The data is shaped so that the project's own jobs find the work a real workspace gives them,
and not an artificial flood:
- conversion events (the handoff policy's trigger events) happen only to leads that were
  handed off, just before their handoff, so a full rescore does not hand off the whole base;
- never-handed-off leads do only low-value things (page views, e-mails, downloads), so a
  rescore promotes a handful of them, as in life;
- every never-handed-off lead already went through the "below MQL" nurture track (active for
  the recent ones, completed for the rest), as the scoring job would have enrolled it;
- stored scores are plausible but not the rules' exact answer, so a rescore has rows to write.

Deadlines (at risk, due, accept) are wall-clock approximations of the business-hours ones
(3 h, 4 h and 24 h after the handoff), which is all the hot paths care about.

Seeded leads are recognised by their e-mail domain (…@coN.scale.example): counting them tells
the bench which scale is loaded, and `--reset` deletes them with everything hanging off them.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from agreements.models import (
    AgreementVersion,
    DispositionCode,
    EventType,
    HandoffPolicy,
    InterestRule,
    NurtureStep,
    NurtureTrack,
    ReturnReason,
)
from leads.emails import email_normalise
from leads.models import (
    ContactAttempt,
    Handoff,
    HandoffAssignment,
    Lead,
    LeadEvent,
    NurtureEnrollment,
    Stage,
    StageChange,
)
from leads.services.scopes import leads_resolve

DOMAIN = "scale.example"
EMAIL_LIKE = f"%@%.{DOMAIN}"
DAYS = 365

# A lead's category: a uniform draw r in [0, 10000) against these bounds.
PLAIN_END = 8900  # never handed off (89 %)
RETURNED_END = 9300  # handed off and returned by sales (4 %)
ACTIVE_END = 9330  # with sales now, the rep queues (0.3 %)
SQL_END = 9800  # accepted: SQL (4.7 %)
OPPORTUNITY_END = 9940  # … opportunity (1.4 %); above: customer (0.6 %)
NURTURE_DAYS = 19  # the demo's education track lasts about this long
UNSUBSCRIBE_ONE_IN = 50  # of the never-handed-off leads

SOURCES = {"website": 35, "webinar": 20, "paid search": 20, "referral": 10, "event": 15}
COUNTRIES = {"BR": 40, "US": 20, "PT": 10, "MX": 10, "DE": 8, "AR": 5, "ES": 4, "GB": 3}
INDUSTRIES = {
    "software": 15,
    "saas": 15,
    "fintech": 10,
    "retail": 12,
    "education": 10,
    "healthcare": 10,
    "manufacturing": 10,
    "logistics": 8,
    "agency": 10,
}
# 0 stands for "unknown" (NULL): badge scans and bought lists often lack the size.
COMPANY_SIZES = {
    0: 8,
    3: 8,
    8: 8,
    15: 9,
    30: 10,
    60: 10,
    120: 10,
    180: 8,
    250: 9,
    400: 8,
    800: 6,
    1500: 4,
    4000: 2,
}
TITLES = {
    "Marketing Director": 6,
    "Sales Director": 4,
    "VP Marketing": 3,
    "Head of Growth": 3,
    "CEO": 3,
    "Marketing Manager": 10,
    "Sales Manager": 8,
    "Demand Generation Manager": 5,
    "Product Marketing Manager": 5,
    "Marketing Analyst": 12,
    "Analyst": 10,
    "Marketing Coordinator": 8,
    "Sales Development Representative": 8,
    "Consultant": 8,
    "Student": 7,
}
FIRST_NAMES = [
    "Ana",
    "Bruno",
    "Camila",
    "Carlos",
    "Daniela",
    "Eduardo",
    "Emily",
    "Michael",
    "Sarah",
    "Ines",
    "Tiago",
    "Lukas",
    "Anna",
    "Diego",
    "Lucia",
    "Oliver",
]
LAST_NAMES = [
    "Silva",
    "Souza",
    "Costa",
    "Lima",
    "Pereira",
    "Johnson",
    "Miller",
    "Davis",
    "Fonseca",
    "Marques",
    "Garcia",
    "Lopez",
    "Muller",
    "Schmidt",
    "Smith",
    "Jones",
]
# What never-handed-off leads do, and what engaged ones do (conversions come separately).
PLAIN_MIX = {
    "page_view": 50,
    "email_open": 25,
    "email_click": 9,
    "form_submit": 6,
    "content_download": 8,
    "pricing_page_view": 1,
    "webinar_attended": 1,
}
ENGAGED_MIX = {
    "page_view": 35,
    "email_open": 15,
    "email_click": 10,
    "pricing_page_view": 15,
    "content_download": 12,
    "webinar_attended": 8,
    "form_submit": 5,
}
PROPERTIES = {  # event type: (property key, values)
    "page_view": (
        "path",
        [
            "/",
            "/product",
            "/product/lead-scoring",
            "/integrations",
            "/blog/what-is-an-mql",
            "/case-studies",
            "/case-studies/nimbus",
        ],
    ),
    "pricing_page_view": ("path", ["/pricing"]),
    "content_download": (
        "asset",
        ["E-book: The B2B revenue playbook", "Template: a sales-marketing SLA"],
    ),
    "webinar_attended": (
        "webinar",
        ["Lead scoring that sales trusts", "From MQL to revenue: a live teardown"],
    ),
    "email_open": ("campaign", ["monthly-newsletter", "webinar-invite", "product-update"]),
    "email_click": ("campaign", ["monthly-newsletter", "webinar-invite", "product-update"]),
    "form_submit": ("form", ["website", "paid-search", "referral", "event"]),
    "demo_request": ("form", ["demo-request"]),
    "contact_sales": ("form", ["contact-sales"]),
    "unsubscribe": ("campaign", ["monthly-newsletter"]),
}
CHANNELS = ["phone", "email", "phone", "email", "video"]


@dataclass
class SeedSummary:
    leads: int
    events: int
    handoffs: int
    stage_changes: int
    attempts: int
    seconds: float
    method: str


@dataclass(frozen=True)
class _Workspace:
    """What the seed hangs off: the demo's version in force, its people and its codes."""

    version: AgreementVersion
    reps: list[int]
    manager: int
    track: int | None
    step: int | None
    conversions: list[str]
    silent_code: str
    talk_code: str
    talk_is_conversation: bool
    return_codes: list[str]
    extra_types: list[str]


def _weighted(weights: dict, size: int = 100) -> list:
    """The keys repeated in proportion to their weights: indexing it uniformly draws one."""
    total = sum(weights.values())
    items = []
    for key, weight in weights.items():
        items += [key] * max(1, round(size * weight / total))
    return items


def _workspace(now: datetime) -> _Workspace:
    from leads.services.handoffs import active_reps
    from leads.services.pipeline import current_version

    version = current_version(now)
    if version is None:
        raise RuntimeError("No SLA version in force: run `manage.py load_demo` first.")
    reps = list(active_reps().order_by("pk").values_list("pk", flat=True))
    if not reps:
        raise RuntimeError("No active sales rep: run `manage.py load_demo` first.")
    policy = HandoffPolicy.objects.get(version=version)
    conversions = [t for t in policy.trigger_events if t] or [EventType.DEMO_REQUEST.value]
    codes = list(DispositionCode.objects.filter(version=version).order_by("position", "id"))
    silent = next((c.code for c in codes if not c.is_conversation), "no_answer")
    talk = next((c for c in codes if c.is_conversation), None)
    track = (
        NurtureTrack.objects.filter(version=version, entry_condition=NurtureTrack.Entry.BELOW_MQL)
        .order_by("position", "id")
        .first()
    )
    step = NurtureStep.objects.filter(track=track).order_by("position", "id").first()
    rule_types = set(InterestRule.objects.values_list("event_type", flat=True))
    known = {*PLAIN_MIX, *ENGAGED_MIX, *conversions, EventType.UNSUBSCRIBE.value}
    return _Workspace(
        version=version,
        reps=reps,
        manager=version.agreement.sales_manager_id,
        track=track.pk if track else None,
        step=step.pk if step else None,
        conversions=conversions,
        silent_code=silent,
        talk_code=talk.code if talk else "connected",
        talk_is_conversation=bool(talk),
        return_codes=list(
            ReturnReason.objects.filter(version=version).values_list("code", flat=True)
        )
        or ["not_ready"],
        # Custom types some rule scores: engaged leads do them now and then.
        extra_types=sorted(rule_types - known),
    )


def _version_backdate(version: AgreementVersion, start: datetime) -> None:
    """Put the version in force before the first seeded lead: every seeded handoff names it,
    and a lead is measured against the version in force at its own moment. (The demo does the
    same for its ninety days; no service moves a published version's dates, on purpose.)"""
    AgreementVersion.objects.filter(pk=version.pk, effective_at__gt=start).update(
        effective_at=start, published_at=start
    )


# --- what is seeded now ------------------------------------------------------------------


def seeded_counts() -> tuple[int, int]:
    """(seeded leads, events of seeded leads): how the bench knows which scale is loaded."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), MIN(id), MAX(id) FROM leads_lead WHERE email_normalised LIKE %s",
            [EMAIL_LIKE],
        )
        leads, low, high = cursor.fetchone()
        if not leads:
            return 0, 0
        cursor.execute(
            "SELECT COUNT(*) FROM leads_leadevent WHERE lead_id BETWEEN %s AND %s", [low, high]
        )
        return leads, cursor.fetchone()[0]


def seed_reset() -> int:
    """Delete the seeded leads and everything hanging off them; returns how many leads.

    Raw deletes in dependency order: the ORM would load a million rows to cascade. Visitor
    counts are upserted by the seed, not owned by it, and stay.
    """
    seeded = "SELECT id FROM leads_lead WHERE email_normalised LIKE %s"
    handoffs = f"SELECT id FROM leads_handoff WHERE lead_id IN ({seeded})"
    statements = [
        f"DELETE FROM leads_contactattempt WHERE handoff_id IN ({handoffs})",
        f"DELETE FROM leads_handoffassignment WHERE handoff_id IN ({handoffs})",
        f"DELETE FROM leads_handoff WHERE lead_id IN ({seeded})",
        f"DELETE FROM leads_stagechange WHERE lead_id IN ({seeded})",
        f"DELETE FROM leads_leadevent WHERE lead_id IN ({seeded})",
        f"DELETE FROM leads_nurtureenrollment WHERE lead_id IN ({seeded})",
        f"DELETE FROM leads_notification WHERE lead_id IN ({seeded})",
        f"DELETE FROM leads_scoringmark WHERE lead_id IN ({seeded})",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [EMAIL_LIKE])
        cursor.execute("DELETE FROM leads_lead WHERE email_normalised LIKE %s", [EMAIL_LIKE])
        return cursor.rowcount


def seed_scale(*, leads: int, events: int, now: datetime | None = None, method: str = "auto"):
    """Seed `leads` leads and exactly `events` events; returns a SeedSummary.

    method: "sql" (PostgreSQL only), "python" (any database, small sizes) or "auto".
    """
    now = now or timezone.now()
    if method == "auto":
        method = "sql" if connection.vendor == "postgresql" else "python"
    if method == "sql" and connection.vendor != "postgresql":
        raise RuntimeError("The set-based seed runs on PostgreSQL; use the python method.")
    if seeded_counts()[0]:
        raise RuntimeError("A seeded workspace is already loaded: seed with --reset.")
    if events < 0 or leads < 1:
        raise ValueError("Seed at least one lead and no negative number of events.")
    workspace = _workspace(now)
    _version_backdate(workspace.version, now - timedelta(days=DAYS + 2))
    started = time.monotonic()
    if method == "sql":
        counts = _seed_sql(workspace, leads, events, now)
    else:
        counts = _seed_python(workspace, leads, events, now)
    return SeedSummary(**counts, seconds=round(time.monotonic() - started, 1), method=method)


# --- PostgreSQL: set-based ---------------------------------------------------------------

U32 = 4294967296


def _h(expr: str, salt: int) -> str:
    """SQL for a uniform integer in [0, 2^32) drawn from the row number `expr`."""
    return f"(hashint8(({expr})::bigint * 64 + {salt})::bigint + 2147483648)"


def _secs(expr: str) -> str:
    return f"make_interval(secs => ({expr})::double precision)"


def _plan_sql() -> str:
    r, h2, h3, h4, h5, h6 = (_h("g", salt) for salt in range(1, 7))
    year, C = DAYS * 86400, "r >= %(returned_end)s AND r < %(active_end)s"
    return f"""
    CREATE TEMP TABLE seed_plan ON COMMIT DROP AS
    WITH drawn AS (
        SELECT g, %(lead_base)s + g AS id, {r} % 10000 AS r, {h2} AS h2, {h3} AS h3,
               {h4} AS h4, {h5} AS h5, {h6} AS h6
        FROM generate_series(1, %(n)s) g
    ), born AS (
        SELECT d.*,
            CASE WHEN r < %(plain_end)s THEN %(now)s - {_secs(f"h2 % {year}")}
                 WHEN {C} THEN %(now)s - interval '4 days' - {_secs(f"h2 % {year - 4 * 86400}")}
                 ELSE %(now)s - interval '30 days' - {_secs(f"h2 % {year - 30 * 86400}")}
            END AS created_at,
            CASE WHEN r < %(plain_end)s THEN 1 + h6 % 3 ELSE 4 + h6 % 13 END AS w,
            h4 % 10 AS bucket
        FROM drawn d
    ), handed AS (
        SELECT b.*,
            CASE WHEN r < %(plain_end)s THEN NULL
                 WHEN {C} THEN %(now)s - CASE
                     WHEN bucket < 2 THEN {_secs("h3 % 7200")}
                     WHEN bucket < 4 THEN interval '3 hours' + {_secs("h3 % 3000")}
                     WHEN bucket < 7 THEN interval '5 hours' + {_secs("h3 % 259200")}
                     ELSE interval '1 hour' + {_secs("h3 % 259200")} END
                 ELSE created_at + {_secs("h3 % 864000")}
            END AS mql_at,
            (SUM(w) OVER (ORDER BY g))::bigint AS cum
        FROM born b
    ), staged AS (
        SELECT h.*,
            CASE WHEN r >= %(active_end)s
                 THEN mql_at + interval '9 hours' + {_secs("h4 % 432000")} END AS sql_at,
            CASE WHEN r >= %(plain_end)s AND r < %(returned_end)s
                 THEN mql_at + interval '9 hours' + {_secs("h4 % 1209600")} END AS returned_at,
            ((cum - w) * %(m)s) / %(total_w)s AS ev_start,
            (cum * %(m)s) / %(total_w)s - ((cum - w) * %(m)s) / %(total_w)s AS c,
            (%(conversions)s::text[])[1 + h5 % cardinality(%(conversions)s::text[])] AS conv,
            %(reps)s::int[] AS reps
        FROM handed h
    )
    SELECT s.*,
        reps[1 + g % cardinality(reps)] AS rep_id,
        reps[1 + (g + 1) % cardinality(reps)] AS other_rep_id,
        CASE WHEN r >= %(opportunity_end)s THEN 'customer' WHEN r >= %(sql_end)s
             THEN 'opportunity' WHEN r >= %(active_end)s THEN 'sql'
             WHEN r >= %(returned_end)s THEN 'mql' ELSE 'lead' END AS stage,
        CASE WHEN r >= %(sql_end)s
             THEN LEAST(sql_at + interval '2 days' + {_secs("h5 % 518400")},
                        %(now)s - interval '2 minutes') END AS opp_at,
        r < %(plain_end)s AND h5 % %(unsub_one_in)s = 0 AND c >= 2 AS unsub,
        created_at + (%(now)s - created_at) * 0.9 AS unsub_at,
        CASE WHEN r >= %(plain_end)s AND r < %(returned_end)s AND h5 % 10 >= 3
                  OR r >= %(active_end)s
             THEN mql_at + interval '12 minutes' + {_secs("h5 % 28800")}
             WHEN {C} AND bucket >= 7 THEN mql_at + interval '10 minutes' + {_secs("h5 % 2700")}
        END AS ft
    FROM staged s
    """


def _seed_sql(ws: _Workspace, n: int, m: int, now: datetime) -> dict:
    types_plain = _weighted(PLAIN_MIX)
    types_engaged = _weighted(ENGAGED_MIX) + ws.extra_types
    with transaction.atomic(), connection.cursor() as cursor:
        # A lost seed is re-run, not recovered: skip the WAL flush at each commit.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("LOCK TABLE leads_lead, leads_leadevent IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM leads_lead")
        lead_base = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM leads_leadevent")
        event_base = cursor.fetchone()[0]
        params = {
            "n": n,
            "m": m,
            "now": now,
            "lead_base": lead_base,
            "event_base": event_base,
            "plain_end": PLAIN_END,
            "returned_end": RETURNED_END,
            "active_end": ACTIVE_END,
            "sql_end": SQL_END,
            "opportunity_end": OPPORTUNITY_END,
            "unsub_one_in": UNSUBSCRIBE_ONE_IN,
            "conversions": ws.conversions,
            "reps": ws.reps,
            "version": ws.version.pk,
            "agreement": ws.version.agreement_id,
            "manager": ws.manager,
        }
        # The total of the event weights, so the per-lead counts add up to exactly m.
        cursor.execute(
            _q(
                f"SELECT COALESCE(SUM(CASE WHEN {_h('g', 1)} % 10000 < %(plain_end)s "
                f"THEN 1 + {_h('g', 6)} % 3 ELSE 4 + {_h('g', 6)} % 13 END), 1) "
                "FROM generate_series(1, %(n)s) g"
            ),
            params,
        )
        params["total_w"] = int(cursor.fetchone()[0])
        cursor.execute(_q(_plan_sql()), params)
        _insert_leads(cursor, params)
        _insert_events(cursor, params, types_plain, types_engaged)
        _insert_history(cursor, params, ws)
        _insert_visitors(cursor, params, n, now)
        for table in ("leads_lead", "leads_leadevent"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        counts = _counts(cursor, lead_base)
        # Each lead governed by the agreement whose scope covers it, as ingestion would have
        # left it (issue 11): the enterprise-sized ones move to the enterprise agreement.
        leads_resolve(id_range=(lead_base, lead_base + n), now=now)
        # ON COMMIT DROP waits for the outermost commit; a seed inside a test's transaction
        # must not leave it to the next seed.
        cursor.execute("DROP TABLE seed_plan")
    # Outside the transaction: the planner must know the new sizes before anyone reads. On
    # PostgreSQL a bulk load is also vacuumed, as autovacuum would soon do: it sets the
    # visibility map that index-only scans need (the queue's and team view's partial index).
    # Not inside a transaction (a test's), where VACUUM cannot run.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in (
            "leads_lead",
            "leads_leadevent",
            "leads_stagechange",
            "leads_handoff",
            "leads_contactattempt",
            "leads_handoffassignment",
            "leads_nurtureenrollment",
            "kpis_visitorcount",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuum else f"ANALYZE {table}")
    return counts


def _insert_leads(cursor, p: dict) -> None:
    def pick(values: list, salt: int) -> str:
        p[f"pick{salt}"] = values
        return f"(%(pick{salt})s::text[])[1 + {_h('g', salt)} % {len(values)}]"

    sizes = [str(size) for size in _weighted(COMPANY_SIZES)]
    cursor.execute(
        _q(
            f"""
        INSERT INTO leads_lead (
            id, email, email_normalised, first_name, last_name, phone, title, company,
            company_size, industry, country, source, attributes, owner_id, stage, status,
            fit_score, interest_score, score, needs_scoring, scored_at, lead_at, mql_at, sql_at,
            opportunity_at, customer_at, deal_value, returned_at, scored_version_id,
            agreement_id, unsubscribed_at, created_at, updated_at)
        SELECT id, email, email, first_name, last_name, phone, title, company,
            NULLIF({pick(sizes, 20)}, '0')::int, {pick(list(_weighted(INDUSTRIES)), 21)},
            {pick(_weighted(COUNTRIES), 22)}, src,
            CASE WHEN src = 'paid search' THEN jsonb_build_object('utm_campaign', 'lead-scoring')
                 ELSE '{{}}'::jsonb END,
            CASE WHEN stage <> 'lead' THEN rep_id END, stage,
            CASE WHEN stage = 'mql' THEN 'handed_off' WHEN stage <> 'lead' THEN 'accepted'
                 WHEN returned_at IS NOT NULL THEN 'returned'
                 WHEN NOT unsub AND created_at > %(now)s - interval '{NURTURE_DAYS} days'
                 THEN 'nurturing' ELSE 'open' END,
            fit, interest, fit + interest, false, %(now)s - interval '1 day', created_at,
            mql_at, sql_at, opp_at, cust_at,
            CASE WHEN cust_at IS NOT NULL THEN 12000 + (g::bigint * 7919) % 24000 END,
            returned_at, %(version)s, %(agreement)s, CASE WHEN unsub THEN unsub_at END, created_at,
            GREATEST(created_at, mql_at, sql_at, opp_at, cust_at, returned_at)
        FROM (
            SELECT sp.*, 'lead' || g || '@co' || (g % 9973) || '.{DOMAIN}' AS email,
                {pick(FIRST_NAMES, 23)} AS first_name, {pick(LAST_NAMES, 24)} AS last_name,
                CASE WHEN {_h("g", 25)} % 4 = 0 THEN ''
                     ELSE '+55 11 9' || lpad(({_h("g", 25)} % 100000000)::text, 8, '0') END
                    AS phone,
                {pick(_weighted(TITLES), 26)} AS title, 'Company ' || (g % 20011) AS company,
                {pick(_weighted(SOURCES), 27)} AS src,
                CASE WHEN r < %(plain_end)s THEN ({_h("g", 28)} % 45)::int - 10
                     ELSE 20 + ({_h("g", 28)} % 40)::int END AS fit,
                CASE WHEN r < %(plain_end)s THEN ({_h("g", 29)} % 25)::int
                     ELSE 30 + ({_h("g", 29)} % 60)::int END AS interest,
                CASE WHEN r >= %(opportunity_end)s
                     THEN LEAST(opp_at + interval '7 days' + {_secs(_h("g", 30) + " % 1987200")},
                                %(now)s - interval '1 minute') END AS cust_at
            FROM seed_plan sp
        ) x
        """
        ),
        p,
    )


def _insert_events(cursor, p: dict, plain: list[str], engaged: list[str]) -> None:
    p["plain"], p["engaged"] = plain, engaged
    o = "(p.ev_start + k)"
    props = " ".join(
        f"WHEN '{etype}' THEN jsonb_build_object('{key}', "
        f"(ARRAY[{', '.join(_literal(v) for v in values)}])[1 + {_h('o', 12)} % {len(values)}])"
        for etype, (key, values) in PROPERTIES.items()
    )
    cursor.execute(
        _q(
            f"""
        INSERT INTO leads_leadevent (
            id, lead_id, type, occurred_at, occurred_day, properties, external_id, received_at)
        SELECT %(event_base)s + o, lead_id, type, occurred_at,
            EXTRACT(EPOCH FROM occurred_at)::double precision / 86400,
            CASE type {props} ELSE '{{}}'::jsonb END, NULL,
            LEAST(occurred_at + {_secs(_h("o", 13) + " % 300")}, %(now)s)
        FROM (
            SELECT {o} AS o, p.id AS lead_id,
                CASE WHEN k = 1 AND p.r >= %(plain_end)s THEN p.conv
                     WHEN p.unsub AND k = p.c THEN 'unsubscribe'
                     WHEN p.r >= %(plain_end)s
                     THEN (%(engaged)s::text[])[1 + {_h(o, 10)} % cardinality(%(engaged)s::text[])]
                     ELSE (%(plain)s::text[])[1 + {_h(o, 10)} % cardinality(%(plain)s::text[])]
                END AS type,
                CASE WHEN k = 1 AND p.r >= %(plain_end)s THEN p.mql_at - interval '2 minutes'
                     WHEN p.unsub AND k = p.c THEN p.unsub_at
                     ELSE p.created_at + (%(now)s - p.created_at) * ({_h(o, 11)} / {U32}.0)
                END AS occurred_at
            FROM seed_plan p CROSS JOIN LATERAL generate_series(1, p.c) k
        ) e
        """
        ),
        p,
    )


def _q(sql: str) -> str:
    """SQL written with % for modulo and %(name)s for parameters, as the driver wants it."""
    return sql.replace("%", "%%").replace("%%(", "%(")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _insert_history(cursor, p: dict, ws: _Workspace) -> None:
    p["return_codes"] = ws.return_codes
    p["track"], p["step"] = ws.track, ws.step
    p["silent"], p["talk"], p["talk_conv"] = ws.silent_code, ws.talk_code, ws.talk_is_conversation
    p["channels"] = CHANNELS
    returned = "r >= %(plain_end)s AND r < %(returned_end)s"
    sql = [
        # Stage history: creation for all, then the way each category went.
        f"""
        INSERT INTO leads_stagechange (lead_id, from_stage, to_stage, at, by_id, job, reason,
                                       version_id)
        SELECT id, '', 'lead', created_at, NULL::int, 'ingest', 'Created by its first activity',
            NULL::bigint
            FROM seed_plan
        UNION ALL SELECT id, 'lead', 'mql', mql_at, NULL, 'handoff',
            'Handed to sales: conversion event (' || conv || ')', %(version)s
            FROM seed_plan WHERE r >= %(plain_end)s
        UNION ALL SELECT id, 'mql', 'lead', returned_at, rep_id, '',
            'Returned by sales: ' || (%(return_codes)s::text[])[1 + h6 % cardinality(
                %(return_codes)s::text[])], %(version)s FROM seed_plan WHERE {returned}
        UNION ALL SELECT id, 'mql', 'sql', sql_at, rep_id, '', 'Accepted by sales', %(version)s
            FROM seed_plan WHERE r >= %(active_end)s
        UNION ALL SELECT id, 'sql', 'opportunity', opp_at, NULL, 'crm_sync',
            'Opportunity opened in the CRM', %(version)s FROM seed_plan WHERE r >= %(sql_end)s
        UNION ALL SELECT sp.id, 'opportunity', 'customer', l.customer_at, NULL, 'crm_sync',
            'Closed won in the CRM', %(version)s
            FROM seed_plan sp JOIN leads_lead l ON l.id = sp.id
            WHERE sp.r >= %(opportunity_end)s
        """,
        # Handoffs: one per lead that went to sales.
        f"""
        INSERT INTO leads_handoff (
            lead_id, rep_id, version_id, trigger, trigger_detail, handed_off_at, at_risk_at,
            due_at, accept_due_at, first_touch_at, response_business_minutes, status,
            breached_at, flag_claim, accepted_at, rejected_at, returned_at, return_reason,
            return_note, closed_by_id, response_rep_id, breach_rep_id, paused_business_minutes)
        SELECT id, rep_id, %(version)s, 'event', conv, mql_at, mql_at + interval '3 hours',
            due, mql_at + interval '24 hours', ft,
            (EXTRACT(EPOCH FROM ft - mql_at) / 60)::int,
            CASE WHEN {returned} THEN 'returned'
                 WHEN ft IS NULL THEN 'open' WHEN ft <= due THEN 'met' ELSE 'breached' END,
            CASE WHEN ft > due OR ({returned} AND ft IS NULL AND returned_at > due) THEN due END,
            NULL, sql_at,
            CASE WHEN {returned} AND h6 % 5 = 0 THEN returned_at END, returned_at,
            CASE WHEN {returned} THEN (%(return_codes)s::text[])[1 + h6 % cardinality(
                %(return_codes)s::text[])] ELSE '' END, '',
            CASE WHEN sql_at IS NOT NULL OR returned_at IS NOT NULL THEN rep_id END,
            CASE WHEN ft IS NOT NULL THEN rep_id END,
            CASE WHEN ft > due OR ({returned} AND ft IS NULL AND returned_at > due)
                 THEN rep_id END,
            0
        FROM (SELECT sp.*, mql_at + interval '4 hours' AS due FROM seed_plan sp
              WHERE r >= %(plain_end)s) x
        """,
        # Contact attempts: one to four per worked handoff, the last one a conversation
        # when sales accepted the lead.
        f"""
        INSERT INTO leads_contactattempt (handoff_id, channel, disposition, is_conversation,
                                          note, at, by_id, rep_id, direction, source,
                                          source_name)
        SELECT h.id, (%(channels)s::text[])[1 + {_h("h.id * 8 + k", 14)} % cardinality(
                %(channels)s::text[])],
            CASE WHEN h.accepted_at IS NOT NULL AND k = n THEN %(talk)s ELSE %(silent)s END,
            h.accepted_at IS NOT NULL AND k = n AND %(talk_conv)s, '',
            LEAST(h.first_touch_at + (k - 1) * interval '1 day',
                  COALESCE(h.accepted_at, h.returned_at, %(now)s)),
            h.rep_id, h.rep_id, 'outbound', 'app', ''
        FROM (SELECT h.*, 1 + {_h("h.id", 15)} % 4 AS n FROM leads_handoff h
              WHERE h.lead_id > %(lead_base)s AND h.first_touch_at IS NOT NULL) h
        CROSS JOIN LATERAL generate_series(1, n) k
        """,
        # A few handoffs were rebalanced by the sales manager soon after they were made.
        """
        INSERT INTO leads_handoffassignment (handoff_id, from_rep_id, to_rep_id, at, by_id,
                                             reason)
        SELECT h.id, sp.other_rep_id, sp.rep_id,
            LEAST(h.handed_off_at + interval '30 minutes', %(now)s), %(manager)s,
            'Rebalancing the queue'
        FROM leads_handoff h JOIN seed_plan sp ON sp.id = h.lead_id
        WHERE sp.r >= %(returned_end)s AND sp.h6 % 50 = 0 AND sp.other_rep_id <> sp.rep_id
        """,
    ]
    if ws.track and ws.step:
        # Every never-handed-off lead went through the below-MQL track, as the scoring job
        # enrols it: still in it when recent, done otherwise.
        sql.append(
            f"""
            INSERT INTO leads_nurtureenrollment (lead_id, track_id, next_step_id, steps_done,
                next_step_at, automatic, reason, by_id, enrolled_at, completed_at)
            SELECT id, %(track)s, CASE WHEN active THEN %(step)s END, CASE WHEN active THEN 0
                ELSE 4 END, CASE WHEN active THEN %(now)s + {_secs(_h("g", 16) + " % 604800")}
                END, true, 'New lead below the MQL threshold', NULL, created_at,
                CASE WHEN NOT active THEN LEAST(created_at + interval '{NURTURE_DAYS} days',
                                               %(now)s) END
            FROM (SELECT sp.*, NOT unsub AND created_at > %(now)s
                    - interval '{NURTURE_DAYS} days' AS active
                  FROM seed_plan sp WHERE r < %(plain_end)s) x
            """
        )
    for statement in sql:
        cursor.execute(_q(statement), p)


def _insert_visitors(cursor, p: dict, n: int, now: datetime) -> None:
    """Visitors per day and source, about 33 for every lead the source brings (3 %)."""
    total = sum(SOURCES.values())
    p["sources"] = list(SOURCES)
    p["shares"] = [weight / total for weight in SOURCES.values()]
    p["per_day"] = n / DAYS / 0.03
    p["today"] = timezone.localdate(now)
    cursor.execute(
        _q(
            f"""
        INSERT INTO kpis_visitorcount (day, source, visitors, updated_at)
        SELECT d::date, s.source,
            GREATEST(1, round(%(per_day)s * s.share
                * CASE WHEN EXTRACT(ISODOW FROM d) >= 6 THEN 0.4 ELSE 1.24 END
                * (0.85 + 0.3 * {_h("(d::date - date '2000-01-01') * 8 + s.i", 17)} / {U32}.0)
            ))::int, %(now)s
        FROM generate_series(%(today)s::date - {DAYS + 1}, %(today)s::date, interval '1 day') d
        CROSS JOIN unnest(%(sources)s::text[], %(shares)s::float8[]) WITH ORDINALITY
            AS s(source, share, i)
        ON CONFLICT (day, source) DO UPDATE
            SET visitors = EXCLUDED.visitors, updated_at = EXCLUDED.updated_at
        """
        ),
        p,
    )


def _counts(cursor, lead_base: int) -> dict:
    queries = {
        "leads": "SELECT COUNT(*) FROM leads_lead WHERE id > %s",
        "events": "SELECT COUNT(*) FROM leads_leadevent WHERE lead_id > %s",
        "handoffs": "SELECT COUNT(*) FROM leads_handoff WHERE lead_id > %s",
        "stage_changes": "SELECT COUNT(*) FROM leads_stagechange WHERE lead_id > %s",
        "attempts": "SELECT COUNT(*) FROM leads_contactattempt a JOIN leads_handoff h "
        "ON h.id = a.handoff_id WHERE h.lead_id > %s",
    }
    counts = {}
    for name, sql in queries.items():
        cursor.execute(sql, [lead_base])
        counts[name] = cursor.fetchone()[0]
    return counts


# --- any database: the same shapes through the ORM, for small sizes -----------------------


def _hp(value: int, salt: int) -> int:
    """A uniform integer in [0, 2^32) from a row number: the Python path's hashint8."""
    digest = hashlib.blake2b(f"{salt}:{value}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def _seconds(value: int) -> timedelta:
    return timedelta(seconds=value)


def _seed_python(ws: _Workspace, n: int, m: int, now: datetime) -> dict:
    """The set-based seed's shapes, row by row: categories, deadlines and event mixes match;
    the draws differ (blake2b instead of hashint8)."""
    year = DAYS * 86400
    sizes = _weighted(COMPANY_SIZES)
    pools = {
        "industry": _weighted(INDUSTRIES),
        "country": _weighted(COUNTRIES),
        "source": _weighted(SOURCES),
        "title": _weighted(TITLES),
    }
    plain, engaged = _weighted(PLAIN_MIX), _weighted(ENGAGED_MIX) + ws.extra_types
    plans = []
    for g in range(1, n + 1):
        r = _hp(g, 1) % 10000
        h2, h3, h4, h5, h6 = (_hp(g, salt) for salt in range(2, 7))
        if r < PLAIN_END:
            created = now - _seconds(h2 % year)
        elif RETURNED_END <= r < ACTIVE_END:
            created = now - timedelta(days=4) - _seconds(h2 % (year - 4 * 86400))
        else:
            created = now - timedelta(days=30) - _seconds(h2 % (year - 30 * 86400))
        bucket = h4 % 10
        mql = sql = opp = cust = returned = touch = None
        if RETURNED_END <= r < ACTIVE_END:
            mql = (
                now
                - [
                    _seconds(h3 % 7200),
                    timedelta(hours=3) + _seconds(h3 % 3000),
                    timedelta(hours=5) + _seconds(h3 % 259200),
                    timedelta(hours=1) + _seconds(h3 % 259200),
                ][0 if bucket < 2 else 1 if bucket < 4 else 2 if bucket < 7 else 3]
            )
            if bucket >= 7:
                touch = mql + timedelta(minutes=10) + _seconds(h5 % 2700)
        elif r >= PLAIN_END:
            mql = created + _seconds(h3 % 864000)
            if r < RETURNED_END:
                returned = mql + timedelta(hours=9) + _seconds(h4 % 1209600)
            else:
                sql = mql + timedelta(hours=9) + _seconds(h4 % 432000)
            if r >= ACTIVE_END or h5 % 10 >= 3:
                touch = mql + timedelta(minutes=12) + _seconds(h5 % 28800)
        if r >= SQL_END:
            opp = min(sql + timedelta(days=2) + _seconds(h5 % 518400), now - timedelta(minutes=2))
        if r >= OPPORTUNITY_END:
            cust = min(opp + timedelta(days=7) + _seconds(_hp(g, 30) % 1987200), now)
        weight = 1 + h6 % 3 if r < PLAIN_END else 4 + h6 % 13
        plans.append((g, r, h5, h6, bucket, created, mql, sql, opp, cust, returned, touch, weight))

    total_w = sum(plan[-1] for plan in plans) or 1
    leads, events, cumulative = [], [], 0
    stage_rows, handoff_rows, enrol_rows = [], [], []
    for g, r, h5, h6, _bucket, created, mql, sql, opp, cust, returned, touch, w in plans:
        start = (cumulative * m) // total_w
        cumulative += w
        count = (cumulative * m) // total_w - start
        unsub = r < PLAIN_END and h5 % UNSUBSCRIBE_ONE_IN == 0 and count >= 2
        unsub_at = created + (now - created) * 0.9
        stage = (
            Stage.CUSTOMER
            if r >= OPPORTUNITY_END
            else Stage.OPPORTUNITY
            if r >= SQL_END
            else Stage.SQL
            if r >= ACTIVE_END
            else Stage.MQL
            if r >= RETURNED_END
            else Stage.LEAD
        )
        recent = created > now - timedelta(days=NURTURE_DAYS)
        status = (
            Lead.Status.HANDED_OFF
            if stage == Stage.MQL
            else Lead.Status.ACCEPTED
            if stage != Stage.LEAD
            else Lead.Status.RETURNED
            if returned
            else Lead.Status.NURTURING
            if recent and not unsub
            else Lead.Status.OPEN
        )
        rep = ws.reps[g % len(ws.reps)]
        email = f"lead{g}@co{g % 9973}.{DOMAIN}"
        fit = _hp(g, 28) % 45 - 10 if r < PLAIN_END else 20 + _hp(g, 28) % 40
        interest = _hp(g, 29) % 25 if r < PLAIN_END else 30 + _hp(g, 29) % 60
        size = int(sizes[_hp(g, 20) % len(sizes)])
        source = pools["source"][_hp(g, 27) % len(pools["source"])]
        lead = Lead(
            email=email,
            email_normalised=email_normalise(email),
            first_name=FIRST_NAMES[_hp(g, 23) % len(FIRST_NAMES)],
            last_name=LAST_NAMES[_hp(g, 24) % len(LAST_NAMES)],
            title=pools["title"][_hp(g, 26) % len(pools["title"])],
            company=f"Company {g % 20011}",
            company_size=size or None,
            industry=pools["industry"][_hp(g, 21) % len(pools["industry"])],
            country=pools["country"][_hp(g, 22) % len(pools["country"])],
            source=source,
            attributes={"utm_campaign": "lead-scoring"} if source == "paid search" else {},
            owner_id=rep if stage != Stage.LEAD else None,
            stage=stage,
            status=status,
            fit_score=fit,
            interest_score=interest,
            score=fit + interest,
            needs_scoring=False,
            scored_at=now - timedelta(days=1),
            lead_at=created,
            mql_at=mql,
            sql_at=sql,
            opportunity_at=opp,
            customer_at=cust,
            deal_value=Decimal(12000 + (g * 7919) % 24000) if cust else None,
            returned_at=returned,
            scored_version=ws.version,
            # Governed by the workspace's agreement (issue 11): its per-agreement review
            # reads these leads' rollup rows.
            agreement_id=ws.version.agreement_id,
            unsubscribed_at=unsub_at if unsub else None,
            created_at=created,
            updated_at=max(t for t in (created, mql, sql, opp, cust, returned) if t),
        )
        leads.append(lead)
        conv = ws.conversions[h5 % len(ws.conversions)]
        for k in range(1, count + 1):
            o = start + k
            if k == 1 and r >= PLAIN_END:
                etype, at = conv, mql - timedelta(minutes=2)
            elif unsub and k == count:
                etype, at = EventType.UNSUBSCRIBE.value, unsub_at
            else:
                mix = engaged if r >= PLAIN_END else plain
                etype = mix[_hp(o, 10) % len(mix)]
                at = created + (now - created) * (_hp(o, 11) / U32)
            key, values = PROPERTIES.get(etype, ("", []))
            events.append(
                (
                    g,
                    LeadEvent(
                        type=etype,
                        occurred_at=at,
                        occurred_day=at.timestamp() / 86400,
                        properties={key: values[_hp(o, 12) % len(values)]} if key else {},
                        received_at=min(at + _seconds(_hp(o, 13) % 300), now),
                    ),
                )
            )
        stage_rows.append(
            (g, "", Stage.LEAD, created, None, "ingest", "Created by its first activity")
        )
        if mql:
            stage_rows.append(
                (
                    g,
                    Stage.LEAD,
                    Stage.MQL,
                    mql,
                    None,
                    "handoff",
                    f"Handed to sales: conversion event ({conv})",
                )
            )
            reason = ws.return_codes[h6 % len(ws.return_codes)]
            if returned:
                stage_rows.append(
                    (g, Stage.MQL, Stage.LEAD, returned, rep, "", f"Returned by sales: {reason}")
                )
            for frm, to, at, by, job, why in (
                (Stage.MQL, Stage.SQL, sql, rep, "", "Accepted by sales"),
                (
                    Stage.SQL,
                    Stage.OPPORTUNITY,
                    opp,
                    None,
                    "crm_sync",
                    "Opportunity opened in the CRM",
                ),
                (
                    Stage.OPPORTUNITY,
                    Stage.CUSTOMER,
                    cust,
                    None,
                    "crm_sync",
                    "Closed won in the CRM",
                ),
            ):
                if at:
                    stage_rows.append((g, frm, to, at, by, job, why))
            due = mql + timedelta(hours=4)
            late = (touch is not None and touch > due) or (
                returned is not None and touch is None and returned > due
            )
            handoff_rows.append(
                (
                    g,
                    Handoff(
                        rep_id=rep,
                        version=ws.version,
                        trigger=Handoff.Trigger.EVENT,
                        trigger_detail=conv,
                        handed_off_at=mql,
                        at_risk_at=mql + timedelta(hours=3),
                        due_at=due,
                        accept_due_at=mql + timedelta(hours=24),
                        first_touch_at=touch,
                        response_business_minutes=int((touch - mql).total_seconds() // 60)
                        if touch
                        else None,
                        status=Handoff.Status.RETURNED
                        if returned
                        else Handoff.Status.OPEN
                        if touch is None
                        else Handoff.Status.MET
                        if touch <= due
                        else Handoff.Status.BREACHED,
                        breached_at=due if late else None,
                        accepted_at=sql,
                        rejected_at=returned if returned and h6 % 5 == 0 else None,
                        returned_at=returned,
                        return_reason=reason if returned else "",
                        closed_by_id=rep if (sql or returned) else None,
                        response_rep_id=rep if touch else None,
                        breach_rep_id=rep if late else None,
                    ),
                    (g + 1) % len(ws.reps) if r >= RETURNED_END and h6 % 50 == 0 else None,
                )
            )
        elif ws.track and ws.step:
            active = recent and not unsub
            enrol_rows.append(
                (
                    g,
                    NurtureEnrollment(
                        track_id=ws.track,
                        next_step_id=ws.step if active else None,
                        steps_done=0 if active else 4,
                        next_step_at=now + _seconds(_hp(g, 16) % 604800) if active else None,
                        automatic=True,
                        reason="New lead below the MQL threshold",
                        enrolled_at=created,
                        completed_at=None
                        if active
                        else min(created + timedelta(days=NURTURE_DAYS), now),
                    ),
                )
            )

    with transaction.atomic():
        Lead.objects.bulk_create(leads, batch_size=500)
        by_g = dict(zip(range(1, n + 1), leads, strict=True))
        for g, event in events:
            event.lead = by_g[g]
        LeadEvent.objects.bulk_create([event for _, event in events], batch_size=1000)
        StageChange.objects.bulk_create(
            [
                StageChange(
                    lead=by_g[g],
                    from_stage=frm,
                    to_stage=to,
                    at=at,
                    by_id=by,
                    job=job,
                    reason=why,
                    version=None if to == Stage.LEAD and not frm else ws.version,
                )
                for g, frm, to, at, by, job, why in stage_rows
            ],
            batch_size=500,
        )
        for g, handoff, _ in handoff_rows:
            handoff.lead = by_g[g]
        Handoff.objects.bulk_create([handoff for _, handoff, _ in handoff_rows], batch_size=500)
        attempts, assignments = [], []
        for _g, handoff, other in handoff_rows:
            if handoff.first_touch_at:
                tries = 1 + _hp(handoff.pk, 15) % 4
                end = handoff.accepted_at or handoff.returned_at or now
                for k in range(1, tries + 1):
                    talk = handoff.accepted_at is not None and k == tries
                    attempts.append(
                        ContactAttempt(
                            handoff=handoff,
                            channel=CHANNELS[_hp(handoff.pk * 8 + k, 14) % len(CHANNELS)],
                            disposition=ws.talk_code if talk else ws.silent_code,
                            is_conversation=talk and ws.talk_is_conversation,
                            at=min(handoff.first_touch_at + timedelta(days=k - 1), end),
                            by_id=handoff.rep_id,
                            rep_id=handoff.rep_id,
                        )
                    )
            if other is not None and ws.reps[other] != handoff.rep_id:
                assignments.append(
                    HandoffAssignment(
                        handoff=handoff,
                        from_rep_id=ws.reps[other],
                        to_rep_id=handoff.rep_id,
                        at=min(handoff.handed_off_at + timedelta(minutes=30), now),
                        by_id=ws.manager,
                        reason="Rebalancing the queue",
                    )
                )
        ContactAttempt.objects.bulk_create(attempts, batch_size=500)
        HandoffAssignment.objects.bulk_create(assignments, batch_size=500)
        for g, enrollment in enrol_rows:
            enrollment.lead = by_g[g]
        NurtureEnrollment.objects.bulk_create([e for _, e in enrol_rows], batch_size=500)
        _visitors_python(n, now)
        # As the set-based seed: each lead under the agreement whose scope covers it.
        leads_resolve(lead_ids=[lead.pk for lead in leads], now=now)
    return {
        "leads": len(leads),
        "events": len(events),
        "handoffs": len(handoff_rows),
        "stage_changes": len(stage_rows),
        "attempts": len(attempts),
    }


def _visitors_python(n: int, now: datetime) -> None:
    from kpis.visitors import VisitorRow, visitor_counts_upsert

    total = sum(SOURCES.values())
    today = timezone.localdate(now)
    rows = []
    for offset in range(DAYS + 1, -1, -1):
        day = today - timedelta(days=offset)
        for index, (source, weight) in enumerate(SOURCES.items(), start=1):
            factor = 0.4 if day.weekday() >= 5 else 1.24
            noise = 0.85 + 0.3 * _hp(day.toordinal() * 8 + index, 17) / U32
            visitors = max(1, round(n / DAYS / 0.03 * weight / total * factor * noise))
            rows.append(VisitorRow(day, source, visitors))
    visitor_counts_upsert(rows=rows)
