"""`{% load queue_rows %}`: the HTML of a queue row and of a team row, written in Python.

A queue page prints 25 rows of some 50 values each and the team view 50 rows; through the
template engine each value cost a lookup, localisation and escaping (several microseconds),
and rendering was half of the page's CPU. Here each row is one pass of string formatting over
the text leads.selectors.QueueRow.describe prepared (translated once per page, times in the
row's zone). templates/leads/partials/queue_row.html and team_row.html call these tags, so
the queue, the team view, the htmx swaps and the lead page share this one writing of a row.

Every value goes through `_e` (html.escape, what Django's escape does) unless it is already
safe HTML (the reassign menu's options).
"""

from html import escape

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from leads.access import lead_openable_by

register = template.Library()


def _e(value) -> str:
    return escape(str(value))


def _badge(badge) -> str:
    icon = f'<i class="bi {badge.icon}" aria-hidden="true"></i> ' if badge.icon else ""
    return f'<span class="badge {badge.css}">{icon}{_e(badge.text)}</span>'


def _csrf_input(context) -> str:
    """What {% csrf_token %} writes (the token is computed once per request)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(token)}">'


@register.simple_tag(takes_context=True)
def queue_row_head(context, row) -> SafeString:
    """The row's article up to its notice, error and actions (closed by the template)."""
    lead = row.handoff.lead
    labels = row.labels
    name = _e(row.lead_label)
    if lead_openable_by(lead, context.get("user")):
        name = f'<a class="fw-semibold text-decoration-none" href="{_e(row.lead_url)}">{name}</a>'
    else:
        name = f'<span class="fw-semibold">{name}</span>'
    who = _e(lead.title or "—")
    if lead.company:
        who += f" · <strong>{_e(lead.company)}</strong>"
    if row.staff:
        who += f' <span class="text-secondary">{_e(row.staff)}</span>'
    contact = _e(lead.email) + (f" · {_e(lead.phone)}" if lead.phone else "")
    moved = (
        f'<span class="badge text-bg-warning" title="{_e(labels["moved_title"])}">'
        f"{_e(labels['moved'])}</span>"
        if row.moved
        else ""
    )
    paused = (
        '<div class="text-info-emphasis fw-semibold" data-testid="paused"><i class="bi '
        f'bi-pause-circle" aria-hidden="true"></i> {_e(row.paused)}</div>'
        if row.paused
        else ""
    )
    next_step = (
        f'<div class="{row.next_class}">{_e(row.next_label)}</div>' if row.next_label else ""
    )
    why = f"{_e(row.why)}"
    if row.why_detail:
        why += f' <span class="text-secondary">({_e(row.why_detail)})</span>'
    rules = ""
    if row.rule_badges:
        rules = (
            '<div class="d-flex gap-1 flex-wrap mt-1">'
            + "".join(
                f'<span class="badge {hit.css} fw-normal" title="{_e(hit.title)}">'
                f"{_e(hit.text)}</span>"
                for hit in row.rule_badges
            )
            + "</div>"
        )
    recent = ""
    if row.recent:
        recent = (
            '<ul class="list-unstyled mb-0 mt-1 text-secondary">'
            + "".join(
                f'<li><i class="bi bi-dot" aria-hidden="true"></i>{_e(label)} '
                f"<span>{_e(when)}</span></li>"
                for label, when in row.recent
            )
            + "</ul>"
        )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<article id="handoff-{row.pk}" class="card mb-2 shadow-sm urgency-{row.urgency}" '
        f'aria-label="{_e(row.lead_label)}">'
        '<div class="card-body py-2"><div class="row g-3"><div class="col-lg-4">'
        f'<div class="d-flex align-items-center gap-2 flex-wrap">{name} {_badge(row.badge)}</div>'
        f'<div class="small">{who}</div>'
        f'<div class="small text-secondary text-truncate">{contact}</div>'
        '<div class="mt-1 d-flex gap-1 flex-wrap">'
        f'<span class="badge text-bg-light border">{_e(row.stage_label)}</span> '
        f'<span class="badge text-bg-light border" title="{_e(labels["scores_title"])}">'
        f"{_e(row.scores)}</span> "
        '<span class="badge text-bg-light border" data-testid="governing-sla" '
        f'title="{_e(labels["governing_title"])}"><i class="bi bi-file-earmark-text" '
        f'aria-hidden="true"></i> {_e(row.governing)}</span> {moved}</div></div>'
        '<div class="col-sm-6 col-lg-3 small">'
        f'<div class="fw-semibold {row.time_class}" data-testid="time-left">'
        f'<i class="bi bi-stopwatch" aria-hidden="true"></i> {_e(row.time_label)}</div>'
        f'<div class="text-secondary" title="{_e(row.zone_title)}">{_e(row.first_touch_due)}</div>'
        f"{paused}"
        '<div class="mt-1" data-testid="attempts"><i class="bi bi-telephone-outbound" '
        f'aria-hidden="true"></i> {_e(row.attempts)}</div>{next_step}</div>'
        '<div class="col-sm-6 col-lg-5 small">'
        f'<div><span class="text-secondary">{_e(labels["why"])}</span> {why}</div>'
        f"{rules}{recent}</div></div>"
    )


