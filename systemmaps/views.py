import hashlib
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from hourglass.access import INVALID, HtmxHttpRequest, business_view, printable
from hourglass.models import Membership, Role, Stage

from . import document, layout, outline, selectors, services
from .access import get_map_for_member, get_step_for_member
from .builtin import TEMPLATES, get_template
from .document import TASK, TERMINUS, WORK_KINDS, chain_graph, step_name
from .forms import (
    ImportForm,
    MapFilterForm,
    MapForm,
    OutlineBranchForm,
    OutlineLabelForm,
    OutlineVersionForm,
    StepDetailsForm,
    StepPanelForm,
    WizardForm,
)
from .graph import analyse, lint
from .mermaid import to_mermaid
from .models import Automation, Node, NodeKind, Revision, SystemMap
from .schema import GraphInvalid, validate_graph
from .transfer import ImportInvalid, export_json, import_document

REVISIONS_ON_MAP_PAGE = 10


def _svg(
    system_map: SystemMap, graph: dict, version: int, details: dict | None = None
) -> tuple[str, str]:
    """(svg, error) for a version of a map; cached, since versions never change.

    Owners, critical flags and automation (`details`) change without a new
    version, so they are part of the key.
    """
    key = f"systemmaps:svg:{system_map.pk}:{version}"
    if details:
        digest = hashlib.sha256(
            json.dumps(details, sort_keys=True).encode("utf-8")
        ).hexdigest()
        key = f"{key}:{digest[:20]}"
    svg = cache.get(key)
    if svg is None:
        # A version Graphviz could not draw in time will not draw faster on the
        # next page load: remember the failure instead of tying up a worker again.
        failure = cache.get(f"{key}:error")
        if failure:
            return "", failure
        try:
            svg = layout.export(
                graph["nodes"],
                graph["edges"],
                fmt="svg",
                title=graph.get("name"),
                details=details,
            ).decode("utf-8")
        except layout.LayoutError as error:
            cache.set(f"{key}:error", str(error), 60 * 60)
            return "", str(error)
        # Drop the XML prologue and doctype so the SVG can sit inside the page.
        svg = svg[svg.index("<svg") :]
        cache.set(key, svg, 60 * 60 * 24)
    return svg, ""


def _step_badges(system_map: SystemMap) -> dict[str, dict]:
    """The owner, critical flag and automation of each step that has any, by
    client id (one query): the canvas's badges and the drawings' label lines.

    Termini are included (a shape can become a task again in the editor); the
    canvas and the drawings show nothing on them.
    """
    steps = system_map.nodes.filter(
        Q(owner__isnull=False) | Q(critical=True) | ~Q(automation=Automation.MANUAL)
    ).select_related("owner__user")
    return {
        step.client_id: {
            "owner": step.owner.user.name or step.owner.user.email
            if step.owner
            else "",
            "initials": step.owner.user.initials if step.owner else "",
            "critical": step.critical,
            "automation": step.automation,
        }
        for step in steps
    }


def _export_steps(system_map: SystemMap) -> dict[str, dict]:
    """Each task's and decision's details and checklist for the JSON file, the
    owner as the member's email (three queries)."""
    emails = dict(
        Membership.objects.filter(business_id=system_map.business_id).values_list(
            "pk", "user__email"
        )
    )
    steps = {}
    for client_id, step in selectors.steps_of(system_map).items():
        owner_id = step.pop("owner_id")
        steps[client_id] = {**step, "owner": emails.get(owner_id)}
    return steps


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
    steps = [
        (TERMINUS, data["start"]),
        *((TASK, task) for task in data["tasks"]),
        (TERMINUS, data["stop"]),
    ]
    stage = data["stages"][0] if len(data["stages"]) == 1 else None
    return chain_graph(data["name"] or data["product"], steps, stage=stage)


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
            imported = import_document(form.cleaned_data["file"].read())
        except ImportInvalid as invalid:
            problems = [printable(problem) for problem in invalid.problems]
        else:
            graph = imported.graph
            steps, unknown = _owners_by_email(request.business, imported.steps)
            name = graph["name"] or form.cleaned_data["file"].name.rsplit(".", 1)[0]
            system_map = services.map_import(
                business=request.business,
                user=request.user,
                name=name[:200],
                half=form.cleaned_data["half"],
                stages=form.cleaned_data["stages"],
                graph={**graph, "name": name[:200]},
                steps=steps,
                note=_("Imported from %(file)s")
                % {"file": form.cleaned_data["file"].name[:100]},
            )
            message = _("“%(name)s” is imported.") % {"name": system_map.name}
            if unknown:
                count = sum(unknown.values())
                message += " " + ngettext(
                    "%(count)d step has no owner: no member of this business has "
                    "the email %(emails)s.",
                    "%(count)d steps have no owner: no member of this business has "
                    "the email %(emails)s.",
                    count,
                ) % {"count": count, "emails": ", ".join(sorted(unknown))}
            messages.success(request, message)
            return redirect(system_map)
    status = INVALID if request.method == "POST" else 200
    return render(
        request,
        "systemmaps/map_import.html",
        {"form": form, "problems": problems},
        status=status,
    )


