"""The demo workspace: Acme's marketing and sales teams and the SLA between them.

The content follows the source article's seven components. It comes in two languages: the
English tables below (Acme, US$) and the Brazilian ones in demo_pt (Altamira, R$), picked by
DEMO_CONTENT; the loaders are the same and so are the numbers. The first draft is seeded with
the ORM (it is a draft, nothing has been signed yet); sign-off, publication and the amendment
go through the services so the version history reads like a real one. Everything is
idempotent: loading twice changes nothing.
"""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

import holidays
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from slaportal.roles import Role

from . import demo_pt, services
from . import models as m
from .parts import PARTS_BY_SLUG

DEMO_AGREEMENT_NAME = "Acme Growth SLA"
# The second agreement of the demo (issue 11): enterprise accounts get a named owner and an
# answer within the hour; the article's SLA above is the default that takes everyone else.
ENTERPRISE_AGREEMENT_NAME = "Acme Enterprise SLA"
ENTERPRISE_MIN_SIZE = 1000
ENTERPRISE_OWNER = "rafael"
ENTERPRISE_NOTE = "Enterprise accounts (1,000+ staff): a named owner answers within the hour."
DEMO_PASSWORD = "demo"
FIRST_VERSION_NOTE = "First version of the SLA, from the kick-off workshop."
AMENDMENT_NOTE = "Tighten first touch to 3 business hours after the Q3 review"
MARKETING_TEAM = "Acme Marketing"
SALES_TEAM = "Acme Sales"
ENTERPRISE_SALES_TEAM = "Acme Enterprise Sales"
EMAIL_DOMAIN = "acme.example"
CASE_STUDIES_PATH = "/case-studies"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    description: str

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


DEMO_USERS = (
    DemoUser("marina", "Marina", "Costa", Role.MARKETING_MANAGER, "Marketing manager"),
    DemoUser("sergio", "Sérgio", "Alves", Role.SALES_MANAGER, "Sales manager"),
    DemoUser("rita", "Rita", "Souza", Role.SALES_REP, "Sales rep"),
    DemoUser("rafael", "Rafael", "Lima", Role.SALES_REP, "Sales rep"),
    DemoUser("renata", "Renata", "Oliveira", Role.SALES_REP, "Sales rep"),
    DemoUser("vera", "Vera", "Mendes", Role.VIEWER, "Viewer (executive)"),
)


