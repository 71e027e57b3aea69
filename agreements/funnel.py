"""The reverse-funnel planner: from a revenue target back to the leads needed per month.

revenue ÷ deal size = deals; deals ÷ win rate = opportunities; ÷ SQL→opportunity = SQLs;
÷ MQL→SQL = MQLs; ÷ lead→MQL = leads. Pure arithmetic, rounded up at each stage because
half a deal is not a deal.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from slaportal.numbers import money, number

# The stages are keys other apps read (kpis); people read their labels.
STAGE_LABELS = {
    "Won deals": _("Won deals"),
    "Opportunities": _("Opportunities"),
    "SQLs": _("SQLs"),
    "MQLs": _("MQLs"),
    "Leads": _("Leads"),
}


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    total: int
    per_month: Decimal
    # What the total was worked out from: (revenue, deal size) for the deals, (the stage
    # before, its rate in %) for the others; written out in the reader's language on demand.
    worked_from: tuple[Decimal, Decimal]

    @property
    def label(self) -> str:
        return str(STAGE_LABELS.get(self.stage, self.stage))

    @property
    def arithmetic(self) -> str:
        first, second = self.worked_from
        if self.stage == "Won deals":
            return gettext("%(revenue)s ÷ %(size)s deal size = %(deals)s") % {
                "revenue": money(first, decimals=0),
                "size": money(second, decimals=0),
                "deals": number(self.total),
            }
        rate = number(Decimal(second).normalize())
        return f"{number(first)} ÷ {rate} % = {number(self.total)}"


@dataclass(frozen=True)
class FunnelPlanResult:
    steps: tuple[FunnelStep, ...]
    missing: tuple[str, ...]  # inputs that must be set before a plan can be made

    @property
    def is_complete(self) -> bool:
        return not self.missing

    def total_for(self, stage: str) -> int | None:
        return next((step.total for step in self.steps if step.stage == stage), None)


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def plan_funnel(
    *,
    revenue_target: Decimal,
    average_deal_size: Decimal,
    months: int,
    lead_to_mql_rate: Decimal,
    mql_to_sql_rate: Decimal,
    sql_to_opportunity_rate: Decimal,
    opportunity_to_win_rate: Decimal,
) -> FunnelPlanResult:
    """Rates are percentages (25 means 25 %)."""
    inputs = {
        _("revenue target"): revenue_target,
        _("average deal size"): average_deal_size,
        _("months"): Decimal(months or 0),
        _("opportunity → won rate"): opportunity_to_win_rate,
        _("SQL → opportunity rate"): sql_to_opportunity_rate,
        _("MQL → SQL rate"): mql_to_sql_rate,
        _("lead → MQL rate"): lead_to_mql_rate,
    }
    missing = tuple(str(name) for name, value in inputs.items() if not value or value <= 0)
    if missing:
        return FunnelPlanResult(steps=(), missing=missing)

    months_d = Decimal(months)
    deals = _ceil(Decimal(revenue_target) / Decimal(average_deal_size))
    steps = [
        FunnelStep(
            "Won deals",
            deals,
            Decimal(deals) / months_d,
            (Decimal(revenue_target), Decimal(average_deal_size)),
        )
    ]
    previous = deals
    for stage, rate in (
        ("Opportunities", opportunity_to_win_rate),
        ("SQLs", sql_to_opportunity_rate),
        ("MQLs", mql_to_sql_rate),
        ("Leads", lead_to_mql_rate),
    ):
        needed = _ceil(Decimal(previous) * 100 / Decimal(rate))
        steps.append(
            FunnelStep(
                stage,
                needed,
                Decimal(needed) / months_d,
                (Decimal(previous), Decimal(rate)),
            )
        )
        previous = needed
    return FunnelPlanResult(steps=tuple(steps), missing=())


PLAN_INPUTS = (
    "revenue_target",
    "average_deal_size",
    "months",
    "lead_to_mql_rate",
    "mql_to_sql_rate",
    "sql_to_opportunity_rate",
    "opportunity_to_win_rate",
)


def plan_from(inputs) -> FunnelPlanResult:
    """The plan of anything that carries the planner's inputs as attributes (a FunnelPlan row)."""
    return plan_funnel(**{name: getattr(inputs, name) for name in PLAN_INPUTS})
