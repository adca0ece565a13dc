"""The review meeting of a week besides the numbers: its issues, to-dos and
notes, the maps changed that week, and the gaps in the maps today."""

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Q

from hourglass.models import Business
from systemmaps import selectors as map_selectors
from systemmaps.models import SystemMap

from .. import weeks
from ..models import (
    Meeting,
    MeetingIssue,
    Todo,
)
from .steps import business_gaps


@dataclass
class Agenda:
    """What the review meeting of `week` goes through, besides the numbers."""

    week: date
    meeting: Meeting | None
    issues: list[MeetingIssue]
    resolved_issues: list[MeetingIssue]
    todos: list[Todo]
    done_todos: list[Todo]
    maps_changed: list[SystemMap]
    gaps: map_selectors.BusinessGaps | None = None

    @property
    def notes(self) -> str:
        return self.meeting.notes if self.meeting else ""


def meeting_of_week(business: Business, week: date) -> Meeting | None:
    return Meeting.objects.filter(business=business, week=week).first()


def week_bounds(week: date, tz_name: str) -> tuple[datetime, datetime]:
    """The first instant of `week` and of the week after, in the zone `tz_name`."""
    zone = ZoneInfo(tz_name)
    return (
        datetime.combine(week, time.min, tzinfo=zone),
        datetime.combine(week + weeks.WEEK, time.min, tzinfo=zone),
    )


def issues_of_week(business: Business, week: date) -> tuple[list, list]:
    """(open, resolved in this week) issues as the review of `week` saw them:
    raised in it or earlier, and not resolved before it."""
    issues = (
        MeetingIssue.objects.filter(business=business, raised_week__lte=week)
        .filter(Q(resolved_week__isnull=True) | Q(resolved_week__gte=week))
        .select_related("metric", "step__map", "raised_by")
        .order_by("raised_week", "id")
    )
    still_open, resolved = [], []
    for issue in issues:
        if issue.step is not None and issue.step.is_deleted:
            issue.step = None
        if issue.resolved_week == week:
            resolved.append(issue)
        else:
            still_open.append(issue)
    return still_open, resolved


def todos_of_week(business: Business, week: date) -> tuple[list, list]:
    """(open, done in this week) to-dos as the review of `week` saw them."""
    todos = (
        Todo.objects.filter(business=business, created_week__lte=week)
        .filter(Q(done_week__isnull=True) | Q(done_week__gte=week))
        .select_related("owner__user")
        .order_by("due", "created_week", "id")
    )
    still_open, done = [], []
    for todo in todos:
        if todo.done_week == week:
            done.append(todo)
        else:
            still_open.append(todo)
    return still_open, done


def meeting_agenda(
    business: Business, week: date, *, today: date, with_gaps: bool = True
) -> Agenda:
    """The meeting's issues, to-dos, notes and systems, in a fixed number of
    queries (the gap report reads every map in five)."""
    issues, resolved = issues_of_week(business, week)
    todos, done = todos_of_week(business, week)
    start, end = week_bounds(week, business.timezone)
    maps_changed = list(
        SystemMap.objects.filter(
            business=business, updated_at__gte=start, updated_at__lt=end
        )
        .alive()
        .order_by("-updated_at", "id")
    )
    return Agenda(
        week=week,
        meeting=meeting_of_week(business, week),
        issues=issues,
        resolved_issues=resolved,
        todos=todos,
        done_todos=done,
        maps_changed=maps_changed,
        gaps=business_gaps(business, today=today) if with_gaps else None,
    )
