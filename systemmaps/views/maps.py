"""The maps of a business: the list and the trash, creating a map (wizard,
template, import), a map's page, its settings, tidy-up, copy, delete, restore
and export."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from hourglass import places, ratelimit
from hourglass.access import BusinessRequest, business_view
from hourglass.archive import ImportInvalid
from hourglass.http import (
    INVALID,
    download,
    file_name,
    go_to,
    printable,
    wants_fragment,
)
from hourglass.models import STAGE_ORDER, Role
from hourglass.validators import one_line

from .. import imports, rendering, selectors, services
from ..access import get_import_draft_for_member, get_map_for_member
from ..builtin import TEMPLATES, get_template
from ..document import TASK, TERMINUS, chain_graph
from ..drawio import export_drawio
from ..forms import (
    ImportForm,
    ImportSummaryForm,
    MapFilterForm,
    MapForm,
    WizardForm,
    name_taken_message,
)
from ..graph import ERROR, lint
from ..layout import PAPERS, LayoutError
from ..mermaid import to_mermaid
from ..models import TRASH_DAYS, NodeKind, SystemMap
from ..transfer import export_json
from .drawings import map_drawing_context

REVISIONS_ON_MAP_PAGE = 10

EXPORT_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "json": "application/json",
    "mmd": "text/plain; charset=utf-8",
    "drawio": "application/vnd.jgraph.mxfile",
}
# The export menu's PDF papers (layout.PAPERS), as the menu names them.
PAPER_LABELS = {
    "a4": _lazy("PDF document, A4 pages"),
    "letter": _lazy("PDF document, Letter pages"),
}


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------


@business_view()
@require_safe
def map_list(request: BusinessRequest) -> HttpResponse:
    form = MapFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    context = {
        "maps": selectors.map_list(request.business, filters),
        "filter_form": form,
        "filtered": any(filters.values()),
        "trash_count": selectors.trash_count(request.business),
    }
    return render(request, "systemmaps/map_list.html", context)


@business_view()
@require_safe
def map_trash(request: BusinessRequest) -> HttpResponse:
    context = {"maps": selectors.trash(request.business)}
    return render(request, "systemmaps/map_trash.html", context)


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
    stages = [stage for stage in STAGE_ORDER if stage in data["stages"]]
    return chain_graph(data["name"] or data["product"], steps, stages=stages)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def map_new(request: BusinessRequest) -> HttpResponse:
    form = WizardForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        status = INVALID if request.method == "POST" else 200
        return render(request, "systemmaps/map_new.html", {"form": form}, status=status)
    data = form.cleaned_data
    graph = _wizard_graph(data)
    system_map = services.map_create(
        business=request.business,
        acting_user=request.user,
        name=graph["name"],
        half=data["half"],
        stages=data["stages"],
        product=data["product"],
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


@business_view()
@require_safe
def template_list(request: BusinessRequest) -> HttpResponse:
    return render(request, "systemmaps/template_list.html", {"templates": TEMPLATES})


@business_view(role=Role.EDITOR)
@require_POST
def template_use(request: BusinessRequest, key: str) -> HttpResponse:
    template = get_template(key)
    if template is None:
        raise Http404("No such template")
    system_map = services.map_create(
        business=request.business,
        acting_user=request.user,
        name=template.name,
        half=template.half,
        stages=template.stages,
        product=template.product,
        description=template.description,
        graph=template.copy_graph(),
        note=_("From the template “%(name)s”") % {"name": template.name},
    )
    messages.success(
        request,
        _("“%(name)s” is ready. Rename its steps to how your business does them.")
        % {"name": system_map.name},
    )
    return redirect(system_map)


def _imported_message(system_map: SystemMap, unknown: dict[str, int]) -> str:
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
    return message


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def map_import(request: BusinessRequest) -> HttpResponse:
    """The first step: a file is read (nothing is created) and kept as a draft
    for the summary, unless no page of it can become a map."""
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        raw = upload.read()
        try:
            read = imports.read_file(raw)
        except ImportInvalid as invalid:
            problems = [printable(problem) for problem in invalid.problems]
        else:
            if not read.importable:
                problems = [printable(problem) for problem in read.problems]
            else:
                draft = services.import_draft_create(
                    business=request.business,
                    user=request.user,
                    file_name=upload.name,
                    content=raw,
                    format=read.format,
                )
                return redirect(
                    "systemmaps:map-import-draft", request.business.slug, draft.pk
                )
    status = INVALID if request.method == "POST" else 200
    context = {"form": form, "problems": problems}
    return render(request, "systemmaps/map_import.html", context, status=status)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def map_import_draft(request: BusinessRequest, pk: int) -> HttpResponse:
    """The second step: what the file holds, page by page, and the new map's
    fields; Create makes the chosen page(s) maps, all or none."""
    draft = get_import_draft_for_member(request, pk)
    try:
        read = imports.read_file(bytes(draft.content), format=draft.format)
        problems = [] if read.importable else read.problems
    except ImportInvalid as invalid:
        problems = invalid.problems
    if problems:
        # Read at upload, refused now: a reader stricter since (a new release).
        context = {
            "form": ImportForm(),
            "problems": [printable(problem) for problem in problems],
        }
        return render(request, "systemmaps/map_import.html", context, status=INVALID)
    taken = selectors.map_names(request.business)
    form = ImportSummaryForm(
        request.POST or None,
        read=read,
        taken=taken,
        proposals=_proposed_names(read, draft.file_name, taken),
    )
    status = INVALID if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        refusal = ratelimit.hit(
            "import", user=request.user.pk, business=request.business.pk
        )
        if refusal:
            problems, status = [refusal.message], ratelimit.TOO_MANY
        else:
            created = _create_imported(request, draft, read, form)
            if created is not None:
                return created
    context = {
        "form": form,
        "draft": draft,
        "read": read,
        "problems": problems,
        "several": len(read.pages) > 1,
    }
    return render(request, "systemmaps/map_import_draft.html", context, status=status)


def _proposed_names(read, file_name: str, taken: set[str]) -> dict[int, str]:
    """A free name for each page, in page order, none the same as another's:
    the file's map name or its page's title, else the file's name."""
    stem = one_line(file_name.rsplit(".", 1)[0]) or _("Imported map")
    taken = set(taken)
    today = timezone.localdate()
    names = {}
    for page in read.pages:
        wanted = page.imported.graph["name"] if page.imported else page.title
        if not one_line(wanted or "").strip():
            wanted = stem
            if len(read.pages) > 1:
                wanted = _("%(file)s, %(page)s") % {"file": stem, "page": page.label}
        names[page.number] = imports.free_name(one_line(wanted), taken, today)
        taken.add(imports.name_key(names[page.number]))
    return names


