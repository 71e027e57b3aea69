from decimal import Decimal

from agreements.funnel import plan_funnel

ARTICLE = dict(
    revenue_target=Decimal(1_000_000),
    average_deal_size=Decimal(20_000),
    months=12,
    opportunity_to_win_rate=Decimal(25),
    sql_to_opportunity_rate=Decimal(50),
    mql_to_sql_rate=Decimal(40),
    lead_to_mql_rate=Decimal(20),
)


def test_the_articles_goal_works_back_to_five_thousand_leads():
    plan = plan_funnel(**ARTICLE)
    assert [(s.stage, s.total) for s in plan.steps] == [
        ("Won deals", 50),
        ("Opportunities", 200),
        ("SQLs", 400),
        ("MQLs", 1000),
        ("Leads", 5000),
    ]
    assert plan.steps[-1].per_month.quantize(Decimal("0.1")) == Decimal("416.7")
    assert plan.steps[3].arithmetic == "400 ÷ 40 % = 1,000"


def test_each_stage_rounds_up_because_half_a_deal_is_not_a_deal():
    plan = plan_funnel(
        **{**ARTICLE, "revenue_target": Decimal(1_010_000), "opportunity_to_win_rate": Decimal(30)}
    )
    assert plan.total_for("Won deals") == 51  # 50.5 rounds up
    assert plan.total_for("Opportunities") == 170  # 51 / 0.3


def test_missing_or_zero_inputs_are_named_instead_of_dividing_by_zero():
    plan = plan_funnel(
        **{**ARTICLE, "average_deal_size": Decimal(0), "mql_to_sql_rate": Decimal(0)}
    )
    assert not plan.is_complete and plan.steps == ()
    assert plan.missing == ("average deal size", "MQL → SQL rate")
