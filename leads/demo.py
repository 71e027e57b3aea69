"""The demo leads: ninety days of Acme's pipeline, replayed through the lead engine.

Leads arrive, browse, download, attend webinars and ask for demos; the scoring job hands them
to reps; reps call (mostly on time, not always), accept, reject and return them; the breach,
cadence and nurture jobs run on their schedule. Every step goes through the services with the
simulated time passed as `now`, so the data is exactly what the product would have recorded,
and the history ends at the real present with a few handoffs still in the reps' hands.

A seeded random generator makes the demo the same every time (relative to the day it is
loaded), and the same in every language: LEAD_CONTENT only changes the words. Leads are
recognised by their e-mail domain: if any exists, nothing is loaded.
"""

import heapq
import itertools
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.text import slugify

from agreements.business_hours import (
    add_business_days,
    add_business_time,
    business_time_between,
    next_business_opening,
)
from agreements.demo import DEMO_CONTENT
from agreements.models import (
    Agreement,
    AgreementVersion,
    CadenceStep,
    Channel,
    DispositionCode,
    VersionEvent,
)
from agreements.selectors import version_calendar, workspace_agreement
from slaportal.outbox import outbox_deliver

from . import demo_pt
from .models import Handoff, Lead, LeadEvent, Stage
from .services.handoffs import (
    attempt_log,
    breaches_flag,
    cadence_apply,
    handoff_accept,
    handoff_reject,
    handoff_return,
)
from .services.ingestion import EventInput, events_ingest, lead_upsert
from .services.lifecycle import lead_stage_advance
from .services.nurture import nurture_advance
from .services.pipeline import pipeline_run

DEMO_EMAIL_SUFFIX = ".demo.example"
DEMO_LEADS = 300
DEMO_DAYS = 90
# v1 must already be in force when the first demo lead arrives.
VERSION_LEAD_DAYS = 100
SEED = 2026

# The handoffs still open today: (business hours before now, what the rep has done), for
# groups of FINALE_GROUP leads. Untouched: past due, at risk and fresh; worked: first touch
# made, cadence under way. A group is handed off in one run, so round robin spreads it over
# the reps.
FINALE = ((6.5, "untouched"), (3.5, "untouched"), (1.0, "untouched"), (14, "no_response"))
FINALE_GROUP = 2

# The real scheduler runs the jobs every minute or so. Replaying that would be slow, so the
# demo runs each job only when it can matter: scoring once a day and minutes after a demo
# request, the cadence on business days, breach flagging at the deadlines reps will miss.
SCORE_HOURS = range(9, 18)  # local time; one run a day, at one of these hours
CADENCE_HOUR = 16
NURTURE_HOUR = 10
CONVERSIONS = ("demo_request", "contact_sales")
CONVERSION_LAG = timedelta(minutes=2)
BUSINESS_DAY_HOURS = 9
SURE_DEALS = 3

# --- who the leads are --------------------------------------------------------------------

COUNTRIES = {  # code: (weight, first names, last names, company suffix, phone prefix)
    "BR": (
        40,
        "Ana Beatriz Bruno Camila Carlos Daniela Eduardo Fernanda Gabriel Juliana Larissa "
        "Lucas Mariana Mateus Paula Pedro Thiago Vanessa Vinícius João Letícia Gustavo",
        "Almeida Barbosa Carvalho Costa Ferreira Gomes Lima Martins Nascimento Oliveira "
        "Pereira Ribeiro Rocha Santos Silva Souza Teixeira Moreira Cardoso Araújo",
        "Ltda",
        "+55 11 9",
    ),
    "US": (
        20,
        "Emily Michael Sarah David Jessica Ryan Ashley Kevin Megan Brian Lauren Jason",
        "Johnson Miller Davis Wilson Anderson Taylor Moore Clark Walker Young",
        "Inc.",
        "+1 415 5",
    ),
    "PT": (
        10,
        "Inês Tiago Duarte Margarida Nuno Joana Rui Sofia Miguel Catarina",
        "Fonseca Marques Pinto Sousa Lopes Matos Vieira Correia",
        "Lda",
        "+351 91 ",
    ),
    "MX": (
        10,
        "Alejandro Valentina Diego Sofía Javier Lucía Andrés Fernando Ximena Ricardo",
        "García Hernández López Martínez Rodríguez Sánchez Ramírez Torres Flores Morales",
        "S.A. de C.V.",
        "+52 55 5",
    ),
    "DE": (
        8,
        "Lukas Anna Jonas Lea Felix Laura Maximilian Hannah Paul Katharina",
        "Müller Schmidt Schneider Fischer Weber Becker Hoffmann Wagner Koch Richter",
        "GmbH",
        "+49 30 5",
    ),
    "AR": (
        5,
        "Martín Agustina Santiago Florencia Nicolás Milagros Tomás Carolina",
        "González Fernández Pérez Romero Díaz Álvarez Gómez Sosa",
        "S.A.",
        "+54 11 5",
    ),
    "ES": (
        4,
        "Pablo Elena Sergio Marta Álvaro Irene Raúl Nuria",
        "Navarro Ruiz Moreno Jiménez Iglesias Castro Ortega Rubio",
        "S.L.",
        "+34 91 5",
    ),
    "GB": (
        3,
        "Oliver Charlotte Harry Amelia George Isla James Freya",
        "Smith Jones Evans Hughes Wright Roberts Green Hall",
        "Ltd",
        "+44 20 7",
    ),
}

