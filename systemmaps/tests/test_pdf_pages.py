"""A map's PDF on A4 or Letter pages (systemmaps/pdfpages.py), read back by
poppler: the page size, every word within its page, no text below the minimum
size, a small map on one page and a large one over several; and the paper a
business prints on."""

import subprocess

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from hourglass.tests.utils import get_drawn, pdf_images, pdf_pages
from systemmaps import layout, pdfpages
from systemmaps.tests.factories import chain_graph, fan_graph, webinar_graph

A4, LETTER = layout.PAPERS["a4"], layout.PAPERS["letter"]
MIN_SCALE = pdfpages.MIN_TEXT_PT / layout.SMALLEST_TEXT


def export_pdf(graph: dict, paper: str = "a4") -> bytes:
    return layout.export(
        graph["nodes"], graph["edges"], fmt="pdf", title=graph["name"], paper=paper
    )


def on_paper(body: bytes, paper: str):
    """The PDF's pages, each checked: the paper's size (either way up), nothing
    drawn in its margins but the footer, and every word at least MIN_TEXT_PT
    high (a word's box runs from its font's ascent to its descent, more than the
    font's size)."""
    pages = pdf_pages(body)
    size = sorted(layout.PAPERS[paper])
    m = int(pdfpages.MARGIN) - 1  # (a pixel of anti-aliasing)
    for page, image in zip(pages, pdf_images(body), strict=True):
        assert sorted((page.width, page.height)) == pytest.approx(size, abs=0.01)
        w, h = image.width, image.height
        assert image.blank(0, 0, w, m) and image.blank(0, 0, m, h)
        assert image.blank(w - m, 0, w, h)
        assert image.blank(0, h - m, w, h - int(pdfpages.MARGIN / 2) - 8), "footer"
        for word in page.words:
            assert word.y1 - word.y0 >= pdfpages.MIN_TEXT_PT, word
    return pages


def words_of(pages) -> set[str]:
    return {w.text for p in pages for w in p.words}


def pdfinfo(body: bytes, tmp_path) -> str:
    path = tmp_path / "map.pdf"
    path.write_bytes(body)
    return subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_a_small_map_fits_one_a4_page(tmp_path):
    body = export_pdf(webinar_graph())

    (page,) = on_paper(body, "a4")
    assert {"Webinar", "Consultation", "Future", "bucket", "Signed?"} <= words_of(
        [page]
    )
    assert "(A4)" in pdfinfo(body, tmp_path)


def test_a_one_page_pdf_embeds_every_font_it_uses(tmp_path):
    path = tmp_path / "map.pdf"
    path.write_bytes(export_pdf(webinar_graph()))

    listed = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]

    # (name, type…, emb, sub, uni, object, generation): "yes" for embedded.
    assert listed and all(line.split()[-5] == "yes" for line in listed), listed


def test_a_small_map_fits_one_letter_page(tmp_path):
    body = export_pdf(webinar_graph(), "letter")

    (page,) = on_paper(body, "letter")
    assert "Onboard" in words_of([page])
    assert "(letter)" in pdfinfo(body, tmp_path)


def test_a_120_step_map_is_cut_into_bands_over_several_pages():
    graph = chain_graph("Long line", 118)

    pages = on_paper(export_pdf(graph), "a4")

    # Bands of the strip, several to a page: far fewer pages than pieces.
    assert 2 <= len(pages) <= 10
    words = words_of(pages)
    assert {"Start", "Stop"} <= words
    assert {str(i) for i in range(118)} <= words  # every "Task n" is on paper
    # Each page ends with its footer, drawn last.
    total = len(pages)
    footers = [" ".join(w.text for w in p.words[-3:]) for p in pages]
    assert footers == [f"{n} / {total}" for n in range(1, total + 1)]


def test_a_map_taller_than_a_page_is_tiled_and_each_tile_named():
    graph = fan_graph("Wide fan", branches=30, length=5)

    pages = on_paper(export_pdf(graph, "letter"), "letter")

    assert len(pages) >= 4
    # Each page ends with its footer, drawn last: its number and its tile.
    footers = [" ".join(w.text for w in p.words[-4:]) for p in pages]
    assert footers[:2] == [f"1 / {len(pages)} A1", f"2 / {len(pages)} B1"]
    assert any(f.endswith(" A2") for f in footers)
    assert {"Branch", "task", *(str(b) for b in range(30))} <= words_of(pages)


