"""The walkthrough of a map: one step at a time from the start, asking “what
happens next?”, until a stop.

The walk lives in the URL (`?path=start,nurture,booked`, client ids), so Back is
the previous path and a walk can be shared; htmx swaps the step card and pushes
the URL. The branches a walker has taken are remembered in their session, per
map and map version. Anyone in the business may walk a map and flag a problem
at a step: a flag is a note, not an edit.
"""

from urllib.parse import quote

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import replace_url

from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, after_write, page_or_fragment, wants_fragment

from .. import selectors, services
from ..access import get_map_for_member, get_step_for_member
from ..forms import StepFlagForm
from ..models import Node, SystemMap
from ..walk import MAX_PATH, InvalidPath, Walk, format_path, parse_path, path_cost

# {str(map pk): {"version": n, "edges": [arrow client ids]}}: one entry per map,
# replaced when the map has a new version (its arrows may have changed).
WALKED_SESSION_KEY = "systemmaps:walked"
FLAG_FIELD_ID = "walk-flag-%s"


def _walk_url(request: BusinessRequest, pk: int, path=()) -> str:
    url = reverse(
        "systemmaps:map-walk", kwargs={"slug": request.business.slug, "pk": pk}
    )
    # Client ids are letters, digits and - _ . : (schema.py), all safe in a query.
    return f"{url}?path={quote(format_path(path), safe=',:')}" if path else url


def _step_url(request: BusinessRequest, pk: int, node_id: str, name: str) -> str:
    # Not Node.get_absolute_url: that reads the map's business through the node.
    return reverse(
        f"systemmaps:{name}",
        kwargs={"slug": request.business.slug, "pk": pk, "node": node_id},
    )


def _walked(request: BusinessRequest, system_map: SystemMap) -> set[str]:
    entry = request.session.get(WALKED_SESSION_KEY, {}).get(str(system_map.pk))
    if entry and entry.get("version") == system_map.version:
        return set(entry.get("edges", ()))
    return set()


def _remember(
    request: BusinessRequest, system_map: SystemMap, walked: set[str]
) -> None:
    store = dict(request.session.get(WALKED_SESSION_KEY, {}))
    entry = {"version": system_map.version, "edges": sorted(walked)}
    if store.get(str(system_map.pk)) != entry:
        store[str(system_map.pk)] = entry
        request.session[WALKED_SESSION_KEY] = store


def _checked_path(walk: Walk, raw: str | None) -> list[str]:
    path = parse_path(raw)
    if path:
        walk.check(path)
    return path


def _choices(request: BusinessRequest, pk: int, walk: Walk, path, walked) -> list:
    return [
        {
            "label": choice.label,
            "target": walk.name(choice.target),
            "url": _walk_url(request, pk, [*path, choice.target]),
            "walked": choice.edge in walked,
            "stop": walk.is_stop(choice.target),
        }
        for choice in walk.choices(path[-1])
    ]


def _work_facts(request: BusinessRequest, pk: int, node: Node) -> dict:
    """What the card shows of a task or decision besides its name."""
    return {
        "step_url": _step_url(request, pk, node.client_id, "step-detail"),
        "checklist": selectors.checklist(node),
        "flags": selectors.open_flags(node),
        "flag_url": _step_url(request, pk, node.client_id, "walk-flag"),
    }


def _stop_facts(walk: Walk, path: list[str], nodes: dict[str, Node]) -> dict:
    """At a stop: the path walked and what its steps cost in a year."""
    costs = {cid: n.annual_cost for cid, n in nodes.items() if n.is_work}
    total, unknown = path_cost(path, costs)
    return {
        "total_cost": total,
        "unknown_costs": unknown,
        "trail": [
            {"name": walk.name(cid), "is_work": cid in costs, "cost": costs.get(cid)}
            for cid in path
        ],
        "start_name": walk.name(path[0]),
    }


def _step_context(
    request: BusinessRequest,
    system_map: SystemMap,
    walk: Walk,
    path: list[str],
    nodes: dict[str, Node],
    walked: set[str],
) -> dict:
    """What the card of the last step of `path` shows."""
    pk, node_id = system_map.pk, path[-1]
    node = nodes[node_id]
    choices = _choices(request, pk, walk, path, walked)
    step = {
        "id": node_id,
        "node": node,
        "name": walk.name(node_id),
        "kind_label": walk.role_words(node_id),
        "number": len(path),
        "is_work": node.is_work,
        "is_stop": walk.is_stop(node_id),
        "dead_end": walk.is_dead_end(node_id),
        # One more step would not fit in the URL: the walk stops here.
        "capped": len(path) >= MAX_PATH and bool(choices),
        "branching": len(choices) > 1,
        "choices": choices,
        "progress": walk.progress(node_id, walked),
        "back_url": _walk_url(request, pk, path[:-1]) if len(path) > 1 else None,
    }
    back = walk.back_to_branch(path, walked)
    if back is not None and back != path:
        step["branch_url"] = _walk_url(request, pk, back)
        step["branch_name"] = walk.name(back[-1])
    if node.is_work:
        step.update(_work_facts(request, pk, node))
    if step["is_stop"]:
        step.update(_stop_facts(walk, path, nodes))
    return step


