from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.http import retarget

from systemmaps import selectors as map_selectors

from .. import selectors, services
from ..access import (
    BusinessRequest,
    business_view,
    get_stage_for_member,
    get_tactic_for_member,
)
from ..drawing import hourglass_drawing
from ..forms import StagePlanForm, TacticForm
from ..http import (
    INVALID,
    after_write,
    fragment_or_page,
    go_to,
    page_or_fragment,
    wants_fragment,
)
from ..models import Half, Role, Stage, Tactic


@business_view()
@require_safe
def overview(request: BusinessRequest) -> HttpResponse:
    # A whole page for htmx too: the tactic form's Cancel picks its stage's
    # tactics out of it (hx-select).
    halves = selectors.hourglass_stages(request.business)
    cards = halves[Half.MARKETING] + halves[Half.OPERATIONS]
    maps = map_selectors.maps_by_stage(request.business)
    costs = map_selectors.cost_totals(request.business).by_stage
    for card in cards:
        card.maps = maps[card.stage.value]
        card.cost = costs.get(card.stage.value)
    drawing = hourglass_drawing(cards)
    return render(
        request,
        "hourglass/overview.html",
        {
            "marketing": halves[Half.MARKETING],
            "operations": halves[Half.OPERATIONS],
            "bands": drawing.bands,
            "neck_y": drawing.neck_y,
            "svg_height": drawing.height,
        },
    )


def _overview_anchor(request: BusinessRequest, stage: str) -> str:
    return (
        reverse("hourglass:overview", kwargs={"slug": request.business.slug})
        + f"#stage-{stage}"
    )


# ---------------------------------------------------------------------------
# A stage's goal and notes
# ---------------------------------------------------------------------------


def _stage_plan_fragment(request: BusinessRequest, stage: str) -> HttpResponse:
    card = selectors.stage_card(request.business, stage)
    return render(request, "hourglass/_stage_plan.html", {"card": card})


@business_view()
@require_safe
def stage_plan(request: BusinessRequest, stage: str) -> HttpResponse:
    """A stage's goal and notes as a fragment (htmx) or the overview at that stage."""
    stage = get_stage_for_member(request, stage)
    return fragment_or_page(
        request,
        lambda: _stage_plan_fragment(request, stage),
        lambda: go_to(request, _overview_anchor(request, stage)),
    )


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def stage_edit(request: BusinessRequest, stage: str) -> HttpResponse:
    stage = get_stage_for_member(request, stage)
    card = selectors.stage_card(request.business, stage)
    form = StagePlanForm(
        request.POST or None,
        initial={"goal": card.plan.goal, "notes": card.plan.notes},
    )
    if request.method == "POST" and form.is_valid():
        services.stage_plan_update(
            business=request.business, stage=stage, **form.cleaned_data
        )
        return after_write(
            request,
            fragment=lambda: _stage_plan_fragment(request, stage),
            message=_("Stage saved."),
            to=_overview_anchor(request, stage),
        )
    return page_or_fragment(
        request,
        "hourglass/stage_edit.html",
        "hourglass/_stage_plan_form.html",
        {"form": form, "card": card},
        status=INVALID if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------------------
# Tactics
# ---------------------------------------------------------------------------


def _tactics_fragment(
    request: BusinessRequest, stage: str, also_stage: str | None = None
) -> HttpResponse:
    """The tactics of `stage`; of `also_stage` too (swapped out of band) when a
    tactic moved there."""
    context = {"card": selectors.stage_card(request.business, stage)}
    if also_stage and also_stage != stage:
        context["oob_card"] = selectors.stage_card(request.business, also_stage)
    return render(request, "hourglass/_tactics.html", context)


def _tactic_form_response(
    request: BusinessRequest, form: TacticForm, stage: str, tactic: Tactic | None
) -> HttpResponse:
    """The tactic form as a page or, for htmx, the form in its stage card."""
    slug = request.business.slug
    if tactic:
        action = reverse(
            "hourglass:tactic-edit", kwargs={"slug": slug, "pk": tactic.pk}
        )
    else:
        action = reverse("hourglass:tactic-create", kwargs={"slug": slug})
        action += f"?stage={stage}"
    status = INVALID if request.method == "POST" else 200
    response = page_or_fragment(
        request,
        "hourglass/tactic_form.html",
        "hourglass/_tactic_form.html",
        {"form": form, "stage": stage, "tactic": tactic, "action": action},
        status=status,
    )
    if status == INVALID and wants_fragment(request):
        # The form was posted to replace the whole tactics list; with errors it
        # replaces only itself so the messages appear next to the fields.
        form_id = f"tactic-form-{tactic.pk}" if tactic else f"tactic-form-new-{stage}"
        retarget(response, f"#{form_id}")
    return response


def _form_origin(request: BusinessRequest) -> str:
    """The stage card the tactic form was opened in (`?stage=`); the form's own
    stage field may move the tactic elsewhere."""
    if "stage" in request.GET:
        return get_stage_for_member(request, request.GET["stage"])
    posted = request.POST.get("stage")
    return posted if posted in Stage.values else Stage.KNOW


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def tactic_create(request: BusinessRequest) -> HttpResponse:
    origin = _form_origin(request)
    form = TacticForm(request.POST or None, initial={"stage": origin})
    if request.method == "POST" and form.is_valid():
        tactic = services.tactic_create(business=request.business, **form.cleaned_data)
        return after_write(
            request,
            fragment=lambda: _tactics_fragment(request, origin, tactic.stage),
            message=_("Tactic added."),
            to=_overview_anchor(request, tactic.stage),
        )
    return _tactic_form_response(request, form, origin, None)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def tactic_edit(request: BusinessRequest, pk: int) -> HttpResponse:
    tactic = get_tactic_for_member(request, pk)
    old_stage = tactic.stage
    form = TacticForm(
        request.POST or None,
        initial={f: getattr(tactic, f) for f in ("name", "stage", "pep", "note")},
    )
    if request.method == "POST" and form.is_valid():
        services.tactic_update(tactic=tactic, **form.cleaned_data)
        return after_write(
            request,
            fragment=lambda: _tactics_fragment(request, old_stage, tactic.stage),
            message=_("Tactic saved."),
            to=_overview_anchor(request, tactic.stage),
        )
    return _tactic_form_response(request, form, old_stage, tactic)


@business_view(role=Role.EDITOR)
@require_POST
def tactic_delete(request: BusinessRequest, pk: int) -> HttpResponse:
    tactic = get_tactic_for_member(request, pk)
    stage = tactic.stage
    services.tactic_delete(tactic=tactic)
    return after_write(
        request,
        fragment=lambda: _tactics_fragment(request, stage),
        message=_("Tactic deleted."),
        to=_overview_anchor(request, stage),
    )
