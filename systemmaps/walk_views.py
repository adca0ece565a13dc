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
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import replace_url

from hourglass.access import INVALID, HtmxHttpRequest, business_view

from . import selectors, services
from .access import get_map_for_member, get_step_for_member
from .forms import StepFlagForm
from .models import Node, SystemMap
from .walk import MAX_PATH, InvalidPath, Walk, format_path, parse_path, path_cost

# {str(map pk): {"version": n, "edges": [arrow client ids]}}: one entry per map,
# replaced when the map has a new version (its arrows may have changed).
WALKED_SESSION_KEY = "systemmaps:walked"
FLAG_FIELD_ID = "walk-flag-%s"


def _walk_url(request: HtmxHttpRequest, pk: int, path=()) -> str:
    url = reverse(
        "systemmaps:map-walk", kwargs={"slug": request.business.slug, "pk": pk}
    )
    # Client ids are letters, digits and - _ . : (schema.py), all safe in a query.
    return f"{url}?path={quote(format_path(path), safe=',:')}" if path else url


def _step_url(request: HtmxHttpRequest, pk: int, node_id: str) -> str:
    # Not Node.get_absolute_url: that reads the map's business through the node.
    return reverse(
        "systemmaps:step-detail",
        kwargs={"slug": request.business.slug, "pk": pk, "node": node_id},
    )


def _walked(request: HtmxHttpRequest, system_map: SystemMap) -> set[str]:
    entry = request.session.get(WALKED_SESSION_KEY, {}).get(str(system_map.pk))
    if entry and entry.get("version") == system_map.version:
        return set(entry.get("edges", ()))
    return set()


def _remember(
    request: HtmxHttpRequest, system_map: SystemMap, walked: set[str]
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


def _restart_message(error: InvalidPath) -> str:
    return _("%(problem)s Starting again from the start.") % {"problem": error.message}


def _step_context(
    request: HtmxHttpRequest,
    system_map: SystemMap,
    walk: Walk,
    path: list[str],
    nodes: dict[str, Node],
    walked: set[str],
) -> dict:
    """What the card of the last step of `path` shows."""
    pk = system_map.pk
    node_id = path[-1]
    node = nodes[node_id]
    choices = walk.choices(node_id)
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
        "choices": [
            {
                "label": choice.label,
                "target": walk.name(choice.target),
                "url": _walk_url(request, pk, [*path, choice.target]),
                "walked": choice.edge in walked,
                "stop": walk.is_stop(choice.target),
            }
            for choice in choices
        ],
        "progress": walk.progress(node_id, walked),
        "back_url": _walk_url(request, pk, path[:-1]) if len(path) > 1 else None,
    }
    back = walk.back_to_branch(path, walked)
    if back is not None and back != path:
        step["branch_url"] = _walk_url(request, pk, back)
        step["branch_name"] = walk.name(back[-1])
    if node.is_work:
        step["step_url"] = _step_url(request, pk, node_id)
        step["checklist"] = list(node.checklist_items.all())
        step["flags"] = list(
            node.flags.filter(resolved_at__isnull=True).select_related("created_by")
        )
        step["flag_url"] = reverse(
            "systemmaps:walk-flag",
            kwargs={"slug": request.business.slug, "pk": pk, "node": node_id},
        )
    if step["is_stop"]:
        costs = {cid: n.annual_cost for cid, n in nodes.items() if n.is_work}
        step["total_cost"], step["unknown_costs"] = path_cost(path, costs)
        step["trail"] = [
            {
                "name": walk.name(cid),
                "is_work": cid in costs,
                "cost": costs.get(cid),
            }
            for cid in path
        ]
        step["start_name"] = walk.name(path[0])
    return step


def _render_walk(
    request: HtmxHttpRequest,
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
    if not path and len(walk.starts) == 1:
        path = [walk.starts[0]]
    nodes: dict[str, Node] = {}
    if path:
        nodes = {
            n.client_id: n
            for n in system_map.nodes.filter(client_id__in=set(path)).select_related(
                "owner__user"
            )
        }
        if not all(cid in nodes for cid in path):
            # The map was saved between reading its arrows and its steps.
            path = [walk.starts[0]] if len(walk.starts) == 1 else []
            nodes = {cid: n for cid, n in nodes.items() if cid in path}
            problem = problem or _(
                "The map changed while you walked it. Starting again from the start."
            )
    walked = _walked(request, system_map)
    if path and nodes:
        walked |= set(walk.arrows_of(path))
        _remember(request, system_map, walked)
    done, total = walk.map_progress(walked)
    context = {
        "map": system_map,
        "problem": problem,
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
    partial = request.htmx and not request.htmx.history_restore_request
    template = "systemmaps/_walk_body.html" if partial else "systemmaps/map_walk.html"
    response = render(request, template, context, status=status)
    # One URL serves the page and its fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _walk_of(system_map: SystemMap) -> Walk:
    graph = selectors.graph_of(system_map)
    return Walk(graph["nodes"], graph["edges"])


@business_view()
@require_GET
def map_walk(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Walk through a map from a start, one step at a time."""
    system_map = get_map_for_member(request, pk)
    walk = _walk_of(system_map)
    try:
        path = _checked_path(walk, request.GET.get("path"))
    except InvalidPath as error:
        problem = _restart_message(error)
        if not request.htmx:
            messages.warning(request, problem)
            return redirect(_walk_url(request, pk))
        response = _render_walk(request, system_map, walk, [], problem=problem)
        return replace_url(response, _walk_url(request, pk))
    return _render_walk(request, system_map, walk, path)


@business_view()
@require_POST
def walk_flag(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    """Flag a problem at a step while walking: any member may (it is a note)."""
    step = get_step_for_member(request, pk, node)
    system_map = step.map
    walk = _walk_of(system_map)
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
            request, system_map, walk, path, flag_form=form, status=INVALID
        )
    services.flag_add(node=step, user=request.user, text=form.cleaned_data["text"])
    notice = _("Problem flagged at “%(name)s”.") % {"name": walk.name(node)}
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_walk_url(request, pk, path))
    return _render_walk(request, system_map, walk, path, notice=notice)
