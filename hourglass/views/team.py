from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from metrics import selectors as metric_selectors
from systemmaps import selectors as map_selectors

from .. import ratelimit, selectors, services
from ..access import (
    BusinessRequest,
    business_view,
    get_invitation_for_member,
    get_membership_for_member,
)
from ..forms import InviteForm, MarketingOwnerForm, MemberProfileForm, RoleForm
from ..http import INVALID, after_write, fragment_or_page, go_to
from ..models import Membership, Role
from ..services import LastOwnerError


@business_view()
@require_safe
def team(request: BusinessRequest) -> HttpResponse:
    """The accountability chart: who owns which steps, the marketing owner, and
    (for owners) members, invitations and each member's roles and rate."""
    return _team_page(request)


def _chart_context(
    request: BusinessRequest,
    *,
    profile_forms: dict[int, MemberProfileForm] | None = None,
    marketing_form: MarketingOwnerForm | None = None,
) -> dict:
    business = request.business
    chart = selectors.accountability_chart(
        business,
        map_selectors.steps_for_chart(business),
        metric_selectors.metrics_for_chart(business),
    )
    context = {"chart": chart}
    if request.membership.is_owner:
        profile_forms = profile_forms or {}
        for member in chart.members:
            member.form = profile_forms.get(
                member.membership.pk
            ) or MemberProfileForm.for_member(member.membership)
        context["marketing_form"] = marketing_form or MarketingOwnerForm(
            members=[m.membership for m in chart.members],
            initial={"marketing_owner": business.marketing_owner_id or ""},
        )
    return context


def _team_page(
    request: BusinessRequest,
    invite_form: InviteForm | None = None,
    status: int = 200,
    **chart_forms,
) -> HttpResponse:
    invitations = []
    if request.membership.is_owner:
        invitations = selectors.pending_invitations(
            request.business, request.build_absolute_uri("/")
        )
    return render(
        request,
        "hourglass/team.html",
        {
            **_chart_context(request, **chart_forms),
            "invitations": invitations,
            "invite_form": invite_form or InviteForm(business=request.business),
            "roles": Role.choices,
        },
        status=status,
    )


def _team_url(request: BusinessRequest) -> str:
    return reverse("hourglass:team", kwargs={"slug": request.business.slug})


def _refused(request: BusinessRequest, message: str, to: str = "") -> HttpResponse:
    """Nothing changed: `message` says why, back on the team page (or `to`)."""
    messages.error(request, message)
    return go_to(request, to or _team_url(request))


# ---------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------


@business_view(role=Role.OWNER)
@require_POST
def invite(request: BusinessRequest) -> HttpResponse:
    form = InviteForm(request.POST, business=request.business)
    if not form.is_valid():
        return _team_page(request, form, status=INVALID)
    refusal = _invitation_refusal(request, form.cleaned_data["email"])
    if refusal:
        form.add_error("email", refusal.message)
        return ratelimit.with_retry_after(
            _team_page(request, form, status=ratelimit.TOO_MANY), refusal
        )
    invitation = services.invitation_create(
        business=request.business,
        email=form.cleaned_data["email"],
        role=form.cleaned_data["role"],
        acting_user=request.user,
        base_url=request.build_absolute_uri("/"),
    )
    _said_sent(
        request,
        invitation,
        _("Invitation sent to %(email)s.") % {"email": invitation.email},
    )
    return go_to(request, _team_url(request))


@business_view(role=Role.OWNER)
@require_POST
def invitation_resend(request: BusinessRequest, pk: int) -> HttpResponse:
    old = get_invitation_for_member(request, pk)
    refusal = _invitation_refusal(request, old.email)
    if refusal:
        return _refused(request, refusal.message)
    invitation = services.invitation_create(
        business=request.business,
        email=old.email,
        role=old.role,
        acting_user=request.user,
        base_url=request.build_absolute_uri("/"),
    )
    _said_sent(
        request,
        invitation,
        _("A new invitation went to %(email)s.") % {"email": invitation.email},
    )
    return go_to(request, _team_url(request))


def _invitation_refusal(request: BusinessRequest, email: str):
    """Each invitation mails an address someone typed: limits per inviter, per
    business and per address invited."""
    return ratelimit.hit(
        "invitation",
        user=request.user.pk,
        business=request.business.pk,
        recipient=email,
    )


def _said_sent(request: BusinessRequest, invitation, sent: str) -> None:
    """The message after an invitation: sent, or (the email could not go out)
    kept, with its link on the team page to pass on."""
    if invitation.mailed is False:
        messages.warning(
            request,
            _(
                "The invitation to %(email)s is ready, but its email could not be "
                "sent. Copy its link from the pending invitations below and send it "
                "yourself."
            )
            % {"email": invitation.email},
        )
    else:
        messages.success(request, sent)


