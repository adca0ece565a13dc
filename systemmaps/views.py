from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hourglass.access import business_view
from hourglass.models import Role, Stage

from . import layout, services
from .access import get_map_for_member
from .builtin import TEMPLATES, get_template
from .forms import ImportForm, MapFilterForm, MapForm, WizardForm
from .graph import analyse, lint
from .mermaid import to_mermaid
from .models import NodeKind, Revision, SystemMap
from .transfer import ImportInvalid, export_json, import_json

INVALID = 422
REVISIONS_ON_MAP_PAGE = 10


def _svg(system_map: SystemMap, graph: dict, version: int) -> tuple[str, str]:
    """(svg, error) for a version of a map; cached, since versions never change."""
    key = f"systemmaps:svg:{system_map.pk}:{version}"
    svg = cache.get(key)
    if svg is None:
        try:
            svg = layout.export(
                graph["nodes"], graph["edges"], fmt="svg", title=graph.get("name")
            ).decode("utf-8")
        except layout.LayoutError as error:
            return "", str(error)
        # Drop the XML prologue and doctype so the SVG can sit inside the page.
        svg = svg[svg.index("<svg") :]
        cache.set(key, svg, 60 * 60 * 24)
    return svg, ""


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------


@business_view()
@require_GET
def map_list(request) -> HttpResponse:
    form = MapFilterForm(request.GET or None)
    maps = SystemMap.objects.filter(business=request.business).alive()
    filters = form.cleaned_data if form.is_valid() else {}
    if filters.get("half"):
        maps = maps.filter(half=filters["half"])
    if filters.get("status"):
        maps = maps.filter(status=filters["status"])
    lint_state = filters.get("lint")
    if lint_state == "errors":
        maps = maps.filter(lint_errors__gt=0)
    elif lint_state == "warnings":
        maps = maps.filter(lint_errors=0, lint_warnings__gt=0)
    elif lint_state == "clean":
        maps = maps.filter(lint_errors=0, lint_warnings=0)
    maps = list(maps.select_related("business", "updated_by"))
    if filters.get("stage"):
        # The stages are a short JSON list; filtering it here works the same on
        # SQLite and PostgreSQL, and a business has tens of maps, not thousands.
        maps = [m for m in maps if filters["stage"] in m.stages]
    trash_count = SystemMap.objects.filter(business=request.business).in_trash().count()
    return render(
        request,
        "systemmaps/map_list.html",
        {
            "maps": maps,
            "filter_form": form,
            "filtered": any(filters.values()),
            "trash_count": trash_count,
        },
    )


@business_view()
@require_GET
def map_trash(request) -> HttpResponse:
    maps = (
        SystemMap.objects.filter(business=request.business)
        .in_trash()
        .select_related("deleted_by")
        .order_by("-deleted_at")
    )
    return render(request, "systemmaps/map_trash.html", {"maps": maps})


# ---------------------------------------------------------------------------
# Creating maps
# ---------------------------------------------------------------------------


def _wizard_graph(data: dict) -> dict:
    """Start terminus, the brainstormed tasks in order, stop terminus, in a row."""
    labels = [
        ("terminus", data["start"]),
        *(("task", task) for task in data["tasks"]),
        ("terminus", data["stop"]),
    ]
    stage = data["stages"][0] if len(data["stages"]) == 1 else None
    nodes = [
        {
            "id": f"n{i}",
            "kind": kind,
            "label": label.strip(),
            "x": 220.0 * (i - 1),
            "y": 0.0,
            "stage": stage,
            "notes": None,
        }
        for i, (kind, label) in enumerate(labels, start=1)
    ]
    edges = [
        {"id": f"e{i}", "source": f"n{i}", "target": f"n{i + 1}", "label": None}
        for i in range(1, len(nodes))
    ]
    name = data["name"] or data["product"]
    return {"schema_version": 1, "name": name, "nodes": nodes, "edges": edges}


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def map_new(request) -> HttpResponse:
    form = WizardForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            graph = _wizard_graph(form.cleaned_data)
            system_map = services.map_create(
                business=request.business,
                user=request.user,
                name=graph["name"],
                half=form.cleaned_data["half"],
                stages=form.cleaned_data["stages"],
                product=form.cleaned_data["product"],
                graph=graph,
            )
            messages.success(
                request,
                _(
                    "“%(name)s” is mapped from start to stop. Now label it, add the "
                    "decisions and branches, and walk it to find gaps."
                )
                % {"name": system_map.name},
            )
            return redirect(system_map)
        return render(
            request, "systemmaps/map_new.html", {"form": form}, status=INVALID
        )
    return render(request, "systemmaps/map_new.html", {"form": form})


