"""Reads of the SLA shared by views, services and the lead engine."""

from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone, translation

from .business_hours import Calendar
from .consistency import Contradiction, contradictions
from .models import (
    Agreement,
    AgreementVersion,
    BusinessCalendar,
    EventType,
    FitRule,
    FunnelPlan,
    Goal,
    HandoffPolicy,
    Holiday,
    InterestRule,
    Kpi,
    QualificationSettings,
    ScopeRule,
    ScopeSettings,
    VersionEvent,
)
from .scopes import ScopeRuleSpec, ScopeSpec
from .scoring import FitRuleSpec, InterestRuleSpec, Thresholds


def version_in_force(*, agreement: Agreement, at=None) -> AgreementVersion | None:
    """The published version with the highest number whose effective date has come."""
    at = at or timezone.now()
    return (
        agreement.versions.filter(status=AgreementVersion.Status.PUBLISHED)
        .filter(Q(effective_at__lte=at))
        .order_by("-number")
        .first()
    )


def open_draft(*, agreement: Agreement) -> AgreementVersion | None:
    return agreement.versions.filter(
        status__in=[AgreementVersion.Status.DRAFT, AgreementVersion.Status.SUBMITTED]
    ).first()


def published_versions(*, agreement: Agreement):
    return (
        agreement.versions.filter(status=AgreementVersion.Status.PUBLISHED)
        .select_related("marketing_approved_by", "sales_approved_by", "submitted_by")
        .order_by("-number")
    )


def agreement_list():
    return Agreement.objects.select_related("marketing_manager", "sales_manager").order_by("name")


# A published version never changes (its parts are frozen at publication), so what is read
# from its parts can be kept for the life of the process: the lead page, the queue and every
# scoring batch ask for the same few versions' rules and calendars over and over. Drafts are
# always read afresh. The key carries the publication instant as well as the id, so a
# database flushed and reloaded under a running process (ids restart) is not served stale.
_PUBLISHED_MEMO_SIZE = 64
_published_memo: OrderedDict = OrderedDict()


def published_memo_clear() -> None:
    """Forget what was read from published versions (tests, whose databases roll back)."""
    _published_memo.clear()


def _published_memoised(kind: str, version: AgreementVersion, read):
    if version.status != AgreementVersion.Status.PUBLISHED or version.published_at is None:
        return read()
    # The language too: rule labels are text for people.
    key = (kind, version.pk, version.published_at, translation.get_language())
    if key in _published_memo:
        _published_memo.move_to_end(key)
        return _published_memo[key]
    value = _published_memo[key] = read()
    if len(_published_memo) > _PUBLISHED_MEMO_SIZE:
        _published_memo.popitem(last=False)
    return value


def version_calendar(*, version: AgreementVersion) -> Calendar:
    """The pure business-hours calendar the version's timers count in."""
    return _published_memoised("calendar", version, lambda: _version_calendar_read(version))


def _version_calendar_read(version: AgreementVersion) -> Calendar:
    settings, _ = BusinessCalendar.objects.get_or_create(version=version)
    return Calendar(
        time_zone=settings.time_zone,
        working_days=frozenset(int(day) for day in settings.working_days),
        day_start=settings.day_start,
        day_end=settings.day_end,
        holidays=frozenset(Holiday.objects.filter(version=version).values_list("date", flat=True)),
    )


def qualification_rules(*, version: AgreementVersion):
    """The version's scoring rules as the pure scoring core's specs."""
    fit, interest, thresholds = _published_memoised(
        "qualification", version, lambda: _qualification_rules_read(version)
    )
    # Fresh lists, so a caller that edits its copy cannot change the memoised rules.
    return list(fit), list(interest), thresholds


def _qualification_rules_read(version: AgreementVersion):
    settings, _ = QualificationSettings.objects.get_or_create(version=version)
    fit = [
        FitRuleSpec(
            attribute=r.attribute,
            operator=r.operator,
            value=r.value,
            points=r.points,
            custom_attribute=r.custom_attribute,
            label=str(r),
        )
        for r in FitRule.objects.filter(version=version).order_by("position", "id")
    ]
    interest = [
        InterestRuleSpec(
            event_type=r.event_type,
            points=r.points,
            property_key=r.property_key,
            property_value=r.property_value,
            max_occurrences=r.max_occurrences,
            label=_interest_label(r),
        )
        for r in InterestRule.objects.filter(version=version).order_by("position", "id")
    ]
    thresholds = Thresholds(
        mql_min_fit=settings.mql_min_fit,
        mql_min_interest=settings.mql_min_interest,
        mql_min_total=settings.mql_min_total,
        decay_half_life_days=settings.decay_half_life_days,
    )
    return fit, interest, thresholds


def _interest_label(rule: InterestRule) -> str:
    known = dict(EventType.choices).get(rule.event_type)
    label = str(known) if known else rule.event_type.replace("_", " ").capitalize()
    if rule.property_key:
        label += f" ({rule.property_key} = {rule.property_value})"
    return label


