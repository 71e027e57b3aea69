"""`{% load lead_links %}`: `{% if lead|openable_by:user %}` links a lead only for a reader who
may open its page (see leads.access)."""

from django import template

from leads.access import lead_openable_by

register = template.Library()


@register.filter
def openable_by(lead, user) -> bool:
    return lead_openable_by(lead, user)