@register.simple_tag(takes_context=True)
def queue_row(context, row, *, can_act=False, notice="", error="") -> SafeString:
    """The whole article of a row without a form open in it: what a queue page prints for
    each row (without an include per row) and queue_row.html for a row swapped in place."""
    said = ""
    if notice:
        said += (
            '<div class="alert alert-success py-1 px-2 small mt-2 mb-0" data-announce><i '
            f'class="bi bi-check2-circle" aria-hidden="true"></i> {conditional_escape(notice)}'
            "</div>"
        )
    if error:
        said += (
            '<div class="alert alert-danger py-1 px-2 small mt-2 mb-0" data-announce>'
            f"{conditional_escape(error)}</div>"
        )
    actions = queue_row_actions(context, row) if can_act else ""
    return mark_safe(  # noqa: S308 - every part is escaped
        f"{queue_row_head(context, row)}{said}{actions}</div></article>"
    )


@register.simple_tag(takes_context=True)
def queue_row_actions(context, row) -> SafeString:
    """The row's buttons: log an attempt, accept, reject, return, pause, enrol."""
    labels, urls, target = row.labels, row.urls, f"#handoff-{row.pk}"

    def swap(css: str, url: str, text: str, icon: str = "", title: str = "") -> str:
        icon = f'<i class="bi {icon}" aria-hidden="true"></i> ' if icon else ""
        title = f' title="{_e(title)}"' if title else ""
        return (
            f'<a class="btn btn-sm {css}" href="{url}" hx-get="{url}" hx-target="{target}" '
            f'hx-swap="outerHTML"{title}>{icon}{_e(text)}</a>'
        )

    buttons = [
        swap("btn-primary", urls["attempt"], labels["log_attempt"], "bi-journal-plus"),
        f'<form method="post" action="{urls["accept"]}" hx-post="{urls["accept"]}" '
        f'hx-target="{target}" hx-swap="outerHTML">{_csrf_input(context)}'
        '<button class="btn btn-sm btn-success" type="submit"><i class="bi bi-check2-circle" '
        f'aria-hidden="true"></i> {_e(labels["accept"])}</button></form>',
    ]
    if row.can_reject:
        buttons.append(
            swap("btn-outline-danger", urls["reject"], labels["reject"], title=row.reject_title)
        )
    buttons.append(
        swap("btn-outline-secondary", urls["return"], labels["return"], "bi-arrow-return-left")
    )
    if row.may_pause:
        buttons.append(
            f'<a class="btn btn-sm btn-outline-secondary" href="{urls["pause"]}"><i class="bi '
            f'bi-pause-circle" aria-hidden="true"></i> {_e(labels["pause"])}</a>'
        )
    if row.can_enrol:
        buttons.append(
            swap("btn-outline-secondary", urls["nurture"], labels["enrol"], "bi-flower1")
        )
    return mark_safe(  # noqa: S308 - every value is escaped
        '<div class="d-flex gap-2 flex-wrap mt-2 pt-2 border-top" role="group" '
        f'aria-label="{_e(labels["actions"])}">' + " ".join(buttons) + "</div>"
    )


@register.simple_tag(takes_context=True)
def team_row(context, row, *, can_reassign=False, notice="", error="") -> SafeString:
    """One handoff of the team view, with the reassign form for a sales manager."""
    labels, lead = row.labels, row.handoff.lead
    pk = row.pk
    shade = {"breached": " table-danger", "at_risk": " table-warning"}.get(row.urgency, "")
    said = ""
    if notice:
        said += f'<div class="small text-success" data-announce>{conditional_escape(notice)}</div>'
    if error:
        said += (
            '<div class="small text-danger" data-announce>'
            f"{_e(labels['not_reassigned'] % {'error': error})}</div>"
        )
    reassign = ""
    if can_reassign:
        url = row.urls["reassign"]
        reassign = (
            f'<td data-label="{_e(labels["reassign"])}"><form method="post" action="{url}" '
            f'hx-post="{url}" hx-target="#team-handoff-{pk}" hx-swap="outerHTML" '
            f'class="d-flex flex-wrap gap-1 reassign-form">{_csrf_input(context)}'
            f'<label class="visually-hidden" for="rep-{pk}">{_e(row.give_to)}</label>'
            f'<select name="rep" id="rep-{pk}" class="form-select form-select-sm">'
            f"{conditional_escape(row.rep_options)}</select>"
            f'<label class="visually-hidden" for="reason-{pk}">{_e(labels["why_reassign"])}'
            f'</label><input type="text" name="reason" id="reason-{pk}" '
            'class="form-control form-control-sm" maxlength="300" '
            f'placeholder="{_e(labels["why_optional"])}">'
            '<button class="btn btn-sm btn-outline-primary" type="submit">'
            f"{_e(labels['give'])}</button></form></td>"
        )
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<tr id="team-handoff-{pk}" class="urgency-{row.urgency}{shade}">'
        f'<td data-label="{_e(labels["lead"])}"><a class="text-decoration-none fw-semibold" '
        f'href="{_e(row.lead_url)}">{_e(row.lead_label)}</a>'
        f'<div class="small text-secondary">{_e(lead.company)}</div>{said}</td>'
        f'<td data-label="{_e(labels["rep"])}">{_e(row.rep_name)}</td>'
        f'<td class="small" data-label="{_e(labels["sla"])}">{_badge(row.badge)}'
        f'<div>{_e(row.time_label)}</div><div class="text-secondary">{_e(row.due)}</div></td>'
        f'<td class="text-end" data-label="{_e(labels["attempts"])}">{row.attempts_made}</td>'
        f"{reassign}</tr>"
    )
