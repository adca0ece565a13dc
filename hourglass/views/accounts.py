from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import languages, ratelimit, selectors, services
from ..access import HtmxHttpRequest
from ..forms import (
    InvitedSignUpForm,
    PasswordResetForm,
    ProfileForm,
    SignUpForm,
    initial_place,
)
from ..http import INVALID, go_to
from ..models import Invitation, Membership, normalize_email
from ..services import InvitationError
from ..throttling import client_ip, lockout_lift


def home(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "hourglass/landing.html")
    membership = selectors.last_used_membership(request.user)
    if membership is None:
        messages.info(
            request, _("You are not part of any business yet. Create one to start.")
        )
        return go_to(request, reverse("business-create"))
    return go_to(request, membership.business.get_absolute_url())


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return go_to(request, reverse("home"))
    form = SignUpForm(request.POST or None, initial=initial_place(request), new=True)
    if request.method == "POST" and form.is_valid():
        refusal = ratelimit.hit("signup", address=client_ip(request))
        if refusal:
            form.add_error(None, refusal.message)
            return ratelimit.with_retry_after(
                render(
                    request,
                    "registration/signup.html",
                    {"form": form},
                    status=ratelimit.TOO_MANY,
                ),
                refusal,
            )
        data = form.cleaned_data
        user, business = services.user_sign_up(
            name=data["name"],
            email=data["email"],
            password=data["password1"],
            business_name=data["business_name"],
            currency=data["currency"],
            timezone_name=data["timezone"],
            country=data["country"],
        )
        login(request, user, backend=settings.MODEL_BACKEND)
        messages.success(
            request,
            _(
                "Welcome to Hourglass. Start with the stage your customers "
                "meet first: Know."
            ),
        )
        return go_to(request, business.get_absolute_url())
    status = INVALID if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HtmxHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(
            user=request.user,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            language=form.cleaned_data["language"],
        )
        # The message and the next page are in the language just chosen.
        translation.activate(languages.of_user(request.user))
        messages.success(request, _("Your profile is saved."))
        return languages.remember(
            go_to(request, reverse("profile")),
            languages.supported(request.user.language),
        )
    return render(
        request,
        "hourglass/profile.html",
        {"form": form, "memberships": selectors.user_memberships(request.user)},
        status=INVALID if request.method == "POST" else 200,
    )


@require_POST
def language(request: HtmxHttpRequest) -> HttpResponse:
    """The language menu (the account menu, or the footer before signing in):
    saved for a signed-in person, remembered in a cookie for everyone; back to
    the page it was chosen on."""
    # Any value is an answer: an unknown language is no choice (the browser's).
    code = languages.supported(request.POST.get("language", ""))
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=code)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    return languages.remember(go_to(request, target), code)


# ---------------------------------------------------------------------------
# Password reset
# ---------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with a limit per address asked for and per client
    address: each request mails whatever address was typed."""

    form_class = PasswordResetForm

    def form_valid(self, form):
        refusal = ratelimit.hit(
            "password_reset",
            recipient=normalize_email(form.cleaned_data["email"]),
            address=client_ip(self.request),
        )
        if refusal:
            form.add_error("email", refusal.message)
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = ratelimit.TOO_MANY
            return ratelimit.with_retry_after(response, refusal)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's new-password form; a reset also ends the account's login
    lockouts, so an attacker's failures cannot keep its owner out."""

    def form_valid(self, form):
        response = super().form_valid(form)
        lockout_lift(email=form.user.email)
        return response


# ---------------------------------------------------------------------------
# Joining a business by invitation
# ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The page an invitation link opens: accept it as the invited user, or sign
    up with the invited address."""
    try:
        invitation = services.invitation_from_token(token)
        if request.user.is_authenticated:
            return _accept_as_user(request, invitation)
        return _accept_by_sign_up(request, invitation)
    except InvitationError as error:
        return render(
            request,
            "hourglass/invitation_unusable.html",
            {"reason": error.reason, "invitation": error.invitation},
            status=404 if error.reason == InvitationError.INVALID else 410,
        )


def _accept_as_user(request: HtmxHttpRequest, invitation: Invitation) -> HttpResponse:
    if request.user.email != invitation.email:
        return render(
            request,
            "hourglass/invitation_wrong_user.html",
            {"invitation": invitation},
            status=403,
        )
    if request.method == "POST":
        membership = services.invitation_accept(
            invitation=invitation, user=request.user
        )
        return _joined(request, membership)
    return render(
        request, "hourglass/invitation_accept.html", {"invitation": invitation}
    )


def _accept_by_sign_up(
    request: HtmxHttpRequest, invitation: Invitation
) -> HttpResponse:
    form = InvitedSignUpForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        membership = services.invitation_sign_up(
            invitation=invitation,
            name=form.cleaned_data["name"],
            password=form.cleaned_data["password1"],
        )
        login(request, membership.user, backend=settings.MODEL_BACKEND)
        return _joined(request, membership)
    return render(
        request,
        "hourglass/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=INVALID if request.method == "POST" else 200,
    )


def _joined(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    messages.success(
        request,
        _("You joined %(business)s as %(role)s.")
        % {"business": membership.business.name, "role": membership.get_role_display()},
    )
    return go_to(request, membership.business.get_absolute_url())
