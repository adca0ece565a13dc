"""Metrics and their weekly numbers: the metric list and form, a metric's page
with its history, the This week form (each field saves itself through htmx),
and the CSV import and export.

The review dashboard and meeting mode are in `review_views`.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from hourglass.access import INVALID, HtmxHttpRequest, business_view, printable
from hourglass.models import Membership, Role

from . import csvio, selectors, services, weeks
from .forms import EntryForm, ExportForm, MetricForm, parse_value
from .models import Metric

QUEUE_DOWN = _(
    "Saved. The dashboard will catch up within the night: the recompute could "
    "not be queued just now."
)


def _metric_of(request: HtmxHttpRequest, pk: int) -> Metric:
    """A metric of the request's business, or 404."""
    metrics = Metric.objects.filter(business=request.business).select_related(
        "business", "owner__user", "step__map"
    )
    try:
        return metrics.get(pk=pk)
    except Metric.DoesNotExist:
        raise Http404("No such metric") from None


def _current(request: HtmxHttpRequest) -> date:
    return weeks.current_week(request.business.timezone)


def _require_enter(request: HtmxHttpRequest, metric: Metric, week: date) -> None:
    """403 unless the member may enter `metric`'s number for `week` (a past or
    current week; archived metrics are refused with a message, not a 403)."""
    membership = request.membership
    if membership.can_edit:
        return
    if metric.owner_id != membership.pk:
        raise PermissionDenied("Only the metric's owner or an editor can do this.")
    if week < _current(request) - weeks.WEEK:
        raise PermissionDenied("Members enter this week's and last week's numbers.")


def _this_week_url(request: HtmxHttpRequest, week: date | None = None, who="") -> str:
    url = reverse("metrics:this-week", kwargs={"slug": request.business.slug})
    query = []
    if week is not None:
        query.append(f"week={week.isoformat()}")
    if who:
        query.append(f"who={who}")
    return url + ("?" + "&".join(query) if query else "")


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


@business_view()
@require_GET
def metric_list(request: HtmxHttpRequest) -> HttpResponse:
    current = _current(request)
    listing = selectors.metric_list(request.business, week=current)
    return render(
        request,
        "metrics/metric_list.html",
        {"listing": listing, "current": current},
    )


