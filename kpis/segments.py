"""Segments of the review: company size bands, as SQL and as plain Python."""

from django.db.models import Case, CharField, Q, Value, When
from django.utils.translation import gettext_lazy as _

# (slug, label, smallest company size in the band)
BANDS = (
    ("smb", _("Small (under 50)"), 0),
    ("mid", _("Mid-market (50–999)"), 50),
    ("enterprise", _("Enterprise (1,000+)"), 1000),
)
UNKNOWN = ("unknown", _("Size unknown"))
LABELS = dict([*((slug, label) for slug, label, _ in BANDS), UNKNOWN])


def segment_of(company_size: int | None) -> str:
    if company_size is None:
        return UNKNOWN[0]
    return next(slug for slug, _, low in reversed(BANDS) if company_size >= low)


def segment_case(field: str) -> Case:
    """segment_of() as an SQL expression over a company-size column."""
    whens = [
        When(Q(**{f"{field}__gte": low}), then=Value(slug)) for slug, _, low in reversed(BANDS)
    ]
    return Case(*whens, default=Value(UNKNOWN[0]), output_field=CharField())


def segment_filter(field: str, slug: str) -> Q:
    if slug == UNKNOWN[0]:
        return Q(**{f"{field}__isnull": True})
    lows = [low for s, _, low in BANDS]
    index = [s for s, _, _ in BANDS].index(slug)
    condition = Q(**{f"{field}__gte": lows[index]})
    if index + 1 < len(lows):
        condition &= Q(**{f"{field}__lt": lows[index + 1]})
    return condition