INDUSTRIES = {  # name: (company name starts, company name ends)
    "software": ("Nimbus Vértice Orbital Quanta Lumen Helix Cobalto", "Software Labs Systems"),
    "saas": ("Nexo Pixel Atlas Kairos Flux Trama Sinapse", "Cloud HQ Stack App"),
    "fintech": ("Pago Cred Moeda Cofre Ledger Vault", "Pay Bank Finance Capital"),
    "retail": ("Casa Mercado Bazar Vitrine Armazém", "Store Shop Market Varejo"),
    "education": ("Saber Campus Mentor Escola Aula", "Academy Institute Education Learning"),
    "healthcare": ("Vita Clínica Saúde Pulse Cuidar", "Health Care Med Lab"),
    "manufacturing": ("Ferro Metal Prisma Forja Aço", "Industrial Manufacturing Works Group"),
    "logistics": ("Rota Carga Porto Trilho Frete", "Logistics Express Transport Cargo"),
    "agency": ("Faro Brava Colmeia Ímpeto Pauta", "Agency Studio Marketing Creative"),
}

COMPANY_SIZES = [3, 8, 15, 30, 60, 120, 180, 250, 400, 800, 1500, 4000]

TITLES = {
    "senior": [
        "Director of Marketing",
        "Marketing Director",
        "Sales Director",
        "Director of Demand Generation",
        "VP Sales",
        "VP Marketing",
        "Head of Growth",
        "CMO",
        "CTO",
        "CEO",
    ],
    "manager": [
        "Marketing Manager",
        "Sales Manager",
        "Demand Generation Manager",
        "Marketing Operations Manager",
        "Product Marketing Manager",
        "Sales Operations Manager",
    ],
    "junior": [
        "Marketing Analyst",
        "Analyst",
        "Marketing Coordinator",
        "Sales Development Representative",
        "Content Specialist",
        "Consultant",
        "Student",
        "MBA Student",
    ],
}

SOURCES = {  # source: (weight, what created the lead, its first event)
    "website": (35, "Signed up through the website form", "content_download"),
    "webinar": (20, "Registered for a webinar", "webinar_attended"),
    "paid search": (20, "Converted on a paid search landing page", "form_submit"),
    "referral": (10, "Referred by a customer", "form_submit"),
    "event": (15, "Badge scanned at an event", "form_submit"),
}

PAGES = [
    "/",
    "/product",
    "/product/lead-scoring",
    "/product/handoffs",
    "/integrations",
    "/blog/what-is-an-mql",
    "/blog/sla-between-sales-and-marketing",
    "/blog/speed-to-lead",
    "/case-studies",
    "/case-studies/nimbus-software",
]
CONTENT = [
    "E-book: The B2B revenue playbook",
    "Template: a sales–marketing SLA",
    "Report: State of B2B demand generation 2026",
    "Checklist: lead scoring in 10 steps",
]
WEBINARS = [
    "Aligning sales and marketing around one funnel",
    "Lead scoring that sales trusts",
    "From MQL to revenue: a live teardown",
]
CAMPAIGNS = ["monthly-newsletter", "webinar-invite", "ebook-follow-up", "product-update"]
EVENTS_ATTENDED = ["RD Summit", "SaaStr Latam", "Web Summit Lisboa"]


@dataclass(frozen=True)
class Persona:
    """How a kind of lead looks and behaves, and what the rep makes of it."""

    weight: int
    titles: dict  # seniority: weight
    sizes: tuple  # smallest and largest index into COMPANY_SIZES
    industries: tuple
    sessions: tuple  # fewest and most visits after the first
    days_between: float  # mean days between visits
    pricing: float  # chance of a pricing page view per visit
    converts: float  # chance of a demo request or contact-sales form
    unsubscribes: float
    outcomes: dict  # outcome of a handoff: weight


PERSONAS = {
    "buyer": Persona(
        weight=24,
        titles={"senior": 6, "manager": 4},
        sizes=(5, 11),
        industries=("software", "saas", "fintech", "saas", "software", "logistics", "healthcare"),
        sessions=(3, 8),
        days_between=4,
        pricing=0.5,
        converts=0.6,
        unsubscribes=0.0,
        outcomes={
            "accept": 60,
            "not_ready": 12,
            "no_response": 12,
            "wrong_contact": 4,
            "bad_fit": 6,
        },
    ),
    "warm": Persona(
        weight=24,
        titles={"senior": 3, "manager": 5, "junior": 2},
        sizes=(3, 10),
        industries=tuple(INDUSTRIES),
        sessions=(2, 8),
        days_between=7,
        pricing=0.35,
        converts=0.12,
        unsubscribes=0.02,
        outcomes={
            "accept": 40,
            "not_ready": 22,
            "no_response": 22,
            "wrong_contact": 5,
            "bad_fit": 8,
        },
    ),
    "researcher": Persona(
        weight=30,
        titles={"senior": 1, "manager": 4, "junior": 5},
        sizes=(1, 9),
        industries=tuple(INDUSTRIES),
        sessions=(1, 5),
        days_between=12,
        pricing=0.1,
        converts=0.05,
        unsubscribes=0.06,
        outcomes={
            "accept": 25,
            "not_ready": 30,
            "no_response": 25,
            "wrong_contact": 6,
            "bad_fit": 10,
        },
    ),
    "poor_fit": Persona(
        weight=12,
        titles={"junior": 1},
        sizes=(0, 2),
        industries=("retail", "education", "agency", "education"),
        sessions=(1, 4),
        days_between=10,
        pricing=0.15,
        converts=0.25,
        unsubscribes=0.05,
        outcomes={"bad_fit": 70, "not_ready": 10, "no_response": 20},
    ),
    "dormant": Persona(
        weight=10,
        titles={"manager": 1, "junior": 2},
        sizes=(0, 8),
        industries=tuple(INDUSTRIES),
        sessions=(0, 1),
        days_between=25,
        pricing=0.0,
        converts=0.0,
        unsubscribes=0.4,
        outcomes={"not_ready": 1},
    ),
}
# The last leads of the story, who asked for a demo in the last business days.
FINALE_PERSONA = "buyer"

