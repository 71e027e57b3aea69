""" "What we promise each other": the SLA in a few plain sentences, written from its parts.

A rep should learn "first touch within 4 business hours, 6 attempts over 14 days" without
reading tables. `promises_write` is a pure function of `SlaTerms` (plain values, human labels
already resolved), so it is tested by hand; `version_promises` loads a version's terms from its
rows, which a published version never changes, so the summary reads the same as its snapshot.
"""

import math
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import ordinal
from django.utils.formats import number_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from slaportal.clock import time_format as clock_time_format

from . import models as m
from .funnel import plan_from


@dataclass(frozen=True)
class ReturnRoute:
    reason: str
    track: str = ""  # the nurture track the reason sends a lead into; "" for none


@dataclass(frozen=True)
class SlaTerms:
    mqls_per_month: Decimal | None = None
    mql_min_fit: int | None = None
    mql_min_interest: int | None = None
    mql_min_total: int | None = None
    required_fields: tuple[str, ...] = ()
    trigger_on_score: bool = False
    trigger_events: tuple[str, ...] = ()
    response_target_hours: Decimal | None = None
    accept_window_hours: Decimal | None = None
    return_after_attempts: int | None = None
    return_after_days: int | None = None
    channels: tuple[str, ...] = ()
    return_routes: tuple[ReturnRoute, ...] = field(default_factory=tuple)
    review_business_day: int | None = None
    review_time: time | None = None
    review_attendees: tuple[str, ...] = ()


@dataclass(frozen=True)
class Promises:
    marketing: tuple[str, ...]
    sales: tuple[str, ...]
    # What both sides do together: the monthly review the SLA sets.
    together: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.marketing or self.sales or self.together)

    def for_sides(self, *, marketing: bool, sales: bool) -> list[tuple[str, tuple[str, ...]]]:
        """The headed lists one reader needs: a rep only sales', a viewer both."""
        sides = []
        if marketing and self.marketing:
            sides.append((_("Marketing promises"), self.marketing))
        if sales and self.sales:
            sides.append((_("Sales promises"), self.sales))
        if self.together:
            sides.append((_("Together"), self.together))
        return sides


def number(value) -> str:
    """1200000 → "1,200,000", 4.00 → "4", 4.50 → "4.5", in the active locale's format."""
    if isinstance(value, Decimal):
        value = value.normalize()
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
    return number_format(value, force_grouping=True)


