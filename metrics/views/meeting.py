"""Meeting mode of the weekly review: the numbers with the week's issues,
to-dos and notes, and its printable page.

Each part of the page is a fragment with its own form. An htmx POST answers
with the updated fragment (422 with the form's messages when the input is
bad); a plain POST redirects back to the part of the meeting it changed, or
renders the whole meeting with the messages.
"""

from collections.abc import Callable
from datetime import date

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, after_write, fragment_or_page, problem
from hourglass.models import Role

from .. import selectors, services
from ..access import get_issue_for_member, get_todo_for_member, get_week_for_member
from ..forms import IssueForm, NotesForm, ResolveForm, TodoForm, WeekForm
from .review import figures, freshness, to_monday, week_links

ISSUE_ID = "issue-%s"
TODO_ID = "todo-%s"
NOTES_ID = "notes-%s"


def _meeting_url(request: BusinessRequest, week: date, anchor: str) -> str:
    url = reverse("metrics:meeting", args=[request.business.slug, week.isoformat()])
    return f"{url}#{anchor}"


# ---------------------------------------------------------------------------
# The parts of the meeting
# ---------------------------------------------------------------------------


def _issues(request: BusinessRequest, week: date, form=None, agenda=None) -> dict:
    if agenda is not None:
        issues, resolved = agenda.issues, agenda.resolved_issues
    else:
        issues, resolved = selectors.issues_of_week(request.business, week)
    return {
        "issues": issues,
        "resolved_issues": resolved,
        "issue_form": form or IssueForm(business=request.business, auto_id=ISSUE_ID),
        "resolve_form": ResolveForm(auto_id=False),
    }


def _todos(request: BusinessRequest, week: date, form=None, agenda=None) -> dict:
    if agenda is not None:
        todos, done = agenda.todos, agenda.done_todos
    else:
        todos, done = selectors.todos_of_week(request.business, week)
    if request.membership.can_edit:
        form = form or TodoForm(business=request.business, auto_id=TODO_ID)
    return {
        "todos": todos,
        "done_todos": done,
        "todo_form": form if request.membership.can_edit else None,
        "my_membership_id": request.membership.pk,
    }


def _notes(request: BusinessRequest, week: date, form=None, notes=None) -> dict:
    if notes is None:
        meeting = selectors.meeting_of_week(request.business, week)
        notes = meeting.notes if meeting else ""
    return {
        "notes": notes,
        "notes_form": form or NotesForm(initial={"notes": notes}, auto_id=NOTES_ID),
    }


def _fragment(template: str, part: Callable[..., dict]):
    """A function answering one part of the meeting as its own fragment."""

    def answer(request, week, *, form=None, status=200, **extra) -> HttpResponse:
        context = {**week_links(request, week), **part(request, week, form), **extra}
        return render(request, template, context, status=status)

    return answer


_issues_fragment = _fragment("metrics/_issues.html", _issues)
_todos_fragment = _fragment("metrics/_todos.html", _todos)
_notes_fragment = _fragment("metrics/_notes.html", _notes)


def _meeting_page(
    request: BusinessRequest, week: date, *, status: int = 200, **forms
) -> HttpResponse:
    drawn = figures(request, week, "meeting")
    agenda = selectors.meeting_agenda(
        request.business, week, today=timezone.localdate()
    )
    context = {
        "figures": drawn.slots,
        "agenda": agenda,
        **week_links(request, week),
        **freshness(drawn.rollup),
        **_issues(request, week, forms.get("issue_form"), agenda),
        **_todos(request, week, forms.get("todo_form"), agenda),
        **_notes(request, week, forms.get("notes_form"), notes=agenda.notes),
    }
    return drawn.fill(render(request, "metrics/meeting.html", context, status=status))


def _invalid(request: BusinessRequest, week: date, fragment, **forms) -> HttpResponse:
    """A form that needs fixing: its fragment for htmx, else the whole meeting."""
    form = next(iter(forms.values()), None)
    return fragment_or_page(
        request,
        lambda: fragment(request, week, form=form, status=INVALID),
        lambda: _meeting_page(request, week, status=INVALID, **forms),
    )


def _posted_week(request: BusinessRequest) -> date | HttpResponse:
    """The review a button belongs to (its hidden `week`), or the problem."""
    form = WeekForm(request.POST, tz_name=request.business.timezone)
    if form.is_valid():
        return form.cleaned_data["week"]
    message = "; ".join(form.errors.get("week", [])) or _("Which week?")
    return problem(_("Week: %(message)s") % {"message": message})


# ---------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------