# Reps differ, so the team view and the monthly review have something to compare.
REP_HABITS = {  # username: (chance of a late first touch, chance of never touching a lead)
    "rita": (0.08, 0.02),
    "rafael": (0.30, 0.10),
    "renata": (0.15, 0.05),
}
DEFAULT_HABITS = (0.15, 0.05)

# Preferred disposition codes per situation; the SLA's own codes decide what exists.
SILENCE = ("no_answer", "left_voicemail")
CONVERSATION = {
    "accept": ("meeting_booked", "connected"),
    "not_ready": ("bad_timing",),
    "bad_fit": ("not_interested", "connected"),
}
NOTES = {
    "connected": "Good call: the need is real and they want to see a proposal.",
    "meeting_booked": "Discovery call booked with the buying committee.",
    "bad_timing": "Interested, but budget only opens next year.",
    "not_interested": "Happy with their current process; not a buyer for us.",
    "left_voicemail": "Left a voicemail; will try again.",
    "wrong_number": "The number belongs to someone else and the e-mail bounced.",
}


# --- the leads ----------------------------------------------------------------------------


@dataclass
class LeadSpec:
    index: int
    email: str
    fields: dict
    attributes: dict
    persona: str
    source: str
    arrival: datetime
    events: list[EventInput] = field(default_factory=list)
    outcome: str | None = None  # what the rep will make of it; None: left to chance


@dataclass
class DemoLeadsSummary:
    leads: int
    events: int
    handoffs: int
    open_handoffs: int
    breached: int
    returned: int
    stages: dict


def demo_leads_exist() -> bool:
    return Lead.objects.filter(email__iendswith=DEMO_EMAIL_SUFFIX).exists()


def demo_leads_load(
    *, agreement: Agreement, now: datetime | None = None, language: str = "en"
) -> DemoLeadsSummary | None:
    """Replay ninety days of leads for the demo agreement; None when they were loaded before.

    Also None when another agreement runs the pipeline: the story is told in this SLA's terms.
    `language` picks the words (titles, content, notes); the leads and their story are the
    same in every language.
    """
    content = LEAD_CONTENT[language]
    if demo_leads_exist() or workspace_agreement() != agreement:
        return None
    now = now or timezone.now()
    # History replayed here must not mail anyone or push content to anyone, when the
    # transaction commits and the services' on-commit hooks run.
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            NURTURE_DELIVERY_BACKEND="leads.demo.NoDelivery",
        ),
        transaction.atomic(),
    ):
        version = _version_backdate(agreement, now)
        # The enterprise agreement too: its leads are measured by it from the first day.
        enterprise_name = DEMO_CONTENT[language].enterprise_name
        for other in Agreement.objects.filter(name=enterprise_name):
            _version_backdate(other, now)
        simulation = _Simulation(version=version, now=now, rng=random.Random(SEED), content=content)
        simulation.run()
        # The notices of the replayed history: in the app at once, e-mails to the dummy.
        outbox_deliver()
    return _summary()


class NoDelivery:
    """Nurture delivery for replayed history: those e-mails went out long ago."""

    def deliver(self, *, lead, step) -> None:
        pass


def _version_backdate(agreement: Agreement, now: datetime) -> AgreementVersion:
    """Put v1 in force before the first demo lead, sign-off trail and all.

    Publication stamps "now", and every lead is measured by the version in force at its own
    moment, so a v1 published today would measure none of the past ninety days. This rewrites
    the demo's own seed rows, which no one has relied on yet; no service moves a published
    version's dates, on purpose.
    """
    version = agreement.versions.get(number=1)
    shift = now - timedelta(days=VERSION_LEAD_DAYS) - version.published_at
    if shift >= timedelta(0):
        return version
    for name in (
        "created_at",
        "submitted_at",
        "marketing_approved_at",
        "sales_approved_at",
        "published_at",
        "effective_at",
    ):
        value = getattr(version, name)
        if value is not None:
            setattr(version, name, value + shift)
    if version.snapshot and version.effective_at:
        version.snapshot["version"]["effective_at"] = version.effective_at.isoformat()
    AgreementVersion.objects.filter(pk=version.pk).update(
        created_at=version.created_at,
        submitted_at=version.submitted_at,
        marketing_approved_at=version.marketing_approved_at,
        sales_approved_at=version.sales_approved_at,
        published_at=version.published_at,
        effective_at=version.effective_at,
        snapshot=version.snapshot,
    )
    for event in VersionEvent.objects.filter(version=version):
        VersionEvent.objects.filter(pk=event.pk).update(at=event.at + shift)
    Agreement.objects.filter(pk=agreement.pk, created_at__gt=version.created_at).update(
        created_at=version.created_at
    )
    return version


