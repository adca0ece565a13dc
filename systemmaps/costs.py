"""What manual work costs: the annual workflow cost of a step, and money display.

Annual cost = hours per run × runs per month × hourly cost × 12 (DESIGN). Plain
Python on Decimals so it is tested without a database.
"""

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_symbol
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import get_language

CENT = Decimal("0.01")
MINUTES_PER_HOUR = Decimal(60)
MONTHS = Decimal(12)
# Digits to compute with: the products of the largest figures the step columns
# hold need 29, more than Decimal's default 28.
PRECISION = 60

# Currencies without minor units in everyday prices.
NO_CENTS = {"JPY", "KRW", "HUF"}


def hourly_cost(
    step_cost: Decimal | None, owner_rate: Decimal | None
) -> Decimal | None:
    """What an hour of a step costs: the step's own hourly cost when it has one,
    else its owner's hourly rate."""
    return step_cost if step_cost is not None else owner_rate


def annual_cost(
    *,
    minutes_per_run: Decimal | None,
    runs_per_month: Decimal | None,
    hourly_cost: Decimal | None,
) -> Decimal | None:
    """The yearly cost of a step, or None when any figure is missing.

    Zero is a figure (an automated step takes 0 minutes): it gives 0, not None.
    """
    if minutes_per_run is None or runs_per_month is None or hourly_cost is None:
        return None
    # Multiply first and divide once: × 12 ÷ 60 is ÷ 5, exact in decimal, so a
    # cost of exactly half a cent rounds up (dividing by 60 first leaves
    # 0.0649999… for 0.065).
    with localcontext(prec=PRECISION):
        cost = (
            Decimal(minutes_per_run)
            * Decimal(runs_per_month)
            * Decimal(hourly_cost)
            * MONTHS
            / MINUTES_PER_HOUR
        )
        return cost.quantize(CENT, rounding=ROUND_HALF_UP)


def annual_hours(
    *,
    minutes_per_run: Decimal | None,
    runs_per_month: Decimal | None,
    exact: bool = False,
) -> Decimal | None:
    """Hours a year (minutes per run × runs per month × 12 ÷ 60), to a tenth;
    with `exact`, unrounded."""
    if minutes_per_run is None or runs_per_month is None:
        return None
    with localcontext(prec=PRECISION):
        hours = (
            Decimal(minutes_per_run) * Decimal(runs_per_month) * MONTHS
        ) / MINUTES_PER_HOUR
        if exact:
            return hours
        return hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def currency_places(currency: str) -> int:
    """The decimals an amount of `currency` is written with: none for the
    currencies without minor units in use (NO_CENTS), else two."""
    return 0 if currency in NO_CENTS else 2


@cache
def money_pattern(language: str, currency: str) -> tuple[str, str, str, str]:
    """What goes before and after an amount of `currency` in `language`:
    (prefix, suffix, negative prefix, negative suffix), from CLDR's currency
    pattern (Babel), computed once per (language, currency) so a page of
    thousands of amounts formats them with string operations.

    `€1,650` (en), `1 650 €` (fr), `1 650,50 zł` (pl), `₩1,650` (ko). The
    symbol is the language's when it is a sign (€, $, ₩) or a word (zł, PLN);
    a sign decorated with letters (CA$, $US) is written as the code."""
    try:
        locale = Locale.parse((language or "en").replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    symbol = get_currency_symbol(currency, locale)
    letters = sum(char.isalpha() for char in symbol)
    if 0 < letters < len(symbol):
        symbol = currency
    pattern = locale.currency_formats["standard"]
    parts = []
    for text, before in (
        (pattern.prefix[0], True),
        (pattern.suffix[0], False),
        (pattern.prefix[1], True),
        (pattern.suffix[1], False),
    ):
        # CLDR's currency spacing: a symbol ending (or starting) in a letter is
        # kept off the digits by a no-break space: `PLN 1,650.50`.
        if "¤" in text:
            next_to_digits = symbol[-1] if before else symbol[0]
            spaced = text.endswith("¤") if before else text.startswith("¤")
            if next_to_digits.isalpha() and spaced:
                # ... and the minus stays with the digits: `CHF -1,234.50`.
                if before and text.startswith("-"):
                    text = text[1:] + "\u00a0-"
                else:
                    text = text + "\u00a0" if before else "\u00a0" + text
            text = text.replace("¤", symbol)
        parts.append(text)
    return tuple(parts)


def format_money(
    amount: Decimal | int | float | None,
    currency: str,
    *,
    grouped: Callable[[Decimal, int], str] | None = None,
    language: str | None = None,
) -> str:
    """`€1,234.50`, `CHF 1,234.50` in English, `1 234,50 €` in French: the
    currency pattern (`money_pattern`) of `language`, the active one when None;
    an em dash for None.

    `grouped(value, places)` writes the number, as `number_format(value,
    decimal_pos=places, force_grouping=True)` does (a page formatting thousands
    of numbers passes one that looks the locale up once, and the language: a
    `get_language()` costs more than the rest of an amount)."""
    if amount is None:
        return "—"
    places = currency_places(currency)
    with localcontext(prec=PRECISION):
        value = Decimal(amount).quantize(
            Decimal(1) if places == 0 else CENT, rounding=ROUND_HALF_UP
        )
    # Whole amounts read better without ".00" in totals and tables.
    if places and value == value.to_integral_value():
        places = 0
    negative = value < 0
    if negative:
        value = -value
    if grouped is None:
        text = number_format(value, decimal_pos=places, force_grouping=True)
    else:
        text = grouped(value, places)
    prefix, suffix, minus_prefix, minus_suffix = money_pattern(
        language or get_language() or settings.LANGUAGE_CODE, currency
    )
    if negative:
        return f"{minus_prefix}{text}{minus_suffix}"
    return f"{prefix}{text}{suffix}"
