"""Demo website traffic: the top of the funnel that leads never see."""

import random
from datetime import timedelta

from django.utils import timezone

from leads.demo import LEAD_CONTENT

from .visitors import VisitorRow, visitor_counts_upsert

# Daily visitors per source on a weekday (about 4,000 a month, so about 3 % become leads, as
# the demo SLA's KPI expects); weekends see about a third.
WEEKDAY_VISITORS = {
    "website": 95,
    "paid search": 45,
    "webinar": 15,
    "referral": 10,
    "event": 5,
}


def demo_visitors_load(days: int = 120, language: str = "en") -> int:
    """Upsert daily counts for the last `days` days; the same figures on every run.

    The sources carry the names the demo leads of that language carry, so the review can
    set visitors against leads source by source.
    """
    names = LEAD_CONTENT[language].sources
    rng = random.Random(2026)
    today = timezone.localdate()
    rows = []
    for offset in range(days, -1, -1):
        day = today - timedelta(days=offset)
        weekend = day.weekday() >= 5
        for source, base in WEEKDAY_VISITORS.items():
            mean = base / 3 if weekend else base
            visitors = max(0, int(rng.gauss(mean, mean * 0.15)))
            rows.append(VisitorRow(day, names[source][0], visitors))
    return visitor_counts_upsert(rows=rows)