def _summary() -> DemoLeadsSummary:
    leads = Lead.objects.filter(email__iendswith=DEMO_EMAIL_SUFFIX)
    handoffs = Handoff.objects.filter(lead__in=leads)
    stages = dict(leads.values_list("stage").annotate(n=Count("pk")).order_by())
    return DemoLeadsSummary(
        leads=leads.count(),
        events=LeadEvent.objects.filter(lead__in=leads).count(),
        handoffs=handoffs.count(),
        open_handoffs=handoffs.filter(accepted_at__isnull=True, returned_at__isnull=True).count(),
        breached=handoffs.filter(breached_at__isnull=False).count(),
        returned=handoffs.filter(returned_at__isnull=False).count(),
        stages={stage: stages.get(stage, 0) for stage in Stage.values},
    )


# --- the simulation -----------------------------------------------------------------------


class _Simulation:
    """A clock and a queue of what happens when: arrivals, activity, job runs, reps' work."""

    def __init__(
        self,
        *,
        version: AgreementVersion,
        now: datetime,
        rng: random.Random,
        content: "LeadContent",
    ):
        self.now = now
        self.rng = rng
        self.content = content
        self.calendar = version_calendar(version=version)
        self.zone = self.calendar.zone
        self.cadence = list(CadenceStep.objects.filter(version=version).order_by("position", "id"))
        # Each handoff is worked to its own agreement's cadence (the enterprise one differs).
        self.cadences = {version.pk: self.cadence}
        self.dispositions = dict(
            DispositionCode.objects.filter(version=version).values_list("code", "is_conversation")
        )
        self.queue: list = []
        self.sequence = itertools.count()
        self.pending_events: list[EventInput] = []
        # Whether any lead may need scoring since the last run, so quiet runs skip the job.
        self.dirty = False
        self.specs: dict[str, LeadSpec] = {}  # by lower-case e-mail
        self.accepted = self.opportunities = 0
        self.last_handoff_id = (
            Handoff.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )

    # Scheduling ----------------------------------------------------------------------------

    def at(self, when: datetime, kind: str, payload: Any = None) -> None:
        """Schedule something; what would happen after now has not happened yet."""
        if when <= self.now:
            heapq.heappush(self.queue, (when, next(self.sequence), kind, payload))

    def run(self) -> None:
        first_day = (self.now - timedelta(days=DEMO_DAYS - 1)).astimezone(self.zone).date()
        for spec in _lead_specs(self, first_day):
            self.specs[spec.email.lower()] = spec
            self.at(spec.arrival, "arrive", spec)
            for event in spec.events:
                self.at(event.occurred_at, "event", event)
                if event.type in CONVERSIONS:
                    self.at(event.occurred_at + CONVERSION_LAG, "jobs", {"score": True})
        for day in range(DEMO_DAYS):
            date = first_day + timedelta(days=day)
            score_hour = self.rng.choice(SCORE_HOURS)
            for hour in sorted({score_hour, CADENCE_HOUR, NURTURE_HOUR}):
                jobs = {
                    "score": hour == score_hour,
                    "cadence": hour == CADENCE_HOUR and self.calendar.is_business_day(date),
                    "nurture": hour == NURTURE_HOUR,
                }
                # Off the hour, so handoff times do not all read hh:00.
                moment = time(hour, self.rng.randrange(50), self.rng.randrange(60))
                self.at(datetime.combine(date, moment, self.zone), "jobs", jobs)
            self._play_until(datetime.combine(date + timedelta(days=1), time(0), self.zone))
        self.at(self.now, "jobs", dict.fromkeys(("score", "cadence", "nurture", "flag"), True))
        self._play_until(self.now)

    def _play_until(self, end: datetime) -> None:
        while self.queue and self.queue[0][0] <= end:
            when, _, kind, payload = heapq.heappop(self.queue)
            if kind == "arrive":
                self.dirty = True
                lead_upsert(
                    email=payload.email,
                    fields=payload.fields,
                    attributes=payload.attributes,
                    now=when,
                    reason=self.content.sources[payload.source][1],
                )
            elif kind == "event":
                self.pending_events.append(payload)
            elif kind == "jobs":
                self._jobs(when, **payload)
            elif kind == "rep":
                self._rep_act(when, *payload)
            elif kind == "crm":
                self._crm_act(when, *payload)

    def _jobs(self, now: datetime, *, score=False, cadence=False, nurture=False, flag=False):
        if score and self.pending_events:
            events_ingest(events=self.pending_events, now=now)
            self.pending_events = []
            self.dirty = True
        if score and self.dirty:
            self.dirty = False
            if pipeline_run(now=now).handed_off:
                new = Handoff.objects.filter(pk__gt=self.last_handoff_id).order_by("pk")
                for handoff in new.select_related("lead", "rep"):
                    self.last_handoff_id = handoff.pk
                    self._handoff_follow(handoff)
        if cadence:
            cadence_apply(now=now)
        if nurture and nurture_advance(now=now):
            self.dirty = True  # a finished track sends its lead back to scoring
        if flag:
            breaches_flag(now=now)

    # The reps ------------------------------------------------------------------------------

    def _business(self, start: datetime, hours: float) -> datetime:
        return add_business_time(start, timedelta(hours=hours), self.calendar)

    def _code(self, preferred, conversation: bool) -> str:
        """The first preferred code the SLA has, else any of its codes of the same kind."""
        for code in preferred:
            if self.dispositions.get(code) is conversation:
                return code
        return next(code for code, is_conv in self.dispositions.items() if is_conv is conversation)

    def _attempt_times(self, handoff: Handoff, first: datetime) -> list[datetime]:
        """When the rep works the SLA's cadence: the first touch, then each step's offset.

        Reps run a little ahead of the cadence's days, so a lead nobody answers is given up
        after the full cadence (no response) rather than by the calendar (no progress).
        """
        times = [first]
        pace = self.rng.uniform(0.7, 0.9)
        for step in self.cadence[1:]:
            if step.offset_unit == CadenceStep.OffsetUnit.BUSINESS_HOURS:
                planned = self._business(handoff.handed_off_at, step.offset)
            else:
                days = max(1, round(step.offset * pace))
                planned = add_business_days(handoff.handed_off_at, days, self.calendar)
            planned = next_business_opening(planned, self.calendar)
            jitter = self.rng.uniform(0, 2.5)
            times.append(max(self._business(planned, jitter), times[-1] + timedelta(minutes=20)))
        return times

    def _handoff_follow(self, handoff: Handoff) -> None:
        """Schedule the rep's work, and the breach job at each deadline the rep will miss."""
        plan = self._rep_plan(handoff)
        for when, action in plan:
            self.at(when, "rep", (handoff.pk, *action))
        first_move = min((when for when, _ in plan), default=None)
        for deadline in (handoff.at_risk_at, handoff.due_at):
            if first_move is None or first_move > deadline:
                self.at(deadline, "jobs", {"flag": True})

    def _rep_plan(self, handoff: Handoff) -> list[tuple[datetime, tuple]]:
        """What the rep will do with the handoff, and when: [(when, (action, *args))]."""
        rng = self.rng
        if handoff.version_id not in self.cadences:
            self.cadences[handoff.version_id] = list(
                CadenceStep.objects.filter(version_id=handoff.version_id).order_by("position", "id")
            )
        self.cadence = self.cadences[handoff.version_id]
        spec = self.specs.get(handoff.lead.email.lower())
        if spec is None or spec.outcome == "untouched":
            return []  # still waiting for the rep today
        persona = PERSONAS[spec.persona]
        late, ghost = REP_HABITS.get(handoff.rep.username, DEFAULT_HABITS)
        if spec.outcome:
            late = ghost = 0
        if rng.random() < ghost:
            return []  # never touched: breached, then returned by the cadence job
        outcome = (
            spec.outcome
            or rng.choices(list(persona.outcomes), weights=persona.outcomes.values())[0]
        )
        start = handoff.handed_off_at
        first_delay = rng.uniform(4.3, 16) if rng.random() < late else rng.uniform(0.15, 3.7)
        times = self._attempt_times(handoff, self._business(start, first_delay))
        plan = []

        def attempt(when, channel, code):
            plan.append((when, ("attempt", channel, code, self.content.notes.get(code, ""))))

        def silence(when, channel):
            preferred = rng.sample(SILENCE, 2) if channel == Channel.PHONE else ["no_answer"]
            attempt(when, channel, self._code(preferred, conversation=False))

        if outcome == "bad_fit" and rng.random() < 0.4:
            # The record alone shows it: rejected without a call.
            plan.append((self._business(start, rng.uniform(0.2, 2)), ("reject", "bad_fit")))
        elif outcome in CONVERSATION:
            talk = rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
            for index in range(talk - 1):
                silence(times[index], self.cadence[index].channel)
            code = self._code(CONVERSATION[outcome], conversation=True)
            attempt(times[talk - 1], Channel.PHONE, code)
            then = self._business(times[talk - 1], rng.uniform(0.1, 4))
            if outcome == "accept" and rng.random() < 0.5:
                # Accepted after the discovery meeting the call booked, days later.
                then = self._business(then, rng.randint(1, 4) * BUSINESS_DAY_HOURS)
            action = {"accept": ("accept",), "not_ready": ("return", "not_ready")}.get(
                outcome, ("reject", "bad_fit")
            )
            plan.append((then, action))
        elif outcome == "wrong_contact":
            attempt(times[0], Channel.PHONE, self._code(("wrong_number",), conversation=False))
            then = self._business(times[0], rng.uniform(0.1, 1))
            plan.append((then, ("return", "wrong_contact")))
        else:
            # No conversation: the full cadence, or a rep who gives up early (no progress).
            made = len(times) if rng.random() < 0.7 else rng.randint(2, 4)
            for index in range(made):
                silence(times[index], self.cadence[index].channel)
        return plan

    def _rep_act(self, when: datetime, handoff_id: int, action: str, *args) -> None:
        handoff = Handoff.objects.select_related("rep").get(pk=handoff_id)
        if not handoff.is_active:
            return  # the cadence job returned it first
        rep = handoff.rep
        if action == "attempt":
            channel, code, note = args
            attempt_log(
                handoff=handoff, channel=channel, disposition=code, note=note, by=rep, now=when
            )
        elif action == "accept":
            handoff_accept(handoff=handoff, by=rep, now=when)
            self.accepted += 1
            # The first deals of the quarter always progress, so every stage has leads.
            if self.accepted <= SURE_DEALS or self.rng.random() < 0.5:
                days = self.rng.randint(2, 8)
                self.at(
                    add_business_days(when, days, self.calendar),
                    "crm",
                    (handoff.lead_id, Stage.OPPORTUNITY),
                )
        elif action == "reject" and when <= handoff.accept_due_at:
            handoff_reject(
                handoff=handoff,
                reason=args[0],
                note=self.content.notes["not_interested"],
                by=rep,
                now=when,
            )
        else:
            handoff_return(
                handoff=handoff,
                reason=args[0],
                note=_return_note(args[0], self.content),
                by=rep,
                now=when,
            )

    def _crm_act(self, when: datetime, lead_id: int, stage: str) -> None:
        _crm_stage_move(lead_id=lead_id, to_stage=stage, at=when, content=self.content)
        self.opportunities += stage == Stage.OPPORTUNITY
        if stage == Stage.OPPORTUNITY and (
            self.opportunities <= SURE_DEALS or self.rng.random() < 0.45
        ):
            days = self.rng.randint(7, 30)
            self.at(when + timedelta(days=days), "crm", (lead_id, Stage.CUSTOMER))


