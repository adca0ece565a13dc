"""The outline of a map: the same map as an indented list in flow order, with
inline edits for editors (rename, add the next step, add a branch, delete).
Each edit is a new version; an edit made on an outdated page is refused with
the current outline and what was typed kept in the form."""

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, after_write, page_or_fragment
from hourglass.models import Role

from .. import outline, selectors, services
from ..access import get_map_for_member
from ..forms import (
    OutlineBranchForm,
    OutlineDetailsForm,
    OutlineLabelForm,
    OutlineVersionForm,
)
from ..models import SystemMap
from ..schema import MAX_NOTES, GraphInvalid, validate_graph

# The outline's inline forms sit on a page with other forms.
OUTLINE_FIELD_ID = "outline-%s"
# What the details form edits, and what a refused one gives back as typed.
DETAIL_FIELDS = ("kind", "stage", "notes")
TYPED_FIELDS = ("label", "edge_label", *DETAIL_FIELDS)


def _outline_url(request: BusinessRequest, pk: int) -> str:
    return reverse(
        "systemmaps:map-outline", kwargs={"slug": request.business.slug, "pk": pk}
    )


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
    if action == outline.RENAME:
        initial.setdefault("label", (node or {}).get("label", ""))
        form = OutlineLabelForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
        form.fields["label"].label = _("New name for “%(name)s”") % {"name": name}
    elif action == outline.DETAILS:
        for field in DETAIL_FIELDS:
            initial.setdefault(field, (node or {}).get(field) or "")
        form = OutlineDetailsForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
        form.fields["kind"].label = _("Kind of “%(name)s”") % {"name": name}
    elif action == outline.ADD:
        form = OutlineLabelForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
        form.fields["label"].label = _("Name of the step after “%(name)s”") % {
            "name": name
        }
    elif action == outline.BRANCH:
        if node is not None:
            initial.setdefault(
                "edge_label", outline.default_branch_label(graph, node_id)
            )
        form = OutlineBranchForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
        form.fields["label"].label = _("First step of the new branch")
    else:
        return OutlineVersionForm(data, initial=initial, auto_id=OUTLINE_FIELD_ID)
    return form


def _opened(form: OutlineVersionForm, action: str, node_id: str) -> dict:
    """An open inline form, focused on the first field to fix, else the name."""
    errors = form.errors if form.is_bound else {}
    first = next((f for f in form.fields if f in errors and f != "version"), None)
    fallback = next(f for f in form.fields if f != "version")
    form.fields[first or fallback].widget.attrs["autofocus"] = True
    return {"action": action, "node": node_id, "form": form}


