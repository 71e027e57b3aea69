from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def is_future(moment) -> bool:
    """Whether a moment (a clock pause's end) is still ahead."""
    return moment is not None and moment > timezone.now()