def _create_imported(request, draft, read, form) -> HttpResponse | None:
    """The chosen pages as maps, and where to go; None when a name was taken
    meanwhile (the form then says so)."""
    names = form.names()
    new_maps, unknown = [], {}
    for number, name in names.items():
        imported = read.pages[number - 1].imported
        steps = imported.steps
        if steps:
            steps, missing = selectors.owners_by_email(request.business, steps)
            for email, count in missing.items():
                unknown[email] = unknown.get(email, 0) + count
        new_maps.append(
            services.NewMap(
                name=name,
                half=form.cleaned_data["half"],
                stages=form.cleaned_data["stages"],
                product=form.cleaned_data["product"],
                description=form.cleaned_data["description"],
                graph=imported.graph,
                steps=steps,
                note=_("Imported from %(file)s") % {"file": draft.file_name[:100]},
            )
        )
    try:
        created = services.maps_import(
            business=request.business,
            acting_user=request.user,
            maps=new_maps,
            draft=draft,
        )
    except services.NameTaken as error:
        message = name_taken_message(error.name, selectors.map_names(request.business))
        form.add_error("name" if len(new_maps) == 1 else None, message)
        return None
    if len(created) == 1:
        messages.success(request, _imported_message(created[0], unknown))
        return redirect(created[0])
    messages.success(
        request,
        ngettext(
            "%(count)d map is imported: %(names)s.",
            "%(count)d maps are imported: %(names)s.",
            len(created),
        )
        % {"count": len(created), "names": ", ".join(m.name for m in created)},
    )
    return redirect("systemmaps:map-list", request.business.slug)


# ---------------------------------------------------------------------------
# One map
# ---------------------------------------------------------------------------


