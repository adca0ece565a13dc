"""Who may see and change the metrics of a business, their numbers, and the
issues and to-dos of its review meetings.

Each helper returns an object of the request's business (resolved by
`hourglass.access.business_view`) or raises 404 — another business's object
looks exactly like one that does not exist — and does its `select_related`.

Who may change a metric, raise or resolve anything for the whole meeting is a
matter of role, checked for the whole URL by `business_view(role=…)`. Who may
work on a metric's numbers or tick off a to-do depends on the object: editors
and owners, and the member who owns it (`Membership.can_work_on`); the helpers
check it with `for_work=True` and raise 403 for a member who may read the
object but not work on it.

The rule of who enters which week's number is here too, once: the This week
form greys out what `may_enter` refuses, and a posted number is refused by
`require_enter` for the same reasons.
"""

from datetime import date

from django.http import Http404

from hourglass.access import BusinessRequest, one_or_404, require
from hourglass.models import Membership

from . import weeks
from .models import MeetingIssue, Metric, Todo

# Weeks before this are not weeks anyone reviews (and date arithmetic on year 1
# would overflow).


def get_week_for_member(request: BusinessRequest, text: str) -> date:
    """The Monday of the week named in a review URL (any day of it), or 404 when
    it is not a date, is before weeks.FIRST_WEEK or has not started yet."""
    try:
        return weeks.parse_week(text, tz_name=request.business.timezone)
    except weeks.BadWeek:
        raise Http404("No such week") from None


def get_metric_for_member(
    request: BusinessRequest, pk: int, *, for_work: bool = False
) -> Metric:
    """A metric of the request's business with its owner and step, or 404; with
    `for_work`, 403 unless the member may enter its numbers."""
    metrics = Metric.objects.filter(business=request.business).select_related(
        "business", "owner__user", "step__map"
    )
    metric = one_or_404(metrics, "No such metric", pk=pk)
    if for_work:
        require(
            request.membership.can_work_on(metric.owner_id),
            "Only the metric's owner or an editor can do this.",
        )
    return metric


def get_issue_for_member(request: BusinessRequest, pk: int) -> MeetingIssue:
    """An issue raised in a review meeting of the request's business, or 404."""
    issues = MeetingIssue.objects.select_related("business")
    return one_or_404(issues, "No such issue", pk=pk, business=request.business)


def get_todo_for_member(
    request: BusinessRequest, pk: int, *, for_work: bool = False
) -> Todo:
    """A to-do of the request's business, or 404; with `for_work`, 403 unless the
    member may tick it off (editors and owners, or the to-do's owner)."""
    todos = Todo.objects.select_related("business", "owner__user")
    todo = one_or_404(todos, "No such to-do", pk=pk, business=request.business)
    if for_work:
        require(
            request.membership.can_work_on(todo.owner_id),
            "Only editors and the to-do's owner can tick it off.",
        )
    return todo


def get_numbers_owner_for_member(
    request: BusinessRequest, who: str
) -> tuple[Membership | None, str]:
    """Whose numbers the This week form lists, from its `who` value: (the
    membership, or None for everybody; the `who` value to keep in links).
    Members see only their own (403 for anyone else's); a member of another
    business, or no member at all, is 404."""
    membership = request.membership
    if not who or who == str(membership.pk):
        return membership, ""
    require(membership.can_edit, "Members enter their own numbers.")
    if who == "all":
        return None, "all"
    if not who.isdigit():
        raise Http404("No such member")
    members = Membership.objects.select_related("user")
    member = one_or_404(members, "No such member", business=request.business, pk=who)
    return member, who


# ---------------------------------------------------------------------------
# Who enters which week's number
# ---------------------------------------------------------------------------


def entry_refusal(
    membership: Membership, metric: Metric, week: date, *, current: date
) -> str:
    """Why `membership` may not enter `metric`'s number for `week`, or "".

    Editors and owners enter any metric's number for any week; a member only
    their own metrics', this week's and last week's.
    """
    if not membership.can_work_on(metric.owner_id):
        return "Only the metric's owner or an editor can do this."
    if not membership.can_edit and week < current - weeks.WEEK:
        return "Members enter this week's and last week's numbers."
    try:
        weeks.check_history(
            week, created_at=metric.created_at, tz_name=metric.business.timezone
        )
    except weeks.BadWeek as error:
        return str(error)
    return ""


def may_enter(
    membership: Membership, metric: Metric, week: date, *, current: date
) -> bool:
    """Whether the This week form offers `metric`'s field for `week`: a week up
    to this one, an active metric, and no `entry_refusal`."""
    if week > current or metric.is_archived:
        return False
    return not entry_refusal(membership, metric, week, current=current)


def require_enter(request: BusinessRequest, metric: Metric, week: date) -> None:
    """403 unless the member may enter `metric`'s number for `week` (an archived
    metric is refused with a message next to the field, not here)."""
    current = weeks.current_week(request.business.timezone)
    refusal = entry_refusal(request.membership, metric, week, current=current)
    require(not refusal, refusal)
