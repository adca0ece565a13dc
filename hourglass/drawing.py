"""The hourglass of the overview page as SVG geometry: seven trapezoids
narrowing to the neck between "try" and "buy" and widening again below it.
Plain computation on the stage cards."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .models import MARKETING_STAGES

BAND_HEIGHT, BAND_GAP, NECK_GAP, TOP, CENTRE = 58, 6, 26, 34, 200
# (top width, bottom width) of each band, from know down to refer.
BAND_WIDTHS = [
    (360, 300),
    (300, 240),
    (240, 180),
    (180, 120),
    (120, 180),
    (180, 240),
    (240, 300),
]


@dataclass
class HourglassDrawing:
    # One per card: the card, its top `y`, its polygon `points` and the
    # baselines of its label and sub-label.
    bands: list[dict[str, Any]]
    # Where the line between the marketing and the operations half runs.
    neck_y: float
    height: float


def hourglass_bands(cards: Sequence[Any]) -> list[dict[str, Any]]:
    bands, y = [], TOP
    for index, card in enumerate(cards):
        if index == len(MARKETING_STAGES):
            y += NECK_GAP
        top, bottom = BAND_WIDTHS[index]
        points = [
            (CENTRE - top / 2, y),
            (CENTRE + top / 2, y),
            (CENTRE + bottom / 2, y + BAND_HEIGHT),
            (CENTRE - bottom / 2, y + BAND_HEIGHT),
        ]
        bands.append(
            {
                "card": card,
                "y": y,
                "points": " ".join(f"{x:g},{py:g}" for x, py in points),
                "label_y": y + BAND_HEIGHT / 2 - 4,
                "sub_y": y + BAND_HEIGHT / 2 + 14,
            }
        )
        y += BAND_HEIGHT + BAND_GAP
    return bands


def hourglass_drawing(cards: Sequence[Any]) -> HourglassDrawing:
    """The drawing of the seven stage cards, know first."""
    bands = hourglass_bands(cards)
    return HourglassDrawing(
        bands=bands,
        neck_y=bands[len(MARKETING_STAGES)]["y"] - (NECK_GAP + BAND_GAP) / 2,
        height=bands[-1]["y"] + BAND_HEIGHT + TOP,
    )
