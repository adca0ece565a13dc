"""Where a business is: its country, and the currency and time zone a country
suggests, from the Unicode CLDR data that Babel carries. The sign-up and a new
business start from the person's browser (its language's region, and its time
zone through a small script), never from a silent euro and UTC; every choice
stays theirs to change."""

from __future__ import annotations

from functools import cache

from babel import Locale
from babel.core import UnknownLocaleError, get_global
from babel.numbers import get_territory_currencies
from django.utils import translation

from .models import CURRENCIES

CURRENCY_CODES = frozenset(code for code, _label in CURRENCIES)
# Where paper is US Letter (CLDR's supplemental measurementData, paperSize
# "US-Letter", which Babel does not carry); everywhere else prints on A4.
LETTER_COUNTRIES = frozenset("BZ CA CL CO CR GT MX NI PA PH PR SV US VE".split())


@cache
def _zones() -> dict[str, tuple[str, ...]]:
    return {
        country: tuple(zones)
        for country, zones in get_global("territory_zones").items()
        if len(country) == 2 and zones
    }


def country_codes() -> frozenset[str]:
    """The countries one can pick: CLDR's territories with a time zone."""
    return frozenset(_zones())


@cache
def _countries_in(language: str) -> tuple[tuple[str, str], ...]:
    try:
        names = Locale.parse(language).territories
    except (UnknownLocaleError, ValueError):
        names = Locale("en").territories
    return tuple(
        sorted(
            ((code, names.get(code, code)) for code in country_codes()),
            key=lambda item: item[1].casefold(),
        )
    )


def countries() -> list[tuple[str, str]]:
    """(code, name in the active language) of every country, by name."""
    return list(_countries_in(translation.get_language() or "en"))


def country_of_language(accept_language: str, language: str) -> str:
    """The country a browser suggests: the region of its first language tag
    that has one (`fr-CA` → CA), else the usual country of the page's
    language (fr → FR, ko → KR, pl → PL, ro → RO, en → US)."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("_", "-")
        pieces = tag.split("-")
        if len(pieces) > 1 and pieces[-1].upper() in country_codes():
            return pieces[-1].upper()
    likely = get_global("likely_subtags").get(language or "en", "")
    region = likely.split("_")[-1] if likely else ""
    return region if region in country_codes() else ""


def currency_of(country: str) -> str:
    """The currency a business in `country` most likely counts in, when it is
    one the app knows; "" otherwise (the person picks)."""
    for code in get_territory_currencies(country) if country else []:
        if code in CURRENCY_CODES:
            return code
    return ""


def zone_of(country: str) -> str:
    """The time zone of `country` when it has only one ("" when it has
    several: the browser's, or the person, says which)."""
    zones = _zones().get(country, ())
    return zones[0] if len(zones) == 1 else ""


@cache
def suggestions() -> dict[str, dict[str, str]]:
    """By country: the currency and the time zone to suggest, for the form's
    script to fill in when the country changes."""
    return {
        code: {"currency": currency_of(code), "timezone": zone_of(code)}
        for code in sorted(country_codes())
    }


def paper_of(country: str) -> str:
    """The paper a business in `country` prints on: "letter" or "a4" (also for
    a business that has not said its country)."""
    return "letter" if country in LETTER_COUNTRIES else "a4"