def _return_note(reason: str, content: "LeadContent") -> str:
    return {
        "not_ready": content.notes["bad_timing"],
        "wrong_contact": content.notes["wrong_number"],
        "bad_fit": content.notes["not_interested"],
    }.get(reason, "")


CRM_MOVES = {Stage.OPPORTUNITY: Stage.SQL, Stage.CUSTOMER: Stage.OPPORTUNITY}  # to: from
CRM_REASONS = {
    Stage.OPPORTUNITY: "Opportunity opened in the CRM",
    Stage.CUSTOMER: "Closed won in the CRM",
}


def _crm_stage_move(*, lead_id: int, to_stage: str, at: datetime, content: "LeadContent") -> None:
    """Opportunity and customer as the CRM reports them, through the same service as the API.

    A won deal's value is made up from the lead's id, so it is the same on every load.
    """
    from_stage, reason = CRM_MOVES[to_stage], content.crm_reasons[to_stage]
    lead = Lead.objects.get(pk=lead_id)
    if lead.stage != from_stage:
        return
    value = (
        Decimal((12_000 + (lead_id * 7_919) % 24_000) * content.money_scale)
        if to_stage == Stage.CUSTOMER
        else None
    )
    lead_stage_advance(
        lead=lead, stage=to_stage, reason=reason, deal_value=value, job="crm_sync", now=at
    )


