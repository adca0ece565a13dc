from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django_htmx.http import HttpResponseClientRedirect, retarget

from metrics import selectors as metric_selectors
from systemmaps import selectors as map_selectors

from . import archive, selectors, services
from .access import INVALID, HtmxHttpRequest, business_view, printable
from .forms import (
    BusinessForm,
    BusinessImportForm,
    DeleteBusinessForm,
    InvitedSignUpForm,
    InviteForm,
    MarketingOwnerForm,
    MemberProfileForm,
    ProfileForm,
    RoleForm,
    SignUpForm,
    StagePlanForm,
    TacticForm,
)
from .models import (
    MARKETING_STAGES,
    Half,
    Invitation,
    Membership,
    Role,
    Stage,
    StagePlan,
    Tactic,
)
from .services import InvitationError, LastOwnerError

# ---------------------------------------------------------------------------
# Entry points and accounts
# ---------------------------------------------------------------------------


def home(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "hourglass/landing.html")
    membership = (
        Membership.objects.filter(user=request.user)
        .select_related("business")
        .order_by(F("last_used_at").desc(nulls_last=True), "created_at")
        .first()
    )
    if membership is None:
        messages.info(
            request, _("You are not part of any business yet. Create one to start.")
        )
        return redirect("business-create")
    return redirect(membership.business)


