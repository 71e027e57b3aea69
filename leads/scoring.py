"""Set-based scoring: one SQL statement scores a batch, a range or every lead, writing each
row once and only when its score, version or mark changes.

The SQL mirrors agreements.scoring (the pure core) rule for rule, and a property test holds the
two to the same answers. Fit rules become CASE expressions over the lead's columns; interest
rules join the lead's events to a small table of rules, keep the newest `cap` occurrences of
each rule with ROW_NUMBER(), decay each occurrence by its age in days (LeadEvent.occurred_day),
round per rule and sum. It runs unchanged on PostgreSQL and SQLite; the two differ only in how
a JSON value is read and how a regular expression is matched.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import DateTimeField

from agreements.scoring import LEAD_ATTRIBUTES, FitRuleSpec, InterestRuleSpec, Thresholds

from .models import Lead

NUMERIC_PATTERN = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"


def epoch_days(moment: datetime) -> float:
    return moment.timestamp() / 86400


def _json_text(column: str, key: str, params: list) -> str:
    """SQL for the text of a JSON object's value at `key`."""
    if connection.vendor == "postgresql":
        params.append(key)
        return f"({column} ->> %s)"
    params.append(f'$."{key}"')
    return f"CAST(json_extract({column}, %s) AS TEXT)"


def _normalised(expression: str) -> str:
    return f"LOWER(TRIM(COALESCE({expression}, '')))"