def test_text_never_prints_below_the_minimum_size():
    # However large the drawing, its smallest text keeps MIN_TEXT_PT.
    for width, height in ((50_000, 100), (3_000, 40_000), (90, 90)):
        plan = pdfpages.plan(width, height, paper=A4, smallest_text=11)
        assert plan.scale * 11 >= pdfpages.MIN_TEXT_PT - 1e-9


def test_a_small_drawing_is_not_enlarged_and_a_wide_one_turns_the_page():
    small = pdfpages.plan(300, 200, paper=A4, smallest_text=11)
    wide = pdfpages.plan(1000, 200, paper=A4, smallest_text=11)

    assert (small.scale, len(small.pages)) == (1.0, 1)
    assert len(wide.pages) == 1 and wide.paper == (A4[1], A4[0])
    assert wide.scale == pytest.approx((A4[1] - 2 * pdfpages.MARGIN) / 1000)


@given(
    width=st.floats(min_value=20, max_value=30_000),
    height=st.floats(min_value=20, max_value=30_000),
    paper=st.sampled_from([A4, LETTER]),
)
def test_the_pieces_cover_the_drawing_and_stay_inside_the_margins(width, height, paper):
    plan = pdfpages.plan(width, height, paper=paper, smallest_text=11)
    w, h = width * plan.scale, height * plan.scale
    room = (plan.paper[0] - pdfpages.MARGIN, plan.paper[1] - pdfpages.MARGIN)
    pieces = [piece for page in plan.pages for piece in page]
    for page in plan.pages:
        for piece in page:
            assert min(piece.x, piece.y) >= pdfpages.MARGIN - 1e-6
            assert piece.x + piece.width <= room[0] + 1e-6
            assert piece.y + piece.height <= room[1] + 1e-6
        # Bands on one page lie one under the other.
        for upper, lower in zip(page, page[1:], strict=False):
            assert upper.y + upper.height <= lower.y
    # Every point of the drawing is on some piece.
    for x in (0, w / 3, w / 2, w - 1e-6):
        for y in (0, h / 2, h - 1e-6):
            assert any(
                p.left <= x <= p.left + p.width and p.top <= y <= p.top + p.height
                for p in pieces
            ), (x, y)
    assert plan.scale >= min(1, MIN_SCALE) - 1e-9


def test_a_pdf_that_is_not_cairos_one_page_is_refused():
    with pytest.raises(ValueError):
        pdfpages.paginate(b"%PDF-1.4\nnot really", paper=A4, smallest_text=11)


# ---------------------------------------------------------------------------
# The paper of the business, or the one asked for
# ---------------------------------------------------------------------------


def export_url(system_map) -> str:
    return reverse(
        "systemmaps:map-export",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk, "fmt": "pdf"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "asked", "paper"),
    [
        ("", "", "a4"),
        ("FR", "", "a4"),
        ("US", "", "letter"),
        ("CA", "", "letter"),
        ("US", "a4", "a4"),
        ("FR", "letter", "letter"),
        ("FR", "tabloid", "a4"),
    ],
)
def test_the_pdf_export_prints_on_the_business_paper_or_the_one_asked(
    alice_client, acme, webinar_map, country, asked, paper
):
    acme.country = country
    acme.save(update_fields=["country"])
    query = f"?paper={asked}" if asked else ""

    response = get_drawn(alice_client, export_url(webinar_map) + query)

    assert response.status_code == 200
    on_paper(response.content, paper)


@pytest.mark.django_db
def test_the_export_menu_offers_both_papers_the_business_own_first(
    alice_client, acme, webinar_map
):
    acme.country = "US"
    acme.save(update_fields=["country"])

    html = alice_client.get(webinar_map.get_absolute_url()).content.decode()

    letter, a4 = html.index("export-pdf-letter"), html.index("export-pdf-a4")
    assert letter < a4
    assert "PDF document, Letter pages" in html and "?paper=a4" in html
