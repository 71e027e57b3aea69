"""Business-hours arithmetic for SLA timers.

Pure standard library: no Django, no database, no settings.

Business hours are local wall-clock intervals ``[day_start, day_end)`` in
``Calendar.time_zone`` on working days that are not holidays. Each day's span is
converted to real instants, and elapsed business time is real (UTC) time, so a
DST change inside the span makes that day shorter or longer in practice.

DST decisions (all wall times are resolved with ``fold=0`` and normalised
through UTC):

* a wall time inside a spring-forward gap moves forward by the gap length
  (New York 02:30 on a spring-forward day opens at 03:30 EDT);
* so a span wholly inside the gap moves forward too (02:15-02:45 becomes
  03:15-03:45 EDT), while one whose shifted start passes its end
  (02:30-03:00) is empty: that day has no business hours;
* an ambiguous wall time in a fall-back fold resolves to its first occurrence;
* each span is clipped to the instants whose local date is that day, so spans
  never overlap, even in zones that skip or repeat a whole date.

Results are returned in the calendar's zone. PEP 495 makes a datetime inside a
DST fold compare unequal (``==``) to any datetime in another zone, so compare
results with values from other zones only after converting both to UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_IDLE_DAYS",
    "Calendar",
    "add_business_days",
    "add_business_time",
    "business_time_between",
    "is_business_time",
    "next_business_opening",
]

# Longest run of days without business hours we tolerate before concluding the
# calendar can never satisfy the request (e.g. every working day is a holiday).
MAX_IDLE_DAYS = 3660

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)

_Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Calendar:
    """Working week, opening hours and holidays, in one IANA time zone."""

    time_zone: str
    working_days: frozenset[int]  # 0=Monday .. 6=Sunday
    day_start: time
    day_end: time
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # Accept any iterable from callers but keep the instance hashable.
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as exc:
            raise ValueError(f"unknown time zone: {self.time_zone!r}") from exc
        for name in ("day_start", "day_end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive datetime.time")
        if self.day_end <= self.day_start:
            raise ValueError("day_end must be later than day_start")
        if any(not isinstance(d, int) or not 0 <= d <= 6 for d in self.working_days):
            raise ValueError("working_days must be integers in 0..6 (0=Monday)")
        if any(not isinstance(d, date) or isinstance(d, datetime) for d in self.holidays):
            raise ValueError("holidays must be datetime.date values")

    @property
    def zone(self) -> ZoneInfo:
        # ZoneInfo caches instances per key, so this is cheap.
        return ZoneInfo(self.time_zone)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays


def _require_aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    # fold=0 + UTC round trip: gap times move forward, fold times take the first pass.
    return datetime.combine(day, wall.replace(fold=0), tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=16384)
def _span(day: date, calendar: Calendar, zone: ZoneInfo) -> _Span | None:
    """Real-time business span of a local date, or None if it has none.

    Memoised: a date's span under a calendar never changes, and a queue page asks for the
    same few weeks of days for every row (each span is four zone conversions)."""
    if not calendar.is_business_day(day):
        return None
    opens = max(_instant(day, calendar.day_start, zone), _instant(day, time(0), zone))
    closes = min(_instant(day, calendar.day_end, zone), _instant(day + _ONE_DAY, time(0), zone))
    return (opens, closes) if opens < closes else None


def _spans_from(moment_utc: datetime, calendar: Calendar) -> Iterator[_Span]:
    """Business spans in order, from the first one that could still contain moment."""
    if not calendar.working_days:
        raise ValueError("calendar has no working days")
    zone = calendar.zone
    # One day back: in zones that repeat local dates, yesterday's span may still be open.
    day = moment_utc.astimezone(zone).date() - _ONE_DAY
    idle = 0
    while True:
        span = _span(day, calendar, zone)
        if span is None:
            idle += 1
            if idle > MAX_IDLE_DAYS:
                raise ValueError(f"no business hours within {MAX_IDLE_DAYS} days of {day}")
        else:
            idle = 0
            yield span
        day += _ONE_DAY


def is_business_time(moment: datetime, calendar: Calendar) -> bool:
    """True if ``moment`` lies inside a business span (closing instant excluded)."""
    instant = _require_aware(moment, "moment")
    zone = calendar.zone
    local_day = instant.astimezone(zone).date()
    # Spans are clipped to their local date, so neighbouring dates cover odd zones.
    for offset in (-1, 0, 1):
        span = _span(local_day + offset * _ONE_DAY, calendar, zone)
        if span is not None and span[0] <= instant < span[1]:
            return True
    return False


def next_business_opening(moment: datetime, calendar: Calendar) -> datetime:
    """First business instant >= ``moment``, in the calendar's zone."""
    instant = _require_aware(moment, "moment")
    for opens, closes in _spans_from(instant, calendar):
        if instant < closes:
            return max(opens, instant).astimezone(calendar.zone)
    raise AssertionError("unreachable")  # _spans_from is infinite or raises


def add_business_time(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    """Instant at which ``duration`` of business time has elapsed after ``start``.

    Counting begins at the next opening if ``start`` is outside business hours;
    a zero duration therefore returns the first business instant >= ``start``.
    A result that lands exactly on a closing time stays there rather than
    rolling to the next opening. The result is in the calendar's zone.
    """
    instant = _require_aware(start, "start")
    if duration < _ZERO:
        raise ValueError("duration must not be negative")
    remaining = duration
    # Whole-day jumps: cost is linear in calendar days, independent of resolution.
    for opens, closes in _spans_from(instant, calendar):
        if closes <= instant:
            continue
        begin = max(opens, instant)
        available = closes - begin
        if remaining <= available:
            return (begin + remaining).astimezone(calendar.zone)
        remaining -= available
    raise AssertionError("unreachable")


def business_time_between(start: datetime, end: datetime, calendar: Calendar) -> timedelta:
    """Real business time elapsed in ``[start, end)``; zero if ``end <= start``."""
    lo = _require_aware(start, "start")
    hi = _require_aware(end, "end")
    if hi <= lo:
        return _ZERO
    zone = calendar.zone
    day = lo.astimezone(zone).date() - _ONE_DAY
    last = hi.astimezone(zone).date() + _ONE_DAY
    total = _ZERO
    while day <= last:
        span = _span(day, calendar, zone)
        if span is not None:
            overlap = min(span[1], hi) - max(span[0], lo)
            if overlap > _ZERO:
                total += overlap
        day += _ONE_DAY
    return total


def add_business_days(start: datetime, days: int, calendar: Calendar) -> datetime:
    """Same local time of day, ``days`` business days after ``start``'s local date.

    Business days are working days that are not holidays; opening hours play no
    part. ``days == 0`` returns ``start`` (in the calendar's zone) even on a
    non-business day. A time of day that does not exist on the target date is
    resolved like any wall time here (fold=0, gap times move forward).
    """
    instant = _require_aware(start, "start")
    if days < 0:
        raise ValueError("days must not be negative")
    zone = calendar.zone
    local = instant.astimezone(zone)
    if days == 0:
        return local
    if not calendar.working_days:
        raise ValueError("calendar has no working days")
    day, counted, idle = local.date(), 0, 0
    while counted < days:
        day += _ONE_DAY
        if calendar.is_business_day(day):
            counted, idle = counted + 1, 0
        else:
            idle += 1
            if idle > MAX_IDLE_DAYS:
                raise ValueError(f"no business day within {MAX_IDLE_DAYS} days of {day}")
    return _instant(day, local.time(), zone).astimezone(zone)