def workspace_agreement() -> Agreement | None:
    """The workspace's default agreement (its first one when none is the default).

    Not the lead engine's choice: each lead is governed by its own agreement (Lead.agreement,
    see versions_in_force and leads.services.scopes). This names the agreement whose calendar
    and labels a page about no lead in particular shows.
    """
    from django.db.models import Subquery

    in_force = Subquery(workspace_version_query().values("agreement_id")[:1])
    return Agreement.objects.filter(pk=in_force).first() or Agreement.objects.order_by("id").first()


def workspace_version_query(*, at=None):
    """The workspace's version in force, as a queryset whose first row it is, for use as a
    subquery (`.values("pk")[:1]`): the default agreement's, else the first agreement's.

    For what a page about no lead in particular shows (the clock's zone, stage labels); the
    lead engine uses each lead's own agreement.
    """
    from django.db.models import Exists, OuterRef

    return (
        AgreementVersion.objects.filter(
            status=AgreementVersion.Status.PUBLISHED, effective_at__lte=at or timezone.now()
        )
        .annotate(
            is_default=Exists(ScopeSettings.objects.filter(version=OuterRef("pk"), is_default=True))
        )
        .order_by("-is_default", "agreement_id", "-number")
    )


def versions_in_force(*, at=None) -> dict[int, AgreementVersion]:
    """{agreement id: its version in force} for every agreement with one, in one query."""
    at = at or timezone.now()
    versions: dict[int, AgreementVersion] = {}
    for version in (
        AgreementVersion.objects.filter(
            status=AgreementVersion.Status.PUBLISHED, effective_at__lte=at
        )
        .select_related("agreement")
        .defer("snapshot")
        .order_by("agreement_id", "-number")
    ):
        versions.setdefault(version.agreement_id, version)
    return versions


def lead_version_in_force(*, lead, at=None) -> AgreementVersion | None:
    """The version in force of the agreement that governs this lead (None when none does)."""
    if lead.agreement_id is None:
        return None
    return (
        AgreementVersion.objects.filter(
            agreement_id=lead.agreement_id,
            status=AgreementVersion.Status.PUBLISHED,
            effective_at__lte=at or timezone.now(),
        )
        .select_related("agreement")
        .order_by("-number")
        .first()
    )


def version_scope(*, version: AgreementVersion) -> ScopeSpec:
    """The version's scope as the pure core's spec (memoised for published versions)."""
    return _published_memoised("scope", version, lambda: _version_scope_read(version))


def _version_scope_read(version: AgreementVersion) -> ScopeSpec:
    settings = ScopeSettings.objects.filter(version=version).first()
    rules = tuple(
        ScopeRuleSpec(
            attribute=rule.attribute,
            operator=rule.operator,
            value=rule.value,
            custom_attribute=rule.custom_attribute,
        )
        for rule in ScopeRule.objects.filter(version=version).order_by("position", "id")
    )
    return ScopeSpec(
        agreement_id=version.agreement_id,
        version_id=version.pk,
        priority=settings.priority if settings else 0,
        is_default=settings.is_default if settings else False,
        rules=rules,
        name=version.agreement.name,
    )


def scopes_in_force(*, at=None) -> list[ScopeSpec]:
    """The scopes of every agreement's version in force, in the order they claim leads."""
    from .scopes import scopes_ordered

    return scopes_ordered(
        version_scope(version=version) for version in versions_in_force(at=at).values()
    )


def event_type_catalogue(*, version: AgreementVersion | None) -> set[str]:
    """Built-in event types plus the ones the version's managers added."""
    from .models import EventType

    catalogue = set(EventType.values)
    if version is not None:
        settings = QualificationSettings.objects.filter(version=version).first()
        catalogue.update(settings.custom_event_types if settings else [])
    return catalogue


def event_types_in_force(*, at=None) -> set[str]:
    """Built-in event types plus the ones any agreement in force added: an event arrives
    before anyone knows which agreement its lead will follow."""
    catalogue = event_type_catalogue(version=None)
    versions = [version.pk for version in versions_in_force(at=at).values()]
    for custom in QualificationSettings.objects.filter(version_id__in=versions).values_list(
        "custom_event_types", flat=True
    ):
        catalogue.update(custom or [])
    return catalogue


@dataclass(frozen=True)
class ConsistencyItem:
    contradiction: Contradiction
    # The VersionEvent that accepted it as it reads now, or None while it blocks submission.
    accepted: VersionEvent | None


def version_consistency(*, version: AgreementVersion) -> list[ConsistencyItem]:
    """The draft's consistency checklist, each item with its acceptance if any."""
    found = contradictions(
        policy=HandoffPolicy.objects.filter(version=version).first(),
        plan=FunnelPlan.objects.filter(version=version).first(),
        qualification=QualificationSettings.objects.filter(version=version).first(),
        goals=Goal.objects.filter(version=version),
        kpis=Kpi.objects.filter(version=version),
    )
    if not found:
        return []
    acceptances = {
        event.part: event
        for event in VersionEvent.objects.filter(
            version=version,
            kind=VersionEvent.Kind.CONTRADICTION_ACCEPTED,
            part__in=[c.key for c in found],
        )
        .select_related("by")
        .order_by("at", "id")
    }
    return [ConsistencyItem(c, acceptances.get(c.key)) for c in found]
