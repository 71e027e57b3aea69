"""The SQL floor of scoring: one hand-written UPDATE with the version's rules, decay and caps.

Written here from the rules of agreements.scoring (the pure core), not from leads.scoring, so
the floor stays what the issue asks for whatever the project's scoring SQL becomes: the least
work the database must do to store the same answers. PostgreSQL only.

- fit: one CASE per fit rule over the lead's columns, the same text normalisation as the core
  (trimmed, lower-cased; numbers compared only when the text is a number);
- interest: the lead's events joined to a VALUES list of the interest rules, the newest `cap`
  occurrences of each rule kept by ROW_NUMBER(), each decayed by its age in days
  (occurred_day) with the half-life, rounded half away from zero per rule, summed;
- write: only rows whose stored score differs (or that were marked for scoring): an unchanged
  lead costs no write. The statement runs in a transaction the bench rolls back, so every
  run sees the same rows.
"""

from datetime import datetime

from agreements.scoring import FitRuleSpec, InterestRuleSpec, Thresholds

NUMBER = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"


def _text(column: str) -> str:
    return f"lower(btrim(coalesce({column}, '')))"


def _attribute(rule: FitRuleSpec, params: list) -> str | None:
    if rule.attribute == "custom":
        params.append(rule.custom_attribute)
        return "(l.attributes ->> %s)"
    if rule.attribute == "company_size":
        return "l.company_size::text"
    if rule.attribute in ("title", "industry", "country", "source"):
        return f"l.{rule.attribute}"
    return None


def _fit_case(rule: FitRuleSpec, params: list) -> str:
    local: list = []
    column = _attribute(rule, local)
    if column is None:
        return "0"
    text = _text(column)
    value = rule.value.strip().lower()
    if rule.operator == "is_set":
        condition = f"{text} <> ''"
    elif rule.operator == "equals":
        condition, local = f"{text} <> '' AND {text} = %s", [*local, *local, value]
    elif rule.operator == "in":
        options = [o.strip().lower() for o in rule.value.split(",")]
        options = [o for o in options if o] or ["\x00"]
        condition, local = f"{text} = ANY(%s)", [*local, options]
    elif rule.operator == "contains":
        condition = f"{text} <> '' AND strpos({text}, %s) > 0"
        local = [*local, *local, value]
    elif rule.operator in ("gt", "lt"):
        try:
            bound = float(rule.value)
        except ValueError:
            return "0"
        sign = ">" if rule.operator == "gt" else "<"
        condition = f"CASE WHEN {text} ~ '{NUMBER}' THEN ({text})::float8 {sign} %s ELSE false END"
        local = [*local, *local, *local, bound]
    else:
        raise ValueError(f"Unknown operator {rule.operator!r}")
    params.extend(local)
    params.append(rule.points)
    return f"(CASE WHEN {condition} THEN %s::int ELSE 0 END)"


def score_update_sql(
    *,
    fit_rules: list[FitRuleSpec],
    interest_rules: list[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
    version_id: int,
    lead_ids: list[int] | None = None,
    write_all: bool = False,
) -> tuple[str, list]:
    """The one UPDATE that scores every lead (or `lead_ids`), and its parameters.

    It writes only the rows whose score or version differs, or that are marked
    needs_scoring; with `write_all`, every target row, as the scoring run writes every lead
    ingestion marked (a ScoringMark, not the needs_scoring column)."""
    params: list = []
    rows = []
    for index, rule in enumerate(interest_rules):
        rows.append("(%s::int, %s::text, %s::text, %s::text, %s::int, %s::int)")
        params += [
            index,
            rule.event_type,
            rule.property_key,
            rule.property_value.strip().lower(),
            rule.points,
            rule.max_occurrences,
        ]
    if not rows:
        rows.append("(NULL::int, NULL::text, NULL::text, NULL::text, NULL::int, NULL::int)")
    now_day = now.timestamp() / 86400
    if thresholds.decay_half_life_days:
        decay = "power(0.5, greatest(%s - e.occurred_day, 0) / %s)"
        params += [now_day, float(thresholds.decay_half_life_days)]
    else:
        decay = "1.0"
    events_target = ""
    if lead_ids is not None:
        events_target = "AND e.lead_id = ANY(%s)"
        params.append(lead_ids)
    fit_params: list = []
    fit = " + ".join(_fit_case(rule, fit_params) for rule in fit_rules) or "0"
    params += fit_params
    leads_target = ""
    if lead_ids is not None:
        leads_target = "WHERE l.id = ANY(%s)"
        params.append(lead_ids)
    params += [now, version_id]
    changed = "TRUE"
    if not write_all:
        changed = (
            "l.needs_scoring OR l.fit_score <> s.fit OR l.interest_score <> s.interest"
            " OR l.score <> s.fit + s.interest OR l.scored_version_id IS DISTINCT FROM %s"
        )
    sql = f"""
        WITH rules(idx, etype, pkey, pval, points, cap) AS (VALUES {", ".join(rows)}),
        matched AS (
            SELECT e.lead_id, r.idx, r.cap, r.points * {decay} AS pts,
                   row_number() OVER (PARTITION BY e.lead_id, r.idx
                                      ORDER BY e.occurred_at DESC, e.id DESC) AS n
            FROM leads_leadevent e
            JOIN rules r ON e.type = r.etype
                AND (r.pkey = '' OR {_text("e.properties ->> r.pkey")} = r.pval)
            WHERE true {events_target}
        ),
        interest AS (
            SELECT lead_id, sum(points)::int AS interest FROM (
                SELECT lead_id, round(sum(pts)::numeric) AS points FROM matched
                WHERE cap IS NULL OR n <= cap GROUP BY lead_id, idx
            ) per_rule GROUP BY lead_id
        ),
        scores AS (
            SELECT l.id, {fit} AS fit, coalesce(i.interest, 0) AS interest
            FROM leads_lead l LEFT JOIN interest i ON i.lead_id = l.id {leads_target}
        )
        UPDATE leads_lead l
        SET fit_score = s.fit, interest_score = s.interest, score = s.fit + s.interest,
            needs_scoring = false, scored_at = %s, scored_version_id = %s
        FROM scores s
        WHERE l.id = s.id AND ({changed})
    """
    if not write_all:
        params.append(version_id)
    return sql, params
