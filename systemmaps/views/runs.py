"""Checklist runs: start one from a step's page, tick items as you go (each tick
saved at once), keep notes, finish it. A finished run is read-only."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, after_write, go_to, wants_fragment

from .. import selectors, services
from ..access import get_run_for_member, get_run_item_for_member, get_step_for_member
from ..document import capfirst, step_name
from ..forms import RunForm, RunStartForm, RunTickForm
from ..models import ChecklistRun
from .steps import RUN_START_ID, _section

RUN_ID = "run-field-%s"
RUN_CHECKLIST = "systemmaps/_run_checklist.html"
RUN_NOTES = "systemmaps/_run_notes.html"


def _run_url(run: ChecklistRun) -> str:
    return reverse(
        "systemmaps:run-detail",
        kwargs={"slug": run.node.map.business.slug, "run": run.pk},
    )


@business_view()
@require_POST
def step_run_start(request: BusinessRequest, pk: int, node: str) -> HttpResponse:
    step = get_step_for_member(request, pk, node, for_work=True)
    form = RunStartForm(request.POST, auto_id=RUN_START_ID)
    if form.is_valid() and not step.checklist_items.exists():
        form.add_error(
            None,
            _(
                "%(name)s has no checklist yet, so there is nothing to run: write "
                "its checklist first."
            )
            % {"name": capfirst(step_name({"label": step.label, "kind": step.kind}))},
        )
    if not form.is_valid():
        return _section(request, step, "runs", status=INVALID, run_start_form=form)
    run = services.run_start(
        node=step, acting_user=request.user, subject=form.cleaned_data["subject"]
    )
    return go_to(request, _run_url(run))


def _run_context(request: BusinessRequest, run: ChecklistRun, extra: dict) -> dict:
    node = run.node
    can_work = request.membership.can_work_on(node.owner_id) and run.is_open
    form = None
    if can_work:
        form = extra.get("run_form") or RunForm(
            initial={"subject": run.subject, "notes": run.notes}, auto_id=RUN_ID
        )
    sheet = selectors.run_sheet(run)
    return {
        "run": run,
        "node": node,
        "map": node.map,
        "rows": sheet.rows,
        "removed_ticks": sheet.removed_ticks,
        "ticked": sheet.ticked,
        "total": sheet.total,
        "checklist_changed": sheet.checklist_changed,
        "can_work": can_work,
        "run_form": form,
        "run_saved": extra.get("run_saved", False),
        "checklist_problem": extra.get("checklist_problem", ""),
        "notes_problem": extra.get("notes_problem", ""),
        "run_url": _run_url(run),
        "step_url": node.get_absolute_url(),
    }


def _render_run(
    request: BusinessRequest,
    run: ChecklistRun,
    fragment: str = "",
    status: int = 200,
    **extra,
) -> HttpResponse:
    """The run page, or for htmx only `fragment` of it (when given)."""
    context = _run_context(request, run, extra)
    use_fragment = fragment and wants_fragment(request)
    template = fragment if use_fragment else "systemmaps/run_detail.html"
    return render(request, template, context, status=status)


def _finished_refusal(
    request: BusinessRequest, run: ChecklistRun, fragment: str
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
@require_safe
def run_detail(request: BusinessRequest, run: int) -> HttpResponse:
    return _render_run(request, get_run_for_member(request, run))


@business_view()
@require_POST
def run_tick(request: BusinessRequest, run: int, item: int) -> HttpResponse:
    """Tick (`ticked=1`) or untick (no `ticked`) one item; saved at once."""
    checklist_run, entry = get_run_item_for_member(request, run, item, for_work=True)
    form = RunTickForm(request.POST)
    ticked = form.is_valid() and form.cleaned_data["ticked"]
    try:
        services.run_tick(
            run=checklist_run, item=entry, ticked=ticked, acting_user=request.user
        )
    except services.RunFinished:
        return _finished_refusal(request, checklist_run, RUN_CHECKLIST)
    done = _("Ticked “%(item)s”.") if ticked else _("Unticked “%(item)s”.")
    return after_write(
        request,
        fragment=lambda: _render_run(request, checklist_run, RUN_CHECKLIST),
        message=done % {"item": entry.text},
        to=f"{_run_url(checklist_run)}#run-item-{entry.pk}",
    )


@business_view()
@require_POST
def run_update(request: BusinessRequest, run: int) -> HttpResponse:
    """Save who or what the run is for and its notes."""
    checklist_run = get_run_for_member(request, run, for_work=True)
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
    return after_write(
        request,
        fragment=lambda: _render_run(request, checklist_run, RUN_NOTES, run_saved=True),
        message=_("Run saved."),
        to=_run_url(checklist_run),
    )


@business_view()
@require_POST
def run_finish(request: BusinessRequest, run: int) -> HttpResponse:
    """Finish the run, saving the subject and notes sent with it (the Finish
    button sits in the notes form, so nothing typed there is lost)."""
    checklist_run = get_run_for_member(request, run, for_work=True)
    if not checklist_run.is_open:
        return _finished_refusal(request, checklist_run, RUN_NOTES)
    notes = None
    if "subject" in request.POST or "notes" in request.POST:
        form = RunForm(request.POST, auto_id=RUN_ID)
        if not form.is_valid():
            return _render_run(
                request, checklist_run, RUN_NOTES, status=INVALID, run_form=form
            )
        notes = form.cleaned_data
    try:
        services.run_finish(run=checklist_run, notes=notes)
    except services.RunFinished:
        return _finished_refusal(request, checklist_run, RUN_NOTES)
    done = _("Run finished: %(ticked)d of %(total)d items ticked.") % {
        "ticked": checklist_run.ticked_count,
        "total": checklist_run.item_count,
    }
    # Said on the run's page, where htmx and a plain form both go next.
    messages.success(request, done)
    return go_to(request, _run_url(checklist_run))
