"""The review's charts in words and tables, for people who cannot see a canvas.

Each chart gets a one-sentence summary (what a sighted reader takes from it at a glance) and
its data as a table: the same series the chart draws (kpis.charts.review_charts), so the two
never disagree.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from slaportal import numbers


@dataclass
class ChartText:
    key: str
    summary: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def _show(value, percent: bool = False) -> str:
    """A figure in the reader's format: "1,234" / "1.234", "42.5%" / "42,5%"; "—" for none."""
    if value is None:
        return "—"
    digits = 0 if float(value).is_integer() else 1
    return numbers.percent(value, digits) if percent else numbers.number(value, digits)


def _funnel(data: dict) -> ChartText:
    labels, counts, plan = data.get("labels", []), data.get("counts", []), data.get("plan", [])
    rows = [
        [label, _show(count), _show(plan[i] if i < len(plan) else None)]
        for i, (label, count) in enumerate(zip(labels, counts, strict=False))
    ]
    steps = ", ".join(
        f"{_show(count)} {label}" for label, count in zip(labels, counts, strict=False)
    )
    summary = _("This month: %(steps)s.") % {"steps": steps} if steps else _("No data.")
    return ChartText("funnel", summary, [_("Stage"), _("Actual"), _("Plan for a month")], rows)


def _trends(data: dict) -> ChartText:
    labels = data.get("labels", [])
    series = [data.get(name, []) for name in ("leads", "mqls", "sqls", "compliance")]
    rows = [
        [label, *(_show(values[i] if i < len(values) else None) for values in series)]
        for i, label in enumerate(labels)
    ]
    if labels:
        leads, mqls = series[0], series[1]
        summary = _(
            "From %(first)s to %(last)s, leads went from %(l0)s to %(l1)s and MQLs from %(m0)s "
            "to %(m1)s; SLA compliance was %(c1)s in %(last)s."
        ) % {
            "first": labels[0],
            "last": labels[-1],
            "l0": _show(leads[0] if leads else None),
            "l1": _show(leads[-1] if leads else None),
            "m0": _show(mqls[0] if mqls else None),
            "m1": _show(mqls[-1] if mqls else None),
            "c1": _show(series[3][-1] if series[3] else None, percent=True),
        }
    else:
        summary = _("No data.")
    headers = [_("Month"), _("Leads"), _("MQLs"), _("SQLs"), _("SLA compliance %")]
    return ChartText("trends", summary, headers, rows)


def _reps(data: dict, target) -> ChartText:
    labels, compliance, breaches = (
        data.get("labels", []),
        data.get("compliance", []),
        data.get("breaches", []),
    )
    rows = [
        [name, _show(compliance[i] if i < len(compliance) else None, True), _show(breaches[i])]
        for i, name in enumerate(labels)
        if i < len(breaches)
    ]
    if rows:
        worst = max(range(len(rows)), key=lambda i: breaches[i])
        summary = ngettext(
            "%(count)s rep; the most breaches: %(name)s with %(breaches)s.",
            "%(count)s reps; the most breaches: %(name)s with %(breaches)s.",
            len(rows),
        ) % {"count": _show(len(rows)), "name": rows[worst][0], "breaches": rows[worst][2]}
        if target is not None:
            summary += " " + _("Compliance target: %(target)s.") % {"target": _show(target, True)}
    else:
        summary = _("No handoffs this month.")
    return ChartText("reps", summary, [_("Rep"), _("SLA compliance"), _("Breaches")], rows)


def _reasons(data: dict) -> ChartText:
    labels, rejected, returned = (
        data.get("labels", []),
        data.get("rejected", []),
        data.get("returned", []),
    )
    rows = [list(row) for row in zip(labels, rejected, returned, strict=False)]
    if rows:
        top = max(rows, key=lambda row: row[1] + row[2])
        summary = _(
            "%(total)s leads rejected or returned; the most common reason: %(reason)s (%(count)s)."
        ) % {
            "total": _show(sum(row[1] + row[2] for row in rows)),
            "reason": top[0],
            "count": top[1] + top[2],
        }
    else:
        summary = _("No lead was rejected or returned.")
    return ChartText("reasons", summary, [_("Reason"), _("Rejected"), _("Returned")], rows)


def chart_texts(chart_data: dict) -> dict[str, ChartText]:
    """The four charts of the review, keyed as the page's canvases are."""
    targets = chart_data.get("targets") or {}
    texts = [
        _funnel(chart_data.get("funnel") or {}),
        _trends(chart_data.get("trends") or {}),
        _reps(chart_data.get("reps") or {}, targets.get("compliance")),
        _reasons(chart_data.get("reasons") or {}),
    ]
    return {text.key: text for text in texts}
