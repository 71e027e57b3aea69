"""Set-based scope resolution: which agreement governs each lead (Lead.agreement).

The scopes in force (agreements.selectors.scopes_in_force) are compiled to SQL predicates on
the lead row (the same text normalisation as the scoring SQL, so "BR " matches "br") and
applied in the order they claim leads: one UPDATE per agreement, each taking the target leads
its scope matches and no earlier scope matched, then one for the default agreement and one
that clears the leads no agreement covers. Rows already governed by the right agreement are
not written.

Called when leads arrive or their attributes change (leads.services.ingestion), and for every
lead when a version is published (the full rescore resolves each range before scoring it).
The scoring run's batches of marked leads, which catch every other path, read the same answer
as an expression (governing_agreement_expression) when they claim their leads and store it in the
scoring statement's write, so a batch writes each lead row once.
A lead that moves to another agreement follows it from then on; an open handoff keeps the
version and the deadlines it was given.
"""

from django.db.models import BooleanField, Case, Count, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from agreements.scopes import (
    ScopeRuleSpec,
    ScopeSpec,
    default_scope,
    scopes_may_overlap,
    scopes_ordered,
)
from agreements.selectors import scopes_in_force

from ..models import Lead
from ..scoring import _json_text, _normalised, sql_contains, sql_number_compare

_LEAD = Lead._meta.db_table


def _rule_sql(rule: ScopeRuleSpec, params: list) -> str:
    raw_params: list = []
    if rule.attribute == "custom":
        raw = _json_text(f"{_LEAD}.attributes", rule.custom_attribute, raw_params)
    elif rule.attribute == "company_size":
        raw = f"CAST({_LEAD}.company_size AS VARCHAR(20))"
    elif rule.attribute in ("title", "industry", "country", "source"):
        raw = f"{_LEAD}.{rule.attribute}"
    else:
        return "1 = 0"

    def text() -> str:
        params.extend(raw_params)
        return _normalised(raw)

    value = rule.value.strip().lower()
    options = [option.strip().lower() for option in rule.value.split(",")]
    options = [option for option in options if option]
    if rule.operator == "is_set":
        return f"({text()} <> '')"
    if rule.operator == "equals":
        condition = f"({text()} <> '' AND {text()} = %s)"
        params.append(value)
        return condition
    if rule.operator in ("in", "not_in"):
        if not options:
            return "1 = 0" if rule.operator == "in" else "1 = 1"
        negation = "NOT " if rule.operator == "not_in" else ""
        condition = f"({text()} {negation}IN ({', '.join(['%s'] * len(options))}))"
        params.extend(options)
        return condition
    if rule.operator == "contains":
        return sql_contains(text, value, params)
    if rule.operator in ("at_least", "lt"):
        comparison = ">=" if rule.operator == "at_least" else "<"
        return sql_number_compare(text, comparison, rule.value, params)
    raise ValueError(f"Unknown operator {rule.operator!r}")


def scope_condition(scope: ScopeSpec) -> Q:
    """A filter on leads that is true for the leads the scope's rules match."""
    if not scope.rules:
        return Q(pk__isnull=False)  # no rules: every lead
    params: list = []
    sql = " AND ".join(_rule_sql(rule, params) for rule in scope.rules)
    return Q(RawSQL(f"({sql})", params, output_field=BooleanField()))


def _matched_by_any(scopes: list[ScopeSpec]) -> Q | None:
    """True for leads some of these scopes match; None when none can (no scopes)."""
    condition = None
    for scope in scopes:
        this = scope_condition(scope)
        if not scope.rules:
            return this  # a scope without rules matches every lead
        condition = this if condition is None else condition | this
    return condition


def leads_resolve(
    *,
    lead_ids=None,
    id_range: tuple[int, int] | None = None,
    now=None,
    scopes: list[ScopeSpec] | None = None,
) -> int:
    """Set Lead.agreement for the target leads (ids, an id range low-exclusive, or all) to the
    agreement that governs each; returns how many leads changed agreement."""
    if lead_ids is not None and not lead_ids:
        return 0
    scopes = scopes_in_force(at=now or timezone.now()) if scopes is None else scopes
    target = Lead.objects.all()
    if lead_ids is not None:
        target = target.filter(pk__in=list(lead_ids))
    elif id_range is not None:
        target = target.filter(pk__gt=id_range[0], pk__lte=id_range[1])
    changed = 0
    earlier: list[ScopeSpec] = []
    for scope in scopes:
        mine = target.filter(scope_condition(scope))
        claimed = _matched_by_any(earlier)
        if claimed is not None:
            mine = mine.exclude(claimed)
        changed += _assign(mine, scope.agreement_id)
        earlier.append(scope)
    rest = target
    claimed = _matched_by_any(earlier)
    if claimed is not None:
        rest = rest.exclude(claimed)
    default = default_scope(scopes)
    changed += _assign(rest, default.agreement_id if default else None)
    return changed


def governing_agreement_expression(scopes: list[ScopeSpec]) -> Case | Value:
    """An expression on leads: the id of the agreement that governs each (None when none
    covers it), the same answer leads_resolve stores. The scopes in the order they claim
    leads (scopes_ordered), as scopes_in_force gives them."""
    default = default_scope(scopes)
    otherwise = Value(default.agreement_id if default else None, output_field=IntegerField())
    if not scopes:
        return otherwise
    # CASE takes the first scope that matches: an earlier scope's claim, as in leads_resolve.
    claims = [When(scope_condition(scope), then=Value(scope.agreement_id)) for scope in scopes]
    return Case(*claims, default=otherwise, output_field=IntegerField())


def _assign(leads, agreement_id: int | None) -> int:
    if agreement_id is None:
        return leads.filter(agreement__isnull=False).update(agreement=None)
    return leads.exclude(agreement_id=agreement_id).update(agreement_id=agreement_id)


def scope_preview(*, scope: ScopeSpec, now=None) -> dict:
    """How many current leads the scope would govern if published as it stands, how many
    leads there are, and how many no agreement would cover, in one query.

    The draft's scope takes the place of its agreement's scope in force; the others stay.
    """
    others = [
        other
        for other in scopes_in_force(at=now or timezone.now())
        if other.agreement_id != scope.agreement_id
    ]
    ordered = scopes_ordered([*others, scope])
    higher = ordered[: ordered.index(scope)]
    mine = scope_condition(scope)
    claimed_before = _matched_by_any(higher)
    if claimed_before is not None:
        mine = mine & ~claimed_before
    anyone = _matched_by_any(ordered)
    default = default_scope(ordered)
    if default is scope:
        # The default also takes every lead nobody's scope matches.
        mine = mine | ~anyone if anyone is not None else Q(pk__isnull=False)
    aggregates = {"total": Count("pk"), "covered": Count("pk", filter=mine)}
    if default is None and anyone is not None:
        aggregates["uncovered"] = Count("pk", filter=~anyone)
    counts = Lead.objects.aggregate(**aggregates)
    if default is not None:
        counts["uncovered"] = 0
    elif anyone is None:
        counts["uncovered"] = counts["total"]
    return counts


def scope_overlaps(*, scope: ScopeSpec, now=None) -> list[tuple[ScopeSpec, int]]:
    """The published scopes of other agreements with the same priority whose rules can match
    a lead this one matches, each with how many current leads both match now."""
    found = []
    for other in scopes_in_force(at=now or timezone.now()):
        if other.agreement_id == scope.agreement_id or other.priority != scope.priority:
            continue
        if scopes_may_overlap(scope, other):
            both = scope_condition(scope) & scope_condition(other)
            found.append((other, Lead.objects.filter(both).count()))
    return found
