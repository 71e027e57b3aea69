"""Tests for agreements.business_hours (pure; no Django or database needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agreements.business_hours import (
    MAX_IDLE_DAYS,
    Calendar,
    add_business_days,
    add_business_time,
    business_time_between,
    is_business_time,
    next_business_opening,
)

NY = ZoneInfo("America/New_York")
LISBON = ZoneInfo("Europe/Lisbon")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def utc(moment: datetime) -> datetime:
    # PEP 495: a datetime inside a DST fold never compares == across zones,
    # so instants are compared in UTC.
    return moment.astimezone(UTC)


@pytest.fixture
def office() -> Calendar:
    # 2024-07-04 (Thursday) is a holiday.
    return Calendar("America/New_York", WEEKDAYS, time(9), time(17), frozenset({date(2024, 7, 4)}))


# --- hand-computed examples -------------------------------------------------


def test_within_a_day(office: Calendar) -> None:
    assert add_business_time(ny(2024, 6, 5, 10), hours(3), office) == ny(2024, 6, 5, 13)


def test_across_a_night(office: Calendar) -> None:
    assert add_business_time(ny(2024, 6, 5, 15), hours(4), office) == ny(2024, 6, 6, 11)


def test_friday_afternoon_across_weekend(office: Calendar) -> None:
    due = add_business_time(ny(2024, 6, 7, 16), hours(4), office)
    assert due == ny(2024, 6, 10, 12)
    assert business_time_between(ny(2024, 6, 7, 16), due, office) == hours(4)


def test_across_a_holiday(office: Calendar) -> None:
    assert add_business_time(ny(2024, 7, 3, 15), hours(4), office) == ny(2024, 7, 5, 11)
    assert business_time_between(ny(2024, 7, 3, 0), ny(2024, 7, 6, 0), office) == hours(16)


def test_starting_on_saturday(office: Calendar) -> None:
    assert add_business_time(ny(2024, 6, 8, 10), hours(2), office) == ny(2024, 6, 10, 11)


def test_starting_before_opening(office: Calendar) -> None:
    assert add_business_time(ny(2024, 6, 4, 7), hours(1.5), office) == ny(2024, 6, 4, 10, 30)


def test_ending_exactly_at_close_does_not_roll_over(office: Calendar) -> None:
    assert add_business_time(ny(2024, 6, 4, 13), hours(4), office) == ny(2024, 6, 4, 17)
    assert add_business_time(ny(2024, 6, 4, 9), hours(16), office) == ny(2024, 6, 5, 17)


def test_zero_duration(office: Calendar) -> None:
    assert add_business_time(ny(2024, 6, 4, 13), timedelta(0), office) == ny(2024, 6, 4, 13)
    assert add_business_time(ny(2024, 6, 4, 17), timedelta(0), office) == ny(2024, 6, 5, 9)
    assert add_business_time(ny(2024, 6, 8, 12), timedelta(0), office) == ny(2024, 6, 10, 9)


def test_is_business_time_and_next_opening(office: Calendar) -> None:
    assert is_business_time(ny(2024, 6, 4, 9), office)
    assert not is_business_time(ny(2024, 6, 4, 17), office)
    assert not is_business_time(ny(2024, 7, 4, 12), office)
    assert next_business_opening(ny(2024, 6, 4, 12), office) == ny(2024, 6, 4, 12)
    assert next_business_opening(ny(2024, 6, 7, 18), office) == ny(2024, 6, 10, 9)


def test_regular_hours_across_ny_spring_forward_weekend(office: Calendar) -> None:
    due = add_business_time(ny(2024, 3, 8, 16), hours(4), office)
    assert due == ny(2024, 3, 11, 12)
    assert due.utcoffset() == hours(-4)


def test_ny_spring_forward_day_is_shorter() -> None:
    night = Calendar("America/New_York", EVERY_DAY, time(1), time(5))
    assert business_time_between(ny(2024, 3, 10), ny(2024, 3, 11), night) == hours(3)
    assert add_business_time(ny(2024, 3, 10, 1), hours(3), night) == ny(2024, 3, 10, 5)
    assert add_business_time(ny(2024, 3, 10, 1), hours(4), night) == ny(2024, 3, 11, 2)


def test_ny_fall_back_day_is_longer() -> None:
    night = Calendar("America/New_York", EVERY_DAY, time(1), time(5))
    assert business_time_between(ny(2024, 11, 3), ny(2024, 11, 4), night) == hours(5)
    due = add_business_time(ny(2024, 11, 3), hours(5), night)
    assert utc(due) == datetime(2024, 11, 3, 10, tzinfo=UTC)  # 05:00 EST
    # 01:30 happens twice; the first pass is EDT.
    first_pass = add_business_time(ny(2024, 11, 3), hours(0.5), night)
    assert utc(first_pass) == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)


def test_lisbon_spring_forward_and_fall_back() -> None:
    night = Calendar("Europe/Lisbon", EVERY_DAY, time(0, 30), time(3))
    spring = datetime(2024, 3, 31, tzinfo=LISBON)  # 01:00 WET -> 02:00 WEST
    assert business_time_between(spring, utc(spring) + hours(23), night) == hours(1.5)
    assert add_business_time(spring, hours(1.5), night) == datetime(2024, 3, 31, 3, tzinfo=LISBON)
    autumn = datetime(2024, 10, 27, tzinfo=LISBON)  # 02:00 WEST -> 01:00 WET
    assert business_time_between(autumn, utc(autumn) + hours(25), night) == hours(3.5)
    assert utc(add_business_time(autumn, hours(3.5), night)) == datetime(
        2024, 10, 27, 3, tzinfo=UTC
    )


def test_lisbon_office_hours_across_dst_weekend() -> None:
    office = Calendar("Europe/Lisbon", WEEKDAYS, time(9), time(18))
    friday = datetime(2024, 10, 25, 16, tzinfo=LISBON)
    due = add_business_time(friday, hours(4), office)
    assert due == datetime(2024, 10, 28, 11, tzinfo=LISBON)
    assert utc(due) - utc(friday) == hours(68)  # the weekend gained an hour


def test_day_start_in_gap_moves_forward() -> None:
    cal = Calendar("America/New_York", EVERY_DAY, time(2, 30), time(6))
    opening = next_business_opening(ny(2024, 3, 10), cal)
    assert utc(opening) == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert business_time_between(ny(2024, 3, 10), ny(2024, 3, 11), cal) == hours(2.5)


def test_day_start_in_fold_takes_first_occurrence() -> None:
    cal = Calendar("America/New_York", EVERY_DAY, time(1, 30), time(6))
    opening = next_business_opening(ny(2024, 11, 3), cal)
    assert utc(opening) == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert business_time_between(ny(2024, 11, 3), ny(2024, 11, 4), cal) == hours(5.5)


def test_span_inside_gap_moves_forward() -> None:
    cal = Calendar("America/New_York", EVERY_DAY, time(2, 15), time(2, 45))
    assert business_time_between(ny(2024, 3, 10), ny(2024, 3, 11), cal) == hours(0.5)
    assert next_business_opening(ny(2024, 3, 10), cal) == ny(2024, 3, 10, 3, 15)


def test_span_collapsed_by_gap_has_no_business_hours() -> None:
    cal = Calendar("America/New_York", EVERY_DAY, time(2, 30), time(3))
    assert business_time_between(ny(2024, 3, 10), ny(2024, 3, 11), cal) == timedelta(0)
    assert next_business_opening(ny(2024, 3, 10), cal) == ny(2024, 3, 11, 2, 30)
    assert add_business_time(ny(2024, 3, 9, 2, 45), hours(0.5), cal) == ny(2024, 3, 11, 2, 45)


def test_calendar_zone_differs_from_start_zone() -> None:
    cal = Calendar("America/Sao_Paulo", WEEKDAYS, time(9), time(18))
    start = datetime(2024, 6, 7, 19, tzinfo=UTC)  # Friday 16:00 in Sao Paulo
    due = add_business_time(start, hours(4), cal)
    assert due == datetime(2024, 6, 10, 11, tzinfo=SAO_PAULO)
    assert utc(due) == datetime(2024, 6, 10, 14, tzinfo=UTC)
    assert due.tzinfo == SAO_PAULO


def test_long_duration_is_fast_and_exact(office: Calendar) -> None:
    cal = Calendar("America/New_York", WEEKDAYS, time(9), time(17))
    # 2024-01-01 is a Monday; 520 weeks of 40 hours later is a Friday close.
    due = add_business_time(ny(2024, 1, 1, 9), hours(40 * 520), cal)
    assert due == ny(2033, 12, 16, 17)


def test_add_business_days(office: Calendar) -> None:
    assert add_business_days(ny(2024, 6, 7, 10), 1, office) == ny(2024, 6, 10, 10)
    assert add_business_days(ny(2024, 7, 3, 10), 1, office) == ny(2024, 7, 5, 10)
    assert add_business_days(ny(2024, 6, 8, 20), 1, office) == ny(2024, 6, 10, 20)
    assert add_business_days(ny(2024, 6, 8, 20), 0, office) == ny(2024, 6, 8, 20)
    assert add_business_days(ny(2024, 6, 3, 10), 10, office) == ny(2024, 6, 17, 10)
    # Same wall time across DST, so 71 real hours rather than 72.
    monday = add_business_days(ny(2024, 3, 8, 10), 1, office)
    assert monday == ny(2024, 3, 11, 10)
    assert utc(monday) - utc(ny(2024, 3, 8, 10)) == hours(71)
    # A wall time that does not exist on the target day moves forward.
    nights = Calendar("America/New_York", EVERY_DAY, time(9), time(17))
    assert add_business_days(ny(2024, 3, 9, 2, 30), 1, nights) == ny(2024, 3, 10, 3, 30)


def test_add_business_days_in_calendar_zone() -> None:
    cal = Calendar("America/Sao_Paulo", WEEKDAYS, time(9), time(18))
    start = datetime(2024, 6, 8, 1, tzinfo=UTC)  # still Friday 22:00 in Sao Paulo
    assert add_business_days(start, 1, cal) == datetime(2024, 6, 10, 22, tzinfo=SAO_PAULO)


# --- validation -------------------------------------------------------------


def test_naive_datetimes_raise(office: Calendar) -> None:
    naive = datetime(2024, 6, 4, 10)
    with pytest.raises(ValueError):
        add_business_time(naive, hours(1), office)
    with pytest.raises(ValueError):
        business_time_between(naive, ny(2024, 6, 5), office)
    with pytest.raises(ValueError):
        business_time_between(ny(2024, 6, 3), naive, office)
    with pytest.raises(ValueError):
        is_business_time(naive, office)
    with pytest.raises(ValueError):
        next_business_opening(naive, office)
    with pytest.raises(ValueError):
        add_business_days(naive, 1, office)


def test_negative_amounts_raise(office: Calendar) -> None:
    with pytest.raises(ValueError):
        add_business_time(ny(2024, 6, 4, 10), timedelta(seconds=-1), office)
    with pytest.raises(ValueError):
        add_business_days(ny(2024, 6, 4, 10), -1, office)


def test_end_before_start_is_zero(office: Calendar) -> None:
    assert business_time_between(ny(2024, 6, 5), ny(2024, 6, 4), office) == timedelta(0)


def test_empty_working_days() -> None:
    cal = Calendar("UTC", frozenset(), time(9), time(17))
    start = datetime(2024, 6, 4, 10, tzinfo=UTC)
    with pytest.raises(ValueError):
        add_business_time(start, hours(1), cal)
    with pytest.raises(ValueError):
        next_business_opening(start, cal)
    with pytest.raises(ValueError):
        add_business_days(start, 1, cal)
    assert not is_business_time(start, cal)
    assert business_time_between(start, start + hours(100), cal) == timedelta(0)


def test_search_is_capped_when_every_working_day_is_a_holiday() -> None:
    first = date(2024, 6, 5)  # a Wednesday
    wednesdays = frozenset(first + timedelta(weeks=n) for n in range(MAX_IDLE_DAYS // 7 + 2))
    cal = Calendar("UTC", frozenset({2}), time(9), time(17), wednesdays)
    start = datetime(2024, 6, 3, tzinfo=UTC)
    with pytest.raises(ValueError):
        add_business_time(start, hours(1), cal)
    with pytest.raises(ValueError):
        add_business_days(start, 1, cal)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time_zone": "Mars/Olympus_Mons"},
        {"time_zone": ""},
        {"day_start": time(18), "day_end": time(9)},
        {"day_start": time(9), "day_end": time(9)},
        {"working_days": frozenset({7})},
        {"working_days": frozenset({-1})},
        {"day_start": time(9, tzinfo=UTC)},
        {"holidays": frozenset({datetime(2024, 1, 1)})},
    ],
)
def test_invalid_calendars_raise(kwargs: dict) -> None:
    base = {
        "time_zone": "UTC",
        "working_days": WEEKDAYS,
        "day_start": time(9),
        "day_end": time(17),
    }
    with pytest.raises(ValueError):
        Calendar(**(base | kwargs))


def test_calendar_accepts_plain_sets_and_stays_hashable() -> None:
    cal = Calendar("UTC", {0, 1}, time(9), time(17), {date(2024, 1, 1)})  # type: ignore[arg-type]
    assert cal.working_days == frozenset({0, 1})
    assert hash(cal) == hash(
        Calendar("UTC", frozenset({0, 1}), time(9), time(17), frozenset({date(2024, 1, 1)}))
    )


# --- properties -------------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Lisbon",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # DST changes at local midnight
    "Pacific/Apia",  # skipped 2011-12-30 entirely
]
# Instants close to DST changes are where the interesting bugs live.
ANCHORS = [
    datetime(2024, 3, 10, 7, tzinfo=UTC),
    datetime(2024, 11, 3, 6, tzinfo=UTC),
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 4, 6, 15, tzinfo=UTC),
    datetime(2024, 9, 8, 4, tzinfo=UTC),
    datetime(2011, 12, 30, 10, tzinfo=UTC),
    datetime(2018, 11, 4, 3, tzinfo=UTC),
]

minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """An aware instant, expressed in a random zone."""
    if draw(st.booleans()):
        anchor = draw(st.sampled_from(ANCHORS))
        moment = anchor + timedelta(minutes=draw(st.integers(-14 * 24 * 60, 14 * 24 * 60)))
    else:
        naive = draw(st.datetimes(datetime(2010, 1, 1), datetime(2035, 1, 1)))
        moment = naive.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))


@st.composite
def calendars(draw: st.DrawFn, around: datetime) -> Calendar:
    start_min, end_min = sorted(draw(st.lists(minutes, min_size=2, max_size=2, unique=True)))
    base = around.astimezone(UTC).date()
    holidays = draw(st.frozensets(st.integers(-3, 40), max_size=10))
    return Calendar(
        time_zone=draw(st.sampled_from(ZONES)),
        working_days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        day_start=time(start_min // 60, start_min % 60),
        day_end=time(end_min // 60, end_min % 60),
        holidays=frozenset(base + timedelta(days=n) for n in holidays),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[datetime, Calendar]:
    start = draw(instants())
    return start, draw(calendars(start))


durations = st.integers(0, 200 * 60).map(lambda m: timedelta(minutes=m))
offsets = st.integers(0, 60 * 24 * 60).map(lambda m: timedelta(minutes=m, seconds=m % 7))
fast = settings(max_examples=200, deadline=None)


@fast
@given(scenarios(), durations)
def test_between_inverts_add(scenario: tuple[datetime, Calendar], duration: timedelta) -> None:
    start, cal = scenario
    due = add_business_time(start, duration, cal)
    assert due >= start
    assert business_time_between(start, due, cal) == duration
    assert add_business_time(start, business_time_between(start, due, cal), cal) == due


@fast
@given(scenarios(), durations, durations)
def test_add_is_monotonic(
    scenario: tuple[datetime, Calendar], d1: timedelta, d2: timedelta
) -> None:
    start, cal = scenario
    lo, hi = sorted((d1, d2))
    assert add_business_time(start, lo, cal) <= add_business_time(start, hi, cal)


@fast
@given(scenarios(), durations)
def test_result_is_business_time_or_a_close(
    scenario: tuple[datetime, Calendar], duration: timedelta
) -> None:
    start, cal = scenario
    due = add_business_time(start, duration, cal)
    assert due.tzinfo == ZoneInfo(cal.time_zone)
    if duration > timedelta(0):
        at_close = not is_business_time(due, cal) and is_business_time(
            due - timedelta(microseconds=1), cal
        )
        assert is_business_time(due, cal) or at_close
    else:
        assert is_business_time(due, cal)
        assert utc(due) == utc(next_business_opening(start, cal))


@fast
@given(scenarios(), offsets, offsets)
def test_between_is_additive(
    scenario: tuple[datetime, Calendar], ab: timedelta, bc: timedelta
) -> None:
    a, cal = scenario
    # Real-time offsets (via UTC); same-zone datetime arithmetic is wall-clock.
    b = (utc(a) + ab).astimezone(a.tzinfo)
    c = (utc(b) + bc).astimezone(ZoneInfo("UTC"))
    total = business_time_between(a, c, cal)
    assert business_time_between(a, b, cal) + business_time_between(b, c, cal) == total
    assert timedelta(0) <= total <= utc(c) - utc(a)


@fast
@given(scenarios(), st.integers(0, 30), minutes, minutes)
def test_nothing_accrues_on_a_closed_day(
    scenario: tuple[datetime, Calendar], day_offset: int, m1: int, m2: int
) -> None:
    start, cal = scenario
    day = start.astimezone(UTC).date() + timedelta(days=day_offset)
    zone = ZoneInfo(cal.time_zone)
    lo, hi = sorted((m1, m2))
    a = utc(datetime.combine(day, time(lo // 60, lo % 60), tzinfo=zone))
    b = utc(datetime.combine(day, time(hi // 60, hi % 60), tzinfo=zone))
    # Normalising can move a wall time to another date (Apia skipped 2011-12-30).
    days = {a.astimezone(zone).date(), b.astimezone(zone).date()}
    closed = Calendar(
        cal.time_zone, cal.working_days, cal.day_start, cal.day_end, cal.holidays | days
    )
    assert business_time_between(a, b, closed) == timedelta(0)
    weekend = Calendar(
        cal.time_zone, frozenset(range(7)) - {d.weekday() for d in days}, cal.day_start, cal.day_end
    )
    assert business_time_between(a, b, weekend) == timedelta(0)


@fast
@given(scenarios(), durations, st.sampled_from(ZONES))
def test_result_ignores_start_zone(
    scenario: tuple[datetime, Calendar], duration: timedelta, other_zone: str
) -> None:
    start, cal = scenario
    moved = start.astimezone(ZoneInfo(other_zone))
    due = add_business_time(start, duration, cal)
    due_moved = add_business_time(moved, duration, cal)
    assert utc(due) == utc(due_moved)
    assert due.utcoffset() == due_moved.utcoffset()  # same zone, same fold
    assert is_business_time(start, cal) == is_business_time(moved, cal)


@fast
@given(scenarios(), st.integers(0, 30))
def test_add_business_days_lands_on_business_day(
    scenario: tuple[datetime, Calendar], days: int
) -> None:
    start, cal = scenario
    result = add_business_days(start, days, cal)
    local_start = start.astimezone(ZoneInfo(cal.time_zone))
    if days:
        assert cal.is_business_day(result.date())
        assert result.date() > local_start.date()
    else:
        assert utc(result) == utc(start)
