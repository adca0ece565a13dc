"""The annual workflow cost of a step (hours per run × runs per month × hourly
cost × 12) and how money is shown: plain Python, no database."""

from decimal import Decimal
from fractions import Fraction

import pytest
from django.template import Context, Template
from django.utils import translation

from systemmaps.costs import annual_cost, annual_hours, format_money

D = Decimal


def cost(minutes, runs, hourly):
    return annual_cost(minutes_per_run=minutes, runs_per_month=runs, hourly_cost=hourly)


def test_annual_cost_is_hours_per_run_times_runs_times_rate_times_twelve():
    # 30 minutes = 0.5 h; 0.5 × 20 × 40 × 12 = 4,800.
    assert cost(D(30), D(20), D(40)) == D("4800.00")


def test_annual_cost_is_a_decimal_rounded_to_cents_half_up():
    # 7/60 h × 3 × 33.33 × 12 = 139.986
    result = cost(D(7), D(3), D("33.33"))
    assert isinstance(result, Decimal)
    assert result == D("139.99")
    # 1/60 h × 1 × 0.30 × 12 = 0.06 exactly; × 0.25 = 0.05 exactly
    assert cost(D(1), D(1), D("0.30")) == D("0.06")


def test_exactly_half_a_cent_rounds_up():
    # 0.5 min × 1 run × 0.65/h × 12 = 0.065 exactly: half up gives 0.07 (half
    # even would give 0.06, and dividing by 60 first would leave 0.0649999…).
    assert cost(D("0.5"), D(1), D("0.65")) == D("0.07")
    # 0.5 min × 1 × 0.75/h × 12 = 0.075 → 0.08
    assert cost(D("0.5"), D(1), D("0.75")) == D("0.08")
    # 1 min × 1 × 0.125/h × 12 = 0.025 → 0.03
    assert cost(D(1), D(1), D("0.125")) == D("0.03")


@pytest.mark.parametrize(
    "figures",
    [(D(0), D(20), D(40)), (D(30), D(0), D(40)), (D(30), D(20), D(0))],
    ids=["zero-minutes", "zero-runs", "zero-rate"],
)
def test_a_zero_figure_gives_a_zero_cost_not_none(figures):
    assert cost(*figures) == D("0.00")


@pytest.mark.parametrize(
    "figures",
    [
        (None, D(20), D(40)),
        (D(30), None, D(40)),
        (D(30), D(20), None),
        (None, None, None),
    ],
    ids=["no-minutes", "no-runs", "no-rate", "nothing"],
)
def test_a_missing_figure_gives_none(figures):
    assert cost(*figures) is None


def test_a_tiny_cost_rounds_to_zero_cents():
    assert cost(D(1), D(1), D("0.01")) == D("0.00")


def test_the_largest_figures_the_fields_hold_compute_exactly():
    # minutes 999,999.99 × runs 9,999,999.99 × rate 99,999,999.99 (the columns' max)
    result = cost(D("999999.99"), D("9999999.99"), D("99999999.99"))
    exact = (
        Fraction("999999.99") * Fraction("9999999.99") * Fraction("99999999.99") * 12
    ) / 60
    # …21,999.98 cents: not a half, so any rounding to the nearest cent agrees.
    assert result == D(round(exact * 100)) / 100
    assert result == D("199999997780000002220.00")


def test_decimal_fractions_of_runs_and_minutes_count():
    # 1.5 min × 2.5 runs a month at 60/h = 1.5 × 2.5 × 12 = 45.00
    assert cost(D("1.5"), D("2.5"), D(60)) == D("45.00")


def test_ints_are_accepted_as_figures():
    assert cost(60, 1, 10) == D("120.00")


def test_annual_hours():
    assert annual_hours(minutes_per_run=D(30), runs_per_month=D(20)) == D("120.0")
    assert annual_hours(minutes_per_run=D(7), runs_per_month=D(3)) == D("4.2")
    assert annual_hours(minutes_per_run=D(0), runs_per_month=D(3)) == D("0.0")
    assert annual_hours(minutes_per_run=None, runs_per_month=D(3)) is None
    assert annual_hours(minutes_per_run=D(3), runs_per_month=None) is None


# ---------------------------------------------------------------------------
# Money display
# ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "currency, amount, shown",
    [
        ("EUR", D("1234.5"), "€1,234.50"),
        ("USD", D("1234.5"), "$1,234.50"),
        ("CHF", D("1234.5"), "CHF\u00a01,234.50"),
        ("JPY", D("1234.5"), "¥1,235"),
        ("EUR", D("4800.00"), "€4,800"),
        ("USD", D("0.05"), "$0.05"),
        ("CHF", D("1234567.891"), "CHF\u00a01,234,567.89"),
        ("JPY", D("1234567.891"), "¥1,234,568"),
    ],
)
def test_money_shows_symbol_grouping_and_cents(currency, amount, shown):
    assert format_money(amount, currency) == shown


@pytest.mark.parametrize("currency", ["EUR", "USD", "CHF", "JPY"])
def test_money_shows_none_as_a_dash(currency):
    assert format_money(None, currency) == "—"


@pytest.mark.parametrize(
    "currency, shown",
    [("EUR", "€0"), ("USD", "$0"), ("CHF", "CHF\u00a00"), ("JPY", "¥0")],
)
def test_money_shows_zero(currency, shown):
    assert format_money(D(0), currency) == shown


@pytest.mark.parametrize(
    "currency, amount, shown",
    [
        ("EUR", D("-1234.5"), "-€1,234.50"),
        ("USD", D("-0.4"), "-$0.40"),
        ("CHF", D("-1234.5"), "CHF\u00a0-1,234.50"),
        ("JPY", D("-1234.5"), "-¥1,235"),
    ],
)
def test_money_puts_the_minus_sign_before_the_symbol(currency, amount, shown):
    assert format_money(amount, currency) == shown


@pytest.mark.parametrize("currency", ["EUR", "USD", "CHF", "JPY"])
def test_money_shows_no_minus_for_an_amount_that_rounds_to_zero(currency):
    assert "-" not in format_money(D("-0.001"), currency)


def test_money_rounds_half_up_to_the_currency_unit():
    assert format_money(D("0.005"), "EUR") == "€0.01"
    assert format_money(D("2.5"), "JPY") == "¥3"


def test_money_takes_ints_and_floats():
    assert format_money(1234, "USD") == "$1,234"
    assert format_money(0.1 + 0.2, "EUR") == "€0.30"


def test_money_shows_a_very_large_amount_in_full():
    assert format_money(D("199999997780000002220.00"), "EUR") == (
        "€199,999,997,780,000,002,220"
    )
    assert format_money(D("1234567890123456789012345678.91"), "USD") == (
        "$1,234,567,890,123,456,789,012,345,678.91"
    )
    assert format_money(D(10) ** 30, "JPY") == "¥1" + ",000" * 10


def test_money_filter_in_a_template():
    template = Template("{% load steps %}{{ amount|money:currency }}")
    assert template.render(Context({"amount": D("4800"), "currency": "EUR"})) == (
        "€4,800"
    )
    assert template.render(Context({"amount": None, "currency": "USD"})) == "—"
    assert template.render(Context({"amount": D("99.9"), "currency": "CHF"})) == (
        "CHF\u00a099.90"
    )
