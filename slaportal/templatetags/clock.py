"""`{% load clock %}`: `{{ moment|local_time }}` prints a time in the SLA's zone, labelled;
`{{ moment|local_time:"time" }}` only the hour. See slaportal.clock."""

from django import template

from slaportal import clock

register = template.Library()


@register.filter
def local_time(value, style: str = ""):
    return clock.local_time(value, time_only=style == "time")


@register.simple_tag
def sla_zone():
    """The active zone's name, for headings such as "times in America/Sao_Paulo"."""
    return clock.zone_label(clock.zone_of(None))
