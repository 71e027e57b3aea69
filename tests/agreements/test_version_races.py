"""Sign-off under races: a published version can never be un-published.

The sales manager's approval (which publishes) and the marketing manager's reopen or
resubmission arrive at the same instant; whichever wins, the version's row, its number and
its event log must agree.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from agreements import models as m
from agreements import services

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions"),
    pytest.mark.django_db(transaction=True),
]
TRIES = 25


def _race(*actions) -> list[BaseException | None]:
    """Run the actions at once in their own connections; what each raised, in order."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[BaseException | None] = [None] * len(actions)

    def run(index, action):
        barrier.wait()
        try:
            action()
        except (ValidationError, Exception) as error:  # noqa: BLE001 - reported to the test
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _marketing_approved_amendment(agreement, marketing_manager, note):
    draft = services.amendment_start(agreement=agreement, by=marketing_manager, note=note)
    services.version_submit(version=draft, by=marketing_manager, change_note=note)
    services.version_approve(version=draft, by=marketing_manager, side="marketing")
    return draft


def _assert_consistent(version: m.AgreementVersion) -> bool:
    """The row and the event log tell the same story; True when the version was published."""
    version.refresh_from_db()
    logged_published = version.events.filter(kind=m.VersionEvent.Kind.PUBLISHED).exists()
    if version.status == m.AgreementVersion.Status.PUBLISHED:
        assert version.number and version.published_at and version.snapshot
        assert logged_published
        return True
    assert not logged_published, f"{version} was logged as published but is {version.status}"
    assert version.number is None and version.published_at is None
    return False


def test_approve_racing_reopen_never_unpublishes(published, marketing_manager, sales_manager):
    agreement = published.agreement
    published_count = 0
    for attempt in range(TRIES):
        draft = _marketing_approved_amendment(agreement, marketing_manager, f"try {attempt}")
        approve_error, reopen_error = _race(
            lambda draft=draft: services.version_approve(
                version=draft, by=sales_manager, side="sales"
            ),
            lambda draft=draft: services.version_reopen(version=draft, by=marketing_manager),
        )
        assert not isinstance(approve_error, AssertionError | TypeError)
        was_published = _assert_consistent(draft)
        # Exactly one of the two won; the loser was refused with a clear message.
        if was_published:
            published_count += 1
            assert isinstance(reopen_error, ValidationError)
        else:
            assert isinstance(approve_error, ValidationError)
            # Leave no open draft behind for the next try.
            services.version_submit(version=draft, by=marketing_manager, change_note="again")
            services.version_approve(version=draft, by=marketing_manager, side="marketing")
            services.version_approve(version=draft, by=sales_manager, side="sales")
            assert _assert_consistent(draft)
    numbers = list(
        agreement.versions.filter(status="published")
        .order_by("number")
        .values_list("number", flat=True)
    )
    assert numbers == list(range(1, TRIES + 2)), "numbers are consecutive and never reused"


def test_approve_racing_resubmit_never_unpublishes(published, marketing_manager, sales_manager):
    agreement = published.agreement
    for attempt in range(TRIES):
        draft = _marketing_approved_amendment(agreement, marketing_manager, f"try {attempt}")

        def reopen_and_resubmit(draft=draft):
            services.version_reopen(version=draft, by=marketing_manager)
            services.version_submit(version=draft, by=marketing_manager, change_note="resubmit")

        _race(
            lambda draft=draft: services.version_approve(
                version=draft, by=sales_manager, side="sales"
            ),
            reopen_and_resubmit,
        )
        if not _assert_consistent(draft):
            # Resubmitted: marketing's approval was withdrawn; sales' may have landed after.
            assert draft.status == m.AgreementVersion.Status.SUBMITTED
            assert draft.marketing_approved_at is None
            services.version_approve(version=draft, by=marketing_manager, side="marketing")
            if draft.sales_approved_at is None:
                services.version_approve(version=draft, by=sales_manager, side="sales")
            assert _assert_consistent(draft)
