"""Login throttling glue for django-axes: whose address counts, the lockout of
an address that fails on many accounts, the lift of a lockout by a password
reset, and what a locked-out person sees (the login page again, saying how long
to wait).

django-axes locks one (account, address) pair after `AXES_FAILURE_LIMIT`
failures; an address is locked out for every account after
`LOGIN_ADDRESS_FAILURE_LIMIT` failures on any accounts within the cool-off.
"""

import math

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_cool_off, toggleable
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from .forms import LoginForm


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind `TRUSTED_PROXY_COUNT` proxies the X-Forwarded-For
    entry added by the outermost trusted one. Entries left of it come from the
    client and may be forged, so they never count."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def address_failures(address: str | None) -> int:
    """Failed logins from `address` on any accounts within the cool-off."""
    if not address:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check of the (account, address) pair, then the address's own
    limit. Goes first in AUTHENTICATION_BACKENDS; it never logs anyone in."""

    @toggleable
    def authenticate(self, request, username=None, password=None, **kwargs):
        super().authenticate(request, username=username, password=password, **kwargs)
        if address_failures(client_ip(request)) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            # The flag makes AxesMiddleware answer with the lockout page.
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied("This address is locked out.")


def lockout_lift(*, email: str) -> None:
    """A password reset proves the owner of the address: the account's lockouts
    from every address end."""
    axes_reset(username=email)


def lockout_message(request: HttpRequest) -> str:
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0
    return ngettext(
        "Too many failed logins for this account or from this address. "
        "Wait %(minutes)d minute, then try again.",
        "Too many failed logins for this account or from this address. "
        "Wait %(minutes)d minutes, then try again.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The login page with the lockout message, as 429 Too Many Requests."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = LoginForm(request, initial={"username": username})
    return render(
        request,
        "registration/login.html",
        {
            "form": form,
            "next": request.POST.get("next", request.GET.get("next", "")),
            "lockout_message": lockout_message(request),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
