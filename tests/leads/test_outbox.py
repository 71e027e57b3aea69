"""Notices go through the outbox: written with the change, delivered after it, once.

Reproduces issue 7's lost breach notices: `breaches_flag` used to commit the breach UPDATE and
then notify in a loop, so a worker killed half-way left breaches flagged and never told.
"""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.utils import timezone

from leads.models import Handoff, Notification
from leads.services import handoffs as hs
from leads.services.notifications import notify
from slaportal import outbox
from slaportal.models import OutboxMessage
from slaportal.outbox import outbox_deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(hand_off, clock):
    """Five handoffs past their 4-business-hour deadline, none told about yet."""
    handoffs = [hand_off() for _ in range(5)]
    Notification.objects.all().delete()
    mail.outbox.clear()
    clock.shift(timedelta(hours=5))
    return handoffs


def breach_notices() -> list[tuple[str, str]]:
    return sorted(
        Notification.objects.filter(key__startswith="breach:").values_list("user__username", "key")
    )


def test_a_notice_is_written_with_the_change_and_delivered_after_it(sales_rep):
    with transaction.atomic():
        assert notify(user=sales_rep, key="hello:1", message="Hello", email=True)
        # Nothing is delivered from inside the transaction.
        assert not Notification.objects.exists() and not mail.outbox
    assert OutboxMessage.objects.filter(status="pending").count() == 2  # in-app and e-mail
    assert outbox_deliver() == 2
    assert list(Notification.objects.values_list("user", "key")) == [(sales_rep.pk, "hello:1")]
    assert [message.to for message in mail.outbox] == [[sales_rep.email]]
    assert mail.outbox[0].extra_headers["Message-ID"] == outbox.email_message_id(
        f"email:{sales_rep.pk}:hello:1"
    )


def test_a_notice_of_a_change_that_rolled_back_is_never_delivered(sales_rep):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(user=sales_rep, key="hello:1", message="Hello", email=True)
        raise RuntimeError("the change failed")
    assert outbox_deliver() == 0
    assert not Notification.objects.exists() and not mail.outbox


def test_the_same_notice_written_or_delivered_twice_arrives_once(sales_rep):
    assert notify(user=sales_rep, key="hello:1", message="Hello", email=True)
    assert not notify(user=sales_rep, key="hello:1", message="Hello", email=True)
    outbox_deliver()
    outbox_deliver()
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_a_failing_email_is_retried_with_backoff_then_given_up(sales_rep, clock):
    notify(user=sales_rep, key="hello:1", message="Hello", email=True)
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("SMTP down")):
        assert outbox_deliver() == 1  # the in-app notice is not held up by the e-mail
        message = OutboxMessage.objects.get(channel="email")
        assert (message.status, message.attempts) == ("pending", 1)
        assert "SMTP down" in message.last_error
        assert timedelta(seconds=15) <= message.available_at - timezone.now() <= timedelta(60)
        assert outbox_deliver() == 0  # not due yet
        for _ in range(outbox.MAX_ATTEMPTS - 1):
            clock.shift(outbox.MAX_DELAY)
            outbox_deliver()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("dead", outbox.MAX_ATTEMPTS)
    clock.shift(outbox.MAX_DELAY)
    assert outbox_deliver() == 0 and not mail.outbox


def test_the_retry_delay_grows_and_is_capped():
    delays = [outbox.retry_delay(attempt) for attempt in range(1, 15)]
    assert timedelta(seconds=15) <= delays[0] <= timedelta(seconds=30)
    assert all(delay <= outbox.MAX_DELAY for delay in delays)
    assert delays[-1] >= outbox.MAX_DELAY / 2


def test_breaches_are_told_once_to_the_rep_and_the_manager(overdue, sales_manager):
    result = hs.breaches_flag()
    assert sorted(result.breached) == sorted(handoff.pk for handoff in overdue)
    outbox_deliver()
    assert len(breach_notices()) == 10 and len(mail.outbox) == 10
    assert hs.breaches_flag().breached == []
    outbox_deliver()
    assert len(breach_notices()) == 10 and len(mail.outbox) == 10


def test_a_breach_run_killed_half_way_loses_no_notice(overdue):
    """The run dies after writing its notices, before its commit: nothing it did stays, and
    the rerun flags and tells all."""
    real_notify_many = hs.notify_many

    def dying_notify_many(notices, **kwargs):
        real_notify_many(notices, **kwargs)
        raise SystemExit("worker killed")

    with mock.patch.object(hs, "notify_many", dying_notify_many), pytest.raises(SystemExit):
        hs.breaches_flag()
    assert not Handoff.objects.filter(status="breached").exists()
    assert not OutboxMessage.objects.filter(key__contains=":breach:").exists()

    assert len(hs.breaches_flag().breached) == 5
    outbox_deliver()
    assert len(breach_notices()) == 10 and len(mail.outbox) == 10


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_at_once_deliver_each_notice_once(overdue):
    hs.breaches_flag()
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait()
        try:
            outbox_deliver()
        finally:
            connections.close_all()

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(breach_notices()) == 10
    assert len(mail.outbox) == 10
    assert len({message.extra_headers["Message-ID"] for message in mail.outbox}) == 10
    assert not OutboxMessage.objects.exclude(status="sent").exists()
