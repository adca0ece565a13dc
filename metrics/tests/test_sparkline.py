"""The scorecard's sparklines against an independent drawing of the rule, with
exact fractions: points spread evenly across 120 × 28 with 3 of padding; the
lowest number at the bottom, the highest at the top, each height rounded to
tenths (halves to even), all in the middle when they are equal; runs of
consecutive numbers are one line each, a lone number a dot, and the last
number a bigger dot. No database: pure drawing."""

import random
import re
from decimal import Decimal
from fractions import Fraction

import pytest

from metrics.templatetags.review import _sparkline

WIDTH, HEIGHT, PAD = 120, 28, 3


def tenths(value: Fraction) -> str:
    rounded = round(value * 10)  # halves to even, exactly
    return f"{rounded // 10}.{rounded % 10}"


def expected(values: list) -> dict:
    count = len(values)
    shown = [Fraction(v) for v in values if v is not None]
    if count < 2 or not shown:
        return {"empty": True}
    low, high = min(shown), max(shown)
    xs = [tenths(PAD + Fraction(WIDTH - 2 * PAD, count - 1) * i) for i in range(count)]

    def y(v) -> str:
        if high == low:
            return tenths(Fraction(HEIGHT, 2))
        share = (Fraction(v) - low) / (high - low)
        return tenths((HEIGHT - PAD) - (HEIGHT - 2 * PAD) * share)

    runs, run = [], []
    for i, v in enumerate(values):
        if v is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append((xs[i], y(v)))
    if run:
        runs.append(run)
    last = (xs[-1], y(values[-1])) if values[-1] is not None else None
    return {
        "empty": False,
        "lines": [r for r in runs if len(r) > 1],
        "dots": [r[0] for r in runs if len(r) == 1],
        "last": last,
    }


def drawn(svg: str) -> dict:
    if 'class="spark spark-empty"' in svg:
        return {"empty": True}
    lines = [
        [tuple(p.split(",")) for p in points.split(" ")]
        for points in re.findall(r'<polyline class="spark-line" points="([^"]+)"', svg)
    ]
    dots = re.findall(r'<circle class="spark-point" cx="([^"]+)" cy="([^"]+)"', svg)
    last = re.findall(r'<circle class="spark-last" cx="([^"]+)" cy="([^"]+)"', svg)
    return {
        "empty": False,
        "lines": lines,
        "dots": dots,
        "last": last[0] if last else None,
    }


def random_values(rng: random.Random) -> list:
    count = rng.choice([0, 1, 2, 3, 4, 7, 13, 13, 13])
    kind = rng.random()
    values = []
    for _ in range(count):
        if rng.random() < 0.2:
            values.append(None)
        elif kind < 0.3:
            values.append(Decimal(rng.randint(-3, 3)))  # small: ties and flats
        elif kind < 0.6:
            values.append(Decimal(rng.randint(0, 10**8)) / 100)  # money
        else:
            values.append(Decimal(rng.randint(1, 9)) / Decimal(rng.choice([2, 4, 8])))
    return values


@pytest.mark.parametrize("seed", range(4))
def test_sparklines_match_an_exact_drawing_of_the_rule(seed):
    rng = random.Random(seed)
    for _ in range(500):
        values = random_values(rng)
        svg = _sparkline(values, "A & B")
        assert drawn(svg) == expected(values), values
        assert "<title>A &amp; B</title>" in svg


def test_the_rule_at_its_edges():
    # A height halfway between two tenths goes to the even one: 3 of 0…440
    # sits at 25 − 22 × 3 / 440 = 24.85 → 24.8 (halves up would say 24.9).
    assert drawn(_sparkline([Decimal(0), Decimal(3), Decimal(440)], "t"))["lines"] == [
        [("3.0", "25.0"), ("60.0", "24.8"), ("117.0", "3.0")]
    ]
    # All the same: a flat line through the middle.
    assert drawn(_sparkline([Decimal(5)] * 3, "t"))["lines"] == [
        [("3.0", "14.0"), ("60.0", "14.0"), ("117.0", "14.0")]
    ]
    # A gap splits the line; a lone number is a dot; the last a bigger one.
    gapped = drawn(_sparkline([Decimal(1), None, Decimal(2), Decimal(3)], "t"))
    assert gapped["dots"] == [("3.0", "25.0")]
    assert gapped["last"] == ("117.0", "3.0")
    assert drawn(_sparkline([None, None], "t")) == {"empty": True}
