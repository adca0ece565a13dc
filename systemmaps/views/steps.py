"""The step page: who does a step and what it costs, its SOP checklist, its runs
and the problems flagged at it.

Each part of the page is a fragment with its own forms. An htmx POST answers
with the updated fragment (422 with the form's messages when the input is
bad); a plain POST redirects back to the part of the page it changed, or
renders the whole page with the messages.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, after_write, fragment_or_page, wants_fragment
from hourglass.models import Role
from metrics import selectors as metric_selectors

from .. import selectors, services
from ..access import (
    get_checklist_item_for_member,
    get_flag_for_member,
    get_step_for_member,
)
from ..forms import (
    ChecklistItemForm,
    ChecklistMoveForm,
    ChecklistOrderForm,
    RunStartForm,
    SopForm,
    StepDetailsForm,
    StepFlagForm,
)
from ..models import ChecklistItem, Node

# A checklist not reviewed for longer than this is flagged on its step page.
REVIEW_DAYS = 90

DETAILS_ID = "details-%s"
SOP_ID = "sop-%s"
ADD_ITEM_ID = "checklist-add-%s"
FLAG_ID = "flag-%s"
RUN_START_ID = "run-start-%s"


def _edit_item_id(item_pk: int) -> str:
    return f"checklist-edit-{item_pk}-%s"


# ---------------------------------------------------------------------------
# The parts of the step page
# ---------------------------------------------------------------------------


def _details(request: BusinessRequest, node: Node, extra: dict) -> dict:
    form = None
    if request.membership.can_edit:
        form = extra.get("details_form") or StepDetailsForm(
            instance=node, business=request.business, auto_id=DETAILS_ID
        )
    return {
        "cost": selectors.cost_summary(node),
        "details_form": form,
        "details_saved": extra.get("details_saved", False),
    }


def _flags(request: BusinessRequest, node: Node, extra: dict) -> dict:
    return {
        "flags": selectors.open_flags(node),
        "flag_form": extra.get("flag_form") or StepFlagForm(auto_id=FLAG_ID),
        "flag_added": extra.get("flag_added", False),
    }


def _sop(request: BusinessRequest, node: Node, extra: dict) -> dict:
    today = timezone.localdate()
    days = (today - node.sop_reviewed_on).days if node.sop_reviewed_on else None
    context = {
        "review_days": days,
        "review_stale": days is not None and days > REVIEW_DAYS,
        "sop_saved": extra.get("sop_saved", False),
        "sop_form": None,
    }
    if request.membership.can_work_on(node.owner_id):
        context["sop_form"] = extra.get("sop_form") or SopForm(
            initial={"why": node.sop_why, "reviewed_on": node.sop_reviewed_on},
            today=today,
            auto_id=SOP_ID,
        )
    return context


def _edit_form(items: list[ChecklistItem], extra: dict) -> tuple[int | None, object]:
    """The item being edited inline (by pk) and its form, if it still exists."""
    editing = extra.get("editing")
    item = next((i for i in items if i.pk == editing), None)
    if item is None:
        return None, None
    form = extra.get("edit_form") or ChecklistItemForm(
        initial={"text": item.text}, auto_id=_edit_item_id(item.pk)
    )
    form.fields["text"].widget.attrs["autofocus"] = True
    return item.pk, form


def _items(request: BusinessRequest, node: Node, extra: dict) -> dict:
    items = extra.get("items")
    if items is None:
        items = selectors.checklist(node)
    can_work = request.membership.can_work_on(node.owner_id)
    editing, edit_form = _edit_form(items, extra) if can_work else (None, None)
    item_form = extra.get("item_form") or ChecklistItemForm(auto_id=ADD_ITEM_ID)
    if extra.get("focus") == "add" or "item_form" in extra:
        # Ready for the next item (or for fixing this one) without a click.
        item_form.fields["text"].widget.attrs["autofocus"] = True
    return {
        "items": items,
        "editing": editing,
        "edit_form": edit_form,
        "item_form": item_form,
        **_focus(_item_focus(items, extra.get("focus", ""))),
        "order_problem": extra.get("order_problem", ""),
    }


def _item_focus(items: list[ChecklistItem], focus: str) -> str:
    """Keep the focus on the button just used to move an item; at the top or the
    bottom that button is disabled, so the other one takes it."""
    kind, _sep, pk = focus.partition("-")
    if kind not in ("up", "down") or len(items) < 2:
        return "heading" if kind in ("up", "down") else focus
    index = next((n for n, i in enumerate(items) if str(i.pk) == pk), None)
    if kind == "up" and index == 0:
        return f"down-{pk}"
    if kind == "down" and index == len(items) - 1:
        return f"up-{pk}"
    return focus


def _focus(focus: str) -> dict:
    """Split "up-12" into the control ("up") and the item (12) to focus."""
    kind, _sep, pk = focus.partition("-")
    return {"focus": kind, "focus_item": int(pk) if pk.isdigit() else None}


def _runs(request: BusinessRequest, node: Node, extra: dict) -> dict:
    items = extra.get("items")
    history = selectors.run_history(
        node, item_total=None if items is None else len(items)
    )
    return {
        # A run ticks the checklist: with no items there is nothing to run.
        "has_checklist": bool(items)
        if items is not None
        else node.checklist_items.exists(),
        "runs": history.runs,
        "run_stats": history.stats,
        "completion_rate": history.completion_rate,
        "runs_hidden": history.hidden,
        "run_start_form": extra.get("run_start_form")
        or RunStartForm(auto_id=RUN_START_ID),
    }


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable[[BusinessRequest, Node, dict], dict]
    anchor: str


SECTIONS: dict[str, Section] = {
    "details": Section("systemmaps/_step_page_details.html", _details, "details"),
    "flags": Section("systemmaps/_step_page_flags.html", _flags, "flags"),
    "sop": Section("systemmaps/_checklist_sop.html", _sop, "sop"),
    "items": Section("systemmaps/_checklist_items.html", _items, "checklist"),
    "runs": Section("systemmaps/_run_history.html", _runs, "runs"),
}


def _step_context(
    request: BusinessRequest, node: Node, names: list[str], extra: dict
) -> dict:
    context = {
        "node": node,
        "map": node.map,
        "can_work": request.membership.can_work_on(node.owner_id),
        "step_url": node.get_absolute_url(),
    }
    for name in names:
        context.update(SECTIONS[name].context(request, node, {**extra, **context}))
    return context


def _page(
    request: BusinessRequest, node: Node, status: int = 200, **extra
) -> HttpResponse:
    context = _step_context(request, node, list(SECTIONS), extra)
    context["step_metrics"] = metric_selectors.step_metrics(node.pk)
    return render(request, "systemmaps/step_detail.html", context, status=status)


def _part(
    request: BusinessRequest, node: Node, name: str, status: int = 200, **extra
) -> Callable[[], HttpResponse]:
    def fragment() -> HttpResponse:
        # A change to the checklist may start or end what a run can tick: the
        # runs section comes along, swapped out of band (hx-swap-oob).
        names = [name, "runs"] if name == "items" else [name]
        context = _step_context(request, node, names, extra)
        context["runs_oob"] = name == "items"
        return render(request, SECTIONS[name].template, context, status=status)

    return fragment


def _section(
    request: BusinessRequest, node: Node, name: str, status: int = 200, **extra
) -> HttpResponse:
    """One part of the step page for htmx, else the whole page (with `extra`)."""
    return fragment_or_page(
        request,
        _part(request, node, name, status, **extra),
        lambda: _page(request, node, status=status, **extra),
    )


def _written(
    request: BusinessRequest,
    node: Node,
    name: str,
    done: str,
    *,
    anchor: str = "",
    **extra,
) -> HttpResponse:
    """After a write: the updated part for htmx, else back to it on the page."""
    return after_write(
        request,
        fragment=_part(request, node, name, **extra),
        message=done,
        to=f"{node.get_absolute_url()}#{anchor or SECTIONS[name].anchor}",
    )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# The step page, its details and flagged problems
# ---------------------------------------------------------------------------


@business_view()
@require_safe
def step_detail(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    # ?edit=<item> opens an item's inline form without JavaScript.
    return _page(request, step, editing=_int_or_none(request.GET.get("edit")))


@business_view(role=Role.EDITOR)
@require_POST
def step_details(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    form = StepDetailsForm(
        request.POST, instance=step, business=request.business, auto_id=DETAILS_ID
    )
    if not form.is_valid():
        # Validation copied the typed values onto the instance: show the saved ones.
        step = get_step_for_member(request, pk, node)
        return _section(request, step, "details", status=INVALID, details_form=form)
    services.step_update(node=step, **form.cleaned_data)
    return _written(request, step, "details", _("Details saved."), details_saved=True)


@business_view()
@require_POST
def step_flag_add(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    """Any member may flag a problem at a step."""
    step = get_step_for_member(request, pk, node)
    form = StepFlagForm(request.POST, auto_id=FLAG_ID)
    if not form.is_valid():
        return _section(request, step, "flags", status=INVALID, flag_form=form)
    services.flag_add(
        node=step, acting_user=request.user, text=form.cleaned_data["text"]
    )
    return _written(request, step, "flags", _("Problem flagged."), flag_added=True)


@business_view()
@require_POST
def step_flag_resolve(
    request: BusinessRequest, pk: int, node: str, flag: int
) -> HttpResponse:
    problem = get_flag_for_member(request, pk, node, flag, for_work=True)
    # Resolving twice (two people at once) is no error: it is resolved.
    if problem.resolved_at is None:
        services.flag_resolve(flag=problem, acting_user=request.user)
    return _written(request, problem.node, "flags", _("Problem marked as resolved."))


# ---------------------------------------------------------------------------
# SOP: why it matters, last review, checklist items
# ---------------------------------------------------------------------------


@business_view()
@require_POST
def step_sop(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node, for_work=True)
    form = SopForm(request.POST, today=timezone.localdate(), auto_id=SOP_ID)
    if not form.is_valid():
        return _section(request, step, "sop", status=INVALID, sop_form=form)
    services.sop_update(
        node=step,
        why=form.cleaned_data["why"],
        reviewed_on=form.cleaned_data["reviewed_on"],
    )
    return _written(request, step, "sop", _("Checklist notes saved."), sop_saved=True)


@business_view()
@require_POST
def step_sop_reviewed(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node, for_work=True)
    services.sop_update(node=step, why=step.sop_why, reviewed_on=timezone.localdate())
    return _written(
        request, step, "sop", _("Checklist marked as reviewed today."), sop_saved=True
    )


@business_view()
@require_http_methods(["GET", "HEAD", "POST"])
def step_checklist(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    """GET: the checklist fragment (with `?edit=<item>` an item's inline form);
    POST: add an item at the end."""
    if request.method != "POST":
        step = get_step_for_member(request, pk, node)
        editing = _int_or_none(request.GET.get("edit"))
        if not wants_fragment(request):
            query = f"?edit={editing}#item-{editing}" if editing else "#checklist"
            return redirect(step.get_absolute_url() + query)
        return _section(request, step, "items", editing=editing)
    step = get_step_for_member(request, pk, node, for_work=True)
    form = ChecklistItemForm(request.POST, auto_id=ADD_ITEM_ID)
    if not form.is_valid():
        return _section(request, step, "items", status=INVALID, item_form=form)
    services.checklist_item_add(node=step, text=form.cleaned_data["text"])
    return _written(request, step, "items", _("Item added."), focus="add")


@business_view()
@require_POST
def step_checklist_item(
    request: BusinessRequest, pk: int, node: str, item: int
) -> HttpResponse:
    """Save an item's new words."""
    entry = get_checklist_item_for_member(request, pk, node, item, for_work=True)
    form = ChecklistItemForm(request.POST, auto_id=_edit_item_id(entry.pk))
    if not form.is_valid():
        return _section(
            request, entry.node, "items", INVALID, editing=entry.pk, edit_form=form
        )
    services.checklist_item_edit(item=entry, text=form.cleaned_data["text"])
    return _written(
        request,
        entry.node,
        "items",
        _("Item saved."),
        anchor=f"item-{entry.pk}",
        focus=f"edit-{entry.pk}",
    )


@business_view()
@require_POST
def step_checklist_item_delete(
    request: BusinessRequest, pk: int, node: str, item: int
) -> HttpResponse:
    entry = get_checklist_item_for_member(request, pk, node, item, for_work=True)
    services.checklist_item_delete(item=entry)
    return _written(request, entry.node, "items", _("Item deleted."), focus="heading")


@business_view()
@require_POST
def step_checklist_item_move(
    request: BusinessRequest, pk: int, node: str, item: int
) -> HttpResponse:
    """Move an item one place up or down: the keyboard alternative to dragging."""
    entry = get_checklist_item_for_member(request, pk, node, item, for_work=True)
    form = ChecklistMoveForm(request.POST)
    if not form.is_valid():
        problem = " ".join(form.errors["direction"])
        return _section(request, entry.node, "items", INVALID, order_problem=problem)
    services.checklist_item_move(item=entry, offset=form.offset)
    direction = form.cleaned_data["direction"]
    return _written(
        request,
        entry.node,
        "items",
        _("Item moved up.") if direction == "up" else _("Item moved down."),
        anchor=f"item-{entry.pk}",
        focus=f"{direction}-{entry.pk}",
    )


@business_view()
@require_POST
def step_checklist_order(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    """The whole order after a drag and drop."""
    step = get_step_for_member(request, pk, node, for_work=True)
    form = ChecklistOrderForm(request.POST, item_ids=selectors.checklist_item_ids(step))
    if not form.is_valid():
        problem = " ".join(form.errors["item"])
        return _section(request, step, "items", status=INVALID, order_problem=problem)
    services.checklist_reorder(node=step, item_ids=form.cleaned_data["item"])
    return _written(request, step, "items", _("New order saved."))
