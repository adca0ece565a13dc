"""Helpers shared by every app's tests: the standing cast's password, the htmx
header, logging a browser in, waiting on the page's script, a page after the
worker drew its map, the pages of a PDF as poppler reads them, the URLs under
/b/<slug>/, snapshots and readers of the core app's pages and rows, and the
catalogues extracted afresh."""

import contextlib
import html
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern, URLResolver

from hourglass.models import Business, Invitation, Membership, StagePlan, Tactic

# The password of every user the factories make (hourglass.tests.factories).
PASSWORD = "correct-horse-battery"
# Log users in with `client.force_login(user)` or by posting the login form. The
# test client's `client.login()` calls authenticate() without a request, which the
# login throttle (django-axes, first in AUTHENTICATION_BACKENDS) refuses.

# The header htmx sends with its requests: `client.get(url, headers=HTMX)`.
HTMX = {"HX-Request": "true"}


def reset_link(mail) -> str:
    """The path of the password-reset link in a reset email."""
    match = re.search(
        r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", mail.body
    )
    assert match, mail.body
    return match.group(1)


def signup_data(**overrides) -> dict:
    """A valid sign-up form post, with `overrides`."""
    data = {
        "name": "Nora North",
        "email": "nora@example.com",
        "business_name": "North Bakery",
        "password1": "a-long-unusual-passphrase",
        "password2": "a-long-unusual-passphrase",
        "country": "FR",
        "currency": "EUR",
        "timezone": "Europe/Paris",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Browser tests
# ---------------------------------------------------------------------------


def get_drawn(client: Client, url: str, **extra):
    """GET `url` once the worker has drawn what it shows (a map page, a version
    page, a download): the first load queues the drawing, which the real task
    (systemmaps.tasks.map_draw) then draws here, eagerly, into the shared cache,
    and the second load is returned."""
    from django.test import TestCase

    from hourglass.celery import app

    app.conf.task_always_eager = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.get(url, **extra)
    finally:
        app.conf.task_always_eager = False
    return client.get(url, **extra)


def login_browser(page_or_context, live_server, user):
    """Give a Playwright page (or browser context) the session of `user`, as if
    `user` had logged in on `live_server`; returns what it was given.

    The session comes from a fresh test client's `force_login`, so no login form
    is filled in and no client of the test is logged in or out by it."""
    client = Client()
    client.force_login(user)
    context = getattr(page_or_context, "context", page_or_context)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page_or_context


def wait_for_js(page, expression: str, arg=None, *, timeout: float = 5000) -> None:
    """`page.wait_for_function` that works under the app's Content Security Policy.

    Playwright compiles a wait_for_function predicate with eval inside the page,
    which `script-src 'self'` refuses; page.evaluate goes through the DevTools
    protocol, which the policy does not govern, so poll with it instead."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} ms: {expression}")
        page.wait_for_timeout(50)


# ---------------------------------------------------------------------------
# PDFs, read by poppler (poppler-utils), not by our own code
# ---------------------------------------------------------------------------

_PDF_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
_PDF_WORD = re.compile(
    r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">'
    r"(.*?)</word>"
)


@dataclass
class PdfWord:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class PdfPage:
    width: float
    height: float
    words: list[PdfWord] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def pdf_pages(body: bytes) -> list[PdfPage]:
    """Each page of a PDF, its size in points and its words with their boxes, in
    the order the page draws them (`pdftotext -raw -bbox`). Text clipped away is
    read too: `pdf_images` shows what is on paper."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(body)
        out = subprocess.run(
            ["pdftotext", "-raw", "-bbox", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    pages = []
    for chunk in out.split("</page>")[:-1]:
        size = _PDF_PAGE.search(chunk)
        page = PdfPage(float(size[1]), float(size[2]))
        for x0, y0, x1, y1, text in _PDF_WORD.findall(chunk):
            page.words.append(
                PdfWord(html.unescape(text), *map(float, (x0, y0, x1, y1)))
            )
        pages.append(page)
    return pages


@dataclass
class PdfImage:
    """A page drawn in grey (pdftoppm): `pixels[y * width + x]`, 255 white."""

    width: int
    height: int
    pixels: bytes

    def blank(self, left: int, top: int, right: int, bottom: int) -> bool:
        """Whether the box [left, right) × [top, bottom) is all white."""
        return all(
            self.pixels[y * self.width + left : y * self.width + right]
            == b"\xff" * (right - left)
            for y in range(top, bottom)
        )


def pdf_images(body: bytes, dpi: int = 72) -> list[PdfImage]:
    """Each page of a PDF drawn at `dpi` (72: a pixel a point), in grey: what a
    printer puts on paper, clipping and all (text that poppler reads may be
    clipped away)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(body)
        subprocess.run(
            ["pdftoppm", "-gray", "-r", str(dpi), str(path), str(Path(folder) / "p")],
            check=True,
        )
        images = []
        for page in sorted(Path(folder).glob("p-*.pgm")):
            data = page.read_bytes()
            head = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
            width, height = int(head[1]), int(head[2])
            images.append(PdfImage(width, height, data[head.end() :]))
    return images


# ---------------------------------------------------------------------------
# The URLs under /b/<slug>/, found by walking the resolver
# ---------------------------------------------------------------------------

BUSINESS_PREFIX = "b/<business:slug>/"
# One <converter:name> (or <name>) argument of a route.
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _walk(resolver, prefix: str = "", namespace: str = ""):
    """(full route, view name, whether a regex is involved) of every URL pattern."""
    for pattern in resolver.url_patterns:
        part = pattern.pattern
        if isinstance(part, RoutePattern):
            route, regex = str(part), False
        else:
            route, regex = (
                str(part).lstrip("^").rstrip("$"),
                isinstance(part, RegexPattern),
            )
        if isinstance(pattern, URLResolver):
            inner_ns = (
                f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            )
            for full, name, inner_regex in _walk(pattern, prefix + route, inner_ns):
                yield full, name, regex or inner_regex
        else:
            yield (
                prefix + route,
                (namespace + pattern.name if pattern.name else None),
                regex,
            )


def business_routes() -> list[tuple[str, str | None, bool]]:
    """(route, view name, whether a regex is involved) of every URL under
    /b/<slug>/, the ones other apps add included."""
    return [r for r in _walk(get_resolver()) if r[0].startswith(BUSINESS_PREFIX)]


# ---------------------------------------------------------------------------
# The core app's rows and pages
# ---------------------------------------------------------------------------


def business_snapshot(business: Business) -> dict:
    """Everything a request could change about a business, to compare."""
    return {
        "business": list(
            Business.objects.filter(pk=business.pk).values_list(
                "name", "slug", "currency", "timezone"
            )
        ),
        "memberships": sorted(
            Membership.objects.filter(business=business).values_list(
                "user__email", "role"
            )
        ),
        "stage_plans": sorted(
            StagePlan.objects.filter(business=business).values_list(
                "stage", "goal", "notes"
            )
        ),
        "tactics": sorted(
            Tactic.objects.filter(business=business).values_list(
                "pk", "stage", "name", "pep", "note"
            )
        ),
        "invitations": sorted(
            Invitation.objects.filter(business=business).values_list(
                "pk", "email", "role", "nonce", "accepted_at"
            )
        ),
    }


class _Elements(HTMLParser):
    """Records, for every element with an `id`, the ids and data-* of its ancestors."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.elements: list[tuple[dict, list[dict]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.elements.append((attrs, [a for _t, a in self.stack]))
        if tag not in self.VOID:
            self.stack.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.elements.append((attrs, [a for _t, a in self.stack]))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break


def elements(html: str) -> list[tuple[dict, list[dict]]]:
    """Each element's attributes with its ancestors' attributes, outermost first."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def ancestor_attr(ancestors: list[dict], name: str) -> str | None:
    """The value of `name` on the nearest ancestor that has it."""
    for attrs in reversed(ancestors):
        if name in attrs:
            return attrs[name]
    return None


def extract_catalogues(tmp_path: Path) -> Path:
    """A copy of locale/ with the strings of the code extracted afresh into each
    catalogue (`manage.py extract_messages`), the real catalogues left alone.

    It runs in a copy of the checkout: makemessages writes a file's strings into
    the first locale path whose parent holds the file, so run in the checkout
    it would write into the real locale/ whatever LOCALE_PATHS says."""
    copy = tmp_path / "checkout"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "var", "staticfiles", "__pycache__"
        ),
    )
    with override_settings(LOCALE_PATHS=[copy / "locale"]), contextlib.chdir(copy):
        call_command("extract_messages", verbosity=0)
    return copy / "locale"


# ---------------------------------------------------------------------------
# Messages of the number reader, as each language says them
# ---------------------------------------------------------------------------

_AMBIGUOUS = re.compile(
    r"^(?P<prefix>.*?)“(?P<value>.+)” could be (?P<large>.+) or (?P<small>[^:]+)$"
)
_NOT_A_NUMBER = re.compile(
    r"^(?P<prefix>.*?)“(?P<value>.+)” is not a number\. Type it like (?P<example>.+)\.$"
)
_READ_AS = re.compile(r"^(?P<prefix>.*?)read as (?P<number>[^:]+)(?P<rest>:?.*)$")


def as_said(language: str, english: str) -> str:
    """A message of hourglass/numbers.py written in English in a test (its
    figures written by hand), as `language` says it: the same figures in the
    catalogue's sentence. An ambiguous number's message is given whole."""
    from django.utils import translation

    with translation.override(language):
        if match := _AMBIGUOUS.match(english):
            parts = match.groupdict()
            return (
                parts.pop("prefix")
                + translation.gettext(
                    "“%(value)s” could be %(large)s or %(small)s: type %(large)s for "
                    "the larger number, or %(small)s."
                )
                % parts
            )
        if match := _NOT_A_NUMBER.match(english):
            return (
                match["prefix"]
                + translation.gettext("“%(value)s” is not a number.")
                % {"value": match["value"]}
                + " "
                + translation.gettext("Type it like %(example)s.")
                % {"example": match["example"]}
            )
        if match := _READ_AS.match(english):
            return (
                match["prefix"]
                + translation.gettext("read as %(number)s")
                % {"number": match["number"]}
                + match["rest"]
            )
    return english
