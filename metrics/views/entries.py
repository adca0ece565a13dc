"""The weekly numbers: the This week form of one person (or everybody), where
each field saves itself through htmx, and without JavaScript the whole form is
posted at once (every number valid, or nothing saved)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from hourglass import selectors as core_selectors
from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, after_write, problem, wants_fragment
from hourglass.models import Membership
from hourglass.numbers import typed_text

from .. import selectors, services, weeks
from ..access import get_metric_for_member, get_numbers_owner_for_member, require_enter
from ..forms import EntryForm, NumbersForm, ThisWeekForm
from ..models import Metric
from ..services import EntryResult

QUEUE_DOWN = gettext_lazy(
    "Saved. The dashboard will catch up within the night: the recompute could "
    "not be queued just now."
)
FIELD = "metrics/_entry_field.html"


def saved_message(results: list[EntryResult], done: str) -> tuple[int, str]:
    """The message after numbers were saved: `done`, or that the dashboard is
    late when a recompute could not be queued."""
    if any(result.queued is False for result in results):
        return messages.WARNING, str(QUEUE_DOWN)
    return messages.SUCCESS, done


def number_text(value: Decimal | None) -> str:
    """A saved number as its field shows it, to be typed again: 12, not 12.00;
    the language's decimal mark (12,5 in French)."""
    return typed_text(value)


def this_week_url(request: BusinessRequest, week: date, who: str = "") -> str:
    url = reverse("metrics:this-week", kwargs={"slug": request.business.slug})
    query = {"week": week.isoformat(), **({"who": who} if who else {})}
    return f"{url}?{urlencode(query)}"


def field_context(
    request: BusinessRequest,
    metric: Metric,
    week: date,
    *,
    text: str,
    error: str = "",
    result: EntryResult | None = None,
    can_enter: bool = True,
) -> dict:
    """What one metric's field shows: its text, its problem or that it saved."""
    kwargs = {"slug": request.business.slug, "pk": metric.pk, "week": week}
    return {
        "metric": metric,
        "week": week,
        "text": text,
        "error": error,
        "saved": result is not None,
        "saved_at": timezone.localtime() if result is not None else None,
        "queue_down": result is not None and result.queued is False,
        "can_enter": can_enter,
        "save_url": reverse("metrics:entry-save", kwargs=kwargs),
    }


def _field(request: BusinessRequest, metric, week, *, status=200, **field):
    """The field again, for htmx to swap in; its status line goes into the
    page's own (out of band), which stays in place to be announced."""
    context = field_context(request, metric, week, **field) | {"answer": True}
    return render(request, FIELD, context, status=status)


@business_view()
@require_POST
def entry_save(request: BusinessRequest, pk: int, week: str) -> HttpResponse:
    """One metric's number for one week, posted by its field on the This week
    form; answers the field again: saved, or the problem next to it."""
    metric = get_metric_for_member(request, pk)
    text = request.POST.get(f"value-{metric.pk}", request.POST.get("value", ""))
    form = EntryForm({"value": text}, metric=metric, week=week)
    valid = form.is_valid()
    the_week = form.cleaned_data.get("week")
    if the_week is None and not wants_fragment(request):
        return problem(form.problem())
    if the_week is not None:
        require_enter(request, metric, the_week)
    if not valid:
        if wants_fragment(request):
            shown = the_week or weeks.monday_of(timezone.localdate())
            return _field(
                request, metric, shown, text=text, error=form.problem(), status=INVALID
            )
        # A number's problem names the metric already; a week's does not.
        said = form.problem()
        named = said.startswith(f"{metric.name}: ")
        messages.error(request, said if named else f"{metric.name}: {said}")
        return redirect(this_week_url(request, the_week))
    result = services.entry_record(
        metric=metric,
        week=the_week,
        value=form.cleaned_data["value"],
        acting_user=request.user,
    )
    text = number_text(form.cleaned_data["value"])
    level, message = saved_message([result], _("Saved."))
    return after_write(
        request,
        fragment=lambda: _field(request, metric, the_week, text=text, result=result),
        message=message,
        level=level,
        to=this_week_url(request, the_week),
    )


@dataclass
class _Sheet:
    """The This week form asked for: the week, whose numbers, and the rows."""

    choice: ThisWeekForm
    owner: Membership | None
    who: str
    rows: list

    @property
    def week(self) -> date:
        return self.choice.chosen_week


def _sheet(request: BusinessRequest) -> _Sheet:
    current = weeks.current_week(request.business.timezone)
    params = request.POST if request.method == "POST" else request.GET
    choice = ThisWeekForm(params, tz_name=request.business.timezone, current=current)
    choice.is_valid()
    owner, who = get_numbers_owner_for_member(request, choice.cleaned_data["who"])
    rows = selectors.entry_rows(
        request.business,
        week=choice.chosen_week,
        owner=owner,
        membership=request.membership,
        current=current,
    )
    return _Sheet(choice=choice, owner=owner, who=who, rows=rows)


def _this_week_page(
    request: BusinessRequest, sheet: _Sheet, typed=None, status=200
) -> HttpResponse:
    week, current = sheet.week, sheet.choice.current
    for row in sheet.rows:
        text, error = (typed or {}).get(row.metric.pk, (number_text(row.value), ""))
        row.field = field_context(
            request, row.metric, week, text=text, error=error, can_enter=row.can_enter
        )
    people = None
    if request.membership.can_edit:
        people = core_selectors.business_members(request.business)
    context = {
        "rows": sheet.rows,
        "week": week,
        "week_end": week + weeks.WEEK - timedelta(days=1),
        "current": current,
        "previous_week": week - weeks.WEEK,
        "next_week": week + weeks.WEEK if week < current else None,
        "last_week": current - weeks.WEEK,
        "owner": sheet.owner,
        "who": sheet.who,
        "people": people,
        "week_error": sheet.choice.week_error,
        "can_enter_any": any(row.can_enter for row in sheet.rows),
        "recent_weeks": weeks.weeks_back(week - weeks.WEEK, selectors.RECENT_WEEKS),
    }
    return render(request, "metrics/this_week.html", context, status=status)


def _fix_message(count: int) -> str:
    return ngettext(
        "Nothing was saved: %(n)d number needs fixing.",
        "Nothing was saved: %(n)d numbers need fixing.",
        count,
    ) % {"n": count}


@business_view()
@require_http_methods(["GET", "HEAD", "POST"])
def this_week(request: BusinessRequest) -> HttpResponse:
    """The numbers of one week for one person (or everybody); a POST saves the
    whole form when every number in it is valid."""
    sheet = _sheet(request)
    if sheet.choice.week_error:
        return _this_week_page(request, sheet, status=INVALID)
    if request.method != "POST":
        return _this_week_page(request, sheet)
    form = NumbersForm(request.POST, rows=sheet.rows)
    if not form.is_valid():
        messages.error(request, _fix_message(len(form.errors)))
        return _this_week_page(request, sheet, typed=form.typed(), status=INVALID)
    results = services.week_numbers_record(
        week=sheet.week, changes=form.changes(), acting_user=request.user
    )
    done = ngettext("%(n)d number saved.", "%(n)d numbers saved.", len(results))
    messages.add_message(request, *saved_message(results, done % {"n": len(results)}))
    return redirect(this_week_url(request, sheet.week, sheet.who))
