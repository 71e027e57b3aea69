"""Lead scoring rules evaluated as data: the pure core.

Fit rules look at who the lead is, interest rules at what the lead did. Nothing here touches
the database; the lead engine's set-based SQL is tested against these functions, and the
qualification page's preview calls them directly.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

LEAD_ATTRIBUTES = ("title", "company_size", "industry", "country", "source")


@dataclass(frozen=True)
class FitRuleSpec:
    attribute: str  # one of LEAD_ATTRIBUTES or "custom"
    operator: str  # equals, in, contains, gt, lt, is_set
    value: str
    points: int
    custom_attribute: str = ""
    label: str = ""


@dataclass(frozen=True)
class InterestRuleSpec:
    event_type: str
    points: int
    property_key: str = ""
    property_value: str = ""
    max_occurrences: int | None = None
    label: str = ""


@dataclass(frozen=True)
class Thresholds:
    mql_min_fit: int = 0
    mql_min_interest: int = 0
    mql_min_total: int | None = None
    decay_half_life_days: int | None = None


@dataclass(frozen=True)
class Activity:
    event_type: str
    occurred_at: datetime
    properties: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RulePoints:
    kind: str  # "fit" or "interest"
    rule: str
    points: int
    occurrences: int = 1


@dataclass(frozen=True)
class ScoreResult:
    fit: int
    interest: int
    breakdown: tuple[RulePoints, ...]
    is_mql: bool

    @property
    def total(self) -> int:
        return self.fit + self.interest


def _number(value) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _text(value) -> str:
    return "" if value is None else str(value).strip().lower()


def fit_rule_matches(rule: FitRuleSpec, attributes: Mapping[str, object]) -> bool:
    key = rule.custom_attribute if rule.attribute == "custom" else rule.attribute
    actual = attributes.get(key)
    if rule.operator == "is_set":
        return _text(actual) != ""
    if _text(actual) == "":
        return False
    if rule.operator in ("gt", "lt"):
        left, right = _number(actual), _number(rule.value)
        if left is None or right is None:
            return False
        return left > right if rule.operator == "gt" else left < right
    if rule.operator == "equals":
        return _text(actual) == _text(rule.value)
    if rule.operator == "in":
        return _text(actual) in {_text(option) for option in rule.value.split(",")}
    if rule.operator == "contains":
        return _text(rule.value) in _text(actual)
    raise ValueError(f"Unknown operator {rule.operator!r}")


def interest_rule_matches(rule: InterestRuleSpec, activity: Activity) -> bool:
    if activity.event_type != rule.event_type:
        return False
    if rule.property_key:
        return _text(activity.properties.get(rule.property_key)) == _text(rule.property_value)
    return True


def decay_factor(occurred_at: datetime, now: datetime, half_life_days: int | None) -> Decimal:
    """Points halve every half-life; future-dated activity is not boosted."""
    if not half_life_days:
        return Decimal(1)
    age_days = max((now - occurred_at).total_seconds(), 0) / 86400
    return Decimal(0.5 ** (age_days / half_life_days))


def _describe(rule: FitRuleSpec) -> str:
    key = rule.custom_attribute if rule.attribute == "custom" else rule.attribute
    return f"{key} {rule.operator} {rule.value}".strip()


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def is_mql(fit: int, interest: int, thresholds: Thresholds) -> bool:
    by_parts = fit >= thresholds.mql_min_fit and interest >= thresholds.mql_min_interest
    by_total = thresholds.mql_min_total is not None and fit + interest >= thresholds.mql_min_total
    return by_parts or by_total


def interest_tally(
    rule: InterestRuleSpec, activities: Iterable[Activity], *, now: datetime, thresholds
) -> tuple[int, int]:
    """(points, occurrences) one interest rule gives: the newest `max_occurrences` matching
    activities, each decayed by its age, summed and rounded once per rule."""
    # Newest first, so a capped rule counts the most recent occurrences.
    ordered = sorted(activities, key=lambda activity: activity.occurred_at, reverse=True)
    matching = [activity for activity in ordered if interest_rule_matches(rule, activity)]
    if rule.max_occurrences is not None:
        matching = matching[: rule.max_occurrences]
    if not matching:
        return 0, 0
    points = _round(
        sum(
            (
                rule.points * decay_factor(a.occurred_at, now, thresholds.decay_half_life_days)
                for a in matching
            ),
            Decimal(0),
        )
    )
    return points, len(matching)


def score_lead(
    *,
    attributes: Mapping[str, object],
    activities: Iterable[Activity],
    fit_rules: Iterable[FitRuleSpec],
    interest_rules: Iterable[InterestRuleSpec],
    thresholds: Thresholds,
    now: datetime,
) -> ScoreResult:
    activities = list(activities)
    interest_rules = list(interest_rules)
    tallies = {
        index: interest_tally(rule, activities, now=now, thresholds=thresholds)
        for index, rule in enumerate(interest_rules)
    }
    return score_assemble(
        attributes=attributes,
        fit_rules=fit_rules,
        interest_rules=interest_rules,
        interest_tallies=tallies,
        thresholds=thresholds,
    )


def score_assemble(
    *,
    attributes: Mapping[str, object],
    fit_rules: Iterable[FitRuleSpec],
    interest_rules: Iterable[InterestRuleSpec],
    interest_tallies: Mapping[int, tuple[int, int]],
    thresholds: Thresholds,
) -> ScoreResult:
    """The score from the fit rules and each interest rule's (points, occurrences), by the
    rule's index: counted here from activities, or by the database for many leads at once
    (leads.scoring.interest_tallies), so a page of leads needs none of their events."""
    breakdown: list[RulePoints] = []
    fit = 0
    for rule in fit_rules:
        if fit_rule_matches(rule, attributes):
            fit += rule.points
            breakdown.append(RulePoints("fit", rule.label or _describe(rule), rule.points))
    interest = 0
    for index, rule in enumerate(interest_rules):
        points, occurrences = interest_tallies.get(index, (0, 0))
        if not occurrences:
            continue
        interest += points
        breakdown.append(RulePoints("interest", rule.label or rule.event_type, points, occurrences))

    return ScoreResult(
        fit=fit,
        interest=interest,
        breakdown=tuple(breakdown),
        is_mql=is_mql(fit, interest, thresholds),
    )
