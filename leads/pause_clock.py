"""How a clock pause moves an SLA deadline, in business hours.

Pure standard library over agreements.business_hours: no Django, no database. The
property tests check it against that module (tests/leads/test_pauses.py).
"""

from datetime import datetime, timedelta

from agreements.business_hours import Calendar, add_business_time, business_time_between


def deadline_after_pause(
    deadline: datetime, *, start: datetime, until: datetime, calendar: Calendar
) -> datetime:
    """The deadline once the clock stands still from `start` to `until`.

    The business time the deadline had left at `start` is counted again from `until`, so the
    deadline moves by exactly the business time paused. A deadline already past at `start` is
    left alone: a pause never rescues a breach.
    """
    if deadline <= start:
        return deadline
    left = business_time_between(start, deadline, calendar)
    return add_business_time(max(until, start), left, calendar)


def paused_time(*, start: datetime, until: datetime, calendar: Calendar) -> timedelta:
    """The business time a pause from `start` to `until` takes off the clock."""
    return business_time_between(start, until, calendar)
