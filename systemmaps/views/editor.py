"""The browser editor of a map (static/systemmaps/editor/) and its side panel:
the step's label, kind, stage and notes (applied by the canvas, which is the
only writer of the graph while it is open), and its owner and cost (saved at
once, since they are not part of the graph)."""

import json

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import trigger_client_event

from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, after_write
from hourglass.models import Role, Stage

from .. import document, selectors, services
from ..access import get_map_for_member, get_step_for_member
from ..canvas_svg import canvas_svg
from ..forms import StepDetailsForm, StepPanelForm
from ..graph import lint
from ..models import STEP_DETAIL_FIELDS, Node, NodeKind

# The step panel's forms sit on a page with other forms.
PANEL_FIELD_ID = "step-panel-%s"
OWNER_FIELD_ID = "step-owner-%s"


@business_view()
@require_safe
def map_edit(request: BusinessRequest, pk: int) -> HttpResponse:
    """The browser editor; read-only for members."""
    system_map = get_map_for_member(request, pk)
    graph = selectors.graph_of(system_map)

    def url(name: str, **kwargs) -> str:
        return reverse(
            f"systemmaps:{name}",
            kwargs={"slug": system_map.business.slug, "pk": pk} | kwargs,
        )

    badges = selectors.editor_badges(system_map)
    config = {
        "mapId": system_map.pk,
        "version": system_map.version,
        "canEdit": request.membership.can_edit,
        "graphUrl": url("map-graph"),
        "layoutUrl": url("map-layout"),
        "detailUrl": url("map-detail"),
        "outlineUrl": url("map-outline"),
        # The canvas puts the selected step's id in place of NODE.
        "panelUrl": url("step-panel", node="NODE"),
        "user": request.user.name,
        "storageKey": f"hourglass:map:{system_map.pk}",
        # The saved graph, so the editor draws at once without a second request.
        "graph": graph,
        # Badges of the steps with an owner, a critical flag or automation, by
        # id; not part of the graph (the side panel saves them on their own).
        "steps": badges,
        # The lint of the saved version, until the first save brings a fresh one.
        "lint": [f.as_dict() for f in lint(graph["nodes"], graph["edges"])],
        # Kinds, shapes, colours and spacing: the map document's vocabulary.
        "document": document.editor_config(),
        # "Start", "Task"…: what a screen reader hears a step is (flow.js).
        "roleWords": {role: str(word) for role, word in document.ROLE_WORDS.items()},
    }
    context = {
        "map": system_map,
        "config": config,
        "palette": document.palette(),
        # The map drawn at once, before any script (static-view.js makes it live).
        "static_map": canvas_svg(graph, badges),
    }
    return render(request, "systemmaps/map_edit.html", context)


# ---------------------------------------------------------------------------
# The side panel
# ---------------------------------------------------------------------------


def _panel_values(step: Node, query: QueryDict) -> dict:
    """The step's saved values, overridden by the canvas's unsaved ones."""
    values = {
        "label": step.label,
        "kind": step.kind,
        "stage": step.stage or "",
        "notes": step.notes or "",
    }
    for name in ("label", "notes"):
        if name in query:
            values[name] = query[name]
    if query.get("kind") in NodeKind.values:
        values["kind"] = query["kind"]
    if "stage" in query and query["stage"] in ("", *Stage.values):
        values["stage"] = query["stage"]
    return values


def _owner_context(
    request: BusinessRequest,
    step: Node,
    *,
    form: StepDetailsForm | None = None,
    annual_cost=None,
) -> dict:
    """The "Owner and cost" section of a saved task or decision: a form for
    editors and owners, the values for members."""
    if form is None and request.membership.can_edit:
        form = StepDetailsForm(
            instance=step, business=request.business, auto_id=OWNER_FIELD_ID
        )
    return {
        "step": step,
        "owner_section": "form" if request.membership.can_edit else "values",
        "owner_form": form,
        # A refused form has set its values on `step` already: the caller
        # passes the cost of what is saved.
        "annual_cost": step.annual_cost if annual_cost is None else annual_cost,
    }


