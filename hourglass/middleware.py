"""What every request of a signed-in person gets: a session that ends after a
while without activity, and answers no cache keeps (a shared computer's
browser cache, a proxy)."""

import math
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import ngettext

# The session key of the last request's time (seconds since the epoch).
LAST_SEEN = "hourglass_last_seen"
# The time is written at most this often, so a session is not saved on every
# request.
LAST_SEEN_EVERY_SECONDS = 60


def mark_seen(request: HttpRequest) -> None:
    """Start the idle clock of a new session (at login)."""
    request.session[LAST_SEEN] = int(time.time())


def idle_message(seconds: int) -> str:
    hours = seconds / 3600
    if hours >= 1 and hours == int(hours):
        return ngettext(
            "You were signed out after %(count)d hour without activity. "
            "Sign in again to go on.",
            "You were signed out after %(count)d hours without activity. "
            "Sign in again to go on.",
            int(hours),
        ) % {"count": int(hours)}
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "You were signed out after %(count)d minute without activity. "
        "Sign in again to go on.",
        "You were signed out after %(count)d minutes without activity. "
        "Sign in again to go on.",
        minutes,
    ) % {"count": minutes}


class SessionIdleTimeoutMiddleware:
    """Signs out a session unused for `SESSION_IDLE_TIMEOUT` seconds; the
    request then goes on as an anonymous one (a page redirects to the login,
    which says why)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN)
            timeout = settings.SESSION_IDLE_TIMEOUT
            if last_seen is not None and now - last_seen > timeout:
                logout(request)
                messages.info(request, idle_message(timeout))
            elif last_seen is None or now - last_seen >= LAST_SEEN_EVERY_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class PrivateAnswersMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in person: pages,
    fragments and exports hold one business's data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
