"""Each change of the lead engine emits its event type, once, with the object as the API shows
it; set-based jobs emit in one insert and cost no query when nobody listens."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import services
from integrations.models import EVENT_TYPES
from leads.services.handoffs import attempt_log, handoff_accept, handoff_reassign, handoff_return
from leads.services.pipeline import pipeline_run
from slaportal.models import OutboxMessage


def _types() -> list[str]:
    return [
        row.payload["event"]["type"]
        for row in OutboxMessage.objects.filter(channel="webhook").order_by("id")
    ]


def _endpoint(sales_manager, **kwargs):
    return services.endpoint_create(url="http://127.0.0.1:9/hook", by=sales_manager, **kwargs)


def test_a_handoff_met_then_accepted_emits_met_accepted_and_the_stage_change(
    hand_off, sales_manager, sales_rep
):
    handoff = hand_off()
    _endpoint(sales_manager)
    attempt_log(handoff=handoff, channel="phone", disposition="connected", by=sales_rep)
    handoff_accept(handoff=handoff, by=sales_rep)
    assert _types() == ["handoff.met", "lead.stage_changed", "handoff.accepted"]
    accepted = OutboxMessage.objects.filter(channel="webhook").last().payload["event"]
    assert accepted["data"]["handoff"]["status"] == "met"
    assert accepted["data"]["lead"]["stage"] == "sql"


def test_a_return_emits_returned_the_stage_change_and_the_nurture_enrolment(
    hand_off, sales_manager, sales_rep
):
    handoff = hand_off()
    _endpoint(sales_manager)
    handoff_return(handoff=handoff, reason="not_ready", by=sales_rep)
    assert _types() == ["lead.stage_changed", "handoff.returned", "nurture.enrolled"]


def test_a_reassignment_emits_reassigned(hand_off, sales_manager, other_rep):
    handoff = hand_off()
    _endpoint(sales_manager, event_types=["handoff.reassigned"])
    handoff_reassign(handoff=handoff, rep=other_rep, by=sales_manager)
    assert _types() == ["handoff.reassigned"]


def test_publishing_a_version_emits_it(sla, sales_manager):
    from agreements import services as sla_services

    _endpoint(sales_manager)
    draft = sla_services.amendment_start(agreement=sla.agreement, by=sales_manager)
    sla_services.version_submit(version=draft, by=sales_manager, change_note="v2")
    sla_services.version_approve(
        version=draft, by=sla.agreement.marketing_manager, side="marketing"
    )
    sla_services.version_approve(version=draft, by=sales_manager, side="sales")
    assert "sla.version_published" in _types()


def test_with_nobody_listening_a_scoring_run_costs_no_query_for_events(sla, hand_off):
    hand_off()  # warms the listeners cache
    with CaptureQueriesContext(connection) as queries:
        pipeline_run()
    assert not any("integrations_" in query["sql"] for query in queries)
    assert not OutboxMessage.objects.filter(channel="webhook").exists()


def test_every_event_type_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in readme