# --- generating the leads -----------------------------------------------------------------


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", plain.lower())


def _companies(rng: random.Random, count: int, content: "LeadContent") -> list[dict]:
    companies, names = [], set()
    codes = list(COUNTRIES)
    weights = [COUNTRIES[code][0] for code in codes]
    while len(companies) < count:
        industry = rng.choice(list(INDUSTRIES))
        starts = INDUSTRIES[industry][0].split()
        ends = content.company_ends.get(industry, INDUSTRIES[industry][1]).split()
        name = f"{rng.choice(starts)} {rng.choice(ends)}"
        if name in names:
            continue
        names.add(name)
        country = rng.choices(codes, weights)[0]
        companies.append(
            {
                "name": f"{name} {COUNTRIES[country][3]}",
                "domain": f"{_ascii(name)}{DEMO_EMAIL_SUFFIX}",
                "industry": industry,
                "country": country,
                "size_index": rng.randrange(len(COMPANY_SIZES)),
                # Picks the city (where the language has cities) without drawing a number.
                "number": len(companies),
            }
        )
    return companies


def _lead_specs(simulation: _Simulation, first_day) -> list[LeadSpec]:
    rng, zone, now = simulation.rng, simulation.zone, simulation.now
    content = simulation.content
    companies = _companies(rng, 150, content)
    emails: set[str] = set()
    persona_names = list(PERSONAS)
    persona_weights = [PERSONAS[name].weight for name in persona_names]
    # A little more arrives lately (marketing's campaigns are picking up), less at weekends.
    day_weights = [
        (1 + 0.6 * day / DEMO_DAYS)
        * (0.4 if (first_day + timedelta(days=day)).weekday() >= 5 else 1)
        for day in range(DEMO_DAYS)
    ]
    finale_count = FINALE_GROUP * len(FINALE)
    specs = []
    for index in range(DEMO_LEADS - finale_count):
        persona_name = rng.choices(persona_names, persona_weights)[0]
        day = rng.choices(range(DEMO_DAYS), day_weights)[0]
        arrival = _arrival(rng, first_day + timedelta(days=day), zone)
        if arrival > now:
            arrival = now - timedelta(minutes=rng.randint(20, 600))
        spec = _lead(rng, index, persona_name, arrival, companies, emails, content)
        _activity(rng, spec, PERSONAS[persona_name], now, content)
        specs.append(spec)
    index = len(specs)
    for hours, outcome in FINALE:
        handed_off = _business_time_before(now, hours, simulation.calendar)
        # Score whatever else is pending first, so the group's run hands off only the group.
        simulation.at(handed_off - 2 * CONVERSION_LAG, "jobs", {"score": True})
        for _ in range(FINALE_GROUP):
            arrival = handed_off - timedelta(hours=rng.uniform(8, 60))
            spec = _lead(
                rng, index, FINALE_PERSONA, arrival, companies, emails, content, complete=True
            )
            spec.outcome = outcome
            _finale_activity(rng, spec, handed_off, content)
            specs.append(spec)
            index += 1
    return specs


