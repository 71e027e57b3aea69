"""The demo workspace loaded by `manage.py load_demo`."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import timezone

from agreements import models as m
from agreements.demo import DEMO_AGREEMENT_NAME, ENTERPRISE_AGREEMENT_NAME
from agreements.document import build_document, diff_documents, version_document
from agreements.parts import PARTS
from agreements.selectors import open_draft, version_in_force
from leads.demo import DEMO_EMAIL_SUFFIX, DEMO_LEADS
from leads.models import (
    ContactAttempt,
    Handoff,
    Lead,
    LeadEvent,
    Notification,
    NurtureEnrollment,
    Stage,
    StageChange,
)
from slaportal.roles import Role
from slaportal.workspace import workspace

pytestmark = pytest.mark.django_db

REPS = ("rita", "rafael", "renata")


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


# The demo replays ninety days up to now, and which handoffs stand at risk or breached today
# depends on where now falls in the SLA's business hours (a run at 12:47 UTC found one rep
# with a handoff at risk, at 13:00 all three): the module runs at one moment, a Wednesday at
# 13:00 UTC, so its answers never depend on when the suite runs.
DEMO_NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def loaded_twice(django_db_setup, django_db_blocker):
    """The outputs of two loads, made once for the module: replaying 90 days takes seconds.

    The loads stay in a transaction rolled back after the module, so other modules start
    from an empty database; each test runs in a savepoint inside it.
    """
    with (
        time_machine.travel(DEMO_NOW, tick=False),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield load_demo(), load_demo()
        transaction.set_rollback(True)


@pytest.fixture
def agreement():
    load_demo()
    load_demo()
    return m.Agreement.objects.get(name=DEMO_AGREEMENT_NAME)


@pytest.fixture
def v1(agreement):
    return agreement.versions.get(number=1)


def test_loading_twice_leaves_v1_in_force_and_one_open_draft(agreement):
    # The article's SLA and the enterprise one, each loaded once.
    assert sorted(m.Agreement.objects.values_list("name", flat=True)) == sorted(
        [DEMO_AGREEMENT_NAME, ENTERPRISE_AGREEMENT_NAME]
    )
    published = agreement.versions.filter(status=m.AgreementVersion.Status.PUBLISHED)
    assert [version.number for version in published] == [1]
    assert version_in_force(agreement=agreement) == published.get()
    draft = open_draft(agreement=agreement)
    assert draft is not None and draft.status == m.AgreementVersion.Status.DRAFT
    assert agreement.versions.count() == 2
    assert draft.based_on == published.get()


def test_v1_was_signed_by_both_managers_and_snapshotted(agreement, v1):
    assert v1.marketing_approved_by.username == "marina"
    assert v1.sales_approved_by.username == "sergio"
    assert v1.snapshot is not None
    assert v1.snapshot["version"]["number"] == 1
    assert v1.change_note == "First version of the SLA, from the kick-off workshop."


def test_v1_fills_every_part(v1):
    assert m.Goal.objects.filter(version=v1, metric=m.Metric.NEW_REVENUE, target=1_000_000).exists()
    assert m.Goal.objects.filter(version=v1).count() == 3
    plan = m.FunnelPlan.objects.get(version=v1)
    assert (plan.revenue_target, plan.average_deal_size, plan.months) == (1_000_000, 20_000, 12)

    terms = set(m.Term.objects.filter(version=v1).values_list("term", flat=True))
    assert {"Contact", "Lead", "MQL", "SQL", "Opportunity", "Customer"} <= terms
    stages = m.Stage.objects.filter(version=v1)
    assert {"lead", "mql", "sql", "opportunity", "customer"} <= set(
        stages.filter(kind=m.Stage.Kind.LIFECYCLE).values_list("slug", flat=True)
    )
    assert set(stages.filter(kind=m.Stage.Kind.PIPELINE).values_list("slug", flat=True)) == {
        "discovery",
        "demo",
        "proposal",
        "negotiation",
        "closed_won",
        "closed_lost",
    }

    assert m.FitRule.objects.filter(version=v1).count() == 7
    assert m.FitRule.objects.filter(version=v1, points__lt=0).count() == 2
    assert m.InterestRule.objects.filter(version=v1).count() == 7
    assert m.InterestRule.objects.get(version=v1, event_type="unsubscribe").points == -25
    qualification = m.QualificationSettings.objects.get(version=v1)
    assert (
        qualification.mql_min_fit,
        qualification.mql_min_interest,
        qualification.mql_min_total,
        qualification.decay_half_life_days,
    ) == (20, 30, 80, 30)

    policy = m.HandoffPolicy.objects.get(version=v1)
    assert policy.response_target_hours == 4
    assert policy.assignment_method == m.HandoffPolicy.Assignment.ROUND_ROBIN
    assert "demo_request" in policy.trigger_events
    reasons = {r.code: r.nurture_track for r in m.ReturnReason.objects.filter(version=v1)}
    assert reasons["no_response"].entry_condition == m.NurtureTrack.Entry.ON_RETURN
    assert reasons["bad_fit"].entry_condition == m.NurtureTrack.Entry.BELOW_MQL
    assert reasons["wrong_contact"] is None

    tracks = m.NurtureTrack.objects.filter(version=v1)
    assert {t.entry_condition for t in tracks} == {"below_mql", "on_return"}
    for track in tracks:
        assert track.steps.count() >= 3

    cadence = m.CadenceStep.objects.filter(version=v1)
    assert cadence.count() == 6
    assert set(cadence.values_list("channel", flat=True)) == {m.Channel.PHONE, m.Channel.EMAIL}
    assert m.DispositionCode.objects.filter(version=v1, is_conversation=True).exists()

    kpis = dict(m.Kpi.objects.filter(version=v1).values_list("metric", "owner"))
    assert kpis == {
        "attempts_per_lead": "sales",
        "speed_to_lead": "sales",
        "sla_compliance": "sales",
        "visitor_to_lead_rate": "marketing",
        "lead_to_mql_rate": "marketing",
        "mql_to_sql_rate": "marketing",
        "mql_acceptance_rate": "marketing",
    }

    calendar = m.BusinessCalendar.objects.get(version=v1)
    assert (calendar.time_zone, calendar.working_days) == ("America/Sao_Paulo", [0, 1, 2, 3, 4])
    assert m.Holiday.objects.filter(version=v1).count() >= 2 * 8


def test_v1_funnel_plan_matches_the_article_arithmetic(v1):
    goals = next(part for part in version_document(v1)["parts"] if part["slug"] == "goals")
    plan = dict(next(b for b in goals["settings"] if b["title"].startswith("Needed"))["fields"])
    assert [
        plan[stage].split(" ")[0]
        for stage in ("Won deals", "Opportunities", "SQLs", "MQLs", "Leads")
    ] == ["50", "200", "400", "1,000", "5,000"]


def test_every_demo_row_passes_the_editor_forms(agreement):
    """The seed skips the forms, so check it obeys their rules (e.g. KPI threshold order)."""
    for version in agreement.versions.all():
        for part in PARTS:
            for block in part.settings:
                instance = block.instance(version)
                form = block.form(
                    data=_form_data(block.form, model_to_dict(instance, fields=block.fields())),
                    instance=instance,
                    version=version,
                )
                assert form.is_valid(), (version, block.key, form.errors)
            for rowset in part.rowsets:
                for row in rowset.queryset(version):
                    form = rowset.form(
                        data=_form_data(rowset.form, model_to_dict(row, fields=rowset.fields())),
                        instance=row,
                        version=version,
                    )
                    assert form.is_valid(), (version, rowset.key, row, form.errors)


def _form_data(form_class, values: dict) -> dict:
    data = {}
    for name, value in values.items():
        if isinstance(value, list) and not hasattr(form_class.base_fields[name], "choices"):
            value = ", ".join(value)
        data[name] = "" if value is None else value
    return data


def test_the_draft_amends_v1(agreement, v1):
    draft = open_draft(agreement=agreement)
    diffs = {d.slug: d for d in diff_documents(version_document(v1), build_document(draft))}
    assert not diffs["handoff"].is_empty
    assert not diffs["qualification"].is_empty
    assert m.HandoffPolicy.objects.get(version=draft).response_target_hours == 3
    assert m.InterestRule.objects.filter(version=draft).count() == 8
    assert "3 business hours" in draft.change_note
    assert draft.events.filter(kind=m.VersionEvent.Kind.EDITED, part="handoff").exists()


def test_demo_users_hold_their_roles(agreement):
    User = get_user_model()
    expected = {
        "marina": Role.MARKETING_MANAGER,
        "sergio": Role.SALES_MANAGER,
        "rita": Role.SALES_REP,
        "rafael": Role.SALES_REP,
        "renata": Role.SALES_REP,
        "vera": Role.VIEWER,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.get_full_name()
        assert user.check_password("demo")
    assert agreement.marketing_manager.username == "marina"
    assert agreement.sales_manager.username == "sergio"


def test_reloading_keeps_changes_people_made():
    load_demo()
    marina = get_user_model().objects.get(username="marina")
    marina.set_password("changed")
    marina.save()

    load_demo()

    marina.refresh_from_db()
    assert marina.check_password("changed")
    # The article's v1 and its amendment, and the enterprise SLA's v1.
    assert m.AgreementVersion.objects.count() == 3


def test_the_english_demo_keeps_an_english_workspace_in_dollars(agreement):
    settings = workspace()
    assert (settings.default_language, settings.currency) == ("en", "USD")
    assert m.Goal.objects.filter(unit="US$").exists()


def test_output_lists_the_logins_and_the_url():
    output = load_demo()
    for username in ("marina", "sergio", "rita", "rafael", "renata", "vera"):
        assert username in output
    assert "http://127.0.0.1:8000/" in output
    assert "already loaded" in load_demo()


# The demo leads ---------------------------------------------------------------------------


@pytest.fixture
def demo_leads():
    return Lead.objects.filter(email__endswith=DEMO_EMAIL_SUFFIX)


@pytest.fixture
def open_handoffs():
    return Handoff.objects.filter(accepted_at__isnull=True, returned_at__isnull=True)


def test_the_leads_are_loaded_once(loaded_twice, demo_leads):
    first, second = loaded_twice
    assert f"Loaded {DEMO_LEADS} leads" in first
    assert "demo leads were already loaded" in second
    assert Lead.objects.count() == demo_leads.count() == DEMO_LEADS
    assert LeadEvent.objects.filter(external_id__startswith="demo-").count() > 5 * DEMO_LEADS


def test_activity_spans_the_last_90_days_and_ends_now(demo_leads):
    now = timezone.now()
    events = LeadEvent.objects.exclude(type="nurture_step")
    first, last = events.order_by("occurred_at")[0], events.order_by("-occurred_at")[0]
    assert now - timedelta(days=91) < first.occurred_at < now - timedelta(days=80)
    assert now - timedelta(days=1) < last.occurred_at <= now
    assert {"website", "webinar", "paid search", "referral", "event"} == set(
        demo_leads.values_list("source", flat=True)
    )
    assert {"demo_request", "contact_sales", "unsubscribe", "pricing_page_view"} <= set(
        events.values_list("type", flat=True)
    )


def test_leads_stand_at_every_stage(demo_leads):
    stages = Counter(demo_leads.values_list("stage", flat=True))
    assert set(stages) == set(Stage.values)
    assert stages[Stage.LEAD] > DEMO_LEADS / 2


def test_every_handoff_is_measured_by_v1_with_a_deadline_after_it(v1):
    handoffs = Handoff.objects.filter(version__agreement=v1.agreement)
    assert handoffs.count() >= 30
    assert not handoffs.exclude(version=v1).exists()
    assert not handoffs.filter(due_at__lte=F("handed_off_at")).exists()
    assert not handoffs.filter(at_risk_at__gt=F("due_at")).exists()
    first = handoffs.order_by("handed_off_at")[0]
    assert v1.effective_at <= v1.published_at < first.handed_off_at
    assert version_in_force(agreement=v1.agreement, at=first.handed_off_at) == v1
    assert handoffs.filter(status=Handoff.Status.MET).exists()
    assert handoffs.filter(breached_at__isnull=False).count() >= 5


def test_each_rep_has_open_handoffs_some_breached_some_at_risk(open_handoffs):
    assert 8 <= open_handoffs.count() <= 25
    by_rep = Counter(open_handoffs.values_list("rep__username", flat=True))
    assert set(by_rep) == set(REPS)
    for status in (Handoff.Status.BREACHED, Handoff.Status.AT_RISK):
        reps = set(open_handoffs.filter(status=status).values_list("rep__username", flat=True))
        assert len(reps) >= 2, status
    now = timezone.now()
    assert not open_handoffs.filter(status=Handoff.Status.BREACHED, due_at__gt=now).exists()
    assert not open_handoffs.filter(status=Handoff.Status.AT_RISK, at_risk_at__gt=now).exists()
    assert open_handoffs.filter(status=Handoff.Status.OPEN, due_at__gt=now).exists()
    assert open_handoffs.filter(attempts__isnull=False).exists()


def test_returned_handoffs_carry_reasons_and_feed_nurture():
    returned = Handoff.objects.filter(returned_at__isnull=False)
    assert not returned.filter(return_reason="").exists()
    assert {"not_ready", "bad_fit", "no_response"} <= set(
        returned.values_list("return_reason", flat=True)
    )
    rejected = returned.filter(rejected_at__isnull=False)
    assert rejected.exists()
    assert not rejected.filter(rejected_at__gt=F("accept_due_at")).exists()
    assert StageChange.objects.filter(job="apply_cadence").exists()
    enrollments = NurtureEnrollment.objects.all()
    assert enrollments.filter(completed_at__isnull=True).exists()
    assert enrollments.filter(completed_at__isnull=False).exists()
    assert LeadEvent.objects.filter(type="nurture_step").exists()


def test_reps_log_attempts_with_the_slas_dispositions(v1):
    codes = set(m.DispositionCode.objects.filter(version=v1).values_list("code", flat=True))
    used = set(ContactAttempt.objects.values_list("disposition", flat=True))
    assert used <= codes
    assert ContactAttempt.objects.filter(is_conversation=True).exists()
    assert ContactAttempt.objects.filter(is_conversation=False).exists()


def test_opportunities_and_customers_come_from_the_crm_sync(demo_leads):
    for lead in demo_leads.filter(stage__in=[Stage.OPPORTUNITY, Stage.CUSTOMER]):
        assert lead.sql_at < lead.opportunity_at
        assert lead.stage_changes.filter(job="crm_sync", to_stage=Stage.OPPORTUNITY).exists()
        if lead.stage == Stage.CUSTOMER:
            assert lead.opportunity_at < lead.customer_at
            assert lead.stage_changes.filter(job="crm_sync", to_stage=Stage.CUSTOMER).exists()


def test_reps_and_the_sales_manager_have_notifications():
    users = Counter(Notification.objects.values_list("user__username", flat=True))
    assert all(users[rep] > 0 for rep in REPS)
    assert Notification.objects.filter(user__username="sergio", key__startswith="breach:").exists()


def test_the_demo_leads_are_spread_across_the_two_agreements(v1):
    enterprise = m.Agreement.objects.get(name=ENTERPRISE_AGREEMENT_NAME)
    enterprise_v1 = enterprise.versions.get(number=1)
    big = Lead.objects.filter(company_size__gte=1000)
    assert big.exists() and not big.exclude(agreement=enterprise).exists()
    assert not Lead.objects.filter(company_size__lt=1000).exclude(agreement=v1.agreement).exists()
    # Each agreement's handoffs follow its own rules: a named owner within one business hour
    # for enterprise accounts, round robin within four for everyone else.
    enterprise_handoffs = Handoff.objects.filter(version=enterprise_v1)
    assert enterprise_handoffs.exists()
    assert set(enterprise_handoffs.values_list("rep__username", flat=True)) == {"rafael"}
    assert len(set(Handoff.objects.filter(version=v1).values_list("rep", flat=True))) == 3
    assert not Handoff.objects.exclude(version__in=[v1, enterprise_v1]).exists()
