"""A week's number as a person types it: the one rule of what an entry can
hold, read by the This week form, a metric's backfill and the CSV import."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import VALUE_DIGITS, VALUE_PLACES, Unit

# The largest number an entry or a goal can hold (14 digits, 2 after the point).
MAX_VALUE = Decimal(10) ** (VALUE_DIGITS - VALUE_PLACES) - Decimal("0.01")
PLACES = Decimal(1).scaleb(-VALUE_PLACES)


def parse_value(text: str | None, *, unit: str) -> Decimal | None:
    """A week's number as typed: blank clears it (None); ValidationError with a
    message for the person who typed it otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(
            _("“%(value)s” is not a number.") % {"value": text[:40]}, code="invalid"
        )
    if number < 0:
        raise ValidationError(_("A number cannot be negative."), code="negative")
    if number > MAX_VALUE:
        raise ValidationError(
            _("This number is too large: at most %(digits)d digits before the point.")
            % {"digits": VALUE_DIGITS - VALUE_PLACES},
            code="too_large",
        )
    if unit == Unit.COUNT and number != number.to_integral_value():
        raise ValidationError(
            _("A count must be a whole number, like 12."), code="whole"
        )
    if number != number.quantize(PLACES):
        raise ValidationError(
            _("Use at most %(places)d decimals.") % {"places": VALUE_PLACES},
            code="places",
        )
    return number.quantize(PLACES)