def _arrival(rng: random.Random, day, zone) -> datetime:
    hour = rng.choices(range(7, 23), weights=[2 if 8 <= h < 18 else 1 for h in range(7, 23)])[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(1, 60)), zone)


def _lead(
    rng, index, persona_name, arrival, companies, emails, content, complete=False
) -> LeadSpec:
    persona = PERSONAS[persona_name]
    industries = set(persona.industries)
    low, high = persona.sizes
    fitting = [
        c for c in companies if c["industry"] in industries and low <= c["size_index"] <= high
    ]
    company = rng.choice(fitting or companies)
    _, firsts, lasts, _, phone_prefix = COUNTRIES[company["country"]]
    first, last = rng.choice(firsts.split()), rng.choice(lasts.split())
    email = f"{_ascii(first)}.{_ascii(last)}@{company['domain']}"
    suffix = 2
    while email.lower() in emails:
        email = f"{_ascii(first)}.{_ascii(last)}{suffix}@{company['domain']}"
        suffix += 1
    emails.add(email.lower())
    seniority = rng.choices(list(persona.titles), weights=persona.titles.values())[0]
    size = COMPANY_SIZES[company["size_index"]]
    source = rng.choices(list(SOURCES), weights=[s[0] for s in SOURCES.values()])[0]
    fields = {
        "first_name": first,
        "last_name": last,
        "title": _title(rng.choice(content.titles[seniority]), first, content),
        "company": company["name"],
        # Badge scans and bought lists often come without a company size.
        "company_size": None if not complete and source == "event" and rng.random() < 0.3 else size,
        "industry": content.industry_names.get(company["industry"], company["industry"]),
        "country": company["country"],
        "source": content.sources[source][0],
    }
    attributes = {}
    cities = content.cities.get(company["country"])
    if cities:
        city, phone_prefix = cities[company["number"] % len(cities)]
        attributes[content.city_attribute] = city
    if rng.random() < 0.75:
        fields["phone"] = f"{phone_prefix}{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    if source == "paid search":
        attributes["utm_campaign"] = rng.choice(content.utm_campaigns)
    elif source == "event":
        attributes["event"] = rng.choice(content.events_attended)
    return LeadSpec(index, email, fields, attributes, persona_name, source, arrival)


def _title(title: str, first_name: str, content: "LeadContent") -> str:
    """The title as the lead would write it: feminine for a woman where the language says so."""
    if first_name not in content.feminine_names:
        return title
    word, _, rest = title.partition(" ")
    return " ".join(filter(None, (content.feminine_words.get(word, word), rest)))


def _visit_time(rng: random.Random, after: datetime, days: float, zone) -> datetime:
    moment = (after + timedelta(days=days)).astimezone(zone)
    hour = rng.randint(8, 21)
    return datetime.combine(moment.date(), time(hour, rng.randrange(60), rng.randrange(60)), zone)


class _Events:
    """One lead's activity, with external ids that stay the same on every load."""

    def __init__(self, spec: LeadSpec, rng: random.Random, content: "LeadContent"):
        self.spec, self.rng, self.count, self.content = spec, rng, 0, content

    def add(self, event_type: str, at: datetime, **properties) -> None:
        self.count += 1
        self.spec.events.append(
            EventInput(
                email=self.spec.email,
                type=event_type,
                occurred_at=at,
                properties=properties,
                external_id=f"demo-{self.spec.index}-{self.count}",
            )
        )

    def first(self, at: datetime) -> None:
        first_type = SOURCES[self.spec.source][2]
        if first_type == "content_download":
            self.add(first_type, at, asset=self.rng.choice(self.content.content))
        elif first_type == "webinar_attended":
            self.add(first_type, at, webinar=self.rng.choice(self.content.webinars))
        else:
            self.add(first_type, at, form=slugify(self.content.sources[self.spec.source][0]))

    def conversion(self, at: datetime, event_type: str) -> None:
        self.add(event_type, at, form=self.content.conversion_forms[event_type])

    def visit(self, at: datetime, persona: Persona) -> datetime:
        rng, content = self.rng, self.content
        for _ in range(rng.randint(1, 3)):
            at += timedelta(minutes=rng.randint(1, 6))
            self.add("page_view", at, path=rng.choice(content.pages))
        if rng.random() < persona.pricing:
            at += timedelta(minutes=rng.randint(1, 4))
            self.add("pricing_page_view", at, path=content.pricing_page)
        if rng.random() < 0.3:
            at += timedelta(minutes=rng.randint(1, 4))
            self.add("content_download", at, asset=rng.choice(content.content))
        return at

    def email(self, at: datetime, clicks: float) -> datetime:
        campaign = self.rng.choice(self.content.campaigns)
        self.add("email_open", at, campaign=campaign)
        if self.rng.random() < clicks:
            at += timedelta(minutes=self.rng.randint(1, 30))
            self.add("email_click", at, campaign=campaign)
        return at


