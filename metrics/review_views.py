"""The weekly review: the dashboard of one week's numbers, read from the rollup
tables only, and meeting mode (the issues, to-dos and notes of the review).

Weeks in URLs are ISO dates of their Monday: another day of the week redirects
to its Monday, anything that is not a date (or a week not started yet) is 404.
An htmx POST answers with its updated fragment (422 with the form's messages);
a plain POST redirects back to the meeting.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hourglass.access import INVALID, HtmxHttpRequest, business_view
from hourglass.models import Role

from . import rollup, selectors, services, tasks, weeks
from .forms import IssueForm, NotesForm, ResolveForm, TodoForm, WeekForm
from .models import MeetingIssue, Todo

# Weeks before this are not weeks anyone reviews (and date arithmetic on year 1
# would overflow).
FIRST_YEAR = 1970
# A rollup younger than this "ran just now" (timesince would say "0 minutes").
JUST_NOW = timedelta(minutes=1)


def _week(request: HtmxHttpRequest, text: str) -> date:
    """The Monday of `text`, or 404 when it is not a date or is in the future."""
    try:
        week = weeks.parse_week(text, tz_name=request.business.timezone)
    except weeks.BadWeek:
        raise Http404("No such week") from None
    if week.year < FIRST_YEAR:
        raise Http404("No such week")
    return week


def _redirect_to_monday(
    request: HtmxHttpRequest, view_name: str, week: date
) -> HttpResponse:
    url = reverse(view_name, args=[request.business.slug, week.isoformat()])
    if request.GET:
        url += "?" + request.GET.urlencode()
    return redirect(url)


def _meeting_url(request: HtmxHttpRequest, week: date, anchor: str = "") -> str:
    url = reverse("metrics:meeting", args=[request.business.slug, week.isoformat()])
    return f"{url}#{anchor}" if anchor else url


def _week_links(request: HtmxHttpRequest, week: date) -> dict:
    current = weeks.current_week(request.business.timezone)
    return {
        "week": week,
        "week_iso": week.isoformat(),
        "prev_week": week - weeks.WEEK,
        "next_week": week + weeks.WEEK if week < current else None,
        "is_current_week": week == current,
        "can_edit": request.membership.can_edit,
    }


# Polls of review-status (every 2 s) before the page stops waiting for a worker.
POLL_LIMIT = 60


def _freshness(rollup_row, *, polling: bool = False, polls: int = 0) -> dict:
    computed_at = rollup_row.computed_at if rollup_row else None
    return {
        "rollup": rollup_row,
        "freshness": selectors.freshness(rollup_row),
        "polling": polling and polls < POLL_LIMIT,
        # Still stale after two minutes of polling: no worker took the task.
        "waited": polling and polls >= POLL_LIMIT,
        "next_poll": polls + 1,
        "just_now": bool(computed_at and timezone.now() - computed_at < JUST_NOW),
    }


# ---------------------------------------------------------------------------
# The dashboard
# ---------------------------------------------------------------------------


@business_view()
@require_GET
def review(request: HtmxHttpRequest) -> HttpResponse:
    """The review of the last completed week: the Monday meeting reviews it."""
    week = weeks.last_week(request.business.timezone)
    return redirect("metrics:review-week", request.business.slug, week.isoformat())


@business_view()
@require_GET
def review_week(request: HtmxHttpRequest, week: str) -> HttpResponse:
    monday = _week(request, week)
    if monday.isoformat() != week:
        return _redirect_to_monday(request, "metrics:review-week", monday)
    data = selectors.review(request.business, monday)
    context = {
        "review": data,
        **_week_links(request, monday),
        **_freshness(data.rollup),
        "has_metrics": bool(data.rows) or selectors.has_metrics(request.business),
    }
    return render(request, "metrics/review.html", context)


@business_view()
@require_GET
def review_status(request: HtmxHttpRequest, week: str) -> HttpResponse:
    """Polled while a recompute runs: the same fragment while the week is stale,
    a full page reload (HX-Refresh) once its rollup is current."""
    monday = _week(request, week)
    row = selectors.rollup_week(request.business, monday)
    if selectors.freshness(row) == selectors.Freshness.FRESH:
        if not request.htmx:
            return redirect(
                "metrics:review-week", request.business.slug, monday.isoformat()
            )
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    try:
        polls = max(0, min(int(request.GET.get("n", "0")), POLL_LIMIT))
    except ValueError:
        polls = 0
    context = {
        **_week_links(request, monday),
        **_freshness(row, polling=True, polls=polls),
    }
    return render(request, "metrics/_freshness.html", context)


@business_view()
@require_POST
def review_recompute(request: HtmxHttpRequest, week: str) -> HttpResponse:
    """Queue the week's rollup; when the broker cannot be reached, compute it here
    and now (a single business's week takes a few queries)."""
    monday = _week(request, week)
    business = request.business
    queued = tasks.rollup_enqueue(business.pk, monday)
    if not queued:
        rollup.rollup_business_week(business.pk, monday)
        messages.info(
            request,
            _(
                "The task queue could not be reached, so the numbers were "
                "recomputed right away."
            ),
        )
    if not request.htmx:
        if queued:
            messages.info(
                request,
                _("Recomputing the numbers: reload the page in a minute."),
            )
        return redirect("metrics:review-week", business.slug, monday.isoformat())
    if not queued:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    row = selectors.rollup_week(business, monday)
    context = {**_week_links(request, monday), **_freshness(row, polling=True)}
    return render(request, "metrics/_freshness.html", context)


# ---------------------------------------------------------------------------
# Meeting mode
# ---------------------------------------------------------------------------


def _issues_context(
    request: HtmxHttpRequest,
    week: date,
    issue_form: IssueForm | None = None,
    agenda: selectors.Agenda | None = None,
) -> dict:
    if agenda is not None:
        issues, resolved = agenda.issues, agenda.resolved_issues
    else:
        issues, resolved = selectors.issues_of_week(request.business, week)
    return {
        "issues": issues,
        "resolved_issues": resolved,
        "issue_form": issue_form
        or IssueForm(business=request.business, auto_id="issue-%s"),
        "resolve_form": ResolveForm(auto_id=False),
    }


def _todos_context(
    request: HtmxHttpRequest,
    week: date,
    todo_form: TodoForm | None = None,
    agenda: selectors.Agenda | None = None,
) -> dict:
    if agenda is not None:
        todos, done = agenda.todos, agenda.done_todos
    else:
        todos, done = selectors.todos_of_week(request.business, week)
    form = None
    if request.membership.can_edit:
        form = todo_form or TodoForm(business=request.business, auto_id="todo-%s")
    return {
        "todos": todos,
        "done_todos": done,
        "todo_form": form,
        "my_membership_id": request.membership.pk,
    }


def _notes_context(
    request: HtmxHttpRequest,
    week: date,
    notes_form: NotesForm | None = None,
    notes: str | None = None,
) -> dict:
    if notes is None:
        meeting = selectors.meeting_of_week(request.business, week)
        notes = meeting.notes if meeting else ""
    return {
        "notes": notes,
        "notes_form": notes_form
        or NotesForm(initial={"notes": notes}, auto_id="notes-%s"),
    }


def _meeting_page(
    request: HtmxHttpRequest, week: date, *, status: int = 200, **forms
) -> HttpResponse:
    data = selectors.review(request.business, week)
    agenda = selectors.meeting_agenda(
        request.business, week, today=timezone.localdate()
    )
    context = {
        "review": data,
        "agenda": agenda,
        **_week_links(request, week),
        **_freshness(data.rollup),
        **_issues_context(request, week, forms.get("issue_form"), agenda),
        **_todos_context(request, week, forms.get("todo_form"), agenda),
        **_notes_context(request, week, forms.get("notes_form"), notes=agenda.notes),
    }
    return render(request, "metrics/meeting.html", context, status=status)


@business_view()
@require_GET
def meeting(request: HtmxHttpRequest, week: str) -> HttpResponse:
    monday = _week(request, week)
    if monday.isoformat() != week:
        return _redirect_to_monday(request, "metrics:meeting", monday)
    return _meeting_page(request, monday)


@business_view()
@require_GET
def meeting_print(request: HtmxHttpRequest, week: str) -> HttpResponse:
    monday = _week(request, week)
    if monday.isoformat() != week:
        return _redirect_to_monday(request, "metrics:meeting-print", monday)
    data = selectors.review(request.business, monday)
    agenda = selectors.meeting_agenda(
        request.business, monday, today=timezone.localdate()
    )
    context = {
        "review": data,
        "agenda": agenda,
        **_week_links(request, monday),
        **_freshness(data.rollup),
    }
    return render(request, "metrics/meeting_print.html", context)


@business_view(role=Role.EDITOR)
@require_POST
def meeting_notes(request: HtmxHttpRequest, week: str) -> HttpResponse:
    monday = _week(request, week)
    form = NotesForm(request.POST, auto_id="notes-%s")
    if not form.is_valid():
        if request.htmx:
            context = {
                **_week_links(request, monday),
                **_notes_context(request, monday, form, notes=""),
            }
            return render(request, "metrics/_notes.html", context, status=INVALID)
        return _meeting_page(request, monday, status=INVALID, notes_form=form)
    meeting = services.meeting_notes_save(
        business=request.business,
        week=monday,
        notes=form.cleaned_data["notes"],
        user=request.user,
    )
    if not request.htmx:
        messages.success(request, _("Notes saved."))
        return redirect(_meeting_url(request, monday, "notes"))
    context = {
        **_week_links(request, monday),
        **_notes_context(request, monday, notes=meeting.notes),
        "notes_saved": True,
    }
    return render(request, "metrics/_notes.html", context)


def _issues_response(
    request: HtmxHttpRequest, week: date, *, form=None, status: int = 200, **extra
) -> HttpResponse:
    context = {
        **_week_links(request, week),
        **_issues_context(request, week, form),
        **extra,
    }
    return render(request, "metrics/_issues.html", context, status=status)


@business_view()
@require_POST
def issue_add(request: HtmxHttpRequest, week: str) -> HttpResponse:
    """Raise an issue: anyone in the business may (members too)."""
    monday = _week(request, week)
    form = IssueForm(request.POST, business=request.business, auto_id="issue-%s")
    if not form.is_valid():
        if request.htmx:
            return _issues_response(request, monday, form=form, status=INVALID)
        return _meeting_page(request, monday, status=INVALID, issue_form=form)
    services.issue_raise(
        business=request.business,
        week=monday,
        title=form.cleaned_data["title"],
        detail=form.cleaned_data["detail"],
        metric=form.cleaned_data["metric"],
        step=form.cleaned_data["step"],
        user=request.user,
    )
    if not request.htmx:
        messages.success(request, _("Issue raised."))
        return redirect(_meeting_url(request, monday, "issues"))
    return _issues_response(request, monday, issue_added=True)


def _posted_week(request: HtmxHttpRequest) -> tuple[date | None, WeekForm]:
    form = WeekForm(request.POST, tz_name=request.business.timezone)
    if form.is_valid():
        return form.cleaned_data["week"], form
    return None, form


def _week_error(form: WeekForm) -> HttpResponse:
    message = "; ".join(form.errors.get("week", [])) or _("Which week?")
    return HttpResponse(
        _("Week: %(message)s") % {"message": message},
        status=INVALID,
        content_type="text/plain; charset=utf-8",
    )


@business_view(role=Role.EDITOR)
@require_POST
def issue_resolve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    issue = get_object_or_404(MeetingIssue, pk=pk, business=request.business)
    week, week_form = _posted_week(request)
    if week is None:
        return _week_error(week_form)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return _issues_response(
                request,
                week,
                status=INVALID,
                resolve_errors={issue.pk: form.errors["resolution"]},
            )
        return _meeting_page(request, week, status=INVALID)
    services.issue_resolve(
        issue=issue, week=week, resolution=form.cleaned_data["resolution"]
    )
    if not request.htmx:
        messages.success(request, _("Issue resolved."))
        return redirect(_meeting_url(request, week, "issues"))
    return _issues_response(request, week)


def _todos_response(
    request: HtmxHttpRequest, week: date, *, form=None, status: int = 200, **extra
) -> HttpResponse:
    context = {
        **_week_links(request, week),
        **_todos_context(request, week, form),
        **extra,
    }
    return render(request, "metrics/_todos.html", context, status=status)


@business_view(role=Role.EDITOR)
@require_POST
def todo_add(request: HtmxHttpRequest, week: str) -> HttpResponse:
    monday = _week(request, week)
    form = TodoForm(request.POST, business=request.business, auto_id="todo-%s")
    if not form.is_valid():
        if request.htmx:
            return _todos_response(request, monday, form=form, status=INVALID)
        return _meeting_page(request, monday, status=INVALID, todo_form=form)
    services.todo_add(
        business=request.business,
        week=monday,
        text=form.cleaned_data["text"],
        owner=form.cleaned_data["owner"],
        due=form.cleaned_data["due"],
        user=request.user,
    )
    if not request.htmx:
        messages.success(request, _("To-do added."))
        return redirect(_meeting_url(request, monday, "todos"))
    return _todos_response(request, monday, todo_added=True)


@business_view()
@require_POST
def todo_done(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Tick a to-do off (or back on, with `undo`): editors and owners, or the
    member who owns the to-do."""
    todo = get_object_or_404(Todo, pk=pk, business=request.business)
    if not (request.membership.can_edit or todo.owner_id == request.membership.pk):
        raise PermissionDenied("Only editors and the to-do's owner can tick it off.")
    week, week_form = _posted_week(request)
    if week is None:
        return _week_error(week_form)
    if request.POST.get("undo"):
        services.todo_reopen(todo=todo)
    else:
        services.todo_done(todo=todo, week=week)
    if not request.htmx:
        messages.success(request, _("To-do updated."))
        return redirect(_meeting_url(request, week, "todos"))
    return _todos_response(request, week)
