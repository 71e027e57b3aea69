"""The consistency checklist of a draft: places where the SLA contradicts itself.

Pure: the checks read plain attributes of the parts (model instances in the app, simple
objects in tests) and touch no database. Each contradiction has a stable key derived from
what it says, so an acceptance holds only while the contradiction reads the same; change a
number and it must be fixed or accepted again.
"""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from slaportal import numbers

from .funnel import PLAN_INPUTS, plan_from
from .models import Metric

# Volume goals from the wide end of the funnel to the narrow one: each must be at least
# the next for the same period.
FUNNEL_ORDER = (Metric.LEADS, Metric.MQLS, Metric.SQLS, Metric.OPPORTUNITIES, Metric.WON_DEALS)


@dataclass(frozen=True)
class Contradiction:
    code: str
    message: str
    # What the key is made from: the message in English, so that an acceptance holds whatever
    # language the managers read the checklist in.
    basis: str = ""

    @property
    def key(self) -> str:
        text = self.basis or self.message
        digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]
        return f"{self.code}:{digest}"


def _english() -> bool:
    return (translation.get_language() or "en").startswith("en")


def _number(value) -> str:
    # English keeps the plain digits its keys were first made from.
    if _english():
        return f"{Decimal(value).normalize():f}"
    return numbers.number(Decimal(value).normalize())


def _money(value) -> str:
    if _english():
        return _number(value)
    return numbers.money(value)


def _speed_to_lead(policy, goals, kpis) -> list[Contradiction]:
    if policy is None:
        return []
    promised = Decimal(policy.response_target_hours)
    targets = [
        (_("the speed-to-lead goal “%(name)s”") % {"name": goal.name}, goal.target)
        for goal in goals
        if goal.metric == Metric.SPEED_TO_LEAD
    ] + [
        (_("the speed-to-lead KPI"), kpi.target)
        for kpi in kpis
        if kpi.metric == Metric.SPEED_TO_LEAD
    ]
    # A tighter goal (a median under the deadline) is ambition; a looser one tells sales
    # that missing the promise is on target.
    looser = [(name, target) for name, target in targets if Decimal(target) > promised]
    if not looser:
        return []
    others = "; ".join(f"{name}: {_number(target)} h" for name, target in looser)
    return [
        Contradiction(
            "speed_to_lead",
            _(
                "The handoff part promises a first touch within %(hours)s business hours, "
                "but a looser target is set for %(others)s."
            )
            % {"hours": _number(promised), "others": others},
        )
    ]


def _revenue(plan, goals) -> list[Contradiction]:
    if plan is None or not plan.revenue_target:
        return []
    return [
        Contradiction(
            "revenue",
            _(
                "The reverse-funnel planner aims at %(plan)s of revenue, but the goal "
                "“%(name)s” is %(goal)s."
            )
            % {
                "plan": _money(plan.revenue_target),
                "name": goal.name,
                "goal": _money(goal.target),
            },
        )
        for goal in goals
        if goal.metric == Metric.NEW_REVENUE and Decimal(goal.target) != plan.revenue_target
    ]


def _plan_disappears(plan) -> list[Contradiction]:
    if plan is None:
        return []
    if not any(getattr(plan, name) for name in PLAN_INPUTS if name != "months"):
        return []  # an unused planner, not a broken one
    missing = plan_from(plan).missing
    if not missing:
        return []
    return [
        Contradiction(
            "plan_missing",
            _(
                "The reverse-funnel plan lacks %(missing)s (zero or empty), so it will not "
                "appear in the document."
            )
            % {"missing": ", ".join(missing)},
        )
    ]


def _thresholds(qualification) -> list[Contradiction]:
    if qualification is None or qualification.mql_min_total is None:
        return []
    pair = qualification.mql_min_fit + qualification.mql_min_interest
    if qualification.mql_min_total >= pair:
        return []
    return [
        Contradiction(
            "mql_thresholds",
            _(
                "The total that alone makes an MQL (%(total)s) is below fit %(fit)s + "
                "interest %(interest)s = %(pair)s: the total decides before the fit and "
                "interest thresholds can."
            )
            % {
                "total": qualification.mql_min_total,
                "fit": qualification.mql_min_fit,
                "interest": qualification.mql_min_interest,
                "pair": pair,
            },
        )
    ]


def _funnel_goals(goals) -> list[Contradiction]:
    found = []
    by_period: dict[tuple, dict[str, object]] = {}
    for goal in goals:
        if goal.metric in FUNNEL_ORDER:
            by_period.setdefault((goal.period_start, goal.period_end), {})[goal.metric] = goal
    labels = dict(Metric.choices)
    for period_goals in by_period.values():
        present = [metric for metric in FUNNEL_ORDER if metric in period_goals]
        for wider, narrower in zip(present, present[1:], strict=False):
            wide, narrow = period_goals[wider], period_goals[narrower]
            if Decimal(wide.target) < Decimal(narrow.target):
                found.append(
                    Contradiction(
                        "funnel_order",
                        _(
                            "The %(wider)s goal (%(wide)s) is below the %(narrower)s goal "
                            "(%(narrow)s) for the same period: a funnel only narrows."
                        )
                        % {
                            "wider": labels[wider],
                            "wide": _number(wide.target),
                            "narrower": labels[narrower],
                            "narrow": _number(narrow.target),
                        },
                    )
                )
    return found


def contradictions(*, policy, plan, qualification, goals, kpis) -> list[Contradiction]:
    """Every contradiction between the parts of one version, in the document's order, in the
    active language, each keyed by its English wording."""
    goals, kpis = list(goals), list(kpis)
    parts = dict(policy=policy, plan=plan, qualification=qualification, goals=goals, kpis=kpis)
    with translation.override("en"):
        english = _contradictions(**parts)
    return [
        Contradiction(shown.code, shown.message, basis=basis.message)
        for basis, shown in zip(english, _contradictions(**parts), strict=True)
    ]


def _contradictions(*, policy, plan, qualification, goals, kpis) -> list[Contradiction]:
    return [
        *_revenue(plan, goals),
        *_plan_disappears(plan),
        *_funnel_goals(goals),
        *_thresholds(qualification),
        *_speed_to_lead(policy, goals, kpis),
    ]