def _activity(
    rng: random.Random, spec: LeadSpec, persona: Persona, now: datetime, content: "LeadContent"
) -> None:
    events = _Events(spec, rng, content)
    events.first(spec.arrival)
    visits = rng.randint(*persona.sessions)
    converts_at = rng.randint(1, visits) if visits and rng.random() < persona.converts else None
    unsubscribes = rng.random() < persona.unsubscribes
    at = spec.arrival
    for visit in range(1, visits + 1):
        at = _visit_time(
            rng, at, rng.expovariate(1 / persona.days_between) + 0.3, spec.arrival.tzinfo
        )
        if at > now:
            break
        if rng.random() < 0.5:
            at = events.email(at, clicks=0.4)
        if rng.random() < 0.12:
            at += timedelta(minutes=rng.randint(5, 60))
            events.add("webinar_attended", at, webinar=rng.choice(content.webinars))
        at = events.visit(at, persona)
        if visit == converts_at:
            at += timedelta(minutes=rng.randint(1, 10))
            conversion = "demo_request" if rng.random() < 0.7 else "contact_sales"
            events.conversion(at, conversion)
    if unsubscribes:
        at = _visit_time(rng, at, rng.uniform(2, 20), spec.arrival.tzinfo)
        at = events.email(at, clicks=0)
        events.add("unsubscribe", at + timedelta(minutes=1), campaign=content.newsletter)
    spec.events = [event for event in spec.events if event.occurred_at <= now]


def _finale_activity(
    rng: random.Random, spec: LeadSpec, handed_off: datetime, content: "LeadContent"
) -> None:
    """A lead who browsed a little and then asked for a demo just before `handed_off`."""
    events = _Events(spec, rng, content)
    events.first(spec.arrival)
    at = spec.arrival + timedelta(minutes=rng.randint(5, 90))
    for _ in range(rng.randint(1, 3)):
        at += timedelta(minutes=rng.randint(1, 8))
        events.add("page_view", at, path=rng.choice(content.pages))
    conversion = "demo_request" if rng.random() < 0.7 else "contact_sales"
    # The run that follows the request hands the whole group off together.
    events.conversion(handed_off - CONVERSION_LAG, conversion)


def _business_time_before(end: datetime, hours: float, calendar) -> datetime:
    """The latest moment from which `hours` of business time have passed by `end`."""
    target, earliest = timedelta(hours=hours), end - timedelta(days=DEMO_DAYS)
    moment = end
    while business_time_between(moment, end, calendar) < target:
        moment -= timedelta(minutes=10)
        if moment < earliest:
            raise ValueError("The SLA's calendar has no business hours to replay.")
    return moment


# --- the words, in each language ----------------------------------------------------------


@dataclass(frozen=True)
class LeadContent:
    """What the demo leads are called and what they read, in one language.

    Tables picked from at random keep the English lengths, so the story is the same.
    """

    sources: dict  # key in SOURCES: (the lead's source, what created the lead)
    industry_names: dict  # key in INDUSTRIES: the lead's industry
    company_ends: dict  # key in INDUSTRIES: how company names end
    cities: dict  # country: [(city, phone prefix)]; countries without cities use COUNTRIES
    city_attribute: str
    titles: dict
    feminine_names: frozenset  # first names that take the feminine form of a title
    feminine_words: dict  # a title's first word: its feminine form
    pages: list
    pricing_page: str
    content: list
    webinars: list
    campaigns: list
    newsletter: str
    utm_campaigns: list
    events_attended: list
    conversion_forms: dict  # event type: form name
    notes: dict  # disposition code: the rep's note
    crm_reasons: dict  # lead stage: why the CRM moved the lead there
    money_scale: int  # deal values per dollar of the English demo


ENGLISH = LeadContent(
    sources={key: (key, reason) for key, (_, reason, _) in SOURCES.items()},
    industry_names={},
    company_ends={},
    cities={},
    city_attribute="city",
    titles=TITLES,
    feminine_names=frozenset(),
    feminine_words={},
    pages=PAGES,
    pricing_page="/pricing",
    content=CONTENT,
    webinars=WEBINARS,
    campaigns=CAMPAIGNS,
    newsletter="monthly-newsletter",
    utm_campaigns=["sla-template", "lead-scoring", "brand"],
    events_attended=EVENTS_ATTENDED,
    conversion_forms={"demo_request": "demo-request", "contact_sales": "contact-sales"},
    notes=NOTES,
    crm_reasons=CRM_REASONS,
    money_scale=1,
)

PORTUGUESE = LeadContent(
    sources=demo_pt.SOURCES,
    industry_names=demo_pt.INDUSTRY_NAMES,
    company_ends=demo_pt.COMPANY_ENDS,
    cities=demo_pt.CITIES,
    city_attribute=demo_pt.CITY_ATTRIBUTE,
    titles=demo_pt.TITLES,
    feminine_names=demo_pt.FEMININE_NAMES,
    feminine_words=demo_pt.FEMININE_WORDS,
    pages=demo_pt.PAGES,
    pricing_page=demo_pt.PRICING_PAGE,
    content=demo_pt.CONTENT,
    webinars=demo_pt.WEBINARS,
    campaigns=demo_pt.CAMPAIGNS,
    newsletter=demo_pt.NEWSLETTER,
    utm_campaigns=demo_pt.UTM_CAMPAIGNS,
    events_attended=demo_pt.EVENTS_ATTENDED,
    conversion_forms=demo_pt.CONVERSION_FORMS,
    notes=demo_pt.NOTES,
    crm_reasons=demo_pt.CRM_REASONS,
    money_scale=demo_pt.MONEY_SCALE,
)

LEAD_CONTENT = {"en": ENGLISH, "pt-br": PORTUGUESE}