def _metric_form_page(
    request: HtmxHttpRequest,
    form: MetricForm,
    metric: Metric | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "metrics/metric_form.html",
        {"form": form, "metric": metric},
        status=status,
    )


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def metric_create(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = MetricForm(request.POST, business=request.business)
        if not form.is_valid():
            return _metric_form_page(request, form, None, status=INVALID)
        metric = services.metric_create(
            business=request.business, by=request.user, **form.cleaned_data
        )
        messages.success(request, _("Metric “%(name)s” added.") % {"name": metric})
        return redirect(metric.get_absolute_url())
    initial = {}
    form = MetricForm(business=request.business)
    step = request.GET.get("step")
    if step:
        if step not in form.steps:
            raise Http404("No such step")
        initial = {"step": step, "name": form.steps[step].label[:120]}
        form = MetricForm(business=request.business, initial=initial)
    return _metric_form_page(request, form, None)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def metric_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    metric = _metric_of(request, pk)
    if request.method == "POST":
        form = MetricForm(request.POST, business=request.business, metric=metric)
        if not form.is_valid():
            return _metric_form_page(request, form, metric, status=INVALID)
        services.metric_update(metric=metric, **form.cleaned_data)
        messages.success(request, _("Metric “%(name)s” saved.") % {"name": metric})
        return redirect(metric.get_absolute_url())
    form = MetricForm(
        business=request.business,
        metric=metric,
        initial={
            "name": metric.name,
            "unit": metric.unit,
            "direction": metric.direction,
            "goal": metric.goal,
            "owner": metric.owner_id,
            "step": str(metric.step_id) if metric.step_id else "",
            "stage": metric.stage,
            "in_funnel": metric.in_funnel,
            "description": metric.description,
        },
    )
    return _metric_form_page(request, form, metric)


@business_view(role=Role.EDITOR)
@require_POST
def metric_archive(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Archive an active metric, restore an archived one."""
    metric = _metric_of(request, pk)
    if metric.is_archived:
        services.metric_restore(metric=metric, by=request.user)
        done = _("“%(name)s” is active again.")
    else:
        services.metric_archive(metric=metric, by=request.user)
        done = _(
            "“%(name)s” is archived: no number is expected for it any more. "
            "Its history stays."
        )
    messages.success(request, done % {"name": metric.name})
    return redirect(reverse("metrics:metric-list", args=[request.business.slug]))


@business_view()
@require_http_methods(["GET", "POST"])
def metric_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The metric's facts, history and audit trail; POST backfills a week."""
    metric = _metric_of(request, pk)
    current = _current(request)
    form = None
    status = 200
    if request.method == "POST":
        if not (
            request.membership.can_edit or metric.owner_id == request.membership.pk
        ):
            raise PermissionDenied("Only the metric's owner or an editor can do this.")
        form = EntryForm(request.POST, metric=metric)
        if form.is_valid():
            week = form.cleaned_data["week"]
            _require_enter(request, metric, week)
            if metric.is_archived:
                form.add_error(
                    None, _("This metric is archived; restore it to enter numbers.")
                )
        if form.is_valid():
            result = services.entry_record(
                metric=metric,
                week=week,
                value=form.cleaned_data["value"],
                by=request.user,
            )
            if result.queued is False:
                messages.warning(request, QUEUE_DOWN)
            else:
                messages.success(
                    request,
                    _("Number for the week of %(week)s saved.")
                    % {"week": week.isoformat()},
                )
            return redirect(metric.get_absolute_url() + "#history")
        status = INVALID
    can_backfill = not metric.is_archived and (
        request.membership.can_edit or metric.owner_id == request.membership.pk
    )
    if form is None and can_backfill:
        form = EntryForm(metric=metric, initial={"week": current.isoformat()})
    return render(
        request,
        "metrics/metric_detail.html",
        {
            "metric": metric,
            "history": selectors.metric_history(metric, current=current),
            "form": form if can_backfill else None,
            "current": current,
            "earliest": (None if request.membership.can_edit else current - weeks.WEEK),
        },
        status=status,
    )


# ---------------------------------------------------------------------------
# Entries: one field at a time (htmx), or the whole This week form
# ---------------------------------------------------------------------------


def _field_context(
    request: HtmxHttpRequest,
    metric: Metric,
    week: date,
    *,
    text: str,
    error: str = "",
    saved: bool = False,
    queued: bool | None = None,
    can_enter: bool = True,
) -> dict:
    return {
        "metric": metric,
        "week": week,
        "text": text,
        "error": error,
        "saved": saved,
        "saved_at": timezone.localtime() if saved else None,
        "queue_down": queued is False,
        "can_enter": can_enter,
        "save_url": reverse(
            "metrics:entry-save",
            kwargs={
                "slug": request.business.slug,
                "pk": metric.pk,
                "week": week.isoformat(),
            },
        ),
    }


def _text(value) -> str:
    if value is None:
        return ""
    return str(
        value.quantize(Decimal(1)) if value == value.to_integral_value() else value
    )


@business_view()
@require_POST
def entry_save(request: HtmxHttpRequest, pk: int, week: str) -> HttpResponse:
    """One metric's number for one week, posted by its field on the This week
    form; answers the field again: saved, or the problem next to it."""
    metric = _metric_of(request, pk)
    name = f"value-{metric.pk}"
    text = request.POST.get(name, request.POST.get("value", ""))
    try:
        the_week = weeks.parse_week(week, tz_name=request.business.timezone)
    except weeks.BadWeek as error:
        if request.htmx:
            context = _field_context(
                request,
                metric,
                weeks.monday_of(timezone.localdate()),
                text=text,
                error=str(error),
            )
            return render(request, "metrics/_entry_field.html", context, status=INVALID)
        return HttpResponse(printable(str(error)), status=INVALID)
    _require_enter(request, metric, the_week)
    error = ""
    value = None
    if metric.is_archived:
        error = _("This metric is archived; restore it to enter numbers.")
    else:
        try:
            value = parse_value(text, unit=metric.unit)
        except ValidationError as problem:
            error = " ".join(problem.messages)
    if error:
        if request.htmx:
            context = _field_context(request, metric, the_week, text=text, error=error)
            return render(request, "metrics/_entry_field.html", context, status=INVALID)
        messages.error(request, f"{metric.name}: {error}")
        return redirect(_this_week_url(request, the_week))
    result = services.entry_record(
        metric=metric, week=the_week, value=value, by=request.user
    )
    if request.htmx:
        context = _field_context(
            request,
            metric,
            the_week,
            text=_text(value),
            saved=True,
            queued=result.queued,
        )
        return render(request, "metrics/_entry_field.html", context)
    if result.queued is False:
        messages.warning(request, QUEUE_DOWN)
    else:
        messages.success(request, _("Saved."))
    return redirect(_this_week_url(request, the_week))


def _who(request: HtmxHttpRequest, who: str) -> tuple[Membership | None, str]:
    """Whose metrics the form lists: (membership, or None for everybody; the
    `who` value). Members see only their own."""
    membership = request.membership
    if not who or who == str(membership.pk):
        return membership, ""
    if not membership.can_edit:
        raise PermissionDenied("Members enter their own numbers.")
    if who == "all":
        return None, "all"
    try:
        return (
            Membership.objects.select_related("user").get(
                business=request.business, pk=int(who)
            ),
            who,
        )
    except (ValueError, Membership.DoesNotExist):
        raise Http404("No such member") from None


@business_view()
@require_http_methods(["GET", "POST"])
def this_week(request: HtmxHttpRequest) -> HttpResponse:
    """The numbers of one week for one person (or everybody): each field saves
    itself through htmx; without JavaScript the whole form is posted."""
    current = _current(request)
    params = request.POST if request.method == "POST" else request.GET
    week_error = ""
    week = current
    if params.get("week"):
        try:
            week = weeks.parse_week(params["week"], tz_name=request.business.timezone)
        except weeks.BadWeek as error:
            week_error = str(error)
    owner, who = _who(request, params.get("who", ""))
    rows = selectors.entry_rows(
        request.business,
        week=week,
        owner=owner,
        membership=request.membership,
        current=current,
    )
    fields = {row.metric.pk: {"text": _text(row.value), "error": ""} for row in rows}
    status = INVALID if week_error else 200
    if request.method == "POST" and not week_error:
        changes, errors = [], 0
        for row in rows:
            name = f"value-{row.metric.pk}"
            if not row.can_enter or name not in request.POST:
                continue
            text = request.POST[name]
            fields[row.metric.pk]["text"] = text
            try:
                value = parse_value(text, unit=row.metric.unit)
            except ValidationError as problem:
                fields[row.metric.pk]["error"] = " ".join(problem.messages)
                errors += 1
                continue
            if value != row.value:
                changes.append((row.metric, value))
        if errors:
            status = INVALID
            messages.error(
                request,
                ngettext(
                    "Nothing was saved: %(n)d number needs fixing.",
                    "Nothing was saved: %(n)d numbers need fixing.",
                    errors,
                )
                % {"n": errors},
            )
        else:
            with transaction.atomic():
                results = [
                    services.entry_record(
                        metric=metric, week=week, value=value, by=request.user
                    )
                    for metric, value in changes
                ]
            if any(r.queued is False for r in results):
                messages.warning(request, QUEUE_DOWN)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(n)d number saved.", "%(n)d numbers saved.", len(results)
                    )
                    % {"n": len(results)},
                )
            return redirect(_this_week_url(request, week, who))
    people = None
    if request.membership.can_edit:
        people = list(
            Membership.objects.filter(business=request.business)
            .select_related("user")
            .order_by("user__name", "user__email")
        )
    for row in rows:
        row.field = _field_context(
            request,
            row.metric,
            week,
            text=fields[row.metric.pk]["text"],
            error=fields[row.metric.pk]["error"],
            can_enter=row.can_enter,
        )
    return render(
        request,
        "metrics/this_week.html",
        {
            "rows": rows,
            "week": week,
            "week_end": week + weeks.WEEK - timedelta(days=1),
            "current": current,
            "previous_week": week - weeks.WEEK,
            "next_week": week + weeks.WEEK if week < current else None,
            "last_week": current - weeks.WEEK,
            "owner": owner,
            "who": who,
            "people": people,
            "week_error": week_error,
            "can_enter_any": any(row.can_enter for row in rows),
            "recent_weeks": weeks.weeks_back(week - weeks.WEEK, selectors.RECENT_WEEKS),
        },
        status=status,
    )


