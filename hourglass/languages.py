"""Which language the app speaks to whom: the one place that decides.

A person's saved choice (`User.language`, set in the profile or the language
menu) comes first, on every page and in every email to them; without one, a page
follows the language cookie (the menu of a visitor not signed in), then the
browser's Accept-Language, then English (Django's LocaleMiddleware). An email to
someone without a choice (an invitation to a new address, a person who never
chose) is in the language of whoever's action sends it; the weekly reminders,
sent by no one, fall back to English.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from .models import User, normalize_email

CODES = frozenset(code for code, _name in settings.LANGUAGES)


def supported(code: str | None) -> str:
    """`code` ("fr", "fr-FR", "FR") as one of the app's languages, or ""."""
    base = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in CODES else ""


def current() -> str:
    """The language of what is being done now (the request's, or a job's)."""
    return supported(translation.get_language()) or settings.LANGUAGE_CODE


def of_user(user: User | None) -> str:
    """The language to speak to `user`: their choice, else the current one."""
    return supported(getattr(user, "language", "")) or current()


def of_address(email: str) -> str:
    """The language of the account with `email`, else the current one."""
    user = User.objects.filter(email=normalize_email(email)).only("language").first()
    return of_user(user)


def choices() -> list[tuple[str, str]]:
    """(code, the language's own name) of each language, for a menu: a person
    looks for their language written their way."""
    return [
        (code, translation.get_language_info(code)["name_local"])
        for code, _name in settings.LANGUAGES
    ]


def in_every_language(text: Any) -> list[str]:
    """A translatable text (a lazy string, a choice's label) as each of the
    app's languages says it, English first: for reading back words that a file
    written in any of them may hold (a stage's name, a step's badges)."""
    said = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words = str(text)
        if words not in said:
            said.append(words)
    return said


def remember(response: HttpResponse, code: str) -> HttpResponse:
    """`response` setting the language cookie to `code` (pages before signing
    in, and after signing out, speak it), or clearing it for ""."""
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


class UserLanguageMiddleware:
    """After the session's user is known: a signed-in person's saved choice
    overrides the cookie and the browser's (LocaleMiddleware ran before)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            chosen = supported(user.language)
            if chosen:
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
        return self.get_response(request)