def _steps_on(
    system_map: SystemMap, walk: Walk, path: list[str]
) -> tuple[list[str], dict[str, Node], str]:
    """The path (the start when it is empty and there is one), its steps, and a
    problem when the map was saved between reading its arrows and its steps."""
    if not path and len(walk.starts) == 1:
        path = [walk.starts[0]]
    if not path:
        return path, {}, ""
    nodes = selectors.steps_by_id(system_map, set(path))
    if all(cid in nodes for cid in path):
        return path, nodes, ""
    path = [walk.starts[0]] if len(walk.starts) == 1 else []
    nodes = {cid: n for cid, n in nodes.items() if cid in path}
    return (
        path,
        nodes,
        _("The map changed while you walked it. Starting again from the start."),
    )


def _render_walk(
    request: BusinessRequest,
    system_map: SystemMap,
    walk: Walk,
    path: list[str],
    *,
    problem: str = "",
    notice: str = "",
    flag_form: StepFlagForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The walk page at `path` (checked), or only its body for htmx."""
    path, nodes, changed = _steps_on(system_map, walk, path)
    walked = _walked(request, system_map)
    if path and nodes:
        walked |= set(walk.arrows_of(path))
        _remember(request, system_map, walked)
    done, total = walk.map_progress(walked)
    context = {
        "map": system_map,
        "problem": problem or changed,
        "notice": notice,
        "path_value": format_path(path),
        "start_url": _walk_url(request, system_map.pk),
        "map_done": done,
        "map_total": total,
        "starts": [
            {"name": walk.name(s), "url": _walk_url(request, system_map.pk, [s])}
            for s in walk.starts
        ],
        "flag_form": flag_form or StepFlagForm(auto_id=FLAG_FIELD_ID),
        "max_path": MAX_PATH,
    }
    if path and nodes:
        context["step"] = _step_context(request, system_map, walk, path, nodes, walked)
    page, body = "systemmaps/map_walk.html", "systemmaps/_walk_body.html"
    return page_or_fragment(request, page, body, context, status=status)


def _walk_of(system_map: SystemMap) -> Walk:
    graph = selectors.graph_of(system_map)
    return Walk(graph["nodes"], graph["edges"])


@business_view()
@require_safe
def map_walk(request: BusinessRequest, pk: int) -> HttpResponse:
    """Walk through a map from a start, one step at a time."""
    system_map = get_map_for_member(request, pk)
    walk = _walk_of(system_map)
    try:
        path = _checked_path(walk, request.GET.get("path"))
    except InvalidPath as error:
        problem = _("%(problem)s Starting again from the start.") % {
            "problem": error.message
        }
        if not wants_fragment(request):
            messages.warning(request, problem)
            return redirect(_walk_url(request, pk))
        response = _render_walk(request, system_map, walk, [], problem=problem)
        return replace_url(response, _walk_url(request, pk))
    return _render_walk(request, system_map, walk, path)


@business_view()
@require_POST
def walk_flag(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    """Flag a problem at a step while walking: any member may (it is a note)."""
    step = get_step_for_member(request, pk, node)
    walk = _walk_of(step.map)
    try:
        path = _checked_path(walk, request.POST.get("path"))
    except InvalidPath:
        path = []
    if not path or path[-1] != node:
        # The walk the form came from no longer fits the map: back to the start.
        path = []
    form = StepFlagForm(request.POST, auto_id=FLAG_FIELD_ID)
    if not form.is_valid():
        return _render_walk(
            request, step.map, walk, path, flag_form=form, status=INVALID
        )
    services.flag_add(
        node=step, acting_user=request.user, text=form.cleaned_data["text"]
    )
    notice = _("Problem flagged at “%(name)s”.") % {"name": walk.name(node)}
    return after_write(
        request,
        fragment=lambda: _render_walk(request, step.map, walk, path, notice=notice),
        message=notice,
        to=_walk_url(request, pk, path),
    )
