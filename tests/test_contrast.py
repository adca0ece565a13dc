"""The colour tokens of static/hourglass/hourglass.css meet WCAG 2.2 AA: text
at least 4.5:1 on the backgrounds it sits on, boundaries and focus rings at
least 3:1 (1.4.3, 1.4.11). The contrast ratio is computed here from the WCAG
definition of relative luminance, not by a library."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STYLES = ROOT / "static"
TOKENS = STYLES / "hourglass" / "hourglass.css"


def tokens() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", TOKENS.read_text(), re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root))


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour #rrggbb."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_ratio_is_the_wcag_one():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#ffffff", "#ffffff") == 1


TEXT = [
    (ink, ground)
    for ink in ("ink", "ink-soft", "muted", "accent")
    for ground in ("paper", "bg")
] + [
    ("good", "good-soft"),
    ("bad", "bad-soft"),
    ("warn", "warn-soft"),
    ("marketing-ink", "marketing-soft"),
    ("muted", "marketing-soft"),
    ("muted", "warn-soft"),
    ("accent-ink", "accent"),
    # The week on a metric's red and green week tiles (metrics/entries.css).
    ("muted", "good-soft"),
    ("muted", "bad-soft"),
    ("muted", "operations-soft"),
    # Stage names in white on the hourglass and the landing page's stages.
    ("accent-ink", "marketing"),
    ("accent-ink", "operations"),
]
BOUNDARIES = [
    ("focus", "paper"),
    ("focus", "bg"),
    ("field-border", "paper"),
]


@pytest.mark.parametrize(("ink", "ground"), TEXT, ids="-on-".join)
def test_text_reads_at_four_and_a_half_to_one(ink, ground):
    colours = tokens()
    assert contrast(colours[ink], colours[ground]) >= 4.5


@pytest.mark.parametrize(("edge", "ground"), BOUNDARIES, ids="-on-".join)
def test_focus_rings_and_field_borders_stand_out_at_three_to_one(edge, ground):
    colours = tokens()
    assert contrast(colours[edge], colours[ground]) >= 3


def colour_of(value: str, colours: dict[str, str]) -> str | None:
    """A CSS colour value as #rrggbb: a token, a hex colour or white; None for
    anything else (a gradient, `inherit`, `transparent`)."""
    value = value.strip().removesuffix("!important").strip()
    token = re.fullmatch(r"var\(--([\w-]+)\)", value)
    if token:
        return colours.get(token.group(1))
    if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return value.lower()
    if value.lower() in ("#fff", "white"):
        return "#ffffff"
    return None


def text_pairs() -> list[tuple[str, str, str]]:
    """(where, ink, ground) of every rule of every stylesheet that sets both a
    text colour and a background: every chip, badge, pill and button."""
    colours, pairs = tokens(), []
    for sheet in sorted(STYLES.rglob("*.css")):
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
            ink = re.search(r"(?<![-\w])color\s*:\s*([^;]+)", body)
            ground = re.search(r"background(?:-color)?\s*:\s*([^;]+)", body)
            if not (ink and ground):
                continue
            pair = colour_of(ink.group(1), colours), colour_of(ground.group(1), colours)
            if None not in pair:
                where = f"{sheet.relative_to(ROOT)} {' '.join(selector.split())}"
                pairs.append((where, *pair))
    return pairs


def test_the_rules_read_are_the_chips_and_badges():
    found = " ".join(where for where, _ink, _ground in text_pairs())

    for selector in (".badge-marketing", ".badge-critical", ".pep-paid", ".button"):
        assert selector in found


def test_every_chip_and_badge_reads_at_four_and_a_half_to_one():
    low = [
        f"{where}: {ink} on {ground} is {contrast(ink, ground):.2f}:1"
        for where, ink, ground in text_pairs()
        if contrast(ink, ground) < 4.5
    ]

    assert low == []


def test_every_focus_ring_is_the_focus_token():
    """A focus ring drawn in another colour would escape the check above."""
    rings = []
    for sheet in STYLES.rglob("*.css"):
        for rule in re.findall(r"[^{}]*:focus[^{]*\{[^}]*\}", sheet.read_text()):
            for value in re.findall(r"(?:outline|box-shadow)\s*:\s*([^;}]+)", rule):
                if "#" in value:
                    rings.append(f"{sheet.relative_to(ROOT)}: {value.strip()}")
    assert rings == []
