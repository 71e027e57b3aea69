"""The demo workspace loaded by `manage.py load_demo`."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.forms.models import model_to_dict

from agreements import models as m
from agreements.demo import DEMO_AGREEMENT_NAME
from agreements.document import build_document, diff_documents, version_document
from agreements.parts import PARTS
from agreements.selectors import open_draft, version_in_force
from slaportal.roles import Role

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def agreement():
    load_demo()
    load_demo()
    return m.Agreement.objects.get(name=DEMO_AGREEMENT_NAME)


@pytest.fixture
def v1(agreement):
    return agreement.versions.get(number=1)


def test_loading_twice_leaves_v1_in_force_and_one_open_draft(agreement):
    assert m.Agreement.objects.count() == 1
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
    assert m.AgreementVersion.objects.count() == 2


def test_output_lists_the_logins_and_the_url():
    output = load_demo()
    for username in ("marina", "sergio", "rita", "rafael", "renata", "vera"):
        assert username in output
    assert "http://127.0.0.1:8000/" in output
    assert "already loaded" in load_demo()
