"""The step page and checklist runs: who does a step and what it costs, its SOP
checklist, the runs of that checklist, and the problems flagged at it.

Each part of the step page is a fragment with its own forms. An htmx POST
answers with the updated fragment (422 with the form's messages when the input
is bad); a plain POST redirects back to the part of the page it changed, or
renders the whole page with the messages.
"""

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from hourglass.access import INVALID, HtmxHttpRequest, business_view
from hourglass.models import Role
from metrics import selectors as metric_selectors

from . import costs, services
from .access import (
    can_work_on_step,
    get_run_for_member,
    get_step_for_member,
    require_step_worker,
)
from .forms import (
    ChecklistItemForm,
    ChecklistMoveForm,
    ChecklistOrderForm,
    RunForm,
    RunStartForm,
    RunTickForm,
    SopForm,
    StepDetailsForm,
    StepFlagForm,
)
from .models import ChecklistItem, ChecklistRun, Node, StepFlag

# Runs listed on the step page; the completion rate covers every finished run.
HISTORY_RUNS = 25
# A checklist not reviewed for longer than this is flagged on its step page.
REVIEW_DAYS = 90

DETAILS_ID = "details-%s"
SOP_ID = "sop-%s"
ADD_ITEM_ID = "checklist-add-%s"
FLAG_ID = "flag-%s"
RUN_START_ID = "run-start-%s"
RUN_ID = "run-field-%s"


def _edit_item_id(item_pk: int) -> str:
    return f"checklist-edit-{item_pk}-%s"


# ---------------------------------------------------------------------------
# The parts of the step page
# ---------------------------------------------------------------------------


def _figure(value: Decimal | None) -> Decimal | None:
    """A figure to show: at most two decimals, and none that are zeros (0.5, 20)."""
    if value is None:
        return None
    value = value.quantize(Decimal("0.01"))
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _cost_summary(node: Node) -> dict:
    """The annual cost of a step with the figures behind it, or what is missing."""
    hourly = node.effective_hourly_cost
    missing = []
    if node.minutes_per_run is None:
        missing.append(_("the time per run"))
    if node.runs_per_month is None:
        missing.append(_("the runs per month"))
    if hourly is None:
        if node.owner_id is None:
            missing.append(_("an hourly cost (or an owner with an hourly rate)"))
        else:
            missing.append(
                _("an hourly cost (%(name)s has no hourly rate)")
                % {"name": node.owner.user.name or node.owner.user.email}
            )
    if node.hourly_cost is not None:
        source = "step"
    elif hourly is not None:
        source = "owner"
    else:
        source = ""
    hours_per_run = (
        _figure(node.minutes_per_run / costs.MINUTES_PER_HOUR)
        if node.minutes_per_run is not None
        else None
    )
    return {
        "annual": node.annual_cost,
        "annual_hours": costs.annual_hours(
            minutes_per_run=node.minutes_per_run, runs_per_month=node.runs_per_month
        ),
        "hourly": hourly,
        "source": source,
        "minutes_per_run": _figure(node.minutes_per_run),
        "runs_per_month": _figure(node.runs_per_month),
        "hours_per_run": hours_per_run,
        "missing": get_text_list(missing, _("and")) if missing else "",
    }


def _details(request: HtmxHttpRequest, node: Node, extra: dict) -> dict:
    form = None
    if request.membership.can_edit:
        form = extra.get("details_form") or StepDetailsForm(
            instance=node, business=request.business, auto_id=DETAILS_ID
        )
    return {
        "cost": _cost_summary(node),
        "details_form": form,
        "details_saved": extra.get("details_saved", False),
    }


def _flags(request: HtmxHttpRequest, node: Node, extra: dict) -> dict:
    flags = node.flags.filter(resolved_at__isnull=True).select_related("created_by")
    return {
        "flags": list(flags),
        "flag_form": extra.get("flag_form") or StepFlagForm(auto_id=FLAG_ID),
        "flag_added": extra.get("flag_added", False),
    }


