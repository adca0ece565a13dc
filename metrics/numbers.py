"""A week's number as a person types it: the one rule of what an entry can
hold, read by the This week form, a metric's backfill, the CSV import and a
metric's goal. A number is entered with the precision it is shown with
(`places`): a count whole, money in the currency's minor units (none for JPY,
KRW, HUF), a percent or a duration to a tenth; more is refused, never rounded
away."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hourglass.numbers import read_as, read_number
from systemmaps.costs import currency_places

from .models import VALUE_DIGITS, VALUE_PLACES, Unit

# The largest number an entry or a goal can hold (14 digits, 2 after the point).
MAX_VALUE = Decimal(10) ** (VALUE_DIGITS - VALUE_PLACES) - Decimal("0.01")
PLACES = Decimal(1).scaleb(-VALUE_PLACES)


# Percent and duration are shown to a tenth (12.5 %, 3.5 h).
TENTHS = 1


def places(unit: str, currency: str) -> int:
    """How many decimals a number of `unit` is shown, and so entered, with."""
    if unit == Unit.COUNT:
        return 0
    if unit == Unit.MONEY:
        return currency_places(currency)
    return TENTHS


def check_places(number: Decimal, *, unit: str, currency: str) -> None:
    """ValidationError when `number` has more decimals than its unit shows."""
    allowed = places(unit, currency)
    if number == number.quantize(Decimal(1).scaleb(-allowed)):
        return
    if unit == Unit.COUNT:
        message = _("A count must be a whole number, like 12.")
    elif unit == Unit.MONEY and allowed == 0:
        message = _("Amounts in %(currency)s have no decimals, like 5000.") % {
            "currency": currency
        }
    elif unit == Unit.MONEY:
        message = _("Use at most %(places)d decimals for %(currency)s.") % {
            "places": allowed,
            "currency": currency,
        }
    else:
        message = _("Use at most one decimal, like 12.5.")
    raise ValidationError(message, code="places")


def parse_value(
    text: str | None, *, unit: str, currency: str, field: str = "", typed: bool = True
) -> Decimal | None:
    """A week's number: blank clears it (None); ValidationError with a message
    for the person who typed it otherwise, naming `field` (the metric) and
    saying how the number was read.

    `typed` numbers are read the way the active language writes them
    (`hourglass.numbers.read_number`); a file's numbers (`typed=False`, the CSV
    import) in the file's own format, `1250.5`."""
    text = (text or "").strip()
    if not text:
        return None
    if typed:
        number = read_number(text, field=field)
    else:
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValidationError(
                _("“%(value)s” is not a number.") % {"value": text[:40]},
                code="invalid",
            )
    try:
        check_value(number, unit=unit, currency=currency)
    except ValidationError as problem:
        if not typed:
            raise
        raise ValidationError(
            f"{read_as(number, field=field)}: {problem.messages[0]}",
            code=problem.code,
        ) from None
    return number.quantize(PLACES)


def check_value(number: Decimal, *, unit: str, currency: str) -> None:
    """ValidationError when `number` cannot be a week's number or a goal:
    negative, too large, or more decimals than its unit shows."""
    if number < 0:
        raise ValidationError(_("A number cannot be negative."), code="negative")
    if number > MAX_VALUE:
        raise ValidationError(
            _("This number is too large: at most %(digits)d digits before the point.")
            % {"digits": VALUE_DIGITS - VALUE_PLACES},
            code="too_large",
        )
    check_places(number, unit=unit, currency=currency)