def demo_users_load(content: "DemoContent | None" = None) -> dict:
    """The demo people by username; existing accounts keep their password and details."""
    content = content or ENGLISH
    User = get_user_model()
    users = {}
    with transaction.atomic():
        for person in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=person.username,
                defaults={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": f"{person.username}@{content.email_domain}",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            # The role groups come from a migration; a database emptied by `flush` has none.
            user.groups.add(Group.objects.get_or_create(name=person.role)[0])
            users[person.username] = user
    return users


def demo_agreement_load(users: dict, content: "DemoContent | None" = None) -> m.Agreement:
    """Acme's SLA: v1 signed by both managers, and an amendment in draft.

    An agreement already carrying the demo name is left exactly as it is, so a demo that
    people have been clicking through is never re-published or overwritten. `content` picks
    the language of everything written in it (English by default).
    """
    content = content or ENGLISH
    existing = m.Agreement.objects.filter(name=content.agreement_name).first()
    if existing is not None:
        return existing
    marina, sergio = users["marina"], users["sergio"]
    with transaction.atomic():
        agreement = services.agreement_create(
            name=content.agreement_name,
            marketing_team=content.marketing_team,
            sales_team=content.sales_team,
            marketing_manager=marina,
            sales_manager=sergio,
            by=marina,
        )
        draft = agreement.versions.get()
        _first_draft_fill(draft, content)
        services.version_submit(version=draft, by=marina, change_note=content.first_version_note)
        services.version_approve(version=draft, by=marina, side=m.Team.MARKETING)
        services.version_approve(version=draft, by=sergio, side=m.Team.SALES)
        amendment = services.amendment_start(
            agreement=agreement, by=sergio, note=content.amendment_note
        )
        _amendment_fill(amendment, content, marina=marina, sergio=sergio)
    demo_enterprise_load(users, content)
    return agreement


ENTERPRISE_CADENCE = [
    (m.Channel.PHONE, 1, m.CadenceStep.OffsetUnit.BUSINESS_HOURS),
    (m.Channel.VIDEO, 4, m.CadenceStep.OffsetUnit.BUSINESS_HOURS),
    (m.Channel.EMAIL, 1, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.PHONE, 2, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.SOCIAL, 3, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.PHONE, 5, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.EMAIL, 8, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.PHONE, 12, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
]


def demo_enterprise_load(users: dict, content: "DemoContent | None" = None) -> m.Agreement:
    """Acme's enterprise SLA: companies of 1,000 staff or more, a named owner, first touch in
    one business hour and a longer, denser cadence; v1 signed by both managers. Left as it is
    when an agreement of that name exists."""
    content = content or ENGLISH
    existing = m.Agreement.objects.filter(name=content.enterprise_name).first()
    if existing is not None:
        return existing
    marina, sergio = users["marina"], users["sergio"]
    with transaction.atomic():
        agreement = services.agreement_create(
            name=content.enterprise_name,
            marketing_team=content.marketing_team,
            sales_team=content.enterprise_sales_team,
            marketing_manager=marina,
            sales_manager=sergio,
            by=sergio,
        )
        draft = agreement.versions.get()
        _first_draft_fill(draft, content, default=False)
        _settings_update(
            m.HandoffPolicy,
            draft,
            response_target_hours=Decimal(1),
            assignment_method=m.HandoffPolicy.Assignment.NAMED_OWNER,
            named_owner=users[ENTERPRISE_OWNER],
            accept_window_hours=Decimal(8),
            return_after_attempts=8,
            return_after_days=21,
        )
        # Its speed-to-lead goal and KPI promise the same hour the handoff part does.
        m.Goal.objects.filter(version=draft, metric=m.Metric.SPEED_TO_LEAD).update(target=1)
        m.Kpi.objects.filter(version=draft, metric=m.Metric.SPEED_TO_LEAD).update(
            target=1, amber_threshold=Decimal("1.5"), red_threshold=2
        )
        m.CadenceStep.objects.filter(version=draft).delete()
        _rows_create(
            m.CadenceStep,
            draft,
            [
                {"channel": channel, "offset": offset, "offset_unit": unit}
                for channel, offset, unit in ENTERPRISE_CADENCE
            ],
        )
        _settings_update(m.ScopeSettings, draft, priority=10, is_default=False)
        _rows_create(
            m.ScopeRule,
            draft,
            [
                {
                    "attribute": m.FitRule.Attribute.COMPANY_SIZE,
                    "operator": m.ScopeRule.Operator.AT_LEAST,
                    "value": str(ENTERPRISE_MIN_SIZE),
                }
            ],
        )
        services.version_submit(version=draft, by=sergio, change_note=content.enterprise_note)
        services.version_approve(version=draft, by=marina, side=m.Team.MARKETING)
        services.version_approve(version=draft, by=sergio, side=m.Team.SALES)
    return agreement


# The first draft ------------------------------------------------------------------------


def _first_draft_fill(
    version: m.AgreementVersion, content: "DemoContent", *, default: bool = True
) -> None:
    year = timezone.localdate().year
    # The article's SLA governs every lead no other agreement's scope claims.
    _settings_update(m.ScopeSettings, version, priority=0, is_default=default)
    _goals_fill(version, content, year)
    _definitions_fill(version, content)
    _qualification_fill(version, content)
    tracks = _nurture_fill(version, content)
    _handoff_fill(version, content, tracks)
    _cadence_fill(version, content)
    _kpis_fill(version)
    _calendar_fill(version, content, year)


def _rows_create(model, version, rows: list[dict]) -> list:
    return [
        model.objects.create(version=version, position=position, **row)
        for position, row in enumerate(rows)
    ]


def _settings_update(model, version, **values) -> None:
    model.objects.filter(version=version).update(**values)


GOALS = [
    {
        "name": "US$ 1M new revenue this year",
        "metric": m.Metric.NEW_REVENUE,
        "target": Decimal(1_000_000),
        "unit": "US$",
        "owner": m.Team.SHARED,
        "rationale": "The board's growth plan: 50 new customers at an average deal of "
        "US$ 20,000. Both teams own it; every other number here is derived "
        "from it by the reverse funnel.",
    },
    {
        "name": "1,000 MQLs delivered to sales",
        "metric": m.Metric.MQLS,
        "target": Decimal(1_000),
        "unit": "MQLs",
        "owner": m.Team.MARKETING,
        "rationale": "What the reverse funnel needs at a 40 % MQL → SQL rate: about 84 a "
        "month, every one meeting the qualification rules below.",
    },
    {
        "name": "Fast first touch on every MQL",
        "metric": m.Metric.SPEED_TO_LEAD,
        "target": Decimal(4),
        "unit": "business hours",
        "owner": m.Team.SALES,
        "rationale": "Leads contacted within hours of raising their hand convert far "
        "better than leads called days later.",
    },
]


def _goals_fill(version, content: "DemoContent", year: int) -> None:
    this_year = {"period_start": date(year, 1, 1), "period_end": date(year, 12, 31)}
    _rows_create(
        m.Goal,
        version,
        [goal | {"target": Decimal(goal["target"]), **this_year} for goal in content.goals],
    )
    _settings_update(
        m.FunnelPlan,
        version,
        revenue_target=Decimal(1_000_000 * content.money_scale),
        average_deal_size=Decimal(20_000 * content.money_scale),
        months=12,
        opportunity_to_win_rate=Decimal(25),
        sql_to_opportunity_rate=Decimal(50),
        mql_to_sql_rate=Decimal(40),
        lead_to_mql_rate=Decimal(20),
    )


TERMS = [
    (
        "Contact",
        "Anyone in our database with at least a name and a way to reach them: a "
        "subscriber, an event attendee, a business card. Not yet a lead.",
    ),
    (
        "Lead",
        "A contact who gave us their details in exchange for something (a download, a "
        "webinar, a form) and works at a company that could buy from us.",
    ),
    (
        "MQL",
        "Marketing qualified lead: a lead whose fit (who they are) and interest (what "
        "they did) scores meet the thresholds of this SLA, or who asked for a demo or to "
        "talk to sales. Marketing hands every MQL to sales.",
    ),
    (
        "SQL",
        "Sales qualified lead: an MQL that a rep accepted after a first conversation, "
        "confirming budget, authority, need and timing (see the SQL criteria).",
    ),
    (
        "Opportunity",
        "An SQL with a concrete deal in the pipeline: a scoped need, a decision "
        "process and an expected value and close date.",
    ),
    ("Customer", "A company that signed a contract (the opportunity was closed won)."),
]

LIFECYCLE = {  # slug: (label, description); a label of None keeps the default label
    "lead": (None, "Gave us their details; scored by fit and interest."),
    "mql": (
        None,
        "Met the MQL thresholds or converted on a bottom-of-funnel offer; handed to sales.",
    ),
    "sql": (None, "Accepted by sales after a first conversation that confirmed the SQL criteria."),
    "opportunity": (None, "A deal in the sales pipeline."),
    "customer": (None, "Closed won."),
}

PIPELINE_STAGES = [
    ("discovery", "Discovery", "Understand the problem, the stakeholders and the timing."),
    ("demo", "Demo", "Show the product against the needs found in discovery."),
    ("proposal", "Proposal", "A written proposal with scope and price."),
    ("negotiation", "Negotiation", "Terms, legal and procurement."),
    ("closed_won", "Closed won", "Signed; the company becomes a customer."),
    ("closed_lost", "Closed lost", "Lost; the reason is recorded for the monthly review."),
]


def _definitions_fill(version, content: "DemoContent") -> None:
    _rows_create(m.Term, version, [{"term": t, "meaning": meaning} for t, meaning in content.terms])
    lifecycle = m.Stage.objects.filter(version=version, kind=m.Stage.Kind.LIFECYCLE)
    for stage in lifecycle:
        label, description = content.lifecycle.get(stage.slug, (None, stage.description))
        stage.label = label or stage.label
        stage.description = description
        stage.save(update_fields=["label", "description"])
    after = (max(stage.position for stage in lifecycle) + 1) if lifecycle else 0
    m.Stage.objects.bulk_create(
        m.Stage(
            version=version,
            kind=m.Stage.Kind.PIPELINE,
            slug=slug,
            label=label,
            description=description,
            position=after + offset,
        )
        for offset, (slug, label, description) in enumerate(content.pipeline_stages)
    )


FIT_RULES = [
    ("title", "contains", "director", 15),
    ("title", "contains", "manager", 10),
    ("company_size", "gt", "200", 20),
    ("company_size", "lt", "10", -10),
    ("industry", "in", "software,saas,fintech", 10),
    ("country", "in", "BR,US,PT", 5),
    ("title", "contains", "student", -20),
]

INTEREST_RULES = [
    (m.EventType.PRICING_PAGE_VIEW, 10, 3),
    (m.EventType.CONTENT_DOWNLOAD, 5, 4),
    (m.EventType.WEBINAR_ATTENDED, 10, None),
    (m.EventType.EMAIL_CLICK, 2, 5),
    (m.EventType.DEMO_REQUEST, 40, None),
    (m.EventType.CONTACT_SALES, 30, None),
    (m.EventType.UNSUBSCRIBE, -25, None),
]

SQL_CRITERIA = (
    "A rep accepts an MQL as an SQL after a conversation that confirms:\n"
    "- Budget: the company can afford a plan of our size this year.\n"
    "- Authority: the contact decides, or brings the decision maker in.\n"
    "- Need: a problem we solve, in their own words.\n"
    "- Timing: they intend to buy within the next two quarters."
)


def _qualification_fill(version, content: "DemoContent") -> None:
    _rows_create(
        m.FitRule,
        version,
        [
            {"attribute": attribute, "operator": operator, "value": value, "points": points}
            for attribute, operator, value, points in content.fit_rules
        ],
    )
    _rows_create(
        m.InterestRule,
        version,
        [
            {"event_type": event, "points": points, "max_occurrences": cap}
            for event, points, cap in INTEREST_RULES
        ],
    )
    _settings_update(
        m.QualificationSettings,
        version,
        mql_min_fit=20,
        mql_min_interest=30,
        mql_min_total=80,
        decay_half_life_days=30,
        sql_criteria=content.sql_criteria,
    )


NURTURE_TRACKS = [
    {
        "name": "Education (not ready to buy)",
        "entry_condition": m.NurtureTrack.Entry.BELOW_MQL,
        "description": "For new leads below the MQL threshold and leads returned as not ready: "
        "teach the problem first, then show how others solved it.",
        "steps": [
            (m.NurtureStep.JourneyStage.AWARENESS, "E-book: the B2B revenue playbook", 0),
            (m.NurtureStep.JourneyStage.AWARENESS, "Blog digest: five signs your funnel leaks", 5),
            (
                m.NurtureStep.JourneyStage.CONSIDERATION,
                "Webinar invite: aligning sales and marketing",
                7,
            ),
            (m.NurtureStep.JourneyStage.DECISION, "Case study: how a peer doubled its pipeline", 7),
        ],
    },
    {
        "name": "Re-engagement (returned by sales)",
        "entry_condition": m.NurtureTrack.Entry.ON_RETURN,
        "description": "For leads sales could not reach: a lighter touch that gives them a "
        "reason to reply, and a direct way back to a rep.",
        "steps": [
            (m.NurtureStep.JourneyStage.CONSIDERATION, "Case study: results in 90 days", 3),
            (m.NurtureStep.JourneyStage.CONSIDERATION, "Webinar invite: live product tour", 7),
            (m.NurtureStep.JourneyStage.DECISION, "Demo offer: 20 minutes with a specialist", 7),
        ],
    },
]


def _nurture_fill(version, content: "DemoContent") -> dict[str, m.NurtureTrack]:
    """Creates the tracks and their steps; returns the tracks by entry condition."""
    tracks = {}
    step_position = 0
    for position, spec in enumerate(content.nurture_tracks):
        track = m.NurtureTrack.objects.create(
            version=version,
            position=position,
            name=spec["name"],
            description=spec["description"],
            entry_condition=spec["entry_condition"],
        )
        tracks[spec["entry_condition"]] = track
        # Steps of every track share one ordered list in the editor, hence one counter.
        for stage, offer, wait in spec["steps"]:
            m.NurtureStep.objects.create(
                version=version,
                position=step_position,
                track=track,
                journey_stage=stage,
                offer=offer,
                channel=m.Channel.EMAIL,
                wait_days=wait,
            )
            step_position += 1
    return tracks


def _handoff_fill(version, content: "DemoContent", tracks: dict[str, m.NurtureTrack]) -> None:
    _settings_update(
        m.HandoffPolicy,
        version,
        trigger_on_score=True,
        trigger_events=[m.EventType.DEMO_REQUEST.value, m.EventType.CONTACT_SALES.value],
        # "company" belongs here too once the editor's lead-field choices offer it.
        allow_manual=True,
        required_fields=["email", "first_name", "title", "company_size"],
        notify_in_app=True,
        notify_email=True,
        response_target_hours=Decimal(4),
        at_risk_share=75,
        assignment_method=m.HandoffPolicy.Assignment.ROUND_ROBIN,
        accept_window_hours=Decimal(24),
        return_after_attempts=6,
        return_after_days=14,
    )
    education = tracks[m.NurtureTrack.Entry.BELOW_MQL]
    re_engagement = tracks[m.NurtureTrack.Entry.ON_RETURN]
    track_of = {
        "no_response": re_engagement,
        "bad_fit": education,
        "not_ready": education,
        "wrong_contact": None,
    }
    _rows_create(
        m.ReturnReason,
        version,
        [
            {"code": code, "label": label, "nurture_track": track_of[code]}
            for code, label in content.return_reasons.items()
        ],
    )


RETURN_REASONS = {  # code: label
    "no_response": "No response after the full cadence",
    "bad_fit": "Not a fit (size, industry or role)",
    "not_ready": "Not ready to buy / bad timing",
    "wrong_contact": "Wrong contact or invalid details",
}


CADENCE = [
    (m.Channel.PHONE, 1, m.CadenceStep.OffsetUnit.BUSINESS_HOURS),
    (m.Channel.EMAIL, 1, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.PHONE, 2, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.EMAIL, 4, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.PHONE, 7, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
    (m.Channel.EMAIL, 10, m.CadenceStep.OffsetUnit.BUSINESS_DAYS),
]

DISPOSITIONS = {  # code: label
    "connected": "Connected: had a conversation",
    "meeting_booked": "Meeting booked",
    "left_voicemail": "Left a voicemail",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
    "not_interested": "Not interested",
    "bad_timing": "Interested, but bad timing",
}
# Which codes record a conversation with the lead, whatever the language of their labels.
CONVERSATION_CODES = {"connected", "meeting_booked", "not_interested", "bad_timing"}


def _cadence_fill(version, content: "DemoContent") -> None:
    _rows_create(
        m.CadenceStep,
        version,
        [
            {"channel": channel, "offset": offset, "offset_unit": unit}
            for channel, offset, unit in CADENCE
        ],
    )
    _rows_create(
        m.DispositionCode,
        version,
        [
            {"code": code, "label": label, "is_conversation": code in CONVERSATION_CODES}
            for code, label in content.dispositions.items()
        ],
    )


HIGHER, LOWER = m.Kpi.Direction.HIGHER, m.Kpi.Direction.LOWER

KPIS = [  # metric, owner, direction, target, amber, red
    (m.Metric.ATTEMPTS_PER_LEAD, m.Team.SALES, HIGHER, 6, 4, 2),
    (m.Metric.SPEED_TO_LEAD, m.Team.SALES, LOWER, 4, 6, 8),
    (m.Metric.SLA_COMPLIANCE, m.Team.SALES, HIGHER, 90, 80, 70),
    (m.Metric.VISITOR_TO_LEAD_RATE, m.Team.MARKETING, HIGHER, 3, 2, 1),
    (m.Metric.LEAD_TO_MQL_RATE, m.Team.MARKETING, HIGHER, 20, 15, 10),
    (m.Metric.MQL_TO_SQL_RATE, m.Team.MARKETING, HIGHER, 40, 30, 20),
    (m.Metric.MQL_ACCEPTANCE_RATE, m.Team.MARKETING, HIGHER, 80, 70, 60),
]


def _kpis_fill(version) -> None:
    _rows_create(
        m.Kpi,
        version,
        [
            {
                "metric": metric,
                "owner": owner,
                "direction": direction,
                "target": Decimal(target),
                "amber_threshold": Decimal(amber),
                "red_threshold": Decimal(red),
                "review_frequency": m.Kpi.Frequency.MONTHLY,
            }
            for metric, owner, direction, target, amber, red in KPIS
        ],
    )


def _calendar_fill(version, content: "DemoContent", year: int) -> None:
    _settings_update(
        m.BusinessCalendar,
        version,
        time_zone="America/Sao_Paulo",
        working_days=[0, 1, 2, 3, 4],
        day_start=time(9),
        day_end=time(18),
        holiday_country="BR",
    )
    public_holidays = holidays.country_holidays(
        "BR", years=[year, year + 1], **content.holiday_options
    )
    m.Holiday.objects.bulk_create(
        m.Holiday(version=version, position=position, date=day, name=name[:120])
        for position, (day, name) in enumerate(sorted(public_holidays.items()))
    )


# The amendment ----------------------------------------------------------------------------


def _amendment_fill(draft: m.AgreementVersion, content: "DemoContent", *, marina, sergio) -> None:
    """The Q3 review's changes, saved through the editor's forms so the history shows them."""
    _part_edit(
        draft, "handoff", by=sergio, settings={"policy": {"response_target_hours": Decimal(3)}}
    )
    _part_edit(
        draft,
        "kpis",
        by=sergio,
        change_rows={"kpi": ({"metric": m.Metric.SPEED_TO_LEAD}, {"target": Decimal(3)})},
    )
    _part_edit(
        draft,
        "goals",
        by=sergio,
        change_rows={"goal": ({"metric": m.Metric.SPEED_TO_LEAD}, {"target": Decimal(3)})},
    )
    _part_edit(
        draft,
        "qualification",
        by=marina,
        add_rows={
            "interest": [
                {
                    "event_type": m.EventType.PAGE_VIEW,
                    "property_key": "path",
                    "property_value": content.case_studies_path,
                    "points": 3,
                    "max_occurrences": 5,
                }
            ]
        },
    )


def _part_edit(version, slug: str, *, by, settings=None, change_rows=None, add_rows=None) -> None:
    """Save one part as the editor page would post it, with the given changes applied.

    settings: {block key: {field: value}}; change_rows: {rowset key: (match, updates)} updates
    every row whose fields equal `match`; add_rows: {rowset key: [row fields, ...]}.
    """
    settings, change_rows, add_rows = settings or {}, change_rows or {}, add_rows or {}
    part = PARTS_BY_SLUG[slug]
    data = {}
    for block in part.settings:
        values = model_to_dict(block.instance(version), fields=block.fields())
        data |= _post_values(block.form, block.key, values | settings.get(block.key, {}))
    for rowset in part.rowsets:
        rows = list(rowset.queryset(version))
        new_rows = add_rows.get(rowset.key, [])
        data |= {
            f"{rowset.key}-TOTAL_FORMS": len(rows) + len(new_rows),
            f"{rowset.key}-INITIAL_FORMS": len(rows),
        }
        match, updates = change_rows.get(rowset.key, ({}, {}))
        for index, row in enumerate(rows):
            values = model_to_dict(row, fields=rowset.fields())
            if updates and all(values.get(k) == v for k, v in match.items()):
                values |= updates
            data[f"{rowset.key}-{index}-id"] = row.pk
            data |= _post_values(rowset.form, f"{rowset.key}-{index}", values)
        for index, values in enumerate(new_rows, start=len(rows)):
            data |= _post_values(rowset.form, f"{rowset.key}-{index}", values)
    settings_forms = [block.bound_form(version, data) for block in part.settings]
    formsets = [rowset.formset(version, data) for rowset in part.rowsets]
    errors = [form.errors for form in settings_forms if not form.is_valid()]
    errors += [
        (formset.errors, formset.non_form_errors())
        for formset in formsets
        if not formset.is_valid()
    ]
    if errors:
        # The demo content is fixed, so this only fires when a form's rules changed under it.
        raise ValueError(f"Demo edit of {slug} does not pass the editor's validation: {errors}")
    services.part_save(
        version=version,
        part=part,
        settings_forms=settings_forms,
        formsets=formsets,
        expected_revision=version.revision_of(slug),
        by=by,
    )


def _post_values(form_class, prefix: str, values: dict) -> dict:
    """Model values as form data; list values feed multi-selects, or text fields as CSV."""
    data = {}
    for name, value in values.items():
        field = form_class.base_fields.get(name)
        if isinstance(field, forms.ModelMultipleChoiceField):
            value = [getattr(item, "pk", item) for item in value]
        elif isinstance(value, list) and not isinstance(field, forms.MultipleChoiceField):
            value = ", ".join(str(item) for item in value)
        data[f"{prefix}-{name}"] = "" if value is None else value
    return data


# The content in each language ------------------------------------------------------------


@dataclass(frozen=True)
class DemoContent:
    """Everything the demo writes into its SLAs in one language; the numbers never change."""

    agreement_name: str
    enterprise_name: str
    enterprise_note: str
    first_version_note: str
    amendment_note: str
    marketing_team: str
    sales_team: str
    enterprise_sales_team: str
    email_domain: str
    user_descriptions: dict  # username: what the login table says they are
    money_scale: int  # the demo's money in this currency per dollar of the English demo
    goals: list
    terms: list
    lifecycle: dict
    pipeline_stages: list
    fit_rules: list
    sql_criteria: str
    nurture_tracks: list
    return_reasons: dict
    dispositions: dict
    case_studies_path: str
    holiday_options: dict  # extra arguments for holidays.country_holidays


ENGLISH = DemoContent(
    agreement_name=DEMO_AGREEMENT_NAME,
    enterprise_name=ENTERPRISE_AGREEMENT_NAME,
    enterprise_note=ENTERPRISE_NOTE,
    first_version_note=FIRST_VERSION_NOTE,
    amendment_note=AMENDMENT_NOTE,
    marketing_team=MARKETING_TEAM,
    sales_team=SALES_TEAM,
    enterprise_sales_team=ENTERPRISE_SALES_TEAM,
    email_domain=EMAIL_DOMAIN,
    user_descriptions={person.username: person.description for person in DEMO_USERS},
    money_scale=1,
    goals=GOALS,
    terms=TERMS,
    lifecycle=LIFECYCLE,
    pipeline_stages=PIPELINE_STAGES,
    fit_rules=FIT_RULES,
    sql_criteria=SQL_CRITERIA,
    nurture_tracks=NURTURE_TRACKS,
    return_reasons=RETURN_REASONS,
    dispositions=DISPOSITIONS,
    case_studies_path=CASE_STUDIES_PATH,
    holiday_options={},
)

PORTUGUESE = DemoContent(
    agreement_name=demo_pt.AGREEMENT_NAME,
    enterprise_name=demo_pt.ENTERPRISE_NAME,
    enterprise_note=demo_pt.ENTERPRISE_NOTE,
    first_version_note=demo_pt.FIRST_VERSION_NOTE,
    amendment_note=demo_pt.AMENDMENT_NOTE,
    marketing_team=demo_pt.MARKETING_TEAM,
    sales_team=demo_pt.SALES_TEAM,
    enterprise_sales_team=demo_pt.ENTERPRISE_SALES_TEAM,
    email_domain=demo_pt.EMAIL_DOMAIN,
    user_descriptions=demo_pt.USER_DESCRIPTIONS,
    money_scale=demo_pt.MONEY_SCALE,
    goals=demo_pt.GOALS,
    terms=demo_pt.TERMS,
    lifecycle=demo_pt.LIFECYCLE,
    pipeline_stages=demo_pt.PIPELINE_STAGES,
    fit_rules=demo_pt.FIT_RULES,
    sql_criteria=demo_pt.SQL_CRITERIA,
    nurture_tracks=demo_pt.NURTURE_TRACKS,
    return_reasons=demo_pt.RETURN_REASONS,
    dispositions=demo_pt.DISPOSITIONS,
    case_studies_path=demo_pt.CASE_STUDIES_PATH,
    # The library names Brazil's holidays in English unless asked.
    holiday_options={"language": "pt_BR"},
)

# By the workspace language code (settings.LANGUAGES).
DEMO_CONTENT = {"en": ENGLISH, "pt-br": PORTUGUESE}
