"""Numbers of the weekly review: values formatted by unit, the sparkline, and the
scorecard's rows."""

import secrets
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from html import escape
from math import lcm
from operator import add

from django import template
from django.urls import reverse
from django.utils import numberformat
from django.utils.formats import date_format, get_format
from django.utils.html import escape as html_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as _noop

from metrics.models import Status, Unit
from metrics.numbers import places
from systemmaps.costs import format_money

register = template.Library()

SPARK_WIDTH = 120
SPARK_HEIGHT = 28
SPARK_PAD = 3
ZERO = Decimal(0)


@cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


@cache
def _cutoff(places: int) -> Decimal:
    # number_format shows a value smaller than this as 0 (its rule, to the digit).
    return Decimal("0." + "1".rjust(places, "0"))


class Numbers:
    """Grouped numbers in the active language, the same text as
    `number_format(value, decimal_pos=places, force_grouping=True)`, with the
    language's separators looked up once rather than per number: the scorecard
    formats thousands of numbers per page."""

    def __init__(self) -> None:
        lang = self.language = get_language()
        self.decimal_sep = get_format("DECIMAL_SEPARATOR", lang)
        self.thousand_sep = get_format("THOUSAND_SEPARATOR", lang)
        self.grouping = get_format("NUMBER_GROUPING", lang)
        # Python groups by threes with ","; other groupings take Django's way.
        self._spec = (
            {3: ",", 0: ""}.get(self.grouping)
            if isinstance(self.grouping, int)
            else None
        )
        separators = (self.thousand_sep, self.decimal_sep)
        self._table = (
            None
            if separators == (",", ".")
            else str.maketrans({",": self.thousand_sep, ".": self.decimal_sep})
        )

    def grouped(self, value: Decimal, places: int) -> str:
        if self._spec is not None and value.is_finite():
            try:
                # As number_format: too small for the places shown is 0, and
                # digits beyond them are cut, not rounded.
                if abs(value) < _cutoff(places):
                    value = ZERO
                value = value.quantize(_quantum(places), rounding=ROUND_DOWN)
            except InvalidOperation:
                pass
            else:
                text = format(value, f"{self._spec}.{places}f")
                return text.translate(self._table) if self._table else text
        return numberformat.format(
            value,
            self.decimal_sep,
            places,
            self.grouping,
            self.thousand_sep,
            force_grouping=True,
        )


class ValueFormat:
    """`format_value` for one page: the language's format looked up once, and
    each distinct number formatted once."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.numbers = Numbers()
        self._done: dict[tuple[Decimal, str], str] = {}
        self._html: dict[tuple[Decimal | None, str], str] = {}
        self._texts: dict[str, str] = {}

    def text(self, message: str) -> str:
        """gettext(message), looked up once per page (mark it with _noop)."""
        text = self._texts.get(message)
        if text is None:
            text = self._texts[message] = _(message)
        return text

    def plain(self, value: Decimal, places: int = 2) -> str:
        """`1,234`, `12.5`: grouped, no trailing zeros, at most `places` decimals."""
        value = Decimal(value).quantize(_quantum(places), rounding=ROUND_HALF_UP)
        decimals = 0
        if value != value.to_integral_value():
            decimals = max(-value.normalize().as_tuple().exponent, 0)
        return self.numbers.grouped(value, decimals)

    def __call__(self, value: Decimal | int | float | None, unit: str) -> str:
        if value is None:
            return "—"
        key = (value, unit)
        text = self._done.get(key)
        if text is None:
            text = self._done[key] = self._format(Decimal(value), unit)
        return text

    def html(self, value: Decimal | None, unit: str) -> str:
        """The number's text escaped for HTML, escaped once per page."""
        key = (value, unit)
        html = self._html.get(key)
        if html is None:
            html = self._html[key] = escape(self(value, unit))
        return html

    def _format(self, value: Decimal, unit: str) -> str:
        if unit == Unit.MONEY:
            return format_money(
                value,
                self.currency,
                grouped=self.numbers.grouped,
                language=self.numbers.language,
            )
        shown = places(unit, self.currency)
        if unit == Unit.PERCENT:
            return f"{self.plain(value, shown)}\u00a0%"
        if unit == Unit.DURATION:
            return f"{self.plain(value, shown)}\u00a0h"
        return self.plain(value)


def format_value(value: Decimal | int | float | None, unit: str, currency: str) -> str:
    """A metric's number as people read it: `€1,250`, `12.5 %`, `3.5 h`, `1,234`;
    an em dash when there is none."""
    return ValueFormat(currency)(value, unit)


