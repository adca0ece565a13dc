"""What manual work costs: the annual workflow cost of a step, and money display.

Annual cost = hours per run × runs per month × hourly cost × 12 (DESIGN). Plain
Python on Decimals so it is tested without a database.
"""

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.utils.formats import number_format

CENT = Decimal("0.01")
MINUTES_PER_HOUR = Decimal(60)
MONTHS = Decimal(12)
# Digits to compute with: the products of the largest figures the step columns
# hold need 29, more than Decimal's default 28.
PRECISION = 60

# Currencies written before the amount; others get their code after it.
SYMBOLS = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
}
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


def format_money(
    amount: Decimal | int | float | None,
    currency: str,
    *,
    grouped: Callable[[Decimal, int], str] | None = None,
) -> str:
    """`€1,234.50`, `CHF 1,234.50` in the active locale; an em dash for None.

    `grouped(value, places)` writes the number, as `number_format(value,
    decimal_pos=places, force_grouping=True)` does (a page formatting thousands
    of numbers passes one that looks the locale up once)."""
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
    if grouped is None:
        text = number_format(value, decimal_pos=places, force_grouping=True)
    else:
        text = grouped(value, places)
    symbol = SYMBOLS.get(currency)
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{currency}\u00a0{text}"
