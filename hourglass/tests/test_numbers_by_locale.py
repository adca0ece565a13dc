"""The one reader of typed numbers (hourglass/numbers.py) in each language, and
money's pattern per language. The expected numbers are written by hand from each
language's rules: `,` decimal and a space group in French and Polish, `,`
decimal and `.` group in Romanian, `.` decimal and `,` group in English and
Korean."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from hourglass.forms import MemberProfileForm
from hourglass.numbers import read_number, typed_text
from hourglass.tests.utils import as_said
from systemmaps.costs import format_money

NBSP = "\u00a0"


def read(language: str, text: str) -> Decimal:
    with translation.override(language):
        return read_number(text, field="Hourly rate")


def refusal(language: str, text: str) -> ValidationError:
    with translation.override(language), pytest.raises(ValidationError) as error:
        read_number(text, field="Hourly rate")
    return error.value


@pytest.mark.parametrize(
    ("language", "text", "number"),
    [
        ("fr", "1 250,5", "1250.5"),
        ("fr", "1\u202f250\u202f000", "1250000"),
        ("fr", "1 250 000", "1250000"),
        ("fr", "12,5", "12.5"),
        ("fr", "12.5", "12.5"),  # a dot before one digit is only a decimal mark
        ("fr", "0,125", "0.125"),  # no group starts with 0
        ("fr", ",5", "0.5"),
        ("pl", "1.250,5", "1250.5"),
        ("pl", "1\u00a0250,5", "1250.5"),
        ("pl", "1.250.000", "1250000"),
        ("ro", "1.250,5", "1250.5"),
        ("ro", "1.250", "1250"),
        ("ro", "1.250.000", "1250000"),
        ("ro", "12,5", "12.5"),
        ("en", "1,250.5", "1250.5"),
        ("en", "1,250", "1250"),
        ("en", "1,250,000", "1250000"),
        ("en", "12.5", "12.5"),
        ("ko", "1,250.5", "1250.5"),
        ("ko", "12,500", "12500"),
        ("en", "-3", "-3"),  # the reader reads; a field says a sign is wrong
    ],
)
def test_numbers_are_read_the_way_the_language_writes_them(language, text, number):
    assert read(language, text) == Decimal(number)


@pytest.mark.parametrize(
    ("language", "text", "message"),
    [
        ("fr", "1.250", "Hourly rate: “1.250” could be 1 250 or 1,25"),
        ("pl", "1.250", "Hourly rate: “1.250” could be 1 250 or 1,25"),
        ("ko", "1.250", "Hourly rate: “1.250” could be 1,250 or 1.25"),
        ("ro", "1,250", "Hourly rate: “1,250” could be 1.250 or 1,25"),
        ("en", "12.345", "Hourly rate: “12.345” could be 12,345 or 12.345"),
    ],
)
def test_a_lone_mark_before_three_digits_is_asked_about(language, text, message):
    error = refusal(language, text)
    assert error.code == "ambiguous"
    assert error.messages[0] == as_said(language, message)


@pytest.mark.parametrize(
    ("language", "text", "example"),
    [
        ("fr", "12'500", "1 250,5"),  # an apostrophe never groups
        ("fr", "1 25", "1 250,5"),  # groups are of three digits
        ("fr", "1 250.000,5", "1 250,5"),  # two kinds of groups
        ("fr", "12 34,500", "1 250,5"),  # bad groups, before asking which
        ("ro", "12.5", "1.250,5"),  # "." groups in Romanian
        ("ro", "1 250", "1.250,5"),  # no space groups in Romanian
        ("en", "12,5", "1,250.5"),  # "," groups in English
        ("en", "1,2,3", "1,250.5"),
        ("en", "1.5.0", "1,250.5"),
        ("ko", "1 250", "1,250.5"),
        ("en", "abc", "1,250.5"),
        ("en", "NaN", "1,250.5"),
        ("en", "1e3", "1,250.5"),
        ("en", ".", "1,250.5"),
    ],
)
def test_what_is_not_a_number_is_shown_how_to_type_one(language, text, example):
    error = refusal(language, text)
    assert error.code == "invalid"
    assert error.messages[0] == as_said(
        language, f"Hourly rate: “{text}” is not a number. Type it like {example}."
    )


@pytest.mark.parametrize(
    ("language", "typed"),
    [("fr", "1250,5"), ("pl", "1250,5"), ("ro", "1250,5"), ("ko", "1250.5")],
)
def test_a_saved_number_is_written_back_to_be_read_the_same(language, typed):
    with translation.override(language):
        assert typed_text(Decimal("1250.50")) == typed
        assert read_number(typed_text(Decimal("1250.50"))) == Decimal("1250.5")


@pytest.mark.parametrize(
    ("language", "currency", "amount", "text"),
    [
        ("en", "EUR", "1650", "€1,650"),
        ("en", "PLN", "1650.5", f"PLN{NBSP}1,650.50"),
        ("en", "CHF", "-1234.5", f"CHF{NBSP}-1,234.50"),
        ("en", "CAD", "10", f"CAD{NBSP}10"),
        ("fr", "EUR", "1650", f"1{NBSP}650{NBSP}€"),
        ("fr", "EUR", "1650.5", f"1{NBSP}650,50{NBSP}€"),
        ("fr", "USD", "-5.5", f"-5,50{NBSP}USD"),
        ("pl", "PLN", "1650.5", f"1{NBSP}650,50{NBSP}zł"),
        ("ro", "RON", "1650", f"1.650{NBSP}RON"),
        ("ro", "EUR", "1650.5", f"1.650,50{NBSP}EUR"),
        ("ko", "KRW", "1650", "₩1,650"),
        ("ko", "EUR", "1650.5", "€1,650.50"),
    ],
)
def test_money_takes_the_language_pattern(language, currency, amount, text):
    with translation.override(language):
        assert format_money(Decimal(amount), currency) == text


def test_an_hourly_rate_is_typed_the_local_way():
    with translation.override("fr"):
        form = MemberProfileForm({"roles": "", "hourly_rate": "1 250,5"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["hourly_rate"] == Decimal("1250.5")
        form = MemberProfileForm({"roles": "", "hourly_rate": "1.250"})
        assert not form.is_valid()
        assert (
            as_said("fr", "“1.250” could be 1 250 or 1,25")
            in (form.errors["hourly_rate"][0])
        )