def _matches_number(text_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"({text_sql} ~ '{NUMERIC_PATTERN}')"
    return f"({text_sql} REGEXP '{NUMERIC_PATTERN}')"


def sql_contains(text: Callable[[], str], value: str, params: list) -> str:
    """True when the (normalised) text holds `value`, LIKE's wildcards taken literally.
    `text()` writes the text's SQL and appends its own parameters: it is called once per
    place the text appears, in order."""
    condition = f"({text()} <> '' AND {text()} LIKE %s ESCAPE '!')"
    escaped = value.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    params.append(f"%{escaped}%")
    return condition


def sql_number_compare(
    text: Callable[[], str], comparison: str, raw_bound: str, params: list
) -> str:
    """True when the text is a number and compares to the bound; false for any other text
    and when the bound is no number (a rule that can never match)."""
    try:
        bound = float(raw_bound)
    except ValueError:
        return "1 = 0"
    # CASE guarantees the cast runs only on text that is a number.
    condition = (
        f"(CASE WHEN {_matches_number(text())} THEN CAST({text()} AS DOUBLE PRECISION) "
        f"{comparison} %s ELSE 1 = 0 END)"
    )
    params.append(bound)
    return condition


def _fit_condition(rule: FitRuleSpec, params: list) -> str:
    """A boolean SQL condition on leads_lead that is true when the rule matches."""
    raw_params: list = []
    if rule.attribute == "custom":
        raw = _json_text("leads_lead.attributes", rule.custom_attribute, raw_params)
    elif rule.attribute == "company_size":
        raw = "CAST(leads_lead.company_size AS VARCHAR(20))"
    elif rule.attribute in LEAD_ATTRIBUTES:
        raw = f"leads_lead.{rule.attribute}"
    else:
        return "1 = 0"

    def text() -> str:
        # Each use of the attribute's SQL needs its own copy of its parameters.
        params.extend(raw_params)
        return _normalised(raw)

    value = rule.value.strip().lower()
    if rule.operator == "is_set":
        return f"{text()} <> ''"
    if rule.operator == "equals":
        condition = f"({text()} <> '' AND {text()} = %s)"
        params.append(value)
        return condition
    if rule.operator == "in":
        options = [option.strip().lower() for option in rule.value.split(",")]
        options = [option for option in options if option]
        if not options:
            return "1 = 0"
        condition = f"({text()} IN ({', '.join(['%s'] * len(options))}))"
        params.extend(options)
        return condition
    if rule.operator == "contains":
        return sql_contains(text, value, params)
    if rule.operator in ("gt", "lt"):
        return sql_number_compare(text, ">" if rule.operator == "gt" else "<", rule.value, params)
    raise ValueError(f"Unknown operator {rule.operator!r}")


def _fit_expression(rules: list[FitRuleSpec], params: list) -> str:
    if not rules:
        return "0"
    terms = []
    for rule in rules:
        condition = _fit_condition(rule, params)
        params.append(rule.points)
        terms.append(f"(CASE WHEN {condition} THEN CAST(%s AS INTEGER) ELSE 0 END)")
    return " + ".join(terms)


# The rule index of a flagged event type (leads_score_rows' flag_event_types): below every
# real rule's, worth no points.
FLAGGED = -1


def _rules_table(rules: list[InterestRuleSpec], params: list, flagged_types=()) -> str:
    rows = [
        (
            index,
            rule.event_type,
            rule.property_key,
            rule.property_value.strip().lower(),
            rule.points,
            rule.max_occurrences,
        )
        for index, rule in enumerate(rules)
    ]
    # A flagged type matches its events like a rule without a property, and scores nothing.
    rows += [(FLAGGED, event_type, "", "", 0, None) for event_type in flagged_types]
    if not rows:
        return (
            "SELECT CAST(NULL AS INTEGER) AS idx, CAST(NULL AS VARCHAR(40)) AS etype, "
            "CAST(NULL AS VARCHAR(60)) AS pkey, CAST(NULL AS VARCHAR(200)) AS pval, "
            "CAST(NULL AS INTEGER) AS points, CAST(NULL AS INTEGER) AS cap WHERE 1 = 0"
        )
    for row in rows:
        params.extend(row)
    select = (
        "SELECT CAST(%s AS INTEGER) AS idx, CAST(%s AS VARCHAR(40)) AS etype, "
        "CAST(%s AS VARCHAR(60)) AS pkey, CAST(%s AS VARCHAR(200)) AS pval, "
        "CAST(%s AS INTEGER) AS points, CAST(%s AS INTEGER) AS cap"
    )
    return " UNION ALL ".join([select] * len(rows))


def _property_match(params: list) -> str:
    if connection.vendor == "postgresql":
        value = "(e.properties ->> r.pkey)"
    else:
        value = "CAST(json_extract(e.properties, '$.\"' || r.pkey || '\"') AS TEXT)"
    return f"(r.pkey = '' OR {_normalised(value)} = r.pval)"


@dataclass(frozen=True)
class _ScoreSql:
    """A query of (id, fit, interest) for one set of rules over one target set of leads."""

    sql: str
    params: list


def _target(column: str, lead_ids, id_range) -> tuple[str, list]:
    """The target leads as a condition on `column` (a lead id): a list, a range, or all."""
    if lead_ids is not None:
        if connection.vendor == "postgresql":
            # One array parameter: a batch of 10,000 ids as placeholders costs the client more
            # to bind than the statement costs the server to run.
            return f"{column} = ANY(%s)", [list(lead_ids)]
        return f"{column} IN ({', '.join(['%s'] * len(lead_ids))})", list(lead_ids)
    if id_range is not None:
        return f"{column} > %s AND {column} <= %s", list(id_range)
    return "1 = 1", []


def _per_rule_ctes(
    interest_rules,
    thresholds,
    now,
    lead_ids,
    id_range,
    params: list,
    agreement_id=None,
    flagged_types=(),
) -> str:
    """`WITH … per_rule AS (…)`: each target lead's points and occurrences per interest rule
    (idx is the rule's position), decayed, capped and rounded once per rule as the pure core
    does. The scoring statement sums it; the queue reads it as the score's breakdown."""
    rules_sql = _rules_table(interest_rules, params, flagged_types)
    now_day = epoch_days(now)
    if thresholds.decay_half_life_days:
        age = "(CASE WHEN e.occurred_day > %s THEN 0 ELSE %s - e.occurred_day END)"
        decay = f"POWER(0.5, {age} / %s)"
        params.extend([now_day, now_day, float(thresholds.decay_half_life_days)])
    else:
        decay = "1.0"
    property_match = _property_match(params)
    # Events are filtered on their own lead_id (the event index leads with it), so a range
    # or a batch reads only its leads' events.
    event_target, event_params = _target("e.lead_id", lead_ids, id_range)
    params.extend(event_params)
    # A range shared by several agreements reads the range's events once per agreement: a
    # filter on the lead's agreement here (a subquery on leads) was planned as a nested loop
    # right after the resolution rewrote the range's agreement_id (the statistics lag), and a
    # 2,000-lead range took 13 s instead of a fraction of one. The scoring UPDATE keeps each
    # agreement's version to its own leads (leads_score_rows), the what-if count below.
    if any(rule.max_occurrences is not None for rule in interest_rules):
        rank = (
            "ROW_NUMBER() OVER (PARTITION BY e.lead_id, r.idx "
            "ORDER BY e.occurred_at DESC, e.id DESC)"
        )
    else:
        rank = "1"  # no cap: no need to sort every lead's events
    return f"""
        WITH rules AS ({rules_sql}),
        matched AS (
            SELECT e.lead_id, r.idx, r.cap, r.points * {decay} AS pts, {rank} AS n
            FROM leads_leadevent e JOIN rules r ON e.type = r.etype AND {property_match}
            WHERE {event_target}
        ),
        per_rule AS (
            SELECT lead_id, idx, ROUND(CAST(SUM(pts) AS NUMERIC)) AS points,
                   COUNT(*) AS occurrences
            FROM matched WHERE cap IS NULL OR n <= cap GROUP BY lead_id, idx
        )"""


def interest_tallies(
    *,
    interest_rules: list[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
    lead_ids: list[int],
) -> dict[int, dict[int, tuple[int, int]]]:
    """{lead id: {rule index: (points, occurrences)}} for a few leads, in one query: what
    agreements.scoring.score_assemble needs, so a page of leads reads no events."""
    if not lead_ids or not interest_rules:
        return {}
    params: list = []
    per_rule = _per_rule_ctes(interest_rules, thresholds, now, lead_ids, None, params)
    tallies: dict[int, dict[int, tuple[int, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"{per_rule} SELECT lead_id, idx, points, occurrences FROM per_rule", params)
        for lead_id, index, points, occurrences in cursor.fetchall():
            tallies.setdefault(lead_id, {})[index] = (int(points), occurrences)
    return tallies


def _score_sql(
    fit_rules,
    interest_rules,
    thresholds,
    now,
    lead_ids,
    id_range=None,
    agreement_id=None,
    flagged_types=(),
) -> _ScoreSql:
    """Each target lead's fit and interest, and whether it has any event of `flagged_types`,
    in one query.

    Interest is an aggregate joined to the leads (LEFT JOIN, so a lead without matching events
    gets 0), not a subquery per lead: the planner sees one hash or merge join whose cost it can
    estimate, instead of a correlated subquery whose cost estimate is huge enough to make
    PostgreSQL JIT-compile every statement.
    """
    table = Lead._meta.db_table
    params: list = []
    per_rule = _per_rule_ctes(
        interest_rules,
        thresholds,
        now,
        lead_ids,
        id_range,
        params,
        agreement_id=agreement_id,
        flagged_types=flagged_types,
    )
    fit = _fit_expression(fit_rules, params)
    lead_target, lead_params = _target(f"{table}.id", lead_ids, id_range)
    params.extend(lead_params)
    if agreement_id is not None:
        # One agreement's leads: its version's rules score them and no others.
        lead_target += f" AND {table}.agreement_id = %s"
        params.append(agreement_id)
    sql = f"""
        {per_rule},
        totals AS (
            SELECT lead_id, SUM(points) AS interest,
                   MAX(CASE WHEN idx = {FLAGGED} THEN 1 ELSE 0 END) AS flagged
            FROM per_rule GROUP BY lead_id
        )
        SELECT {table}.id AS id, {fit} AS fit,
               COALESCE(CAST(totals.interest AS INTEGER), 0) AS interest,
               COALESCE(totals.flagged, 0) = 1 AS flagged
        FROM {table} LEFT JOIN totals ON totals.lead_id = {table}.id
        WHERE {lead_target}
    """
    return _ScoreSql(sql, params)


def _distinct(left: str, right: str) -> str:
    operator = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return f"({left} {operator} {right})"


def leads_score_changed(**arguments) -> list[int]:
    """Score the target leads in one statement (leads_score_rows); returns the ids of the rows
    it wrote."""
    return [row[0] for row in leads_score_rows(**arguments)]


def leads_score_rows(
    *,
    fit_rules: list[FitRuleSpec],
    interest_rules: list[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
    lead_ids: list[int] | None = None,
    id_range: tuple[int, int] | None = None,
    version_id: int | None = None,
    marked_only: bool | None = None,
    agreement_id: int | None = None,
    governing_agreement_id: int | None = None,
    columns: tuple[str, ...] = (),
    flag_event_types: list[str] = (),
    new_activity: bool = False,
) -> list[tuple]:
    """Score the target leads in one statement; returns (id, *columns) of each row it wrote,
    the columns as they are after the write (RETURNING), so what follows the scoring needs
    no second read of the rows.

    Targets: `lead_ids`, or the ids in `id_range` (low exclusive, high inclusive), or every
    lead. `marked_only` narrows them to leads with needs_scoring true or false, and
    `agreement_id` to the leads that agreement governs (a range or every lead holds the leads
    of every agreement; each agreement's version scores its own in its own statement).

    `governing_agreement_id` stores the agreement that governs the target leads (resolved by
    the caller: leads.services.scopes.governing_agreement_expression) in the same write, so a
    batch whose leads changed agreement writes their rows once.

    Each row is written once, with fit, interest, their sum, the version, the cleared mark
    (and the governing agreement) together, and only if one of them changes: a rescore that
    moves few scores writes few rows (scored_at then says when the score last changed). A
    marked lead is always written, since its mark must clear.

    `new_activity`: the targets are leads ingestion marked (ScoringMark): each is written,
    as a marked lead is, so each comes back for the handoff triggers and the nurture. Its
    updated_at stays: it says when the lead's own record changed, and leaving every indexed
    column alone lets PostgreSQL rewrite the row in place (a HOT update, no index entries).

    `flag_event_types` ends each row with one more value: whether the lead has any event of
    those types, seen by the statement's own scan of the leads' events, so a caller that
    would look those events up (the handoff triggers' conversions) looks up only the leads
    that have one. None on SQLite, whose RETURNING reads only the updated table.
    """
    if lead_ids is not None and not lead_ids:
        return []
    table = Lead._meta.db_table
    # The agreement is filtered on the updated rows, not inside the scoring query: right after
    # the resolution rewrote a range's agreement_id the statistics lag, and a filter in the
    # query was planned as a nested loop (4 s for a 2,000-lead range instead of a fraction).
    flag = bool(flag_event_types) and connection.vendor == "postgresql"
    q = _score_sql(
        fit_rules,
        interest_rules,
        thresholds,
        now,
        lead_ids,
        id_range,
        flagged_types=flag_event_types if flag else (),
    )
    mark = ""
    mark_params: list = []
    if marked_only is not None:
        mark = f"AND {table}.needs_scoring = %s"
        mark_params = [marked_only]
    if agreement_id is not None:
        mark += f" AND {table}.agreement_id = %s"
        mark_params.append(agreement_id)
    changed = " OR ".join(
        [
            f"{table}.fit_score <> s.fit",
            f"{table}.interest_score <> s.interest",
            f"{table}.score <> s.fit + s.interest",
            _distinct(f"{table}.scored_version_id", "%s"),
            f"{table}.needs_scoring",
        ]
    )
    governing, governing_params, changed_params = "", [], [version_id]
    if governing_agreement_id is not None:
        governing = ", agreement_id = %s"
        governing_params = [governing_agreement_id]
        changed += f" OR {_distinct(f'{table}.agreement_id', '%s')}"
        changed_params.append(governing_agreement_id)
    if new_activity:
        changed, changed_params = "TRUE", []
    returning = [f"{table}.{connection.ops.quote_name(c)}" for c in ["id", *columns]]
    if flag:
        returning.append("s.flagged")
    # The query sits in FROM, so the statement starts with UPDATE: sqlite3 then reports rows.
    sql = f"""
        UPDATE {table} SET fit_score = s.fit, interest_score = s.interest,
                           score = s.fit + s.interest, scored_version_id = %s,
                           needs_scoring = %s, scored_at = %s{governing}
        FROM ({q.sql}) s
        WHERE {table}.id = s.id {mark} AND ({changed})
        RETURNING {", ".join(returning)}
    """
    fields = [Lead._meta.get_field(column) for column in columns]
    # SQLite answers datetimes as text; PostgreSQL as aware datetimes already.
    convert = [
        connection.vendor == "sqlite" and isinstance(field, DateTimeField) for field in fields
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # A scoring statement's estimated cost is high enough to trigger JIT compilation,
            # which costs more than it saves here (864 ms of a 1.4 s batch at a million leads)
            # and would be paid on every statement; LOCAL ends with the transaction.
            cursor.execute("SET LOCAL jit = off")
        # Adapted as the ORM stores it, so filters on scored_at match on SQLite too.
        scored_at = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(
            sql,
            [
                version_id,
                False,
                scored_at,
                *governing_params,
                *q.params,
                *mark_params,
                *changed_params,
            ],
        )
        rows = cursor.fetchall()
    unknown = (None,) if flag_event_types and not flag else ()
    if not any(convert) and not unknown:
        return rows
    return [
        (
            row[0],
            *(
                connection.ops.convert_datetimefield_value(value, None, connection)
                if datetime_column
                else value
                for value, datetime_column in zip(row[1:], convert, strict=True)
            ),
            *unknown,
        )
        for row in rows
    ]


def leads_score(
    *,
    fit_rules: list[FitRuleSpec],
    interest_rules: list[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
    lead_ids: list[int] | None,
    version_id: int | None = None,
) -> int:
    """Score the given leads (every lead when `lead_ids` is None); returns how many rows
    changed (a lead marked for scoring always counts).

    `version_id` is stored as each lead's scored_version, so its breakdown can name and
    replay the rules that produced the score.
    """
    return len(
        leads_score_changed(
            fit_rules=fit_rules,
            interest_rules=interest_rules,
            thresholds=thresholds,
            now=now,
            lead_ids=lead_ids,
            version_id=version_id,
        )
    )


def mql_count(
    *,
    fit_rules: list[FitRuleSpec],
    interest_rules: list[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
    agreement_id: int | None = None,
) -> int:
    """How many current leads (of one agreement, when given) these rules would make MQLs,
    computed without writing anything."""
    q = _score_sql(fit_rules, interest_rules, thresholds, now, None, agreement_id=agreement_id)
    condition = "(fit >= %s AND interest >= %s)"
    condition_params = [thresholds.mql_min_fit, thresholds.mql_min_interest]
    if thresholds.mql_min_total is not None:
        condition += " OR fit + interest >= %s"
        condition_params.append(thresholds.mql_min_total)
    sql = f"SELECT COUNT(*) FROM ({q.sql}) scores WHERE {condition}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*q.params, *condition_params])
        return cursor.fetchone()[0]
