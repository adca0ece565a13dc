"""Numbers as a person types them in their language: the one reader of every
number typed in a form (a week's number, a goal, minutes, runs, rates).

The language's decimal mark and thousands group come from Babel (CLDR): `,` and
a space in French and Polish, `,` and `.` in Romanian, `.` and `,` in English
and Korean. A person types what they are used to, so the reader accepts:

- the language's own forms: `1 250,5` (fr, pl: a plain space, a no-break or a
  narrow no-break space), `1.250,5` (ro), `1,250.5` (en, ko), or no groups;
- any number whose marks can only be read one way: both `.` and `,` (the last
  one is the decimal mark: `1.250,5` and `1,250.5` are 1250.5 everywhere), a
  mark repeated (`1.250.000` groups), a mark followed by other than three
  digits that is not the language's group (`12.5` in French is 12.5).

It refuses what could be read two ways, rather than lose a factor of 1,000
without a word: one mark followed by exactly three digits (`1.250`, `1,250`) is
a thousand only when that mark is the language's group (`1.250` in Romanian,
`1,250` in English); anywhere else the message says both readings and how to
type each. A group symbol must sit between groups of exactly three digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# What people type as a space between groups: a space, a no-break space, a
# narrow no-break space (CLDR's French group), a thin space.
SPACES = " \u00a0\u202f\u2009"
MARKS = ".,"
_TYPED = re.compile(rf"[0-9{MARKS}{SPACES}]+")


@dataclass(frozen=True)
class Marks:
    """A language's decimal mark and thousands group, and the group a person
    types (a plain space where the language groups with one)."""

    decimal: str
    group: str

    @property
    def spaced(self) -> bool:
        return self.group in SPACES

    @property
    def typed_group(self) -> str:
        return " " if self.spaced else self.group


def marks(language: str | None = None) -> Marks:
    """The marks of `language` (the active one when None)."""
    return _marks(language or get_language() or settings.LANGUAGE_CODE)


@cache
def _marks(language: str) -> Marks:
    code = language.replace("-", "_")
    try:
        locale = Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    return Marks(decimal=get_decimal_symbol(locale), group=get_group_symbol(locale))


def typed_text(value: Decimal | None, language: str | None = None) -> str:
    """A saved number as the person would type it back: the language's decimal
    mark, no groups, no trailing zeros (`1250,5` in French, `12` not `12.00`)."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", marks(language).decimal)


def shown_text(value: Decimal, language: str | None = None) -> str:
    """`value` grouped the language's way, as typed (`1 250,5`, `1.250,5`), to
    say how a number was read."""
    mark = marks(language)
    whole, _dot, fraction = format(Decimal(value).normalize(), "f").partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = sign + mark.typed_group.join(groups)
    return f"{text}{mark.decimal}{fraction}" if fraction else text


def _example(language: str | None) -> str:
    return shown_text(Decimal("1250.5"), language)


def _prefixed(field: str, message: str) -> str:
    return f"{field}: {message}" if field else message


def not_a_number(text: str, *, field: str = "") -> ValidationError:
    return ValidationError(
        _prefixed(
            field,
            # Two sentences: the first is the one the catalogues had before.
            " ".join(
                (
                    _("“%(value)s” is not a number.") % {"value": text[:40]},
                    _("Type it like %(example)s.") % {"example": _example(None)},
                )
            ),
        ),
        code="invalid",
    )


def _whole(part: str, separator: str | None) -> str | None:
    """The digits of a whole part grouped by `separator` (None: no groups), or
    None when the groups are not of three digits after the first."""
    if separator is None:
        return part if part.isdigit() or part == "" else None
    groups = part.split(separator)
    first, rest = groups[0], groups[1:]
    if not (1 <= len(first) <= 3 and first.isdigit()):
        return None
    if not all(len(group) == 3 and group.isdigit() for group in rest):
        return None
    return "".join(groups)


def read_number(text: str, *, field: str = "") -> Decimal:
    """The number `text` means in the active language; ValidationError with a
    message naming `field` when it is not one, or could be two."""
    mark = marks()
    original = text.strip()
    body = original
    negative = body.startswith(("-", "−"))
    if negative:
        body = body[1:].lstrip()
    if not body or not _TYPED.fullmatch(body):
        raise not_a_number(original, field=field)
    spaced = any(space in body for space in SPACES)
    if spaced:
        if not mark.spaced:
            raise not_a_number(original, field=field)
        for space in SPACES:
            body = body.replace(space, " ")
    present = [m for m in MARKS if m in body]
    decimal: str | None = None
    group: str | None = " " if spaced else None
    if len(present) == 2:
        # Both marks: the last one is the decimal mark, the other groups.
        decimal = max(present, key=body.rindex)
        other = MARKS.replace(decimal, "")
        if body.count(decimal) > 1 or spaced:
            raise not_a_number(original, field=field)
        group = other
    elif len(present) == 1:
        (only,) = present
        if body.count(only) > 1:
            if spaced:
                raise not_a_number(original, field=field)
            group = only
        else:
            before, _mark, after = body.partition(only)
            three = len(after) == 3 and after.isdigit()
            if only == mark.group and not spaced:
                if not three:
                    raise not_a_number(original, field=field)
                group = only
            elif three and _whole(before, group) is None:
                raise not_a_number(original, field=field)
            elif three and before.replace(" ", "").strip("0"):
                large = Decimal(before.replace(" ", "") + after)
                small = Decimal(f"{before.replace(' ', '')}.{after}")
                raise ValidationError(
                    _prefixed(
                        field,
                        _(
                            "“%(value)s” could be %(large)s or %(small)s: type "
                            "%(large)s for the larger number, or %(small)s."
                        )
                        % {
                            "value": original[:40],
                            "large": shown_text(large),
                            "small": shown_text(small),
                        },
                    ),
                    code="ambiguous",
                )
            else:
                decimal = only
    whole_part, _mark, fraction = body.partition(decimal) if decimal else (body, "", "")
    whole = _whole(whole_part, group)
    if whole is None or not (fraction == "" or fraction.isdigit()):
        raise not_a_number(original, field=field)
    if not whole and not fraction:
        raise not_a_number(original, field=field)
    try:
        number = Decimal(f"{whole or '0'}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern leaves digits only
        raise not_a_number(original, field=field) from None
    return -number if negative else number


def read_as(number: Decimal, *, field: str = "") -> str:
    """`Weekly goal: read as 1 250,5`: the start of a message about a number
    that was read but cannot be kept."""
    return _prefixed(field, _("read as %(number)s") % {"number": shown_text(number)})


class NumberField(forms.DecimalField):
    """A DecimalField a person types in their language (`read_number`), shown
    back the same way; a text box with the decimal keypad on phones, since a
    browser's number box sends its own format and refuses `1 250,5`."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, Decimal):
            return value
        return read_number(str(value), field=str(self.label or ""))

    def prepare_value(self, value):
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return typed_text(Decimal(str(value)))
        return value

    def widget_attrs(self, widget):
        # No `step`/`min`: those belong to a number box.
        return forms.Field.widget_attrs(self, widget)
