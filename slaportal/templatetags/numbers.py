"""Locale-aware numbers in templates: {% load numbers %} then
{{ count|number }}, {{ rate|number:1 }}, {{ share|percent }} or {{ share|percent:1 }}
(42.5 -> "42.5%"),
{{ amount|money }} (the workspace currency) or {{ amount|money:"BRL" }}."""

from django import template

from slaportal import numbers

register = template.Library()


@register.filter(name="number")
def number(value, decimals=None):
    try:
        return numbers.number(value, None if decimals in (None, "") else int(decimals))
    except (TypeError, ValueError, ArithmeticError):
        return value


@register.filter(name="percent")
def percent(value, decimals=0):
    try:
        return numbers.percent(value, int(decimals or 0))
    except (TypeError, ValueError, ArithmeticError):
        return value


@register.filter(name="money")
def money(value, currency=None):
    try:
        return numbers.money(value, currency or None)
    except (TypeError, ValueError, ArithmeticError):
        return value
