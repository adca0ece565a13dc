"""Login throttling glue for django-axes: whose address counts, and what a
locked-out person sees (the login page again, saying how long to wait)."""

import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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
