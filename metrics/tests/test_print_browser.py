"""The review and the meeting on paper, in real Chromium (static/hourglass/print.css):
every metric's name in full, all 13 weeks of the review's scorecard within the
printable width, and none of the screen's navigation, buttons or forms. Read
twice: the layout under print media at the printable width, and the PDF Chromium
prints, as poppler reads it."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from hourglass.tests.utils import PdfPage, login_browser, pdf_pages
from metrics import rollup, weeks
from metrics.tests.factories import EntryFactory, MetricFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Long names, and the widest numbers a scorecard cell holds.
METRICS = [
    ("Consultations booked after the spring webinar series, all channels", "count", 9),
    ("Revenue from proposals signed within thirty days of the call", "money", 45000),
    ("Share of new clients onboarded without a missing document", "percent", 90),
    ("Hours spent fixing errors in the onboarding paperwork", "duration", 2),
    ("Referrals from clients who came back for a second project", "count", 3),
]
MM = 96 / 25.4  # CSS px per millimetre
MARGIN_PX = 12 * MM  # print.css: @page { margin: 12mm }
# Printable widths in CSS px: the narrowest landscape paper is Letter (11 in),
# the narrowest portrait one A4 (210 mm).
LETTER_LANDSCAPE = 11 * 96 - 2 * MARGIN_PX
A4_PORTRAIT = 210 * MM - 2 * MARGIN_PX


def build_scorecard(business, owner, last_week, copies: int = 1) -> list[str]:
    """`copies` of METRICS (numbered past the first), each with a number in
    every one of the 13 weeks, rolled up; their names."""
    business.currency = "USD"
    business.save(update_fields=["currency"])
    names = []
    for k, (name, unit, goal) in enumerate(METRICS * copies):
        name = f"{name} ({k // len(METRICS)})" if k >= len(METRICS) else name
        metric = MetricFactory(
            business=business,
            name=name,
            unit=unit,
            goal=goal,
            owner=owner,
            first_week=last_week - weeks.WEEK * 12,
        )
        for back in range(13):
            share = Decimal("0.9") + Decimal(back) / 50
            value = Decimal(goal) * share + Decimal("0.25")
            EntryFactory(metric=metric, week=last_week - weeks.WEEK * back, value=value)
        names.append(name)
    for back in range(12, -1, -1):
        rollup.rollup_business_week(business.pk, last_week - weeks.WEEK * back)
    return names


@pytest.fixture
def scorecard(acme, alice_membership, last_week):
    """Five metrics with long names and wide numbers in all 13 weeks."""
    return build_scorecard(acme, alice_membership, last_week)


def open_printed(
    page: Page, live_server, user, path: str, width: float, names: list[str]
) -> None:
    """Open `path` under print media at the printable `width`: every one of
    `names` is shown in full, and nothing is wider than the paper."""
    login_browser(page, live_server, user)
    page.set_viewport_size({"width": int(width), "height": 900})
    page.emulate_media(media="print")
    page.goto(live_server.url + path)
    assert shown_names(page) == names
    assert clipped_names(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def printed(page: Page, paper: str) -> tuple[list[PdfPage], list[str]]:
    """The page printed on `paper`: its pages, and their words in reading order,
    each of which lies within its page."""
    pages = pdf_pages(page.pdf(format=paper, prefer_css_page_size=True))
    for p in pages:
        assert all(0 <= w.x0 and w.x1 <= p.width for w in p.words), paper
    return pages, [w.text for p in pages for w in p.words]


def clipped_names(page: Page) -> list[str]:
    """The metric names that do not show in full: cut by an ellipsis, hidden
    overflow, or wider than their cell."""
    return page.eval_on_selector_all(
        "[data-testid=score-row] th.sc-name",
        """cells => cells.filter(c => {
            const s = getComputedStyle(c);
            return c.scrollWidth > c.clientWidth || s.textOverflow === 'ellipsis'
                || c.getBoundingClientRect().right > window.innerWidth;
        }).map(c => c.innerText)""",
    )


def shown_names(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=score-row] th.sc-name", "cells => cells.map(c => c.innerText)"
    )


def tokens(text: str) -> list[str]:
    # Numbers apart from letters: poppler reads "9월" as two words.
    return re.findall(r"\d+|[^\d\s]+", text)


def reads(words: list[str], text: str) -> bool:
    """Whether the words of `text` stand in `words` in their order (a line of
    the PDF may carry other cells' words between those of a wrapped name)."""
    rest = iter(tokens(" ".join(words)))
    return all(token in rest for token in tokens(text))


def week_labels(page: Page) -> list[str]:
    return page.eval_on_selector_all("th.sc-week", "ths => ths.map(t => t.innerText)")


def visible(page: Page, selector: str) -> int:
    return page.eval_on_selector_all(
        selector, "els => els.filter(e => e.getClientRects().length).length"
    )


@pytest.mark.parametrize("language", ["en", "pl", "ko"])
def test_the_review_prints_every_name_in_full_and_all_13_weeks(
    page: Page, live_server, acme, alice, scorecard, last_week, language
):
    alice.language = language
    alice.save(update_fields=["language"])
    path = reverse("metrics:review-week", args=[acme.slug, last_week.isoformat()])
    open_printed(page, live_server, alice, path, LETTER_LANDSCAPE, scorecard)
    weeks_right = page.eval_on_selector_all(
        "th.sc-week", "ths => ths.map(t => t.getBoundingClientRect().right)"
    )
    assert len(weeks_right) == 13
    assert max(weeks_right) <= LETTER_LANDSCAPE
    # The screen's navigation, buttons and forms stay off the paper.
    for furniture in (".topbar", ".mainnav", ".week-nav", "form", ".button"):
        assert visible(page, furniture) == 0, furniture
    # A row never splits across two pages.
    assert (
        page.eval_on_selector(
            "[data-testid=score-row]", "r => getComputedStyle(r).breakInside"
        )
        == "avoid"
    )

    # On paper: landscape, every week label and every name's words on the page.
    labels = week_labels(page)
    for paper, size in (("Letter", (792, 612)), ("A4", (842, 595))):
        pages, words = printed(page, paper)
        # (Chromium's A4 is rounded to whole CSS pixels: 843 × 596 pt.)
        for p in pages:
            assert abs(p.width - size[0]) < 2 and abs(p.height - size[1]) < 2, paper
        for text in (*labels, *scorecard):
            assert reads(words, text), (paper, text)


def test_the_meeting_print_page_prints_every_name_in_full(
    page: Page, live_server, acme, alice, scorecard, last_week
):
    path = reverse("metrics:meeting-print", args=[acme.slug, last_week.isoformat()])
    open_printed(page, live_server, alice, path, A4_PORTRAIT, scorecard)
    assert visible(page, ".no-print") == 0

    pages, words = printed(page, "A4")
    # Portrait: the meeting's scorecard has no week columns to keep.
    assert all(p.width < p.height for p in pages)
    for name in scorecard:
        assert reads(words, name), name
    assert "…" not in " ".join(words)


def test_a_long_review_prints_its_head_again_on_every_page_of_the_scorecard(
    page: Page, live_server, acme, alice, alice_membership, last_week
):
    names = build_scorecard(acme, alice_membership, last_week, copies=6)
    path = reverse("metrics:review-week", args=[acme.slug, last_week.isoformat()])
    open_printed(page, live_server, alice, path, LETTER_LANDSCAPE, names)

    pages, words = printed(page, "Letter")
    head = " ".join(week_labels(page))
    # The scorecard runs over several pages; each carries the head with the 13
    # weeks. (The copies' names, numbered, are each on one page only.)
    numbered = names[len(METRICS) :]
    with_rows = [
        p.text.split()
        for p in pages
        if any(reads(p.text.split(), name) for name in numbered)
    ]
    assert len(with_rows) >= 2
    for on_page in with_rows:
        assert reads(on_page, head) and "Metric" in on_page
    for name in names:
        assert reads(words, name), name
