"""Numbers, percentages and money in the active language's format (Babel's CLDR data).

Never format a number a person reads with f"{x:,}": in Portuguese 1,234.5 is "1.234,5".
The money is the workspace's currency (slaportal.workspace), so a Brazilian team's goals read
"R$ 1.234,56" in Portuguese and "R$ 1,234.56" in English.
"""

from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent
from django.utils import translation


def babel_locale(language: str | None = None) -> Locale:
    """The Babel locale of a Django language code ("pt-br" -> pt_BR); English when unknown."""
    code = translation.to_locale(language or translation.get_language() or "en")
    try:
        return Locale.parse(code)
    except (ValueError, TypeError):
        return Locale.parse("en")


def number(value, decimals: int | None = None) -> str:
    """1234.5 -> "1,234.5" / "1.234,5"; `decimals` fixes the digits after the point."""
    if value is None or value == "":
        return ""
    if decimals is None:
        return format_decimal(value, locale=babel_locale())
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def percent(value, decimals: int = 0, *, fraction: bool = False) -> str:
    """A percentage: 42.5 -> "42.5%" / "42,5%" (pass fraction=True for 0.425)."""
    if value is None or value == "":
        return ""
    share = Decimal(str(value)) if fraction else Decimal(str(value)) / 100
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    return format_percent(share, format=pattern, locale=babel_locale())


def money(value, currency: str | None = None, decimals: int | None = None) -> str:
    """An amount in the workspace currency: "R$ 1.234,56" in Portuguese, "US$ 1,234.56" in
    English. A bare "$" is ambiguous to a team that sees R$ and US$ side by side, so dollars
    always carry their country."""
    if value is None or value == "":
        return ""
    if currency is None:
        from .workspace import workspace_currency

        currency = workspace_currency()
    locale = babel_locale()
    digits = 2 if decimals is None else decimals
    pattern = "¤\u00a0#,##0" + ("." + "0" * digits if digits > 0 else "")
    text = format_currency(value, currency, format=pattern, locale=locale, currency_digits=False)
    if text.startswith("$\u00a0"):
        text = "US" + text
    return text
