"""Set-based scoring: one SQL statement scores every lead that needs it.

The SQL mirrors agreements.scoring (the pure core) rule for rule, and a property test holds the
two to the same answers. Fit rules become CASE expressions over the lead's columns; interest
rules join the lead's events to a small table of rules, keep the newest `cap` occurrences of
each rule with ROW_NUMBER(), decay each occurrence by its age in days (LeadEvent.occurred_day),
round per rule and sum. It runs unchanged on PostgreSQL and SQLite; the two differ only in how
a JSON value is read and how a regular expression is matched.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

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
        escaped = value.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        condition = f"({text()} <> '' AND {text()} LIKE %s ESCAPE '!')"
        params.append(f"%{escaped}%")
        return condition
    if rule.operator in ("gt", "lt"):
        try:
            bound = float(rule.value)
        except ValueError:
            return "1 = 0"
        comparison = ">" if rule.operator == "gt" else "<"
        # CASE guarantees the cast runs only on text that is a number.
        condition = (
            f"(CASE WHEN {_matches_number(text())} THEN CAST({text()} AS DOUBLE PRECISION) "
            f"{comparison} %s ELSE 1 = 0 END)"
        )
        params.append(bound)
        return condition
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


def _rules_table(rules: list[InterestRuleSpec], params: list) -> str:
    if not rules:
        return (
            "SELECT CAST(NULL AS INTEGER) AS idx, CAST(NULL AS VARCHAR(40)) AS etype, "
            "CAST(NULL AS VARCHAR(60)) AS pkey, CAST(NULL AS VARCHAR(200)) AS pval, "
            "CAST(NULL AS INTEGER) AS points, CAST(NULL AS INTEGER) AS cap WHERE 1 = 0"
        )
    selects = []
    for index, rule in enumerate(rules):
        params.extend(
            [
                index,
                rule.event_type,
                rule.property_key,
                rule.property_value.strip().lower(),
                rule.points,
                rule.max_occurrences,
            ]
        )
        selects.append(
            "SELECT CAST(%s AS INTEGER) AS idx, CAST(%s AS VARCHAR(40)) AS etype, "
            "CAST(%s AS VARCHAR(60)) AS pkey, CAST(%s AS VARCHAR(200)) AS pval, "
            "CAST(%s AS INTEGER) AS points, CAST(%s AS INTEGER) AS cap"
        )
    return " UNION ALL ".join(selects)


def _property_match(params: list) -> str:
    if connection.vendor == "postgresql":
        value = "(e.properties ->> r.pkey)"
    else:
        value = "CAST(json_extract(e.properties, '$.\"' || r.pkey || '\"') AS TEXT)"
    return f"(r.pkey = '' OR {_normalised(value)} = r.pval)"


@dataclass(frozen=True)
class _ScoreSql:
    """The pieces of a scoring statement for one set of rules and one target set of leads."""

    cte: str
    cte_params: list
    fit: str
    fit_params: list
    interest: str  # an expression on leads_lead, valid after `cte`
    target: str
    target_params: list


def _score_sql(fit_rules, interest_rules, thresholds, now, lead_ids) -> _ScoreSql:
    table = Lead._meta.db_table
    target_params: list = []
    if lead_ids is None:
        target = "1 = 1"
    else:
        target = f"{table}.id IN ({', '.join(['%s'] * len(lead_ids))})"
        target_params = list(lead_ids)
    params: list = []
    rules_sql = _rules_table(interest_rules, params)
    now_day = epoch_days(now)
    if thresholds.decay_half_life_days:
        age = "(CASE WHEN e.occurred_day > %s THEN 0 ELSE %s - e.occurred_day END)"
        decay = f"POWER(0.5, {age} / %s)"
        params.extend([now_day, now_day, float(thresholds.decay_half_life_days)])
    else:
        decay = "1.0"
    property_match = _property_match(params)
    params.extend(target_params)
    cte = f"""
        WITH rules AS ({rules_sql}),
        matched AS (
            SELECT e.lead_id, r.idx, r.cap, r.points * {decay} AS pts,
                   ROW_NUMBER() OVER (PARTITION BY e.lead_id, r.idx
                                      ORDER BY e.occurred_at DESC, e.id DESC) AS n
            FROM leads_leadevent e JOIN rules r ON e.type = r.etype AND {property_match}
            WHERE e.lead_id IN (SELECT {table}.id FROM {table} WHERE {target})
        ),
        per_rule AS (
            SELECT lead_id, ROUND(CAST(SUM(pts) AS NUMERIC)) AS points
            FROM matched WHERE cap IS NULL OR n <= cap GROUP BY lead_id, idx
        ),
        totals AS (SELECT lead_id, SUM(points) AS interest FROM per_rule GROUP BY lead_id)
    """
    fit_params: list = []
    fit = _fit_expression(fit_rules, fit_params)
    interest = (
        f"COALESCE((SELECT CAST(totals.interest AS INTEGER) FROM totals "
        f"WHERE totals.lead_id = {table}.id), 0)"
    )
    return _ScoreSql(cte, params, fit, fit_params, interest, target, target_params)


def leads_score(
    *,
    fit_rules: list[FitRuleSpec],
    interest_rules: list[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
    lead_ids: list[int] | None,
    version_id: int | None = None,
) -> int:
    """Score the given leads (every lead when `lead_ids` is None); returns how many.

    `version_id` is stored as each lead's scored_version, so its breakdown can name and
    replay the rules that produced the score.
    """
    if lead_ids is not None and not lead_ids:
        return 0
    table = Lead._meta.db_table
    q = _score_sql(fit_rules, interest_rules, thresholds, now, lead_ids)
    sql = f"""
        {q.cte}
        UPDATE {table} SET fit_score = {q.fit}, interest_score = {q.interest},
                           needs_scoring = %s, scored_at = %s
        WHERE {q.target}
    """
    with connection.cursor() as cursor:
        # sqlite3 reports no row count for an UPDATE that starts with WITH, so count first.
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {q.target}", q.target_params)
        scored = cursor.fetchone()[0]
        cursor.execute(sql, [*q.cte_params, *q.fit_params, False, now, *q.target_params])
        cursor.execute(
            f"UPDATE {table} SET score = fit_score + interest_score, scored_version_id = %s "
            f"WHERE {q.target}",
            [version_id, *q.target_params],
        )
    return scored


def mql_count(
    *,
    fit_rules: list[FitRuleSpec],
    interest_rules: list[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
) -> int:
    """How many current leads these rules would make MQLs, computed without writing anything."""
    table = Lead._meta.db_table
    q = _score_sql(fit_rules, interest_rules, thresholds, now, None)
    condition = "(fit >= %s AND interest >= %s)"
    condition_params = [thresholds.mql_min_fit, thresholds.mql_min_interest]
    if thresholds.mql_min_total is not None:
        condition += " OR fit + interest >= %s"
        condition_params.append(thresholds.mql_min_total)
    sql = f"""
        {q.cte}
        SELECT COUNT(*) FROM (
            SELECT {q.fit} AS fit, {q.interest} AS interest FROM {table} WHERE {q.target}
        ) scores WHERE {condition}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*q.cte_params, *q.fit_params, *q.target_params, *condition_params])
        return cursor.fetchone()[0]