def _owners_by_email(
    business, steps: dict[str, dict]
) -> tuple[dict[str, dict], dict[str, int]]:
    """Imported step details with each owner email turned into the member of
    `business` who has it (one query), and how many steps named each email that
    no member has (those steps get no owner)."""
    members = {
        email.lower(): pk
        for pk, email in Membership.objects.filter(business=business).values_list(
            "pk", "user__email"
        )
    }
    unknown: dict[str, int] = {}
    restored = {}
    for node_id, step in steps.items():
        details = {k: v for k, v in step.items() if k != "owner"}
        email = step.get("owner")
        details["owner_id"] = members.get(email.lower()) if email else None
        if email and details["owner_id"] is None:
            unknown[email] = unknown.get(email, 0) + 1
        restored[node_id] = details
    return restored, unknown


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
    graph = selectors.graph_of(system_map)
    svg, svg_error = _svg(
        system_map, graph, system_map.version, _step_badges(system_map)
    )
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
            "cost": selectors.map_cost_total(system_map),
        },
    )


@business_view()
@require_GET
def map_edit(request, pk: int) -> HttpResponse:
    """The browser editor (static/systemmaps/editor.js); read-only for members."""
    system_map = get_map_for_member(request, pk)
    graph = selectors.graph_of(system_map)
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
        "outlineUrl": reverse(
            "systemmaps:map-outline", kwargs={"slug": slug, "pk": pk}
        ),
        # The canvas puts the selected step's id in place of NODE.
        "panelUrl": reverse(
            "systemmaps:step-panel", kwargs={"slug": slug, "pk": pk, "node": "NODE"}
        ),
        "user": request.user.name,
        "storageKey": f"hourglass:map:{system_map.pk}",
        # The saved graph, so the editor draws at once without a second request.
        "graph": graph,
        # Badges of the steps with an owner, a critical flag or automation, by
        # id; not part of the graph (the side panel saves them on their own).
        "steps": {
            client_id: {
                "ownerInitials": step["initials"],
                "ownerName": step["owner"],
                "critical": step["critical"],
                "automation": step["automation"],
            }
            for client_id, step in _step_badges(system_map).items()
        },
        # The lint of the saved version, until the first save brings a fresh one.
        "lint": [f.as_dict() for f in lint(graph["nodes"], graph["edges"])],
        # Kinds, shapes, colours and spacing: the map document's vocabulary.
        "document": document.editor_config(),
    }
    return render(
        request,
        "systemmaps/map_edit.html",
        {"map": system_map, "config": config, "palette": document.palette()},
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
    graph = selectors.graph_of(system_map)
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
    graph = selectors.graph_of(system_map)
    if fmt == "json":
        body = export_json(graph, _export_steps(system_map))
    elif fmt == "mmd":
        body = to_mermaid(graph, _step_badges(system_map)).encode("utf-8")
    else:
        try:
            body = layout.export(
                graph["nodes"],
                graph["edges"],
                fmt=fmt,
                title=system_map.name,
                details=_step_badges(system_map),
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


# ---------------------------------------------------------------------------
# Outline view and step panel
# ---------------------------------------------------------------------------

# The outline's inline forms and the step panel sit on pages with other forms.
OUTLINE_FIELD_ID = "outline-%s"
PANEL_FIELD_ID = "step-panel-%s"
# `?rename=<node>` (and so on) opens that form on that step.
OUTLINE_ACTIONS = ("rename", "add", "branch")


def _outline_url(request: HtmxHttpRequest, pk: int, **query: str) -> str:
    url = reverse(
        "systemmaps:map-outline", kwargs={"slug": request.business.slug, "pk": pk}
    )
    return f"{url}?{urlencode(query)}" if query else url


def _action_fits(graph: dict, action: str, node_id: str) -> bool:
    try:
        role = outline.role_of(graph, node_id)
    except outline.StepNotFound:
        return False
    if action == "add":
        return outline.can_add_next(graph, node_id)
    if action == "branch":
        return role == outline.DECISION
    return True


def _outline_form(
    system_map: SystemMap,
    graph: dict,
    action: str,
    node_id: str,
    data=None,
    initial: dict | None = None,
) -> OutlineVersionForm:
    """The form of an outline action on a step, bound to `data` when given."""
    node = next((n for n in graph["nodes"] if n["id"] == node_id), None)
    name = (node or {}).get("label") or _("this step")
    initial = {"version": system_map.version, **(initial or {})}
    if action == "rename":
        initial.setdefault("label", (node or {}).get("label", ""))
        form = OutlineLabelForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
        form.fields["label"].label = _("New name for “%(name)s”") % {"name": name}
    elif action == "add":
        form = OutlineLabelForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
        form.fields["label"].label = _("Name of the step after “%(name)s”") % {
            "name": name
        }
    elif action == "branch":
        if node is not None:
            initial.setdefault(
                "edge_label", outline.default_branch_label(graph, node_id)
            )
        form = OutlineBranchForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
        form.fields["label"].label = _("First step of the new branch")
    else:
        return OutlineVersionForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
    return form


def _autofocus(form: OutlineVersionForm) -> OutlineVersionForm:
    """Focus the first field to fix, else the name to type."""
    errors = form.errors if form.is_bound else {}
    first = next((f for f in form.fields if f in errors and f != "version"), None)
    form.fields[first or "label"].widget.attrs["autofocus"] = True
    return form


def _render_outline(
    request: HtmxHttpRequest,
    system_map: SystemMap,
    graph: dict,
    *,
    opened: dict | None = None,
    focus: str | None = None,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    """The outline page, or only its body for htmx (one URL serves both)."""
    flow = outline.flow(graph)
    context = {
        "map": system_map,
        "sections": [
            {"start": chain[0], "rows": outline.rows([chain])} for chain in flow.flows
        ],
        "unreached": outline.rows(flow.unreached),
        "node_count": len(graph["nodes"]),
        "edge_count": len(graph["edges"]),
        "can_edit": request.membership.can_edit,
        "outline_url": _outline_url(request, system_map.pk),
        "opened": opened,
        # The step to put keyboard focus on; an open form focuses its own field.
        "focus": None if opened else focus,
        "notice": notice,
        "problem": problem,
    }
    template = (
        "systemmaps/_outline_body.html"
        if request.htmx
        else "systemmaps/map_outline.html"
    )
    return render(request, template, context, status=status)


@business_view()
@require_GET
def map_outline(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The map as an indented list in flow order, editable by editors."""
    system_map = get_map_for_member(request, pk)
    graph = selectors.graph_of(system_map)
    opened = None
    if request.membership.can_edit:
        for action in OUTLINE_ACTIONS:
            node_id = request.GET.get(action)
            if node_id and _action_fits(graph, action, node_id):
                form = _outline_form(system_map, graph, action, node_id)
                opened = {"action": action, "node": node_id, "form": _autofocus(form)}
                break
    return _render_outline(
        request, system_map, graph, opened=opened, focus=request.GET.get("focus")
    )


def _outline_conflict(
    request: HtmxHttpRequest,
    pk: int,
    action: str,
    node_id: str,
    form: OutlineVersionForm,
) -> HttpResponse:
    """The current outline, saying who saved meanwhile; what was typed stays in
    the form (now on the current version), so nothing is lost on either side."""
    system_map = get_map_for_member(request, pk)
    graph = selectors.graph_of(system_map)
    who = system_map.updated_by.name if system_map.updated_by else _("someone")
    problem = _(
        "Someone saved this map meanwhile (version %(version)d by %(name)s); your "
        "change was not applied — here is the current outline."
    ) % {"version": system_map.version, "name": who}
    opened = None
    if action in OUTLINE_ACTIONS and _action_fits(graph, action, node_id):
        typed = {
            name: form.data.get(name, "")[:500]
            for name in ("label", "edge_label")
            if name in form.fields
        }
        again = _outline_form(system_map, graph, action, node_id, initial=typed)
        opened = {"action": action, "node": node_id, "form": _autofocus(again)}
    return _render_outline(
        request, system_map, graph, opened=opened, problem=problem, status=INVALID
    )


def _outline_edit(
    request: HtmxHttpRequest, pk: int, node_id: str, action: str, change
) -> HttpResponse:
    """Apply one outline edit: `change(graph, cleaned_data)` returns the new
    graph, the step to focus, the revision note and the message to show."""
    system_map = get_map_for_member(request, pk)
    graph = selectors.graph_of(system_map)
    form = _outline_form(system_map, graph, action, node_id, request.POST)
    valid = form.is_valid()
    version = form.cleaned_data.get("version")
    if version is not None and version != system_map.version:
        return _outline_conflict(request, pk, action, node_id, form)
    if not any(n["id"] == node_id for n in graph["nodes"]):
        raise Http404("No such step")
    if valid:
        try:
            new_graph, focus, note, done = change(graph, form.cleaned_data)
            clean = validate_graph(new_graph)
        except outline.OutlineError as error:
            form.add_error(error.field, error.message)
        except GraphInvalid as invalid:
            for problem in invalid.problems:
                field = problem.field if problem.field in form.fields else None
                form.add_error(field, problem.message)
        else:
            try:
                result = services.map_save_graph(
                    system_map=system_map,
                    graph=clean,
                    user=request.user,
                    expected_version=version,
                    note=Truncator(_("Outline: %(change)s") % {"change": note}).chars(
                        200
                    ),
                )
            except services.VersionConflict:
                return _outline_conflict(request, pk, action, node_id, form)
            if not request.htmx:
                messages.success(request, done)
                anchor = f"#step-{focus}" if focus else ""
                return redirect(_outline_url(request, pk) + anchor)
            saved = _("Saved as version %(version)d.") % {
                "version": result.system_map.version
            }
            return _render_outline(
                request,
                result.system_map,
                selectors.graph_of(result.system_map),
                focus=focus,
                notice=f"{done} {saved}",
            )
    if action in OUTLINE_ACTIONS:
        opened = {"action": action, "node": node_id, "form": _autofocus(form)}
        return _render_outline(
            request, system_map, graph, opened=opened, status=INVALID
        )
    problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _render_outline(request, system_map, graph, problem=problem, status=INVALID)


def _name_of(graph: dict, node_id: str) -> str:
    return step_name(next(n for n in graph["nodes"] if n["id"] == node_id))


@business_view(role=Role.EDITOR)
@require_POST
def outline_rename(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    def change(graph: dict, data: dict):
        new_graph = outline.rename(graph, node, data["label"])
        names = {"old": _name_of(graph, node), "new": _name_of(new_graph, node)}
        text = _("renamed %(old)s to %(new)s") % names
        done = _("Renamed %(old)s to %(new)s.") % names
        return new_graph, node, text, done

    return _outline_edit(request, pk, node, "rename", change)


@business_view(role=Role.EDITOR)
@require_POST
def outline_add_next(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    def change(graph: dict, data: dict):
        new_graph, new_id = outline.add_next(graph, node, data["label"])
        names = {
            "new": _name_of(new_graph, new_id),
            "after": _name_of(graph, node),
        }
        text = _("added %(new)s after %(after)s") % names
        done = _("Added %(new)s after %(after)s.") % names
        return new_graph, new_id, text, done

    return _outline_edit(request, pk, node, "add", change)


@business_view(role=Role.EDITOR)
@require_POST
def outline_add_branch(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    def change(graph: dict, data: dict):
        new_graph, new_id = outline.add_branch(
            graph, node, data["label"], data["edge_label"]
        )
        names = {
            "branch": data["edge_label"].strip(),
            "new": _name_of(new_graph, new_id),
            "decision": _name_of(graph, node),
        }
        text = _("added the branch “%(branch)s” → %(new)s to %(decision)s") % names
        done = _("Added the branch “%(branch)s” → %(new)s to %(decision)s.") % names
        return new_graph, new_id, text, done

    return _outline_edit(request, pk, node, "branch", change)


@business_view(role=Role.EDITOR)
@require_POST
def outline_delete(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    def change(graph: dict, data: dict):
        name = _name_of(graph, node)
        text = _("deleted %(name)s") % {"name": name}
        done = _("Deleted %(name)s.") % {"name": name}
        # Focus moves to the step before, where the flow now goes on.
        return outline.delete(graph, node), outline.predecessor(graph, node), text, done

    return _outline_edit(request, pk, node, "delete", change)


def _panel_values(saved: dict, query) -> dict:
    """The step's saved values, overridden by the canvas's unsaved ones."""
    values = {
        "label": saved["label"],
        "kind": saved["kind"],
        "stage": saved["stage"] or "",
        "notes": saved["notes"] or "",
    }
    for name in ("label", "notes"):
        if name in query:
            values[name] = query[name]
    if query.get("kind") in NodeKind.values:
        values["kind"] = query["kind"]
    if "stage" in query and query["stage"] in ("", *Stage.values):
        values["stage"] = query["stage"]
    return values


OWNER_FIELD_ID = "step-owner-%s"


def _owner_context(
    request: HtmxHttpRequest,
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


@business_view(write_role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def step_panel(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    """The canvas's side panel for one step. POST checks the fields and hands
    them back as a `stepChanged` event; the canvas applies and saves them (it is
    the only writer of the graph while it is open)."""
    system_map = get_map_for_member(request, pk)
    step = system_map.nodes.select_related("owner__user").filter(client_id=node).first()
    if step is None:
        raise Http404("No such step")
    saved = {
        "kind": step.kind,
        "label": step.label,
        "stage": step.stage,
        "notes": step.notes,
    }
    context = {"map": system_map, "node_id": node}
    if request.method == "POST":
        form = StepPanelForm(request.POST, auto_id=PANEL_FIELD_ID)
        if not form.is_valid():
            context["form"] = form
            return render(
                request,
                "systemmaps/_step_panel_details.html",
                context,
                status=INVALID,
            )
        values = form.cleaned_data
        context["form"] = StepPanelForm(initial=values, auto_id=PANEL_FIELD_ID)
        context["applied"] = True
        response = render(request, "systemmaps/_step_panel_details.html", context)
        return trigger_client_event(
            response,
            "stepChanged",
            {
                "id": node,
                "label": values["label"],
                "kind": values["kind"],
                "stage": values["stage"] or None,
                "notes": values["notes"] or None,
            },
        )
    values = _panel_values(saved, request.GET)
    context["values"] = {
        **values,
        "kind_label": NodeKind(values["kind"]).label,
        "stage_label": Stage(values["stage"]).label if values["stage"] else "",
    }
    if request.membership.can_edit:
        context["form"] = StepPanelForm(initial=values, auto_id=PANEL_FIELD_ID)
    if values["kind"] in WORK_KINDS:
        if step.is_work:
            step.map = system_map
            context.update(_owner_context(request, step))
        else:
            # A terminus made a task on the canvas: the row changes on save.
            context["owner_section"] = "pending"
    return render(request, "systemmaps/_step_panel.html", context)


@business_view(write_role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def step_panel_owner(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    """The side panel's "Owner and cost" section of a task or decision. A POST
    saves at once (these fields are not in the graph, so there is no version to
    conflict with the canvas's saves) and tells the canvas through a
    `stepDetailsChanged` event, so its badges follow."""
    step = get_step_for_member(request, pk, node)
    context = {"map": step.map, "node_id": node}
    if request.method == "POST":
        annual_cost = step.annual_cost
        form = StepDetailsForm(
            request.POST,
            instance=step,
            business=request.business,
            auto_id=OWNER_FIELD_ID,
        )
        if not form.is_valid():
            context.update(
                _owner_context(request, step, form=form, annual_cost=annual_cost)
            )
            return render(
                request, "systemmaps/_step_panel_owner.html", context, status=INVALID
            )
        services.step_update(
            node=step,
            **{name: form.cleaned_data[name] for name in services.STEP_DETAIL_FIELDS},
        )
        if not request.htmx:
            messages.success(
                request,
                _("Saved who does “%(name)s” and what it costs.")
                % {"name": step.label or step.client_id},
            )
            return redirect(step)
        context.update(_owner_context(request, step), owner_saved=True)
        response = render(request, "systemmaps/_step_panel_owner.html", context)
        return trigger_client_event(response, "stepDetailsChanged", _owner_event(step))
    context.update(_owner_context(request, step))
    return render(request, "systemmaps/_step_panel_owner.html", context)