def in_sentence(label: str) -> str:
    """A label inside a sentence: "Phone" → "phone", "SMS" stays "SMS"."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def join(items, *, alternatives: bool = False) -> str:
    """ "a", "a and b", "a, b and c" (or "a, b or c")."""
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    last = _("%(first)s or %(last)s") if alternatives else _("%(first)s and %(last)s")
    return last % {"first": ", ".join(items[:-1]), "last": items[-1]}


def promises_write(terms: SlaTerms) -> Promises:
    return Promises(
        marketing=tuple(_marketing(terms)),
        sales=tuple(_sales(terms)),
        together=tuple(_together(terms)),
    )


def _together(terms: SlaTerms) -> list[str]:
    if not terms.review_business_day or terms.review_time is None:
        return []
    sentence = _(
        "Both sides review the numbers on the %(day)s business day of each month at %(time)s"
    ) % {
        "day": ordinal(terms.review_business_day),
        "time": time_format(terms.review_time, clock_time_format()),
    }
    if terms.review_attendees:
        sentence += _(", with %(people)s") % {"people": join(terms.review_attendees)}
    return [sentence + _("; the review pack arrives the business day before.")]


def _marketing(terms: SlaTerms) -> list[str]:
    out = []
    if terms.mqls_per_month:
        mqls = math.ceil(terms.mqls_per_month)
        out.append(
            ngettext(
                "Marketing delivers about %(mqls)s MQL a month to sales.",
                "Marketing delivers about %(mqls)s MQLs a month to sales.",
                mqls,
            )
            % {"mqls": number(mqls)}
        )
    if terms.mql_min_fit is not None and terms.mql_min_interest is not None:
        rule = _("An MQL has at least %(fit)s fit points and %(interest)s interest points") % {
            "fit": number(terms.mql_min_fit),
            "interest": number(terms.mql_min_interest),
        }
        if terms.mql_min_total:
            rule += _(", or %(total)s points in all") % {"total": number(terms.mql_min_total)}
        out.append(rule + ".")
    if terms.required_fields:
        out.append(
            _("Every lead reaches sales with these details filled in: %(fields)s.")
            % {"fields": join(in_sentence(label) for label in terms.required_fields)}
        )
    ways = []
    if terms.trigger_on_score:
        ways.append(_("when it reaches the MQL threshold"))
    if terms.trigger_events:
        ways.append(
            _("at once on a %(events)s")
            % {
                "events": join(
                    (in_sentence(label) for label in terms.trigger_events), alternatives=True
                )
            }
        )
    if ways:
        out.append(_("A lead passes to sales %(ways)s.") % {"ways": _(", or ").join(ways)})
    return out


def _sales(terms: SlaTerms) -> list[str]:
    out = []
    if terms.response_target_hours:
        out.append(
            _("Sales makes the first touch within %(hours)s business hours of the handoff.")
            % {"hours": number(terms.response_target_hours)}
        )
    if terms.return_after_attempts and terms.return_after_days:
        attempts = ngettext(
            "%(attempts)s attempt over %(days)s days",
            "%(attempts)s attempts over %(days)s days",
            terms.return_after_attempts,
        ) % {
            "attempts": number(terms.return_after_attempts),
            "days": number(terms.return_after_days),
        }
        if terms.channels:
            attempts += " " + _("by %(channels)s") % {
                "channels": join(in_sentence(label) for label in terms.channels)
            }
        out.append(
            _("Sales follows up with %(attempts)s before a lead with no conversation goes back.")
            % {"attempts": attempts}
        )
    if terms.accept_window_hours:
        out.append(
            _("Sales accepts or rejects each MQL within %(hours)s business hours, with a reason.")
            % {"hours": number(terms.accept_window_hours)}
        )
    if terms.return_routes:
        routes = [
            _("“%(reason)s” into “%(track)s”") % {"reason": route.reason, "track": route.track}
            if route.track
            else _("“%(reason)s” into no nurture track") % {"reason": route.reason}
            for route in terms.return_routes
        ]
        out.append(
            _("A lead sales returns goes back with a reason, and into nurture: %(routes)s.")
            % {"routes": "; ".join(routes)}
        )
    return out


# Loading a version's terms ------------------------------------------------------------------


def version_terms(version: m.AgreementVersion) -> SlaTerms:
    from .forms import LEAD_FIELDS, event_type_choices

    plan = m.FunnelPlan.objects.filter(version=version).first()
    mqls_per_month = None
    if plan is not None:
        result = plan_from(plan)
        step = next((s for s in result.steps if s.stage == "MQLs"), None)
        mqls_per_month = step.per_month if step else None
    qualification = m.QualificationSettings.objects.filter(version=version).first()
    policy = m.HandoffPolicy.objects.filter(version=version).first()
    field_labels = dict(LEAD_FIELDS)
    event_labels = dict(event_type_choices(version))
    channel_labels = dict(m.Channel.choices)
    channels = []
    for code in m.CadenceStep.objects.filter(version=version).values_list("channel", flat=True):
        label = channel_labels.get(code, code)
        if label not in channels:
            channels.append(label)
    routes = tuple(
        ReturnRoute(reason.label, reason.nurture_track.name if reason.nurture_track else "")
        for reason in m.ReturnReason.objects.filter(version=version).select_related("nurture_track")
    )
    meeting = m.ReviewSchedule.objects.filter(version=version).first()
    return SlaTerms(
        review_business_day=meeting.business_day if meeting else None,
        review_time=meeting.starts_at if meeting else None,
        review_attendees=tuple(
            sorted(u.get_full_name() or u.username for u in meeting.attendees.all())
        )
        if meeting
        else (),
        mqls_per_month=mqls_per_month,
        mql_min_fit=qualification.mql_min_fit if qualification else None,
        mql_min_interest=qualification.mql_min_interest if qualification else None,
        mql_min_total=qualification.mql_min_total if qualification else None,
        required_fields=tuple(
            field_labels.get(name, name) for name in (policy.required_fields if policy else [])
        ),
        trigger_on_score=bool(policy and policy.trigger_on_score),
        trigger_events=tuple(
            event_labels.get(code, code) for code in (policy.trigger_events if policy else [])
        ),
        response_target_hours=policy.response_target_hours if policy else None,
        accept_window_hours=policy.accept_window_hours if policy else None,
        return_after_attempts=policy.return_after_attempts if policy else None,
        return_after_days=policy.return_after_days if policy else None,
        channels=tuple(channels),
        return_routes=routes,
    )


def version_promises(version: m.AgreementVersion | None) -> Promises:
    if version is None:
        return Promises(marketing=(), sales=())
    return promises_write(version_terms(version))