@business_view()
@require_GET
def template_list(request) -> HttpResponse:
    return render(request, "systemmaps/template_list.html", {"templates": TEMPLATES})


@business_view(role=Role.EDITOR)
@require_POST
def template_use(request, key: str) -> HttpResponse:
    template = get_template(key)
    if template is None:
        raise Http404("No such template")
    system_map = services.map_create(
        business=request.business,
        user=request.user,
        name=template.name,
        half=template.half,
        stages=template.stages,
        product=template.product,
        description=template.description,
        graph={**template.graph, "name": template.name},
        note=_("From the template “%(name)s”") % {"name": template.name},
    )
    messages.success(
        request,
        _("“%(name)s” is ready. Rename its steps to how your business does them.")
        % {"name": system_map.name},
    )
    return redirect(system_map)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def map_import(request) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            graph = import_json(form.cleaned_data["file"].read())
        except ImportInvalid as invalid:
            problems = invalid.problems
        else:
            name = graph["name"] or form.cleaned_data["file"].name.rsplit(".", 1)[0]
            system_map = services.map_create(
                business=request.business,
                user=request.user,
                name=name[:200],
                half=form.cleaned_data["half"],
                stages=form.cleaned_data["stages"],
                graph={**graph, "name": name[:200]},
                note=_("Imported from %(file)s")
                % {"file": form.cleaned_data["file"].name[:100]},
            )
            messages.success(
                request, _("“%(name)s” is imported.") % {"name": system_map.name}
            )
            return redirect(system_map)
    status = INVALID if request.method == "POST" else 200
    return render(
        request,
        "systemmaps/map_import.html",
        {"form": form, "problems": problems},
        status=status,
    )


# ---------------------------------------------------------------------------
# One map
# ---------------------------------------------------------------------------


def _labelled_analysis(graph: dict, labels: dict[str, str]) -> dict:
    """The analysis with step labels instead of ids, ready for the page."""
    result = analyse(graph["nodes"], graph["edges"])
    stage_names = dict(Stage.choices)
    return {
        "paths": [
            {**p, "start": labels[p["start"]], "end": labels[p["end"]]}
            for p in result["paths"]
        ],
        "steps_per_stage": [
            (stage_names.get(stage, _("No stage")), count)
            for stage, count in result["steps_per_stage"].items()
        ],
        "branches": [
            {
                "decision": labels[b["decision"]],
                "branches": [
                    {"label": br["label"], "target": labels[br["target"]]}
                    for br in b["branches"]
                ],
            }
            for b in result["branches"]
        ],
    }