@business_view()
@require_safe
def map_detail(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    graph, badges = selectors.version_graph(
        system_map, system_map.version, with_details=True
    )
    findings = lint(graph["nodes"], graph["edges"])
    context = {
        # The worker draws the map; the page shows it or a placeholder.
        **(map_drawing_context(request, system_map, badges) if graph["nodes"] else {}),
        "map": system_map,
        "findings": findings,
        "errors": [f for f in findings if f.severity == ERROR],
        "analysis": selectors.labelled_analysis(graph),
        "revisions": selectors.revisions(system_map, limit=REVISIONS_ON_MAP_PAGE),
        "node_count": len(graph["nodes"]),
        "edge_count": len(graph["edges"]),
        "kinds": NodeKind,
        "cost": selectors.map_cost_total(system_map),
        "papers": _papers(request),
    }
    return render(request, "systemmaps/map_detail.html", context)


def _papers(request: BusinessRequest) -> list[tuple[str, str]]:
    """The PDF export's papers, the business's own first."""
    own = places.paper_of(request.business.country)
    return sorted(PAPER_LABELS.items(), key=lambda item: item[0] != own)


def _settings_form(system_map: SystemMap, data=None) -> MapForm:
    initial = {
        "name": system_map.name,
        "product": system_map.product,
        "half": system_map.half,
        "stages": system_map.stages,
        "description": system_map.description,
        "status": system_map.status,
    }
    return MapForm(data, initial=initial)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def map_settings(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    form = _settings_form(system_map, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.map_update(
                system_map=system_map, acting_user=request.user, **form.cleaned_data
            )
        except services.MapNotReady as error:
            form.add_error("status", str(error))
        else:
            messages.success(request, _("Map saved."))
            return redirect(system_map)
    status = INVALID if request.method == "POST" else 200
    context = {"form": form, "map": system_map}
    return render(request, "systemmaps/map_settings.html", context, status=status)


@business_view(role=Role.EDITOR)
@require_POST
def map_tidy(request: BusinessRequest, pk: int) -> HttpResponse:
    """Lay the saved map out left to right with Graphviz, as a new version."""
    system_map = get_map_for_member(request, pk)
    try:
        services.map_tidy(system_map=system_map, acting_user=request.user)
    except LayoutError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The map is tidied up, flowing left to right."))
    return redirect(system_map)


@business_view(role=Role.EDITOR)
@require_POST
def map_duplicate(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    copy = services.map_duplicate(system_map=system_map, acting_user=request.user)
    messages.success(request, _("“%(name)s” is a copy.") % {"name": copy.name})
    return redirect(copy)


@business_view(role=Role.EDITOR)
@require_POST
def map_delete(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    services.map_delete(system_map=system_map, acting_user=request.user)
    messages.success(
        request,
        _("“%(name)s” is in the trash. An owner can bring it back for %(days)d days.")
        % {"name": system_map.name, "days": TRASH_DAYS},
    )
    return redirect("systemmaps:map-list", slug=request.business.slug)


@business_view(role=Role.OWNER)
@require_POST
def map_restore(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk, in_trash=True)
    services.map_restore(system_map=system_map)
    messages.success(request, _("“%(name)s” is back.") % {"name": system_map.name})
    return redirect(system_map)


def _export_body(system_map: SystemMap, fmt: str) -> bytes:
    """The map as a JSON, diagrams.net or Mermaid file (the drawings are the
    worker's)."""
    graph = selectors.graph_of(system_map)
    if fmt == "json":
        return export_json(
            graph,
            selectors.export_steps(system_map),
            fields=selectors.export_fields(system_map),
        )
    if fmt == "drawio":
        return export_drawio(graph, selectors.export_steps(system_map))
    return to_mermaid(graph, selectors.step_badges(system_map)).encode("utf-8")


@business_view()
@require_safe
def map_export(request: BusinessRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404("No such format")
    system_map = get_map_for_member(request, pk)
    if fmt in rendering.FORMATS:
        badges = selectors.step_badges(system_map)
        paper = request.GET.get("paper", "")
        if paper not in PAPERS:
            paper = places.paper_of(request.business.country)
        drawing = rendering.drawing(system_map, system_map.version, badges, fmt, paper)
        if drawing.failed:
            messages.error(request, drawing.message)
            return redirect(system_map)
        if drawing.pending:
            # The worker draws the file; this page asks again (htmx) until it is
            # there (a waiting page is not counted as a download).
            context = {"map": system_map, "fmt": fmt}
            return render(
                request, "systemmaps/map_export_preparing.html", context, status=202
            )
        if wants_fragment(request):
            # The waiting page's question: the file is ready, the browser
            # fetches it (and that is the download counted).
            return go_to(request, request.get_full_path())
        body = drawing.body
    else:
        body = _export_body(system_map, fmt)
    refusal = ratelimit.hit(
        "export", user=request.user.pk, business=request.business.pk
    )
    if refusal:
        return ratelimit.refused_page(request, refusal)
    response = download(
        body,
        content_type=EXPORT_TYPES[fmt],
        filename=(
            f"{file_name(system_map.name, fallback='map')}-v{system_map.version}.{fmt}"
        ),
        inline=bool(request.GET.get("inline")) and fmt == "svg",
    )
    if fmt == "svg":
        # An SVG opened on its own is a document: allow no script in it at all.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
    return response
