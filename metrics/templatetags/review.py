"""Numbers of the weekly review: values formatted by unit, and the sparkline."""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from metrics.models import Unit
from metrics.numbers import places
from systemmaps.costs import format_money

register = template.Library()

SPARK_WIDTH = 120
SPARK_HEIGHT = 28
SPARK_PAD = 3


def _plain(value: Decimal, places: int = 2) -> str:
    """`1,234`, `12.5`: grouped, no trailing zeros, at most `places` decimals."""
    value = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    decimals = 0
    if value != value.to_integral_value():
        decimals = max(-value.normalize().as_tuple().exponent, 0)
    return number_format(value, decimal_pos=decimals, force_grouping=True)


def format_value(value: Decimal | int | float | None, unit: str, currency: str) -> str:
    """A metric's number as people read it: `€1,250`, `12.5 %`, `3.5 h`, `1,234`;
    an em dash when there is none."""
    if value is None:
        return "—"
    value = Decimal(value)
    if unit == Unit.MONEY:
        return format_money(value, currency)
    shown = places(unit, currency)
    if unit == Unit.PERCENT:
        return f"{_plain(value, shown)}\u00a0%"
    if unit == Unit.DURATION:
        return f"{_plain(value, shown)}\u00a0h"
    return _plain(value)


@register.simple_tag
def metric_value(value, unit: str, currency: str) -> str:
    """`{% metric_value row.value row.metric.unit business.currency %}`"""
    return format_value(value, unit, currency)


@register.filter
def percent(rate: Decimal | None) -> str:
    """A rate (0.325) as a percentage (`32.5 %`); an em dash for None."""
    if rate is None:
        return "—"
    return f"{_plain(Decimal(rate) * 100, 1)}\u00a0%"


@register.filter
def bar_width(rate: Decimal | None, full: int = 100) -> int:
    """A rate as the width of a bar `full` units wide (at least 1 when above 0)."""
    if not rate:
        return 0
    width = int((Decimal(rate) * full).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(1, min(width, full))


@register.simple_tag
def sparkline(values: Sequence[Decimal | None], title: str) -> SafeString:
    """An inline SVG line of `values` (oldest first; None leaves a gap), with a
    <title> for screen readers and a dot on the last number."""
    count = len(values)
    known = [Decimal(v) for v in values if v is not None]
    if count < 2 or not known:
        return format_html(
            '<svg class="spark spark-empty" role="img" viewBox="0 0 {} {}" '
            'width="{}" height="{}"><title>{}</title></svg>',
            SPARK_WIDTH,
            SPARK_HEIGHT,
            SPARK_WIDTH,
            SPARK_HEIGHT,
            title,
        )
    low, high = min(known), max(known)
    span = (high - low) or Decimal(1)
    step = Decimal(SPARK_WIDTH - 2 * SPARK_PAD) / (count - 1)
    inner = Decimal(SPARK_HEIGHT - 2 * SPARK_PAD)

    def point(i: int, v: Decimal) -> tuple[str, str]:
        x = SPARK_PAD + step * i
        y = SPARK_PAD + inner - (v - low) / span * inner
        if high == low:
            y = Decimal(SPARK_HEIGHT) / 2
        return f"{x:.1f}", f"{y:.1f}"

    # Runs of consecutive numbers become one polyline each.
    runs: list[list[tuple[str, str]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(point(i, Decimal(v)))
    lines = format_html_join(
        "",
        '<polyline class="spark-line" points="{}"/>',
        ((" ".join(f"{x},{y}" for x, y in run),) for run in runs if len(run) > 1),
    )
    singles = format_html_join(
        "",
        '<circle class="spark-point" cx="{}" cy="{}" r="1.5"/>',
        (run[0] for run in runs if len(run) == 1),
    )
    last = ""
    if values[-1] is not None:
        x, y = point(count - 1, Decimal(values[-1]))
        last = format_html('<circle class="spark-last" cx="{}" cy="{}" r="2.5"/>', x, y)
    return format_html(
        '<svg class="spark" role="img" viewBox="0 0 {} {}" width="{}" height="{}">'
        "<title>{}</title>{}{}{}</svg>",
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        title,
        lines,
        singles,
        last,
    )


@register.simple_tag
def spark_title(name: str, values: Sequence[Decimal | None], unit: str, currency: str):
    """The words a sparkline stands for: its first and last numbers."""
    shown = [v for v in values if v is not None]
    if not shown:
        return _("%(name)s: no numbers in these weeks") % {"name": name}
    return _("%(name)s over %(weeks)s weeks: from %(first)s to %(last)s") % {
        "name": name,
        "weeks": len(values),
        "first": format_value(shown[0], unit, currency),
        "last": format_value(shown[-1], unit, currency),
    }