@business_view()
@require_GET
def map_detail(request, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    graph = services.graph_of(system_map)
    svg, svg_error = _svg(system_map, graph, system_map.version)
    findings = lint(graph["nodes"], graph["edges"])
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    revisions = system_map.revisions.select_related("created_by")[
        :REVISIONS_ON_MAP_PAGE
    ]
    return render(
        request,
        "systemmaps/map_detail.html",
        {
            "map": system_map,
            "svg": svg,
            "svg_error": svg_error,
            "findings": findings,
            "errors": [f for f in findings if f.severity == "error"],
            "analysis": _labelled_analysis(graph, labels),
            "revisions": revisions,
            "node_count": len(graph["nodes"]),
            "edge_count": len(graph["edges"]),
            "kinds": NodeKind,
        },
    )


@business_view()
@require_GET
def map_edit(request, pk: int) -> HttpResponse:
    """The browser editor (static/systemmaps/editor.js); read-only for members."""
    system_map = get_map_for_member(request, pk)
    graph = services.graph_of(system_map)
    slug = request.business.slug
    urls = {
        name: reverse(f"systemmaps:{name}", kwargs={"slug": slug, "pk": pk})
        for name in ("map-graph", "map-layout", "map-detail")
    }
    config = {
        "mapId": system_map.pk,
        "version": system_map.version,
        "canEdit": request.membership.can_edit,
        "graphUrl": urls["map-graph"],
        "layoutUrl": urls["map-layout"],
        "detailUrl": urls["map-detail"],
        "user": request.user.name,
        "storageKey": f"hourglass:map:{system_map.pk}",
        # The lint of the saved version, until the first save brings a fresh one.
        "lint": [f.as_dict() for f in lint(graph["nodes"], graph["edges"])],
    }
    return render(
        request,
        "systemmaps/map_edit.html",
        {"map": system_map, "config": config},
    )


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def map_settings(request, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    initial = {
        "name": system_map.name,
        "product": system_map.product,
        "half": system_map.half,
        "stages": system_map.stages,
        "description": system_map.description,
        "status": system_map.status,
    }
    form = MapForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.map_update(
                    system_map=system_map, user=request.user, **form.cleaned_data
                )
            except services.MapNotReady as error:
                form.add_error("status", str(error))
            else:
                messages.success(request, _("Map saved."))
                return redirect(system_map)
        return render(
            request,
            "systemmaps/map_settings.html",
            {"form": form, "map": system_map},
            status=INVALID,
        )
    return render(
        request, "systemmaps/map_settings.html", {"form": form, "map": system_map}
    )


@business_view(role=Role.EDITOR)
@require_POST
def map_tidy(request, pk: int) -> HttpResponse:
    """Lay the saved map out left to right with Graphviz, as a new version."""
    system_map = get_map_for_member(request, pk)
    graph = services.graph_of(system_map)
    try:
        positions = layout.tidy_positions(graph["nodes"], graph["edges"])
    except layout.LayoutError as error:
        messages.error(request, str(error))
        return redirect(system_map)
    for node in graph["nodes"]:
        node["x"], node["y"] = positions[node["id"]]["x"], positions[node["id"]]["y"]
    services.map_save_graph(
        system_map=system_map,
        graph=graph,
        user=request.user,
        expected_version=system_map.version,
        note=_("Tidied up"),
    )
    messages.success(request, _("The map is tidied up, flowing left to right."))
    return redirect(system_map)


@business_view(role=Role.EDITOR)
@require_POST
def map_duplicate(request, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    copy = services.map_duplicate(system_map=system_map, user=request.user)
    messages.success(request, _("“%(name)s” is a copy.") % {"name": copy.name})
    return redirect(copy)


@business_view(role=Role.EDITOR)
@require_POST
def map_delete(request, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    services.map_delete(system_map=system_map, user=request.user)
    messages.success(
        request,
        _("“%(name)s” is in the trash. An owner can bring it back for %(days)d days.")
        % {"name": system_map.name, "days": 30},
    )
    return redirect("systemmaps:map-list", slug=request.business.slug)


@business_view(role=Role.OWNER)
@require_POST
def map_restore(request, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk, in_trash=True)
    services.map_restore(system_map=system_map)
    messages.success(request, _("“%(name)s” is back.") % {"name": system_map.name})
    return redirect(system_map)


EXPORT_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "json": "application/json",
    "mmd": "text/plain; charset=utf-8",
}


@business_view()
@require_GET
def map_export(request, pk: int, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404("No such format")
    system_map = get_map_for_member(request, pk)
    graph = services.graph_of(system_map)
    if fmt == "json":
        body = export_json(graph)
    elif fmt == "mmd":
        body = to_mermaid(graph).encode("utf-8")
    else:
        try:
            body = layout.export(
                graph["nodes"], graph["edges"], fmt=fmt, title=system_map.name
            )
        except layout.LayoutError as error:
            messages.error(request, str(error))
            return redirect(system_map)
    response = HttpResponse(body, content_type=EXPORT_TYPES[fmt])
    filename = f"{slugify(system_map.name) or 'map'}-v{system_map.version}.{fmt}"
    disposition = (
        "inline" if request.GET.get("inline") and fmt == "svg" else "attachment"
    )
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    if fmt == "svg":
        # An SVG opened on its own is a document: allow no script in it at all.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
    return response


# ---------------------------------------------------------------------------
# Revisions
# ---------------------------------------------------------------------------


@business_view()
@require_GET
def revision_list(request, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    revisions = system_map.revisions.select_related("created_by")
    return render(
        request,
        "systemmaps/revision_list.html",
        {"map": system_map, "revisions": revisions},
    )


def _get_revision(system_map: SystemMap, version: int) -> Revision:
    return get_object_or_404(
        Revision.objects.select_related("created_by"), map=system_map, version=version
    )


@business_view()
@require_GET
def revision_detail(request, pk: int, version: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    revision = _get_revision(system_map, version)
    svg, svg_error = _svg(system_map, revision.graph, revision.version)
    findings = lint(revision.graph["nodes"], revision.graph["edges"])
    return render(
        request,
        "systemmaps/revision_detail.html",
        {
            "map": system_map,
            "revision": revision,
            "svg": svg,
            "svg_error": svg_error,
            "findings": findings,
        },
    )


@business_view(role=Role.EDITOR)
@require_POST
def revision_restore(request, pk: int, version: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    revision = _get_revision(system_map, version)
    result = services.revision_restore(
        system_map=system_map, revision=revision, user=request.user
    )
    messages.success(
        request,
        _("Version %(old)d is back, saved as version %(new)d; nothing was lost.")
        % {"old": revision.version, "new": result.system_map.version},
    )
    return redirect(result.system_map)