# ---------------------------------------------------------------------------
# CSV import and export
# ---------------------------------------------------------------------------


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def entries_import(request: HtmxHttpRequest) -> HttpResponse:
    """Upload → preview with every row's status and problems → confirm (the
    text comes back in a hidden field and is checked again) → all rows or none."""
    context = {"preview": None, "problems": []}
    if request.method == "GET":
        return render(request, "metrics/entries_import.html", context)
    upload = request.FILES.get("file")
    if "confirm" in request.POST and request.POST.get("csv_text"):
        raw = request.POST["csv_text"].encode("utf-8", "surrogatepass")
        label = request.POST.get("file_name", "")[:200]
    elif upload is not None:
        label = upload.name[:200]
        if upload.size > csvio.MAX_BYTES:
            context["problems"] = [
                _("%(file)s is %(size)d bytes; at most 1 MB can be imported at once.")
                % {"file": label, "size": upload.size}
            ]
            return render(
                request, "metrics/entries_import.html", context, status=INVALID
            )
        raw = upload.read()
    else:
        context["problems"] = [_("Choose a CSV file to import.")]
        return render(request, "metrics/entries_import.html", context, status=INVALID)
    preview = csvio.preview(request.business, raw, label=label)
    context.update(preview=preview, file_name=label)
    if not preview.is_valid:
        context["problems"] = [printable(p) for p in preview.problems]
        return render(request, "metrics/entries_import.html", context, status=INVALID)
    if "confirm" not in request.POST:
        return render(request, "metrics/entries_import.html", context)
    result = services.entries_import(
        business=request.business, rows=preview.import_rows, by=request.user
    )
    messages.success(
        request,
        _(
            "Imported: %(created)d new numbers, %(updated)d changed, "
            "%(unchanged)d unchanged."
        )
        % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    if result.queued is False:
        messages.warning(request, QUEUE_DOWN)
    return redirect(reverse("metrics:metric-list", args=[request.business.slug]))


@business_view()
@require_GET
def entries_export(request: HtmxHttpRequest) -> HttpResponse:
    start, end = selectors.export_range_default(request.business)
    form = ExportForm({"start": request.GET.get("from"), "end": request.GET.get("to")})
    if not form.is_valid():
        problems = [
            f"{'from' if name == 'start' else 'to'}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        ]
        return HttpResponse(
            printable(" ".join(problems)),
            status=INVALID,
            content_type="text/plain; charset=utf-8",
        )
    start = weeks.monday_of(form.cleaned_data["start"] or start)
    end = weeks.monday_of(form.cleaned_data["end"] or end)
    if start > end:
        return HttpResponse(
            _("“from” must be a date before “to”."),
            status=INVALID,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(
        csvio.export(request.business, start, end),
        content_type="text/csv; charset=utf-8",
    )
    name = f"{request.business.slug}-numbers-{start.isoformat()}-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
