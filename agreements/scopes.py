"""Which agreement governs a lead: the pure core of scopes.

An agreement's scope is data: a priority, a "default" flag and rules on the lead's attributes
(country, company size, source, industry, title, custom attributes). A scope matches a lead
when every one of its rules does; a scope without rules matches every lead. A lead is governed
by the highest-priority scope in force that matches it (equal priorities: the older agreement,
though submission refuses two published scopes of equal priority that overlap); when none
matches, by the default agreement; when there is no default, by none.

"Overlap" is decided on the rules, not on today's leads, so a submission that passes today
cannot start to collide when tomorrow's leads arrive: two scopes overlap unless some attribute
has constraints in both that no single value can meet (country in {BR} against country in
{US, CA}; company size at least 1,000 against less than 1,000). Conditions this cannot prove
disjoint (two "contains", a "contains" against an "is one of") count as overlapping: the
managers then tell them apart by priority.

Nothing here touches the database; leads.services.scopes compiles the same rules to SQL and
is tested against these functions.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class ScopeRuleSpec:
    attribute: str  # title, company_size, industry, country, source or custom
    operator: str  # equals, in, not_in, contains, at_least, lt, is_set
    value: str = ""
    custom_attribute: str = ""

    @property
    def key(self) -> str:
        return self.custom_attribute if self.attribute == "custom" else self.attribute


@dataclass(frozen=True)
class ScopeSpec:
    agreement_id: int
    version_id: int | None
    priority: int = 0
    is_default: bool = False
    rules: tuple[ScopeRuleSpec, ...] = ()
    name: str = ""


def _text(value) -> str:
    return "" if value is None else str(value).strip().lower()


def _number(value) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _options(value: str) -> set[str]:
    return {_text(option) for option in value.split(",") if _text(option)}


def scope_rule_matches(rule: ScopeRuleSpec, attributes: Mapping[str, object]) -> bool:
    actual = _text(attributes.get(rule.key))
    if rule.operator == "not_in":
        return actual not in _options(rule.value)
    if actual == "":
        return False
    if rule.operator == "is_set":
        return True
    if rule.operator in ("at_least", "lt"):
        left, right = _number(actual), _number(rule.value)
        if left is None or right is None:
            return False
        return left >= right if rule.operator == "at_least" else left < right
    if rule.operator == "equals":
        return actual == _text(rule.value)
    if rule.operator == "in":
        return actual in _options(rule.value)
    if rule.operator == "contains":
        return _text(rule.value) in actual
    raise ValueError(f"Unknown operator {rule.operator!r}")


def scope_matches(scope: ScopeSpec, attributes: Mapping[str, object]) -> bool:
    return all(scope_rule_matches(rule, attributes) for rule in scope.rules)


def scopes_ordered(scopes: Iterable[ScopeSpec]) -> list[ScopeSpec]:
    """The order in which scopes claim leads: priority first, then the older agreement."""
    return sorted(scopes, key=lambda scope: (-scope.priority, scope.agreement_id))


def default_scope(scopes: Iterable[ScopeSpec]) -> ScopeSpec | None:
    defaults = [scope for scope in scopes_ordered(scopes) if scope.is_default]
    return defaults[0] if defaults else None


def governing_agreement(scopes: Iterable[ScopeSpec], attributes: Mapping[str, object]):
    """The id of the agreement that governs a lead with these attributes, or None."""
    scopes = list(scopes)
    for scope in scopes_ordered(scopes):
        if scope_matches(scope, attributes):
            return scope.agreement_id
    default = default_scope(scopes)
    return default.agreement_id if default else None


def _satisfiable(rules: list[ScopeRuleSpec]) -> bool:
    """Whether one value of one attribute can meet every rule (False only when provably not)."""
    allowed: set[str] | None = None
    excluded: set[str] = set()
    low = high = None
    numeric = non_empty = False
    contains: list[str] = []
    for rule in rules:
        if rule.operator == "not_in":
            excluded |= _options(rule.value)
            continue
        non_empty = True
        if rule.operator in ("equals", "in"):
            options = {_text(rule.value)} if rule.operator == "equals" else _options(rule.value)
            allowed = options if allowed is None else allowed & options
        elif rule.operator in ("at_least", "lt"):
            bound = _number(rule.value)
            if bound is None:
                return False  # never matches any lead
            numeric = True
            if rule.operator == "at_least":
                low = bound if low is None else max(low, bound)
            else:
                high = bound if high is None else min(high, bound)
        elif rule.operator == "contains":
            contains.append(_text(rule.value))
    if low is not None and high is not None and low >= high:
        return False
    if allowed is None:
        # Free text (or any number in a non-empty interval) can meet the rest: a value that
        # contains every fragment and avoids a finite list always exists.
        return True
    for candidate in allowed - excluded:
        if candidate == "" and non_empty:
            continue
        if any(fragment not in candidate for fragment in contains):
            continue
        if numeric:
            number = _number(candidate)
            if number is None:
                continue
            if (low is not None and number < low) or (high is not None and number >= high):
                continue
        return True
    return False


def scopes_may_overlap(first: ScopeSpec, second: ScopeSpec) -> bool:
    """Whether some lead could match both scopes' rules (see the module's note)."""
    by_key: dict[str, list[ScopeRuleSpec]] = {}
    for rule in (*first.rules, *second.rules):
        by_key.setdefault(rule.key.lower(), []).append(rule)
    return all(_satisfiable(rules) for rules in by_key.values())