def _render_outline(
    request: BusinessRequest,
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
    return page_or_fragment(
        request,
        "systemmaps/map_outline.html",
        "systemmaps/_outline_body.html",
        context,
        status=status,
    )


@business_view()
@require_safe
def map_outline(request: BusinessRequest, pk: int) -> HttpResponse:
    """The map as an indented list in flow order, editable by editors."""
    system_map = get_map_for_member(request, pk)
    graph = selectors.graph_of(system_map)
    opened = None
    if request.membership.can_edit:
        for action in outline.FORM_ACTIONS:
            node_id = request.GET.get(action)
            if node_id and outline.action_fits(graph, action, node_id):
                form = _outline_form(system_map, graph, action, node_id)
                opened = _opened(form, action, node_id)
                break
    return _render_outline(
        request, system_map, graph, opened=opened, focus=request.GET.get("focus")
    )


def _conflict(
    request: BusinessRequest,
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
    typed = {
        name: form.data.get(name, "")[:MAX_NOTES]
        for name in TYPED_FIELDS
        if name in form.fields
    }
    if action in outline.FORM_ACTIONS and outline.action_fits(graph, action, node_id):
        again = _outline_form(system_map, graph, action, node_id, initial=typed)
        opened = _opened(again, action, node_id)
    elif typed.get("label", "").strip():
        # The step is gone (or no longer takes this edit): no form to put the
        # text back in, so the message gives it back to copy.
        problem += " " + _("What you typed: “%(typed)s”") % {
            "typed": typed["label"].strip()
        }
    return _render_outline(
        request, system_map, graph, opened=opened, problem=problem, status=INVALID
    )


def _refused(
    request: BusinessRequest,
    system_map: SystemMap,
    graph: dict,
    action: str,
    node_id: str,
    form: OutlineVersionForm,
) -> HttpResponse:
    """The outline with the form's problems: next to its fields, or at the top
    for an action without a form of its own."""
    if action in outline.FORM_ACTIONS:
        opened = _opened(form, action, node_id)
        return _render_outline(
            request, system_map, graph, opened=opened, status=INVALID
        )
    problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _render_outline(request, system_map, graph, problem=problem, status=INVALID)


def _checked_edit(
    form: OutlineVersionForm, graph: dict, action: str, node_id: str
) -> tuple[outline.Edit, dict] | None:
    """The edit and its validated document, or None after putting the problems
    on the form."""
    try:
        edit = outline.apply(graph, action, node_id, form.cleaned_data)
        return edit, validate_graph(edit.graph)
    except outline.OutlineError as error:
        form.add_error(error.field, error.message)
    except GraphInvalid as invalid:
        for problem in invalid.problems:
            field = problem.field if problem.field in form.fields else None
            form.add_error(field, problem.message)
    return None


def _outline_edit(
    request: BusinessRequest, pk: int, node_id: str, action: str
) -> HttpResponse:
    """Make one outline edit as a new version of the map."""
    system_map = get_map_for_member(request, pk)
    graph = selectors.graph_of(system_map)
    form = _outline_form(system_map, graph, action, node_id, request.POST)
    valid = form.is_valid()
    version = form.cleaned_data.get("version")
    if version is not None and version != system_map.version:
        return _conflict(request, pk, action, node_id, form)
    if not any(n["id"] == node_id for n in graph["nodes"]):
        raise Http404("No such step")
    checked = _checked_edit(form, graph, action, node_id) if valid else None
    if checked is None:
        return _refused(request, system_map, graph, action, node_id, form)
    edit, clean = checked
    note = Truncator(_("Outline: %(change)s") % {"change": edit.note}).chars(200)
    try:
        result = services.map_save_graph(
            system_map=system_map,
            graph=clean,
            acting_user=request.user,
            expected_version=version,
            note=note,
        )
    except services.VersionConflict:
        return _conflict(request, pk, action, node_id, form)
    return _saved(request, result.system_map, edit)


def _saved(
    request: BusinessRequest, system_map: SystemMap, edit: outline.Edit
) -> HttpResponse:
    """After an edit: the new outline with the focus on the step it made or
    changed (htmx), else the message and back to the outline at that step."""

    def fragment() -> HttpResponse:
        saved = _("Saved as version %(version)d.") % {"version": system_map.version}
        return _render_outline(
            request,
            system_map,
            selectors.graph_of(system_map),
            focus=edit.focus,
            notice=f"{edit.done} {saved}",
        )

    anchor = f"#step-{edit.focus}" if edit.focus else ""
    return after_write(
        request,
        fragment=fragment,
        message=edit.done,
        to=_outline_url(request, system_map.pk) + anchor,
    )


@business_view(role=Role.EDITOR)
@require_POST
def outline_rename(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    return _outline_edit(request, pk, node, outline.RENAME)


@business_view(role=Role.EDITOR)
@require_POST
def outline_details(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    return _outline_edit(request, pk, node, outline.DETAILS)


@business_view(role=Role.EDITOR)
@require_POST
def outline_add_next(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    return _outline_edit(request, pk, node, outline.ADD)


@business_view(role=Role.EDITOR)
@require_POST
def outline_add_branch(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    return _outline_edit(request, pk, node, outline.BRANCH)


@business_view(role=Role.EDITOR)
@require_POST
def outline_delete(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    return _outline_edit(request, pk, node, outline.DELETE)
