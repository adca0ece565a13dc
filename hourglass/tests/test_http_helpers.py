"""hourglass.http: what every view answers, page or fragment, after a write."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from hourglass import http

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {"page.html": "page {{ n }}", "part.html": "part {{ n }}"},
                )
            ]
        },
    }
]


@pytest.fixture(autouse=True)
def _templates(settings):
    settings.TEMPLATES = TEMPLATES


def request(method="get", headers=None):
    made = getattr(RequestFactory(), method)("/x/", headers=headers or {})
    made.session = SessionStore()
    made._messages = FallbackStorage(made)
    HtmxMiddleware(lambda r: HttpResponse())(made)
    return made


HTMX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.mark.parametrize(
    "headers, body", [({}, b"page 1"), (HTMX, b"part 1"), (RESTORE, b"page 1")]
)
def test_page_or_fragment_by_request_and_always_varies(headers, body):
    response = http.page_or_fragment(
        request(headers=headers), "page.html", "part.html", {"n": 1}, status=422
    )
    assert (response.content, response.status_code) == (body, 422)
    assert "HX-Request" in response["Vary"]


def test_fragment_or_page_builds_only_what_is_sent():
    built = []

    def page():
        built.append("page")
        return HttpResponse("page")

    def part():
        built.append("part")
        return HttpResponse("part")

    assert http.fragment_or_page(request(headers=HTMX), part, page).content == b"part"
    assert http.fragment_or_page(request(), part, page).content == b"page"
    assert built == ["part", "page"]


def test_after_write_answers_htmx_with_the_fragment_and_no_message():
    made = request("post", HTMX)
    response = http.after_write(
        made, fragment="part.html", context={"n": 2}, message="Saved.", to="/back/"
    )
    assert (response.status_code, response.content) == (200, b"part 2")
    assert "HX-Request" in response["Vary"]
    assert list(get_messages(made)) == []


def test_after_write_redirects_a_plain_form_with_the_message():
    made = request("post")
    response = http.after_write(made, fragment="part.html", message="Saved.", to="/b/")
    assert (response.status_code, response["Location"]) == (302, "/b/")
    assert [str(m) for m in get_messages(made)] == ["Saved."]


def test_go_to_and_reload_page_speak_htmx_or_redirect():
    assert http.go_to(request("post", HTMX), "/next/")["HX-Redirect"] == "/next/"
    assert http.go_to(request("post"), "/next/")["Location"] == "/next/"
    assert http.reload_page(request("post", HTMX), "/x/")["HX-Refresh"] == "true"
    assert http.reload_page(request("post"), "/x/")["Location"] == "/x/"


def test_download_names_the_file_and_forbids_sniffing():
    response = http.download(b"a,b", content_type="text/csv", filename="n.csv")
    assert response["Content-Disposition"] == 'attachment; filename="n.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    shown = http.download(
        b"<svg/>", content_type="image/svg+xml", filename="m.svg", inline=True
    )
    assert shown["Content-Disposition"].startswith("inline;")


def test_problem_is_plain_text_422_even_with_half_a_surrogate_pair():
    response = http.problem("Week: “\ud800x” is not a date")

    assert response.status_code == http.INVALID == 422
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode("utf-8") == "Week: “\\ud800x” is not a date"