def _sop(request: HtmxHttpRequest, node: Node, extra: dict) -> dict:
    today = timezone.localdate()
    days = (today - node.sop_reviewed_on).days if node.sop_reviewed_on else None
    context = {
        "review_days": days,
        "review_stale": days is not None and days > REVIEW_DAYS,
        "sop_saved": extra.get("sop_saved", False),
        "sop_form": None,
    }
    if can_work_on_step(request.membership, node):
        context["sop_form"] = extra.get("sop_form") or SopForm(
            initial={"why": node.sop_why, "reviewed_on": node.sop_reviewed_on},
            today=today,
            auto_id=SOP_ID,
        )
    return context


def _items(request: HtmxHttpRequest, node: Node, extra: dict) -> dict:
    items = list(node.checklist_items.all())
    can_work = can_work_on_step(request.membership, node)
    editing = extra.get("editing") if can_work else None
    edit_form = None
    if editing is not None:
        item = next((i for i in items if i.pk == editing), None)
        if item is None:
            editing = None
        else:
            edit_form = extra.get("edit_form") or ChecklistItemForm(
                initial={"text": item.text}, auto_id=_edit_item_id(item.pk)
            )
            edit_form.fields["text"].widget.attrs["autofocus"] = True
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


def _runs(request: HtmxHttpRequest, node: Node, extra: dict) -> dict:
    if "items" in extra:
        item_total = len(extra["items"])
    else:
        item_total = node.checklist_items.count()
    finished = Q(finished_at__isnull=False)
    runs = list(
        node.runs.select_related("started_by")
        .order_by("-started_at", "-id")
        .annotate(ticked_now=Count("ticks", filter=Q(ticks__item__isnull=False)))[
            :HISTORY_RUNS
        ]
    )
    for run in runs:
        # Finished runs keep the counts of their day; open ones count today's list.
        run.shown_ticked = run.ticked_count if run.finished_at else run.ticked_now
        run.shown_total = run.item_count if run.finished_at else item_total
    stats = node.runs.aggregate(
        total=Count("pk"),
        finished=Count("pk", filter=finished),
        items=Sum("item_count", filter=finished),
        ticked=Sum("ticked_count", filter=finished),
    )
    rate = None
    if stats["items"]:
        rate = (Decimal(100) * stats["ticked"] / stats["items"]).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    return {
        "runs": runs,
        "run_stats": stats,
        "completion_rate": rate,
        "runs_hidden": max(stats["total"] - len(runs), 0),
        "run_start_form": extra.get("run_start_form")
        or RunStartForm(auto_id=RUN_START_ID),
    }


SECTIONS: dict[str, tuple[str, Callable[..., dict], str]] = {
    "details": ("systemmaps/_step_page_details.html", _details, "details"),
    "flags": ("systemmaps/_step_page_flags.html", _flags, "flags"),
    "sop": ("systemmaps/_checklist_sop.html", _sop, "sop"),
    "items": ("systemmaps/_checklist_items.html", _items, "checklist"),
    "runs": ("systemmaps/_run_history.html", _runs, "runs"),
}


def _step_context(
    request: HtmxHttpRequest, node: Node, names: list[str], extra: dict
) -> dict:
    context = {
        "node": node,
        "map": node.map,
        "can_work": can_work_on_step(request.membership, node),
        "step_url": node.get_absolute_url(),
    }
    for name in names:
        part = SECTIONS[name][1](request, node, {**extra, **context})
        context.update(part)
    return context


def _render_step(
    request: HtmxHttpRequest, node: Node, status: int = 200, **extra
) -> HttpResponse:
    context = _step_context(request, node, list(SECTIONS), extra)
    context["step_metrics"] = metric_selectors.step_metrics(node.pk)
    return render(request, "systemmaps/step_detail.html", context, status=status)


def _section(
    request: HtmxHttpRequest, node: Node, name: str, status: int = 200, **extra
) -> HttpResponse:
    """One part of the step page for htmx, else the whole page (with `extra`)."""
    if not request.htmx:
        return _render_step(request, node, status=status, **extra)
    context = _step_context(request, node, [name], extra)
    return render(request, SECTIONS[name][0], context, status=status)


