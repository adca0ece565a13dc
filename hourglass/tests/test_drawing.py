"""The hourglass drawing is plain geometry on the stage cards: no database."""

from hourglass.drawing import BAND_HEIGHT, CENTRE, hourglass_drawing
from hourglass.models import MARKETING_STAGES, STAGE_ORDER


def _corners(band: dict) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in band["points"].split()]


def test_drawing_has_one_band_per_card_top_down():
    drawing = hourglass_drawing(STAGE_ORDER)

    assert [band["card"] for band in drawing.bands] == STAGE_ORDER
    tops = [band["y"] for band in drawing.bands]
    assert tops == sorted(tops)


def test_bands_narrow_to_the_neck_and_widen_below_it():
    widths = [
        _corners(band)[1][0] - _corners(band)[0][0]
        for band in hourglass_drawing(STAGE_ORDER).bands
    ]
    neck = len(MARKETING_STAGES)

    assert widths[:neck] == sorted(widths[:neck], reverse=True)
    assert widths[neck:] == sorted(widths[neck:])


def test_every_band_is_centred():
    for band in hourglass_drawing(STAGE_ORDER).bands:
        xs = [x for x, _y in _corners(band)]
        assert xs[0] + xs[1] == xs[2] + xs[3] == 2 * CENTRE


def test_neck_line_runs_between_try_and_buy_and_the_drawing_holds_every_band():
    drawing = hourglass_drawing(STAGE_ORDER)
    try_band, buy_band = drawing.bands[
        len(MARKETING_STAGES) - 1 : len(MARKETING_STAGES) + 1
    ]

    assert try_band["y"] + BAND_HEIGHT < drawing.neck_y < buy_band["y"]
    assert drawing.height > drawing.bands[-1]["y"] + BAND_HEIGHT