@business_view()
@require_safe
def meeting(request: BusinessRequest, week: str) -> HttpResponse:
    monday = get_week_for_member(request, week)
    if monday.isoformat() != week:
        return to_monday(request, "metrics:meeting", monday)
    return _meeting_page(request, monday)


@business_view()
@require_safe
def meeting_print(request: BusinessRequest, week: str) -> HttpResponse:
    monday = get_week_for_member(request, week)
    if monday.isoformat() != week:
        return to_monday(request, "metrics:meeting-print", monday)
    drawn = figures(request, monday, "meeting")
    agenda = selectors.meeting_agenda(
        request.business, monday, today=timezone.localdate()
    )
    context = {
        "figures": drawn.slots,
        "agenda": agenda,
        **week_links(request, monday),
        **freshness(drawn.rollup),
    }
    return drawn.fill(render(request, "metrics/meeting_print.html", context))


# ---------------------------------------------------------------------------
# Notes, issues, to-dos
# ---------------------------------------------------------------------------


@business_view(role=Role.EDITOR)
@require_POST
def meeting_notes(request: BusinessRequest, week: str) -> HttpResponse:
    monday = get_week_for_member(request, week)
    form = NotesForm(request.POST, auto_id=NOTES_ID)
    if not form.is_valid():
        return _invalid(request, monday, _notes_fragment, notes_form=form)
    meeting = services.meeting_notes_save(
        business=request.business,
        week=monday,
        notes=form.cleaned_data["notes"],
        acting_user=request.user,
    )
    return after_write(
        request,
        fragment=lambda: _notes_fragment(
            request, monday, notes=meeting.notes, notes_saved=True
        ),
        message=_("Notes saved."),
        to=_meeting_url(request, monday, "notes"),
    )


@business_view()
@require_POST
def issue_add(request: BusinessRequest, week: str) -> HttpResponse:
    """Raise an issue: anyone in the business may (members too)."""
    monday = get_week_for_member(request, week)
    form = IssueForm(request.POST, business=request.business, auto_id=ISSUE_ID)
    if not form.is_valid():
        return _invalid(request, monday, _issues_fragment, issue_form=form)
    services.issue_raise(
        business=request.business,
        week=monday,
        acting_user=request.user,
        **form.cleaned_data,
    )
    return after_write(
        request,
        fragment=lambda: _issues_fragment(request, monday, issue_added=True),
        message=_("Issue raised."),
        to=_meeting_url(request, monday, "issues"),
    )


@business_view(role=Role.EDITOR)
@require_POST
def issue_resolve(request: BusinessRequest, pk: int) -> HttpResponse:
    issue = get_issue_for_member(request, pk)
    week = _posted_week(request)
    if isinstance(week, HttpResponse):
        return week
    form = ResolveForm(request.POST)
    if not form.is_valid():
        errors = {issue.pk: form.errors["resolution"]}
        return fragment_or_page(
            request,
            lambda: _issues_fragment(
                request, week, status=INVALID, resolve_errors=errors
            ),
            lambda: _meeting_page(request, week, status=INVALID),
        )
    services.issue_resolve(
        issue=issue, week=week, resolution=form.cleaned_data["resolution"]
    )
    return after_write(
        request,
        fragment=lambda: _issues_fragment(request, week),
        message=_("Issue resolved."),
        to=_meeting_url(request, week, "issues"),
    )


@business_view(role=Role.EDITOR)
@require_POST
def todo_add(request: BusinessRequest, week: str) -> HttpResponse:
    monday = get_week_for_member(request, week)
    form = TodoForm(request.POST, business=request.business, auto_id=TODO_ID)
    if not form.is_valid():
        return _invalid(request, monday, _todos_fragment, todo_form=form)
    services.todo_add(
        business=request.business,
        week=monday,
        acting_user=request.user,
        **form.cleaned_data,
    )
    return after_write(
        request,
        fragment=lambda: _todos_fragment(request, monday, todo_added=True),
        message=_("To-do added."),
        to=_meeting_url(request, monday, "todos"),
    )


@business_view()
@require_POST
def todo_done(request: BusinessRequest, pk: int) -> HttpResponse:
    """Tick a to-do off (or back on, with `undo`): editors and owners, or the
    member who owns the to-do."""
    todo = get_todo_for_member(request, pk, for_work=True)
    week = _posted_week(request)
    if isinstance(week, HttpResponse):
        return week
    if request.POST.get("undo"):
        services.todo_reopen(todo=todo)
    else:
        services.todo_done(todo=todo, week=week)
    return after_write(
        request,
        fragment=lambda: _todos_fragment(request, week),
        message=_("To-do updated."),
        to=_meeting_url(request, week, "todos"),
    )