@business_view(role=Role.OWNER)
@require_POST
def invitation_revoke(request: BusinessRequest, pk: int) -> HttpResponse:
    invitation = get_invitation_for_member(request, pk)
    services.invitation_revoke(invitation=invitation)
    messages.success(
        request,
        _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email},
    )
    return go_to(request, _team_url(request))


# ---------------------------------------------------------------------------
# Members: role, roles and rate, the marketing owner, leaving
# ---------------------------------------------------------------------------


@business_view(role=Role.OWNER)
@require_POST
def member_role(request: BusinessRequest, pk: int) -> HttpResponse:
    membership = get_membership_for_member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Choose a role: owner, editor or member."))
    try:
        services.membership_change_role(
            membership=membership, role=form.cleaned_data["role"]
        )
    except LastOwnerError as error:
        return _refused(request, str(error))
    messages.success(
        request,
        _("%(name)s is now %(role)s.")
        % {"name": membership.user, "role": membership.get_role_display().lower()},
    )
    if membership.user_id == request.user.id and membership.role != Role.OWNER:
        # No longer an owner, the team page's controls are gone: to the overview.
        return go_to(request, request.business.get_absolute_url())
    return go_to(request, _team_url(request))


def _member_profile_fragment(
    request: BusinessRequest,
    membership: Membership,
    form: MemberProfileForm | None = None,
    *,
    status: int = 200,
    **state: bool,
) -> HttpResponse:
    """A member's roles and rate on the chart: `open` with the form's errors,
    or `saved`."""
    return render(
        request,
        "hourglass/_member_profile.html",
        {
            "m": membership,
            "form": form or MemberProfileForm.for_member(membership),
            **state,
        },
        status=status,
    )


@business_view(role=Role.OWNER)
@require_POST
def member_profile(request: BusinessRequest, pk: int) -> HttpResponse:
    """An owner sets a member's roles and hourly rate (inline on the chart)."""
    membership = get_membership_for_member(request, pk)
    form = MemberProfileForm.for_member(membership, request.POST)
    if not form.is_valid():
        return fragment_or_page(
            request,
            lambda: _member_profile_fragment(
                request, membership, form, status=INVALID, open=True
            ),
            lambda: _team_page(
                request, status=INVALID, profile_forms={membership.pk: form}
            ),
        )
    services.membership_update_profile(
        membership=membership,
        roles=form.cleaned_data["roles"].strip(),
        hourly_rate=form.cleaned_data["hourly_rate"],
    )
    return after_write(
        request,
        fragment=lambda: _member_profile_fragment(request, membership, saved=True),
        message=_("Saved the roles and rate of %(name)s.") % {"name": membership.user},
        to=_team_url(request) + f"#member-{membership.pk}",
    )


def _chart_fragment(
    request: BusinessRequest,
    marketing_form: MarketingOwnerForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    context = _chart_context(request, marketing_form=marketing_form)
    return render(request, "hourglass/_chart.html", context, status=status)


@business_view(role=Role.OWNER)
@require_POST
def marketing_owner(request: BusinessRequest) -> HttpResponse:
    """An owner names the member accountable for marketing (or nobody)."""
    members = selectors.business_members(request.business)
    form = MarketingOwnerForm(request.POST, members=members)
    if not form.is_valid():
        return fragment_or_page(
            request,
            lambda: _chart_fragment(request, form, status=INVALID),
            lambda: _team_page(request, status=INVALID, marketing_form=form),
        )
    owner = form.cleaned_data["marketing_owner"]
    services.business_set_marketing_owner(business=request.business, membership=owner)
    if owner:
        message = _("%(name)s is accountable for marketing.") % {"name": owner.user}
    else:
        message = _("Nobody is accountable for marketing now.")
    return after_write(
        request,
        fragment=lambda: _chart_fragment(request),
        message=message,
        level=messages.SUCCESS if owner else messages.INFO,
        to=_team_url(request),
    )


@business_view(role=Role.OWNER)
@require_POST
def member_remove(request: BusinessRequest, pk: int) -> HttpResponse:
    membership = get_membership_for_member(request, pk)
    try:
        services.membership_remove(membership=membership)
    except LastOwnerError as error:
        return _refused(request, str(error))
    messages.success(
        request,
        _("%(name)s no longer belongs to %(business)s.")
        % {"name": membership.user, "business": request.business.name},
    )
    if membership.user_id == request.user.id:
        return go_to(request, reverse("home"))
    return go_to(request, _team_url(request))


@business_view()
@require_POST
def leave(request: BusinessRequest) -> HttpResponse:
    try:
        services.membership_remove(membership=request.membership)
    except LastOwnerError as error:
        return _refused(request, str(error), to=reverse("profile"))
    messages.success(
        request, _("You left %(business)s.") % {"business": request.business.name}
    )
    return go_to(request, reverse("home"))