def _owner_event(step: Node) -> dict:
    """What the canvas shows of a step: its badges."""
    user = step.owner.user if step.owner_id else None
    return {
        "id": step.client_id,
        "ownerInitials": user.initials if user else "",
        "ownerName": (user.name or user.email) if user else "",
        "critical": step.critical,
        "automation": step.automation,
    }


def _panel(request: BusinessRequest, step: Node) -> HttpResponse:
    values = _panel_values(step, request.GET)
    context = {
        "map": step.map,
        "node_id": step.client_id,
        "values": {
            **values,
            "kind_label": NodeKind(values["kind"]).label,
            "stage_label": Stage(values["stage"]).label if values["stage"] else "",
        },
    }
    if request.membership.can_edit:
        context["form"] = StepPanelForm(initial=values, auto_id=PANEL_FIELD_ID)
    if values["kind"] in document.WORK_KINDS:
        if step.is_work:
            context.update(_owner_context(request, step))
        else:
            # A terminus made a task on the canvas: the row changes on save.
            context["owner_section"] = "pending"
    return render(request, "systemmaps/_step_panel.html", context)


def _panel_checked(request: BusinessRequest, step: Node) -> HttpResponse:
    """Check the panel's fields and hand them back as a `stepChanged` event."""
    context = {"map": step.map, "node_id": step.client_id}
    form = StepPanelForm(request.POST, auto_id=PANEL_FIELD_ID)
    if not form.is_valid():
        context["form"] = form
        template = "systemmaps/_step_panel_details.html"
        return render(request, template, context, status=INVALID)
    values = form.cleaned_data
    context["form"] = StepPanelForm(initial=values, auto_id=PANEL_FIELD_ID)
    context["applied"] = True
    # The values travel in the body (a label and notes in Korean, escaped in
    # JSON, would make a header of 30 KB, which proxies refuse); the event,
    # fired once they are swapped in, names only the step.
    context["changed"] = json.dumps(
        {
            "id": step.client_id,
            "label": values["label"],
            "kind": values["kind"],
            "stage": values["stage"] or None,
            "notes": values["notes"] or None,
        }
    )
    response = render(request, "systemmaps/_step_panel_details.html", context)
    return trigger_client_event(
        response, "stepChanged", {"id": step.client_id}, after="swap"
    )


@business_view(write_role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def step_panel(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    """The canvas's side panel for one step (any kind, so a terminus too)."""
    step = get_step_for_member(request, pk, node, work_only=False)
    if request.method == "POST":
        return _panel_checked(request, step)
    return _panel(request, step)


@business_view(write_role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def step_panel_owner(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    """The side panel's "Owner and cost" section of a task or decision. A POST
    saves at once and tells the canvas through a `stepDetailsChanged` event,
    so its badges follow."""
    step = get_step_for_member(request, pk, node)
    context = {"map": step.map, "node_id": node}
    template = "systemmaps/_step_panel_owner.html"
    if request.method != "POST":
        context.update(_owner_context(request, step))
        return render(request, template, context)
    saved_cost = step.annual_cost
    form = StepDetailsForm(
        request.POST, instance=step, business=request.business, auto_id=OWNER_FIELD_ID
    )
    if not form.is_valid():
        context.update(_owner_context(request, step, form=form, annual_cost=saved_cost))
        return render(request, template, context, status=INVALID)
    services.step_update(
        node=step,
        **{name: form.cleaned_data[name] for name in STEP_DETAIL_FIELDS},
    )
    context.update(_owner_context(request, step), owner_saved=True)

    def saved() -> HttpResponse:
        response = render(request, template, context)
        return trigger_client_event(response, "stepDetailsChanged", _owner_event(step))

    message = _("Saved who does “%(name)s” and what it costs.") % {
        "name": step.label or step.client_id
    }
    return after_write(
        request, fragment=saved, message=message, to=step.get_absolute_url()
    )
