"""The review's charts as data: the page draws them with Chart.js, the PDF pack on the server.

One function builds the series for both, so the pack's charts can never disagree with the
page's. Links to the figures behind each bar are the page's business and are added there.
"""

from .exports import Review, trend_labels


def first_month_with_data(series: dict) -> int:
    months = len(series["labels"])
    for index in range(months):
        counts = (series[name][index] for name in ("leads_created", "entered_mql", "entered_sql"))
        if any(counts) or series["compliance"][index] is not None:
            return index
    return 0  # nothing at all: the whole empty year, which the chart says has no data


def review_charts(review: Review) -> dict:
    report, series = review.report, review.trends
    # Visitors would dwarf every other bar; the funnel table lists them.
    steps = [step for step in report.funnel if step.stage != "visitor"]
    reasons = list(dict.fromkeys([*report.rejections_by_reason, *report.returns_by_reason]))
    # The trend starts where the data starts: nine months of zeros before a new SLA's first
    # leads say nothing. The CSV keeps all twelve.
    start = first_month_with_data(series)
    # The plan and the target beside the actuals: a chart without them cannot say "behind".
    compliance_target = next(
        (kpi.target for kpi in report.kpis if kpi.metric == "sla_compliance"), None
    )
    return {
        "funnel": {
            "stages": [step.stage for step in steps],
            "labels": [str(step.label) for step in steps],
            "counts": [step.count for step in steps],
            "plan": [
                None if step.planned_per_month is None else round(step.planned_per_month, 1)
                for step in steps
            ],
        },
        "trends": {
            "labels": trend_labels(review)[start:],
            "leads": series["leads_created"][start:],
            "mqls": series["entered_mql"][start:],
            "sqls": series["entered_sql"][start:],
            "compliance": series["compliance"][start:],
            "mql_plan": None if report.mqls_planned is None else round(report.mqls_planned, 1),
            "compliance_target": compliance_target,
        },
        "reps": {
            "ids": [rep.rep_id for rep in report.by_rep],
            "labels": [rep.name for rep in report.by_rep],
            "compliance": [
                None if rep.compliance is None else round(rep.compliance * 100, 1)
                for rep in report.by_rep
            ],
            "breaches": [rep.breached for rep in report.by_rep],
        },
        "targets": {"compliance": compliance_target},
        "reasons": {
            "labels": [review.reason(code) for code in reasons],
            "rejected": [report.rejections_by_reason.get(code, 0) for code in reasons],
            "returned": [report.returns_by_reason.get(code, 0) for code in reasons],
        },
    }