def _written(
    request: HtmxHttpRequest,
    node: Node,
    name: str,
    done: str,
    *,
    anchor: str = "",
    **extra,
) -> HttpResponse:
    """After a write: the updated part for htmx, else back to it on the page."""
    if request.htmx:
        return _section(request, node, name, **extra)
    messages.success(request, done)
    return redirect(f"{node.get_absolute_url()}#{anchor or SECTIONS[name][2]}")


def _item_of(node: Node, item_pk: int) -> ChecklistItem:
    try:
        return node.checklist_items.get(pk=item_pk)
    except ChecklistItem.DoesNotExist:
        raise Http404("No such checklist item") from None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# The step page, its details and flagged problems
# ---------------------------------------------------------------------------


@business_view()
@require_GET
def step_detail(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    # ?edit=<item> opens an item's inline form without JavaScript.
    return _render_step(request, step, editing=_int_or_none(request.GET.get("edit")))


@business_view(role=Role.EDITOR)
@require_POST
def step_details(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
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
def step_flag_add(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    """Any member may flag a problem at a step."""
    step = get_step_for_member(request, pk, node)
    form = StepFlagForm(request.POST, auto_id=FLAG_ID)
    if not form.is_valid():
        return _section(request, step, "flags", status=INVALID, flag_form=form)
    services.flag_add(node=step, user=request.user, text=form.cleaned_data["text"])
    return _written(request, step, "flags", _("Problem flagged."), flag_added=True)


@business_view()
@require_POST
def step_flag_resolve(
    request: HtmxHttpRequest, pk: int, node: str, flag: int
) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
    try:
        problem = step.flags.get(pk=flag)
    except StepFlag.DoesNotExist:
        raise Http404("No such problem") from None
    # Resolving twice (two people at once) is no error: it is resolved.
    if problem.resolved_at is None:
        services.flag_resolve(flag=problem, user=request.user)
    return _written(request, step, "flags", _("Problem marked as resolved."))


# ---------------------------------------------------------------------------
# SOP: why it matters, last review, checklist items
# ---------------------------------------------------------------------------


@business_view()
@require_POST
def step_sop(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
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
def step_sop_reviewed(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
    services.sop_update(node=step, why=step.sop_why, reviewed_on=timezone.localdate())
    return _written(
        request, step, "sop", _("Checklist marked as reviewed today."), sop_saved=True
    )


@business_view()
@require_http_methods(["GET", "POST"])
def step_checklist(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    """GET: the checklist fragment (with `?edit=<item>` an item's inline form);
    POST: add an item at the end."""
    step = get_step_for_member(request, pk, node)
    if request.method == "GET":
        editing = _int_or_none(request.GET.get("edit"))
        if not request.htmx:
            query = f"?edit={editing}#item-{editing}" if editing else "#checklist"
            return redirect(step.get_absolute_url() + query)
        return _section(request, step, "items", editing=editing)
    require_step_worker(request, step)
    form = ChecklistItemForm(request.POST, auto_id=ADD_ITEM_ID)
    if not form.is_valid():
        return _section(request, step, "items", status=INVALID, item_form=form)
    services.checklist_item_add(node=step, text=form.cleaned_data["text"])
    return _written(request, step, "items", _("Item added."), focus="add")


@business_view()
@require_POST
def step_checklist_item(
    request: HtmxHttpRequest, pk: int, node: str, item: int
) -> HttpResponse:
    """Save an item's new words."""
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
    entry = _item_of(step, item)
    form = ChecklistItemForm(request.POST, auto_id=_edit_item_id(entry.pk))
    if not form.is_valid():
        return _section(
            request, step, "items", status=INVALID, editing=entry.pk, edit_form=form
        )
    services.checklist_item_edit(item=entry, text=form.cleaned_data["text"])
    return _written(
        request,
        step,
        "items",
        _("Item saved."),
        anchor=f"item-{entry.pk}",
        focus=f"edit-{entry.pk}",
    )


@business_view()
@require_POST
def step_checklist_item_delete(
    request: HtmxHttpRequest, pk: int, node: str, item: int
) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
    services.checklist_item_delete(item=_item_of(step, item))
    return _written(request, step, "items", _("Item deleted."), focus="heading")


@business_view()
@require_POST
def step_checklist_item_move(
    request: HtmxHttpRequest, pk: int, node: str, item: int
) -> HttpResponse:
    """Move an item one place up or down: the keyboard alternative to dragging."""
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
    entry = _item_of(step, item)
    form = ChecklistMoveForm(request.POST)
    if not form.is_valid():
        problem = " ".join(form.errors["direction"])
        return _section(request, step, "items", status=INVALID, order_problem=problem)
    services.checklist_item_move(item=entry, offset=form.offset)
    direction = form.cleaned_data["direction"]
    return _written(
        request,
        step,
        "items",
        _("Item moved up.") if direction == "up" else _("Item moved down."),
        anchor=f"item-{entry.pk}",
        focus=f"{direction}-{entry.pk}",
    )


@business_view()
@require_POST
def step_checklist_order(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    """The whole order after a drag and drop."""
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
    ids = list(step.checklist_items.values_list("pk", flat=True))
    form = ChecklistOrderForm(request.POST, item_ids=ids)
    if not form.is_valid():
        problem = " ".join(form.errors["item"])
        return _section(request, step, "items", status=INVALID, order_problem=problem)
    services.checklist_reorder(node=step, item_ids=form.cleaned_data["item"])
    return _written(request, step, "items", _("New order saved."))


# ---------------------------------------------------------------------------
# Checklist runs
# ---------------------------------------------------------------------------


def _run_url(run: ChecklistRun) -> str:
    return reverse(
        "systemmaps:run-detail",
        kwargs={"slug": run.node.map.business.slug, "run": run.pk},
    )


def _go(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """To another page: htmx follows HX-Redirect, a plain form a 302."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@business_view()
@require_POST
def step_run_start(request: HtmxHttpRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node)
    require_step_worker(request, step)
    form = RunStartForm(request.POST, auto_id=RUN_START_ID)
    if not form.is_valid():
        return _section(request, step, "runs", status=INVALID, run_start_form=form)
    run = services.run_start(
        node=step, user=request.user, subject=form.cleaned_data["subject"]
    )
    return _go(request, _run_url(run))


def _run_context(request: HtmxHttpRequest, run: ChecklistRun, extra: dict) -> dict:
    node = run.node
    items = list(node.checklist_items.all())
    ticks = list(run.ticks.select_related("ticked_by"))
    by_item = {tick.item_id: tick for tick in ticks if tick.item_id is not None}
    rows = [{"item": item, "tick": by_item.get(item.pk)} for item in items]
    can_work = can_work_on_step(request.membership, node) and run.is_open
    if run.is_open:
        ticked, total = len(by_item), len(items)
    else:
        ticked, total = run.ticked_count or 0, run.item_count or 0
    form = None
    if can_work:
        form = extra.get("run_form") or RunForm(
            initial={"subject": run.subject, "notes": run.notes}, auto_id=RUN_ID
        )
    return {
        "run": run,
        "node": node,
        "map": node.map,
        "rows": rows,
        # Ticks of items deleted since: kept with the words they had.
        "removed_ticks": [tick for tick in ticks if tick.item_id is None],
        "ticked": ticked,
        "total": total,
        "checklist_changed": not run.is_open and run.item_count != len(items),
        "can_work": can_work,
        "run_form": form,
        "run_saved": extra.get("run_saved", False),
        "checklist_problem": extra.get("checklist_problem", ""),
        "notes_problem": extra.get("notes_problem", ""),
        "run_url": _run_url(run),
        "step_url": node.get_absolute_url(),
    }


def _render_run(
    request: HtmxHttpRequest,
    run: ChecklistRun,
    fragment: str = "",
    status: int = 200,
    **extra,
) -> HttpResponse:
    context = _run_context(request, run, extra)
    template = fragment if fragment and request.htmx else "systemmaps/run_detail.html"
    return render(request, template, context, status=status)


RUN_CHECKLIST = "systemmaps/_run_checklist.html"
RUN_NOTES = "systemmaps/_run_notes.html"


def _finished_refusal(
    request: HtmxHttpRequest, run: ChecklistRun, fragment: str
) -> HttpResponse:
    run.refresh_from_db()
    problem = _(
        "This run was finished on %(when)s; it can no longer change. "
        "Start a new run from the step page."
    ) % {"when": date_format(timezone.localtime(run.finished_at), "DATETIME_FORMAT")}
    # Said once, in the part of the page that was refused.
    key = "checklist_problem" if fragment == RUN_CHECKLIST else "notes_problem"
    return _render_run(request, run, fragment, status=INVALID, **{key: problem})


@business_view()
@require_GET
def run_detail(request: HtmxHttpRequest, run: int) -> HttpResponse:
    return _render_run(request, get_run_for_member(request, run))


@business_view()
@require_POST
def run_tick(request: HtmxHttpRequest, run: int, item: int) -> HttpResponse:
    """Tick (`ticked=1`) or untick (no `ticked`) one item; saved at once."""
    checklist_run = get_run_for_member(request, run)
    require_step_worker(request, checklist_run.node)
    entry = _item_of(checklist_run.node, item)
    form = RunTickForm(request.POST)
    ticked = form.is_valid() and form.cleaned_data["ticked"]
    try:
        services.run_tick(
            run=checklist_run, item=entry, ticked=ticked, user=request.user
        )
    except services.RunFinished:
        return _finished_refusal(request, checklist_run, RUN_CHECKLIST)
    if request.htmx:
        return _render_run(request, checklist_run, RUN_CHECKLIST)
    done = _("Ticked “%(item)s”.") if ticked else _("Unticked “%(item)s”.")
    messages.success(request, done % {"item": entry.text})
    return redirect(f"{_run_url(checklist_run)}#run-item-{entry.pk}")


@business_view()
@require_POST
def run_update(request: HtmxHttpRequest, run: int) -> HttpResponse:
    """Save who or what the run is for and its notes."""
    checklist_run = get_run_for_member(request, run)
    require_step_worker(request, checklist_run.node)
    if not checklist_run.is_open:
        return _finished_refusal(request, checklist_run, RUN_NOTES)
    form = RunForm(request.POST, auto_id=RUN_ID)
    if not form.is_valid():
        return _render_run(
            request, checklist_run, RUN_NOTES, status=INVALID, run_form=form
        )
    try:
        services.run_update(
            run=checklist_run,
            subject=form.cleaned_data["subject"],
            notes=form.cleaned_data["notes"],
        )
    except services.RunFinished:
        return _finished_refusal(request, checklist_run, RUN_NOTES)
    if request.htmx:
        return _render_run(request, checklist_run, RUN_NOTES, run_saved=True)
    messages.success(request, _("Run saved."))
    return redirect(_run_url(checklist_run))


@business_view()
@require_POST
def run_finish(request: HtmxHttpRequest, run: int) -> HttpResponse:
    """Finish the run, saving the subject and notes sent with it (the Finish
    button sits in the notes form, so nothing typed there is lost)."""
    checklist_run = get_run_for_member(request, run)
    require_step_worker(request, checklist_run.node)
    if not checklist_run.is_open:
        return _finished_refusal(request, checklist_run, RUN_NOTES)
    form = None
    if "subject" in request.POST or "notes" in request.POST:
        form = RunForm(request.POST, auto_id=RUN_ID)
        if not form.is_valid():
            return _render_run(
                request, checklist_run, RUN_NOTES, status=INVALID, run_form=form
            )
    try:
        with transaction.atomic():
            if form is not None:
                services.run_update(
                    run=checklist_run,
                    subject=form.cleaned_data["subject"],
                    notes=form.cleaned_data["notes"],
                )
            services.run_finish(run=checklist_run)
    except services.RunFinished:
        return _finished_refusal(request, checklist_run, RUN_NOTES)
    messages.success(
        request,
        _("Run finished: %(ticked)d of %(total)d items ticked.")
        % {"ticked": checklist_run.ticked_count, "total": checklist_run.item_count},
    )
    return _go(request, _run_url(checklist_run))
