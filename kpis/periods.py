"""Months of the review, bounded in the SLA's own time zone."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """'2026-11' → Month; a malformed or impossible month raises ValueError with a message."""
        match = MONTH_PATTERN.match(text or "")
        if not match:
            raise ValueError(
                _("'%(text)s' is not a month: use YYYY-MM, e.g. 2026-11.") % {"text": text}
            )
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(
                _("'%(text)s' is not a month: the month must be 01 to 12.") % {"text": text}
            )
        if not 2000 <= year <= 2100:
            raise ValueError(
                _("'%(text)s' is out of range: choose a year from 2000 to 2100.") % {"text": text}
            )
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> "Month":
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """ "November 2026" / "novembro de 2026": the active language's month and year."""
        return _month_case(date_format(self.first_day, "YEAR_MONTH_FORMAT"))

    @property
    def short_label(self) -> str:
        """ "Nov 2026" / "nov 2026", for a chart's axis."""
        return _month_case(date_format(self.first_day, "M Y"))

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next(self) -> "Month":
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)

    @property
    def last_day(self) -> date:
        return self.next.first_day - timedelta(days=1)

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.last_day.day)]

    def bounds(self, time_zone: str) -> tuple[datetime, datetime]:
        """[start, end) as aware instants: midnight to midnight in the SLA's time zone."""
        return day_start(self.first_day, time_zone), day_start(self.next.first_day, time_zone)

    def trailing(self, count: int) -> list["Month"]:
        """This month and the count - 1 before it, oldest first."""
        months = [self]
        while len(months) < count:
            months.insert(0, months[0].previous)
        return months


def _month_case(text: str) -> str:
    """Portuguese writes month names in lower case; Django's catalog capitalises them."""
    language = translation.get_language() or ""
    return text.lower() if language.startswith("pt") else text


def day_start(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone))
