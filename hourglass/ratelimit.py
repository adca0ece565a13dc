"""How often one person, address or business may do what costs others: send
mail, import, export, recompute. Every limit lives in `RULES`; a view asks
`hit(action, user=…, business=…, recipient=…, address=…)` before the work.

Counts live in the cache (Redis in production, so every web process sees the
same ones). A window starts at the first hit of a scope and lasts the rule's
seconds; a refused attempt is not counted, so the user's next allowed moment
does not move. Counting is by number of attempts, never by timing.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# The status of a refusal.
TOO_MANY = 429


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


# action → scope → limit. Scopes: "user" (who acts), "business" (the tenant),
# "recipient" (the email address mail goes to, in any business), "address"
# (the client's IP address, `throttling.client_ip`).
RULES: dict[str, dict[str, Limit]] = {
    # Each invitation (and resend) mails an address the inviter typed.
    "invitation": {
        "user": Limit(20, DAY),
        "business": Limit(40, DAY),
        "recipient": Limit(3, DAY),
    },
    "password_reset": {
        "recipient": Limit(3, HOUR),
        "address": Limit(10, HOUR),
    },
    "signup": {"address": Limit(5, HOUR)},
    # Map imports and business archives.
    "import": {"user": Limit(20, HOUR), "business": Limit(40, HOUR)},
    # Map files, numbers CSV and business archives.
    "export": {"user": Limit(60, HOUR), "business": Limit(120, HOUR)},
    # The review's "Recompute now".
    "recompute": {"user": Limit(12, HOUR), "business": Limit(30, HOUR)},
}


@dataclass(frozen=True)
class Refusal:
    action: str
    scope: str
    retry_after: int  # seconds

    @property
    def message(self) -> str:
        return refusal_message(self.action, self.retry_after)


def refusal_message(action: str, retry_after: int) -> str:
    """What the person is told, with how long to wait (rounded up)."""
    texts = {
        "invitation": _("Too many invitations have been sent for now."),
        "password_reset": _("Too many password reset emails have been asked for."),
        "signup": _("Too many accounts have been created from this address."),
        "import": _("Too many imports for now."),
        "export": _("Too many downloads for now."),
        "recompute": _("Too many recomputes for now."),
    }
    if retry_after >= 2 * HOUR:
        hours = math.ceil(retry_after / HOUR)
        wait = ngettext(
            "Try again in %(count)d hour.", "Try again in %(count)d hours.", hours
        ) % {"count": hours}
    else:
        minutes = max(1, math.ceil(retry_after / MINUTE))
        wait = ngettext(
            "Try again in %(count)d minute.", "Try again in %(count)d minutes.", minutes
        ) % {"count": minutes}
    # Translators: what was refused, then how long to wait.
    return _("%(refused)s %(wait)s") % {"refused": texts[action], "wait": wait}


def _key(action: str, scope: str, value: object) -> str:
    # Hashed: an email address or any text makes a short, safe cache key.
    digest = hashlib.sha256(str(value).lower().encode("utf-8")).hexdigest()[:32]
    return f"ratelimit:{action}:{scope}:{digest}"


def _retry_after(key: str, limit: Limit, now: float) -> int:
    started = cache.get(f"{key}:start")
    if started is None:
        return limit.seconds
    return max(1, math.ceil(started + limit.seconds - now))


def hit(action: str, **scopes: object) -> Refusal | None:
    """Count one `action` for every scope given (None values are skipped), or
    the refusal of the first scope at its limit (then nothing is counted)."""
    if not settings.RATE_LIMITS_ENABLED:
        return None
    rules = RULES[action]
    wanted = {
        scope: value for scope, value in scopes.items() if value not in (None, "")
    }
    unknown = set(wanted) - set(rules)
    if unknown:
        raise ValueError(f"{action} has no limit per {sorted(unknown)}")
    now = time.time()
    keys = {scope: _key(action, scope, value) for scope, value in wanted.items()}
    counts = cache.get_many(list(keys.values()))
    for scope, key in keys.items():
        limit = rules[scope]
        if counts.get(key, 0) >= limit.count:
            return Refusal(action, scope, _retry_after(key, limit, now))
    for scope, key in keys.items():
        limit = rules[scope]
        # The window starts with the first hit and ends with the keys' expiry.
        if cache.add(key, 0, timeout=limit.seconds):
            cache.set(f"{key}:start", now, timeout=limit.seconds)
        try:
            cache.incr(key)
        except ValueError:
            # Expired between add and incr: a new window.
            cache.set(key, 1, timeout=limit.seconds)
            cache.set(f"{key}:start", now, timeout=limit.seconds)
    return None


def refused_page(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """A page saying what was refused and how long to wait, as 429 with
    Retry-After."""
    response = render(
        request, "429.html", {"message": refusal.message}, status=TOO_MANY
    )
    return with_retry_after(response, refusal)


def with_retry_after(response: HttpResponse, refusal: Refusal) -> HttpResponse:
    response["Retry-After"] = str(refusal.retry_after)
    return response
