"""What a view answers, decided in one place: a page or its htmx fragment, and
after a write the updated fragment (htmx) or a message and a redirect (a plain
form). Every view under `/b/<slug>/` answers through these.

One URL serves a page and its fragment, so every such answer says `Vary:
HX-Request` (a cache must not hand the fragment to a page load). A history
restore (htmx reloading a page it pushed, after the cache ran out) asks for the
whole page.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

# Form errors answer 422; base.html tells htmx to swap 422 responses so the
# form comes back with its messages next to the fields.
INVALID = 422

Fragment = str | Callable[[], HttpResponse]


def wants_fragment(request: HttpRequest) -> bool:
    """True for an htmx request that swaps part of a page (not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _vary(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request",))
    return response


def page_or_fragment(
    request: HttpRequest,
    page: str,
    fragment: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """The page template, or for htmx only the fragment template, with `context`."""
    template = fragment if wants_fragment(request) else page
    return _vary(render(request, template, context, status=status))


def fragment_or_page(
    request: HttpRequest,
    fragment: Fragment,
    page: Callable[[], HttpResponse],
) -> HttpResponse:
    """The fragment for htmx, else the whole page; each built only when needed
    (a template name is rendered without context beyond the request's)."""
    if wants_fragment(request):
        return _vary(_render_fragment(request, fragment, {}))
    return _vary(page())


def _render_fragment(
    request: HttpRequest, fragment: Fragment, context: Mapping[str, Any]
) -> HttpResponse:
    if callable(fragment):
        return fragment()
    return render(request, fragment, context)


def after_write(
    request: HttpRequest,
    *,
    fragment: Fragment,
    message: str,
    to: str,
    context: Mapping[str, Any] | None = None,
    level: int = messages.SUCCESS,
) -> HttpResponse:
    """After a successful write: for htmx the updated fragment (a template name
    rendered with `context`, or a function that builds the response); for a
    plain form `message` and a redirect to `to`."""
    if request.htmx:
        return _vary(_render_fragment(request, fragment, context or {}))
    messages.add_message(request, level, message)
    return redirect(to)


def go_to(request: HttpRequest, url: str) -> HttpResponse:
    """To another page: htmx follows HX-Redirect, a plain form a 302."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def reload_page(request: HttpRequest, url: str) -> HttpResponse:
    """The page is out of date as a whole: htmx reloads it (HX-Refresh), a plain
    request is redirected to `url`."""
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(url)


def download(
    body: bytes | str, *, content_type: str, filename: str, inline: bool = False
) -> HttpResponse:
    """A file to save (or, with `inline`, to show): named, and never sniffed
    into another type by the browser."""
    response = HttpResponse(body, content_type=content_type)
    # filename*=UTF-8''… for a name in any script, beside a plain ASCII one.
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def file_name(text: str, *, fallback: str) -> str:
    """`text` as the stem of a file name: a slug in its own script
    (`Łódź Księgowość` → `łódź-księgowość`), or `fallback` when nothing is
    left of it."""
    return slugify(text, allow_unicode=True)[:80].strip("-_") or fallback


def problem(message: str) -> HttpResponse:
    """A request no page can answer (a bad week or date range in a link or a
    button's hidden field): the problem as plain text, 422, safe to send
    whatever the message quotes."""
    return HttpResponse(
        printable(message), status=INVALID, content_type="text/plain; charset=utf-8"
    )


def printable(message: str) -> str:
    """A message safe to send as UTF-8: one quoting a value that carries half of a
    surrogate pair (from a JSON escape in an uploaded file) shows it escaped."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")