@require_http_methods(["GET", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            user, business = services.user_sign_up(
                name=data["name"],
                email=data["email"],
                password=data["password1"],
                business_name=data["business_name"],
            )
            login(request, user, backend=settings.MODEL_BACKEND)
            messages.success(
                request,
                _(
                    "Welcome to Hourglass. Start with the stage your customers "
                    "meet first: Know."
                ),
            )
            return redirect(business)
        return render(
            request, "registration/signup.html", {"form": form}, status=INVALID
        )
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HtmxHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your profile is saved."))
            return redirect("profile")
        status = INVALID
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("business")
        .order_by("business__name")
    )
    return render(
        request,
        "hourglass/profile.html",
        {"form": form, "memberships": memberships},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def business_create(request: HtmxHttpRequest) -> HttpResponse:
    form = BusinessForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            business = services.business_create(
                name=form.cleaned_data["name"],
                owner=request.user,
                currency=form.cleaned_data["currency"],
                timezone_name=form.cleaned_data["timezone"],
            )
            messages.success(request, _("%(name)s is ready.") % {"name": business.name})
            return redirect(business)
        return render(
            request, "hourglass/business_create.html", {"form": form}, status=INVALID
        )
    return render(request, "hourglass/business_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HtmxHttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except InvitationError as error:
        return _invitation_unusable(request, error)

    if request.user.is_authenticated:
        if request.user.email != invitation.email:
            return render(
                request,
                "hourglass/invitation_wrong_user.html",
                {"invitation": invitation},
                status=403,
            )
        if request.method == "POST":
            try:
                membership = services.invitation_accept(
                    invitation=invitation, user=request.user
                )
            except InvitationError as error:
                return _invitation_unusable(request, error)
            return _joined(request, membership)
        return render(
            request, "hourglass/invitation_accept.html", {"invitation": invitation}
        )

    form = InvitedSignUpForm(request.POST or None, email=invitation.email)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                membership = services.invitation_sign_up(
                    invitation=invitation,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                )
            except InvitationError as error:
                return _invitation_unusable(request, error)
            login(request, membership.user, backend=settings.MODEL_BACKEND)
            return _joined(request, membership)
        status = INVALID
    return render(
        request,
        "hourglass/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=status,
    )


def _invitation_unusable(
    request: HtmxHttpRequest, error: InvitationError
) -> HttpResponse:
    return render(
        request,
        "hourglass/invitation_unusable.html",
        {"reason": error.reason, "invitation": error.invitation},
        status=404 if error.reason == InvitationError.INVALID else 410,
    )


def _joined(request: HtmxHttpRequest, membership: Membership) -> HttpResponse:
    messages.success(
        request,
        _("You joined %(business)s as %(role)s.")
        % {"business": membership.business.name, "role": membership.get_role_display()},
    )
    return redirect(membership.business)


# ---------------------------------------------------------------------------
# The hourglass overview, stage plans and tactics
# ---------------------------------------------------------------------------


# The drawing of the hourglass: seven trapezoids narrowing to the neck between
# "try" and "buy" and widening again below it.
_BAND_HEIGHT, _BAND_GAP, _NECK_GAP, _TOP, _CENTRE = 58, 6, 26, 34, 200
_BAND_WIDTHS = [
    (360, 300),
    (300, 240),
    (240, 180),
    (180, 120),
    (120, 180),
    (180, 240),
    (240, 300),
]


def _hourglass_bands(cards) -> list[dict]:
    bands, y = [], _TOP
    for index, card in enumerate(cards):
        if index == len(MARKETING_STAGES):
            y += _NECK_GAP
        top, bottom = _BAND_WIDTHS[index]
        points = [
            (_CENTRE - top / 2, y),
            (_CENTRE + top / 2, y),
            (_CENTRE + bottom / 2, y + _BAND_HEIGHT),
            (_CENTRE - bottom / 2, y + _BAND_HEIGHT),
        ]
        bands.append(
            {
                "card": card,
                "y": y,
                "points": " ".join(f"{x:g},{py:g}" for x, py in points),
                "label_y": y + _BAND_HEIGHT / 2 - 4,
                "sub_y": y + _BAND_HEIGHT / 2 + 14,
            }
        )
        y += _BAND_HEIGHT + _BAND_GAP
    return bands


@business_view()
@require_GET
def overview(request: HtmxHttpRequest) -> HttpResponse:
    halves = selectors.hourglass_stages(request.business)
    cards = halves[Half.MARKETING] + halves[Half.OPERATIONS]
    maps = map_selectors.maps_by_stage(request.business)
    costs = map_selectors.cost_totals(request.business).by_stage
    for card in cards:
        card.maps = maps[card.stage.value]
        card.cost = costs.get(card.stage.value)
    bands = _hourglass_bands(cards)
    return render(
        request,
        "hourglass/overview.html",
        {
            "marketing": halves[Half.MARKETING],
            "operations": halves[Half.OPERATIONS],
            "bands": bands,
            "neck_y": bands[len(MARKETING_STAGES)]["y"] - (_NECK_GAP + _BAND_GAP) / 2,
            "svg_height": bands[-1]["y"] + _BAND_HEIGHT + _TOP,
        },
    )


def _stage_or_404(stage: str) -> str:
    if stage not in Stage.values:
        raise Http404("No such stage")
    return stage


def _overview_anchor(request: HtmxHttpRequest, stage: str) -> str:
    return (
        reverse("hourglass:overview", kwargs={"slug": request.business.slug})
        + f"#stage-{stage}"
    )


@business_view()
@require_GET
def stage_plan(request: HtmxHttpRequest, stage: str) -> HttpResponse:
    """A stage's goal and notes as a fragment (htmx) or the overview at that stage."""
    stage = _stage_or_404(stage)
    if not request.htmx:
        return redirect(_overview_anchor(request, stage))
    card = selectors.stage_card(request.business, stage)
    return render(request, "hourglass/_stage_plan.html", {"card": card})


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def stage_edit(request: HtmxHttpRequest, stage: str) -> HttpResponse:
    stage = _stage_or_404(stage)
    plan = StagePlan.objects.filter(business=request.business, stage=stage).first()
    initial = {"goal": plan.goal, "notes": plan.notes} if plan else {}
    form = StagePlanForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.stage_plan_update(
                business=request.business, stage=stage, **form.cleaned_data
            )
            if request.htmx:
                card = selectors.stage_card(request.business, stage)
                return render(request, "hourglass/_stage_plan.html", {"card": card})
            messages.success(request, _("Stage saved."))
            return redirect(_overview_anchor(request, stage))
        status = INVALID
    context = {"form": form, "card": selectors.stage_card(request.business, stage)}
    template = (
        "hourglass/_stage_plan_form.html"
        if request.htmx
        else "hourglass/stage_edit.html"
    )
    return render(request, template, context, status=status)


def _tactics_response(
    request: HtmxHttpRequest, stage: str, also_stage: str | None = None
) -> HttpResponse:
    context = {"card": selectors.stage_card(request.business, stage)}
    if also_stage and also_stage != stage:
        context["oob_card"] = selectors.stage_card(request.business, also_stage)
    return render(request, "hourglass/_tactics.html", context)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def tactic_create(request: HtmxHttpRequest) -> HttpResponse:
    # `?stage=` names the stage card the form was opened in; the form's own stage
    # field may move the new tactic elsewhere.
    origin = request.GET.get("stage")
    if origin is None:
        posted = request.POST.get("stage")
        origin = posted if posted in Stage.values else Stage.KNOW
    elif origin not in Stage.values:
        raise Http404("No such stage")
    form = TacticForm(request.POST or None, initial={"stage": origin})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            tactic = services.tactic_create(
                business=request.business, **form.cleaned_data
            )
            if request.htmx:
                return _tactics_response(request, origin, also_stage=tactic.stage)
            messages.success(request, _("Tactic added."))
            return redirect(_overview_anchor(request, tactic.stage))
        status = INVALID
    return _render_tactic_form(request, form, origin, None, status)


def _render_tactic_form(
    request: HtmxHttpRequest,
    form: TacticForm,
    stage: str,
    tactic: Tactic | None,
    status: int,
) -> HttpResponse:
    slug = request.business.slug
    if tactic:
        action = reverse(
            "hourglass:tactic-edit", kwargs={"slug": slug, "pk": tactic.pk}
        )
    else:
        action = (
            reverse("hourglass:tactic-create", kwargs={"slug": slug})
            + f"?stage={stage}"
        )
    context = {"form": form, "stage": stage, "tactic": tactic, "action": action}
    if not request.htmx:
        return render(request, "hourglass/tactic_form.html", context, status=status)
    response = render(request, "hourglass/_tactic_form.html", context, status=status)
    if status == INVALID:
        # The form was posted to replace the whole tactics list; with errors it
        # replaces only itself so the messages appear next to the fields.
        form_id = f"tactic-form-{tactic.pk}" if tactic else f"tactic-form-new-{stage}"
        retarget(response, f"#{form_id}")
    return response


def _get_tactic(request: HtmxHttpRequest, pk: int) -> Tactic:
    return get_object_or_404(Tactic, pk=pk, business=request.business)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def tactic_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    tactic = _get_tactic(request, pk)
    old_stage = tactic.stage
    form = TacticForm(
        request.POST or None,
        initial={
            "name": tactic.name,
            "stage": tactic.stage,
            "pep": tactic.pep,
            "note": tactic.note,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.tactic_update(tactic=tactic, **form.cleaned_data)
            if request.htmx:
                return _tactics_response(request, old_stage, also_stage=tactic.stage)
            messages.success(request, _("Tactic saved."))
            return redirect(_overview_anchor(request, tactic.stage))
        status = INVALID
    return _render_tactic_form(request, form, old_stage, tactic, status)


@business_view(role=Role.EDITOR)
@require_POST
def tactic_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    tactic = _get_tactic(request, pk)
    stage = tactic.stage
    services.tactic_delete(tactic=tactic)
    if request.htmx:
        return _tactics_response(request, stage)
    messages.success(request, _("Tactic deleted."))
    return redirect(_overview_anchor(request, stage))


# ---------------------------------------------------------------------------
# Team: members, roles and invitations
# ---------------------------------------------------------------------------


@business_view()
@require_GET
def team(request: HtmxHttpRequest) -> HttpResponse:
    """The accountability chart: who owns which steps, the marketing owner, and
    (for owners) members, invitations and each member's roles and rate."""
    return _render_team(request, InviteForm(business=request.business))


def _chart_context(
    request: HtmxHttpRequest,
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


def _render_team(
    request: HtmxHttpRequest,
    invite_form: InviteForm,
    status: int = 200,
    **chart_forms,
) -> HttpResponse:
    business = request.business
    invitations = []
    if request.membership.is_owner:
        invitations = list(
            Invitation.objects.filter(
                business=business, accepted_at__isnull=True
            ).select_related("invited_by")
        )
        for invitation in invitations:
            invitation.link = request.build_absolute_uri(
                services.invitation_url(invitation)
            )
    return render(
        request,
        "hourglass/team.html",
        {
            **_chart_context(request, **chart_forms),
            "invitations": invitations,
            "invite_form": invite_form,
            "roles": Role.choices,
        },
        status=status,
    )


def _team_url(request: HtmxHttpRequest) -> str:
    return reverse("hourglass:team", kwargs={"slug": request.business.slug})


@business_view(role=Role.OWNER)
@require_POST
def invite(request: HtmxHttpRequest) -> HttpResponse:
    form = InviteForm(request.POST, business=request.business)
    if not form.is_valid():
        return _render_team(request, form, status=INVALID)
    invitation = services.invitation_create(
        business=request.business,
        email=form.cleaned_data["email"],
        role=form.cleaned_data["role"],
        invited_by=request.user,
        base_url=request.build_absolute_uri("/"),
    )
    messages.success(
        request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
    )
    return redirect(_team_url(request))


def _get_invitation(request: HtmxHttpRequest, pk: int) -> Invitation:
    return get_object_or_404(
        Invitation, pk=pk, business=request.business, accepted_at__isnull=True
    )


@business_view(role=Role.OWNER)
@require_POST
def invitation_resend(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    old = _get_invitation(request, pk)
    invitation = services.invitation_create(
        business=request.business,
        email=old.email,
        role=old.role,
        invited_by=request.user,
        base_url=request.build_absolute_uri("/"),
    )
    messages.success(
        request, _("A new invitation went to %(email)s.") % {"email": invitation.email}
    )
    return redirect(_team_url(request))


@business_view(role=Role.OWNER)
@require_POST
def invitation_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    invitation = _get_invitation(request, pk)
    services.invitation_revoke(invitation=invitation)
    messages.success(
        request,
        _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email},
    )
    return redirect(_team_url(request))


def _get_membership(request: HtmxHttpRequest, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "business"),
        pk=pk,
        business=request.business,
    )


@business_view(role=Role.OWNER)
@require_POST
def member_role(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    membership = _get_membership(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role: owner, editor or member."))
        return redirect(_team_url(request))
    try:
        services.membership_change_role(
            membership=membership, role=form.cleaned_data["role"]
        )
    except LastOwnerError as error:
        messages.error(request, str(error))
        return redirect(_team_url(request))
    messages.success(
        request,
        _("%(name)s is now %(role)s.")
        % {"name": membership.user, "role": membership.get_role_display().lower()},
    )
    if membership.user_id == request.user.id and membership.role != Role.OWNER:
        return redirect(request.business)
    return redirect(_team_url(request))


@business_view(role=Role.OWNER)
@require_POST
def member_profile(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """An owner sets a member's roles and hourly rate (inline on the chart)."""
    membership = _get_membership(request, pk)
    form = MemberProfileForm.for_member(membership, request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(
                request,
                "hourglass/_member_profile.html",
                {"m": membership, "form": form, "open": True},
                status=INVALID,
            )
        return _render_team(
            request,
            InviteForm(business=request.business),
            status=INVALID,
            profile_forms={membership.pk: form},
        )
    services.membership_update_profile(
        membership=membership,
        roles=form.cleaned_data["roles"].strip(),
        hourly_rate=form.cleaned_data["hourly_rate"],
    )
    if request.htmx:
        return render(
            request,
            "hourglass/_member_profile.html",
            {
                "m": membership,
                "form": MemberProfileForm.for_member(membership),
                "saved": True,
            },
        )
    messages.success(
        request, _("Saved the roles and rate of %(name)s.") % {"name": membership.user}
    )
    return redirect(_team_url(request) + f"#member-{membership.pk}")


@business_view(role=Role.OWNER)
@require_POST
def marketing_owner(request: HtmxHttpRequest) -> HttpResponse:
    """An owner names the member accountable for marketing (or nobody)."""
    form = MarketingOwnerForm(
        request.POST, members=selectors.business_members(request.business)
    )
    if not form.is_valid():
        if request.htmx:
            return render(
                request,
                "hourglass/_chart.html",
                _chart_context(request, marketing_form=form),
                status=INVALID,
            )
        return _render_team(
            request,
            InviteForm(business=request.business),
            status=INVALID,
            marketing_form=form,
        )
    owner = form.cleaned_data["marketing_owner"]
    services.business_set_marketing_owner(business=request.business, membership=owner)
    if request.htmx:
        return render(request, "hourglass/_chart.html", _chart_context(request))
    if owner:
        messages.success(
            request,
            _("%(name)s is accountable for marketing.") % {"name": owner.user},
        )
    else:
        messages.info(request, _("Nobody is accountable for marketing now."))
    return redirect(_team_url(request))


@business_view(role=Role.OWNER)
@require_POST
def member_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    membership = _get_membership(request, pk)
    try:
        services.membership_remove(membership=membership)
    except LastOwnerError as error:
        messages.error(request, str(error))
        return redirect(_team_url(request))
    messages.success(
        request,
        _("%(name)s no longer belongs to %(business)s.")
        % {"name": membership.user, "business": request.business.name},
    )
    if membership.user_id == request.user.id:
        return redirect("home")
    return redirect(_team_url(request))


@business_view()
@require_POST
def leave(request: HtmxHttpRequest) -> HttpResponse:
    try:
        services.membership_remove(membership=request.membership)
    except LastOwnerError as error:
        messages.error(request, str(error))
        return redirect("profile")
    messages.success(
        request, _("You left %(business)s.") % {"business": request.business.name}
    )
    return redirect("home")


# ---------------------------------------------------------------------------
# Business settings
# ---------------------------------------------------------------------------


def _business_form(business, data=None) -> BusinessForm:
    initial = {
        "name": business.name,
        "currency": business.currency,
        "timezone": business.timezone,
    }
    return BusinessForm(data, initial=initial)


@business_view(role=Role.OWNER)
@require_http_methods(["GET", "POST"])
def business_settings(request: HtmxHttpRequest) -> HttpResponse:
    business = request.business
    form = _business_form(business, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.business_update(
                business=business,
                name=form.cleaned_data["name"],
                currency=form.cleaned_data["currency"],
                timezone_name=form.cleaned_data["timezone"],
            )
            messages.success(request, _("Business settings saved."))
            return redirect("hourglass:settings", slug=business.slug)
        status = INVALID
    return render(
        request,
        "hourglass/business_settings.html",
        {"form": form, "delete_form": DeleteBusinessForm(business_name=business.name)},
        status=status,
    )


@business_view(role=Role.OWNER)
@require_POST
def business_delete(request: HtmxHttpRequest) -> HttpResponse:
    business = request.business
    form = DeleteBusinessForm(request.POST, business_name=business.name)
    if not form.is_valid():
        return render(
            request,
            "hourglass/business_settings.html",
            {"form": _business_form(business), "delete_form": form},
            status=INVALID,
        )
    name = business.name
    services.business_delete(business=business)
    messages.success(
        request, _("%(name)s and everything in it is deleted.") % {"name": name}
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("home"))
    return redirect("home")


# ---------------------------------------------------------------------------
# The whole business as one archive
# ---------------------------------------------------------------------------


@business_view(role=Role.OWNER)
@require_GET
def business_export(request: HtmxHttpRequest) -> HttpResponse:
    business = request.business
    response = HttpResponse(
        archive.archive_export(business), content_type="application/zip"
    )
    filename = f"{business.slug}-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def business_import(request: HtmxHttpRequest) -> HttpResponse:
    form = BusinessImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            business, warnings = archive.business_import(
                raw=form.cleaned_data["file"].read(),
                user=request.user,
                name=form.cleaned_data["name"],
            )
        except archive.ArchiveInvalid as invalid:
            problems = [printable(problem) for problem in invalid.problems]
        else:
            messages.success(
                request, _("%(name)s is imported.") % {"name": business.name}
            )
            for warning in warnings:
                messages.warning(request, warning)
            return redirect(business)
    status = INVALID if request.method == "POST" else 200
    return render(
        request,
        "hourglass/business_import.html",
        {"form": form, "problems": problems},
        status=status,
    )