@register.simple_tag(takes_context=True)
def metric_value(context, value, unit: str, currency: str) -> str:
    """`{% metric_value row.value row.metric.unit business.currency %}`: one
    ValueFormat per template rendered, currency and language, so a loop looks
    the language's format up once (it costs more than formatting a number)."""
    key = (ValueFormat, currency, get_language())
    fmt = context.render_context.get(key)
    if fmt is None:
        fmt = context.render_context[key] = ValueFormat(currency)
    return fmt(value, unit)


@register.filter
def percent(rate: Decimal | None) -> str:
    """A rate (0.325) as a percentage (`32.5 %`); an em dash for None."""
    if rate is None:
        return "—"
    return f"{_plain_format(get_language()).plain(Decimal(rate) * 100, 1)}\u00a0%"


@cache
def _plain_format(language: str) -> ValueFormat:
    """A ValueFormat for `plain` numbers in `language` (active when called):
    building one looks the language's format up, which costs more than the
    number."""
    return ValueFormat("")


@register.filter
def bar_width(rate: Decimal | None, full: int = 100) -> int:
    """A rate as the width of a bar `full` units wide (at least 1 when above 0)."""
    if not rate:
        return 0
    width = int((Decimal(rate) * full).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(1, min(width, full))


# ---------------------------------------------------------------------------
# Sparklines
# ---------------------------------------------------------------------------

_SVG = (
    f'<svg class="spark{{}}" role="img" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
    f'width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}"><title>{{}}</title>{{}}</svg>'
)


@cache
def _spark_xs(count: int) -> tuple[str, ...]:
    """Where each of `count` points sits across a sparkline."""
    step = Decimal(SPARK_WIDTH - 2 * SPARK_PAD) / (count - 1)
    return tuple(f"{SPARK_PAD + step * i:.1f}" for i in range(count))


@cache
def _spark_at(count: int) -> tuple[str, ...]:
    """`x,` of each of `count` points: a point of a polyline is this and its y."""
    return tuple(f"{x}," for x in _spark_xs(count))


# Every height a point can have, in tenths: "0.0" … "28.0".
_TENTHS = tuple(f"{t // 10}.{t % 10}" for t in range(SPARK_HEIGHT * 10 + 1))
_FLAT = f"{SPARK_HEIGHT / 2:.1f}"
_TOP, _INNER = SPARK_HEIGHT - SPARK_PAD, SPARK_HEIGHT - 2 * SPARK_PAD

Ratio = tuple[int, int]


def _heights(ratios: Sequence[Ratio | None]) -> list[str | None] | None:
    """The height of each number (given as `as_integer_ratio()`) in tenths,
    None for a gap; None when there is no number at all.

    Exact integer arithmetic on the numbers scaled to whole ones by their common
    denominator (Decimal sums per point would cost more than the rest of a
    scorecard row), rounded to tenths, halves to even."""
    denominators = {r[1] for r in ratios if r is not None}
    if not denominators:
        return None
    if len(denominators) == 1:
        # One denominator already scales them all alike.
        scaled = [None if r is None else r[0] for r in ratios]
    else:
        scale = lcm(*denominators)
        scaled = [None if r is None else r[0] * (scale // r[1]) for r in ratios]
    shown = [n for n in scaled if n is not None]
    low = min(shown)
    span = max(shown) - low
    if not span:
        return [None if n is None else _FLAT for n in scaled]
    # y in tenths is (top·span − inner·(n − low))·10 / span: the constant part
    # once, then one multiplication and one division per point.
    base, step = (_TOP * span + _INNER * low) * 10, _INNER * 10
    heights: list[str | None] = []
    for n in scaled:
        if n is None:
            heights.append(None)
            continue
        tenths, rest = divmod(base - step * n, span)
        rest += rest
        if rest > span or (rest == span and tenths & 1):
            tenths += 1
        heights.append(_TENTHS[tenths])
    return heights


def _spark_svg(ratios: Sequence[Ratio | None], title: str) -> str:
    """`_sparkline` of the numbers' `as_integer_ratio()` (None for a gap)."""
    count = len(ratios)
    ys = _heights(ratios) if count > 1 else None
    if ys is None:
        return _SVG.format(" spark-empty", escape(title), "")
    xs, at = _spark_xs(count), _spark_at(count)
    if None not in ys:
        parts = f'<polyline class="spark-line" points="{" ".join(map(add, at, ys))}"/>'
    else:
        # Runs of consecutive numbers become one polyline each, a lone one a dot.
        lines, dots = [], []
        start = None
        for i, y in enumerate((*ys, None)):
            if y is not None:
                if start is None:
                    start = i
            elif start is not None:
                if i - start > 1:
                    lines.append(" ".join(map(add, at[start:i], ys[start:i])))
                else:
                    dots.append(start)
                start = None
        parts = "".join(
            [f'<polyline class="spark-line" points="{line}"/>' for line in lines]
            + [
                f'<circle class="spark-point" cx="{xs[i]}" cy="{ys[i]}" r="1.5"/>'
                for i in dots
            ]
        )
    if ys[-1] is not None:
        parts += f'<circle class="spark-last" cx="{xs[-1]}" cy="{ys[-1]}" r="2.5"/>'
    return _SVG.format("", escape(title), parts)


def _sparkline(values: Sequence[Decimal | None], title: str) -> str:
    ratios = [None if v is None else v.as_integer_ratio() for v in values]
    return _spark_svg(ratios, title)


@register.simple_tag
def sparkline(values: Sequence[Decimal | None], title: str) -> SafeString:
    """An inline SVG line of `values` (oldest first; None leaves a gap), with a
    <title> for screen readers and a dot on the last number."""
    return mark_safe(_sparkline(values, title))


def _spark_title(name: str, values: Sequence[Decimal | None], unit: str, fmt) -> str:
    shown = [v for v in values if v is not None]
    if not shown:
        return fmt.text(_noop("%(name)s: no numbers in these weeks")) % {"name": name}
    over = fmt.text(_noop("%(name)s over %(weeks)s weeks: from %(first)s to %(last)s"))
    return over % {
        "name": name,
        "weeks": len(values),
        "first": fmt(shown[0], unit),
        "last": fmt(shown[-1], unit),
    }


@register.simple_tag
def spark_title(name: str, values: Sequence[Decimal | None], unit: str, currency: str):
    """The words a sparkline stands for: its first and last numbers."""
    return _spark_title(name, values, unit, ValueFormat(currency))


# ---------------------------------------------------------------------------
# The scorecard's rows
# ---------------------------------------------------------------------------

# Stand-ins for a metric's primary key and a week: links are reversed once per
# page, then each row's or column's own goes in their place.
_PK = 987654321
_WEEK = "0000-00-00"


def _week_day(week) -> str:
    """A scorecard week as its column heading and its cell's label say it."""
    return html_escape(date_format(week, "MONTH_DAY_FORMAT"))


class _Scorecard:
    """The rows of `_scorecard.html`, drawn in one pass: 200 metrics × 13 weeks
    are 2,600 cells, too many for a template include (or even a template loop)
    each. Each row formats its numbers once; words, icons and visually-hidden
    texts are those the template had, so colour is never the only signal.

    The same rows are the phone's cards (review.css, below 40rem): each cell
    carries its column's name in `data-label`, shown there in place of the
    heading, and a `<details>` cell opens the row's weeks. One drawing, so the
    card and the table can never show different figures."""

    def __init__(self, review, compact: bool) -> None:
        self.review = review
        self.compact = compact
        self.fmt = ValueFormat(review.business.currency)
        # Each week's cell opens with its day, its label on a phone.
        self.week_open = tuple(f'<td data-label="{_week_day(w)}"' for w in review.weeks)
        self.label = {
            "goal": escape(_("Goal")),
            "this_week": escape(_("This week")),
            "avg": escape(_("4-wk avg")),
            "trend": escape(_("Trend")),
        }
        count = len(review.weeks)
        self.weeks_word = escape(
            ngettext("%(n)s week", "%(n)s weeks", count) % {"n": count}
        )
        # Each distinct cell drawn: its HTML, its number for the sparkline, and
        # its number.
        self.cells: dict[tuple, tuple[str, Ratio | None, Decimal | None]] = {}
        self.owners: dict[int, str] = {}
        head, _sep, tail = reverse(
            "metrics:metric-detail", args=[review.business.slug, _PK]
        ).rpartition(str(_PK))
        self.metric_url = (escape(head), escape(tail))
        words = {
            Status.ON_TRACK: ("✓", _("on track")),
            Status.OFF_TRACK: ("✕", _("off track")),
            Status.MISSING: ("?", _("missing")),
            Status.NO_GOAL: ("·", _("no goal")),
        }
        self.status = {
            (status.value, word): (
                f'<span class="st-icon" aria-hidden="true">{icon}</span>'
                f'<span class="{"st-word" if word else "visually-hidden"}">'
                f"{escape(label)}</span>"
            )
            for status, (icon, label) in words.items()
            for word in (True, False)
        }
        # Every word outside the f-strings: xgettext reads no call inside one
        # (tests/test_architecture.py checks).
        trends = {
            "better": ("▲", _("better")),
            "worse": ("▼", _("worse")),
            "steady": ("▶", _("steady")),
        }
        self.trend = {
            trend: f'<span aria-hidden="true">{arrow}</span> {escape(word)}'
            for trend, (arrow, word) in trends.items()
        }
        self.dash = '<span class="muted" aria-hidden="true">—</span>'
        too_early = escape(_("too early"))
        archived = escape(_("archived"))
        no_owner = escape(_("No owner"))
        self.too_early = f'<span class="muted">{too_early}</span>'
        self.archived = f'<span class="muted">{archived}</span>'
        not_counted = escape(_("not counted this week"))
        not_yet = escape(_("not tracked yet"))
        self.not_counted = f'<span class="muted">{not_counted}</span>'
        self.not_yet = f'<span class="muted">{not_yet}</span>'
        self.no_owner = f'<span class="muted">{no_owner}</span>'
        # A week without its number: not counted, or before the metric's first.
        # (A week's cell is drawn without its `<td`, which carries the day.)
        self.none = (
            ' class="num cell cell-none"><span aria-hidden="true"></span>'
            f'<span class="visually-hidden">{not_counted}</span></td>',
            None,
            None,
        )
        self.before = (
            ' class="num cell cell-before"><span aria-hidden="true">·</span>'
            f'<span class="visually-hidden">{not_yet}</span></td>',
            None,
            None,
        )

    def render(self) -> str:
        # The weeks' disclosure cell (phones only) spans no column of the table.
        columns = 7 if self.compact else len(self.review.weeks) + 7
        out = []
        for group in self.review.stages:
            out.append(
                f'<tbody data-stage="{group.stage}">'
                f'<tr class="sc-stage"><th scope="colgroup" colspan="{columns}">'
                f"{escape(str(group.label))}</th></tr>"
            )
            out.extend(self.row(r) for r in group.rows)
            out.append("</tbody>")
        return "".join(out)

    def owner(self, owner) -> str:
        if owner is None:
            return self.no_owner
        html = self.owners.get(owner.pk)
        if html is None:
            user = owner.user
            html = self.owners[owner.pk] = (
                f'<span class="initials" aria-hidden="true">{escape(user.initials)}'
                f"</span> {escape(user.name or user.email)}"
            )
        return html

    def row(self, r) -> str:
        m, row, fmt, label = r.metric, r.row, self.fmt, self.label
        unit = row.unit if row is not None else m.unit
        goal = row.goal if row is not None else m.goal
        if r.expected:
            status = row.status
            word = self.status.get((status, True), "")
            this_week = (
                f'<td class="num cell cell-{status} sc-this-week" '
                f'data-label="{label["this_week"]}" data-testid="this-week">'
                f"{fmt.html(row.value, row.unit)} {word}</td>"
                f'<td class="num sc-avg" data-label="{label["avg"]}">'
                f"{fmt.html(row.avg_4, row.unit)}</td>"
            )
        else:
            status = "none"
            if r.not_tracked_yet:
                word, css = self.not_yet, "cell-before"
            elif m.is_archived:
                word, css = self.archived, "cell-none"
            else:
                word, css = self.not_counted, "cell-none"
            this_week = (
                f'<td class="num cell {css} sc-this-week" '
                f'data-label="{label["this_week"]}" data-testid="this-week">'
                f"{word}</td>"
                f'<td class="num sc-avg" data-label="{label["avg"]}">'
                f"{self.dash}</td>"
            )
        trend = r.trend
        if trend:
            trend_html = self.trend[trend]
        else:
            trend_html = self.dash if not r.expected else self.too_early
        # One pass over the weeks: each cell's HTML and its number for the
        # sparkline. Many cells of a scorecard are alike (the same count, all
        # the missing ones): each distinct one is drawn, and its number read
        # for the sparkline, once.
        first, drawn, done = m.first_week, self.cells, []
        for c, week in zip(r.cells, self.review.weeks, strict=True):
            if c is None:
                done.append(self.before if week < first else self.none)
            else:
                # (value, status, unit): the cell's fields after its metric and week
                key = c[2:]
                done.append(drawn.get(key) or drawn.setdefault(key, self.cell(c)))
        cells, ratios, values = zip(*done, strict=True)
        title = _spark_title(m.name, values, unit, fmt)
        head, tail = self.metric_url
        name = escape(m.name)
        parts = [
            f'<tr data-testid="score-row" data-metric="{m.pk}" data-status="{status}">'
            f'<th scope="row" class="sc-name"><a href="{head}{m.pk}{tail}">'
            f"{name}</a></th>"
            f'<td class="sc-owner">{self.owner(r.owner)}</td>'
            f'<td class="num sc-goal" data-label="{label["goal"]}">'
            f"{fmt.html(goal, unit)}</td>",
            this_week,
            f'<td class="sc-trend trend-{trend or "none"}" '
            f'data-label="{label["trend"]}">{trend_html}</td>'
            f'<td class="sc-spark">{_spark_svg(ratios, title)}</td>',
        ]
        if not self.compact:
            # On a phone the week cells show once this is open (review.css):
            # they stay cells of the row, so the table keeps its columns.
            parts.append(
                '<td class="sc-more"><details class="sc-weeks">'
                f'<summary data-testid="weeks-toggle">{self.weeks_word}'
                f'<span class="visually-hidden">: {name}</span></summary>'
                "</details></td>"
            )
            parts.extend(map(add, self.week_open, cells))
        parts.append("</tr>")
        return "".join(parts)

    def cell(self, c) -> tuple[str, Ratio | None, Decimal | None]:
        """A week's cell (without its `<td`), its number for the sparkline, and
        its number."""
        html = (
            f' class="num cell cell-{c.status}">'
            f"{self.fmt.html(c.value, c.unit)} "
            f"{self.status.get((c.status, False), '')}</td>"
        )
        ratio = None if c.value is None else c.value.as_integer_ratio()
        return html, ratio, c.value


@register.simple_tag
def week_headers(review) -> SafeString:
    """The `<th>` of each of the scorecard's weeks, linked to its review: one
    pass in Python (a template loop cost more than the rest of the header)."""
    head, _sep, tail = reverse(
        "metrics:review-week", args=[review.business.slug, _WEEK]
    ).rpartition(_WEEK)
    current = review.week
    out = []
    for w in review.weeks:
        now, here = (
            (" sc-current", ' aria-current="page"') if w == current else ("", "")
        )
        url = html_escape(f"{head}{w.isoformat()}{tail}")
        day = _week_day(w)
        out.append(
            f'\n            <th scope="col" class="num sc-week{now}"><a href="{url}"'
            f"{here}>{day}</a></th>\n          "
        )
    return mark_safe("".join(out))


@register.simple_tag
def missing_items(review) -> SafeString:
    """The `<li>` of each metric whose number is missing, and who owns it (one
    pass in Python, like the scorecard's rows)."""
    no_owner = html_escape(_("no owner"))
    out = []
    for r in review.missing:
        if r.owner:
            user = r.owner.user
            owner = html_escape(user.name or user.email)
        else:
            owner = f'<span class="muted">{no_owner}</span>'
        out.append(
            '\n      <li><span aria-hidden="true">?</span> <strong>'
            f"{html_escape(r.metric.name)}</strong>\n        — {owner}</li>\n    "
        )
    return mark_safe("".join(out))


# The context key of the rows drawn while rendering the review's figures: there
# the tag leaves a slot and the caller puts the rows in (`fill_rows`). Hundreds
# of kilobytes passed up through each template level are copied at every level
# (mark_safe of the joined text), which would cost more than drawing them.
ROWS = "scorecard_rows"
_ROWS_SLOT = "<!--rows:%d:" + secrets.token_hex(8) + "-->"


@register.simple_tag(takes_context=True)
def scorecard_rows(context, review, compact: bool = False) -> SafeString:
    """`{% scorecard_rows review compact %}`: the `<tbody>` of each stage."""
    html = _Scorecard(review, bool(compact)).render()
    drawn = context.get(ROWS)
    if drawn is None:
        return mark_safe(html)
    slot = _ROWS_SLOT % len(drawn)
    drawn[slot] = html
    return mark_safe(slot)


def fill_rows(page: str, drawn: dict[str, str]) -> bytes:
    """`page` as UTF-8 with the rows drawn into it in place of their slots."""
    data = page.encode()
    for slot, html in drawn.items():
        data = data.replace(slot.encode(), html.encode(), 1)
    return data
