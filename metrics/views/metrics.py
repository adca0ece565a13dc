"""The metrics of a business: the list, the form to add or change one, archive
and restore, and a metric's page with its history (where a past week's number
is backfilled)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID
from hourglass.models import Role

from .. import selectors, services, weeks
from ..access import get_metric_for_member, require_enter
from ..forms import EntryForm, MetricForm
from ..models import Metric
from .entries import saved_message


def _form_page(
    request: BusinessRequest, form: MetricForm, metric: Metric | None, status=200
) -> HttpResponse:
    context = {"form": form, "metric": metric}
    return render(request, "metrics/metric_form.html", context, status=status)


@business_view()
@require_safe
def metric_list(request: BusinessRequest) -> HttpResponse:
    current = weeks.current_week(request.business.timezone)
    listing = selectors.metric_list(request.business, week=current)
    context = {"listing": listing, "current": current}
    return render(request, "metrics/metric_list.html", context)


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def metric_create(request: BusinessRequest) -> HttpResponse:
    if request.method != "POST":
        form = MetricForm(business=request.business)
        if request.GET.get("step") and not form.prefill_step(request.GET["step"]):
            raise Http404("No such step")
        return _form_page(request, form, None)
    form = MetricForm(request.POST, business=request.business)
    if not form.is_valid():
        return _form_page(request, form, None, status=INVALID)
    metric = services.metric_create(
        business=request.business, acting_user=request.user, **form.cleaned_data
    )
    messages.success(request, _("Metric “%(name)s” added.") % {"name": metric})
    return redirect(metric.get_absolute_url())


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def metric_edit(request: BusinessRequest, pk: int) -> HttpResponse:
    metric = get_metric_for_member(request, pk)
    if request.method != "POST":
        form = MetricForm(business=request.business, metric=metric)
        return _form_page(request, form, metric)
    form = MetricForm(request.POST, business=request.business, metric=metric)
    if not form.is_valid():
        return _form_page(request, form, metric, status=INVALID)
    services.metric_update(metric=metric, **form.cleaned_data)
    messages.success(request, _("Metric “%(name)s” saved.") % {"name": metric})
    return redirect(metric.get_absolute_url())


@business_view(role=Role.EDITOR)
@require_POST
def metric_archive(request: BusinessRequest, pk: int) -> HttpResponse:
    """Archive an active metric, restore an archived one."""
    metric = get_metric_for_member(request, pk)
    if metric.is_archived:
        services.metric_restore(metric=metric, acting_user=request.user)
        done = _("“%(name)s” is active again.")
    else:
        services.metric_archive(metric=metric, acting_user=request.user)
        done = _(
            "“%(name)s” is archived: no number is expected for it any more. "
            "Its history stays."
        )
    messages.success(request, done % {"name": metric.name})
    return redirect(reverse("metrics:metric-list", args=[request.business.slug]))


def _detail_page(
    request: BusinessRequest, metric: Metric, form: EntryForm | None, status=200
) -> HttpResponse:
    current = weeks.current_week(request.business.timezone)
    can_backfill = not metric.is_archived and request.membership.can_work_on(
        metric.owner_id
    )
    if form is None and can_backfill:
        form = EntryForm(metric=metric, initial={"week": current.isoformat()})
    context = {
        "metric": metric,
        "history": selectors.metric_history(metric, current=current),
        "form": form if can_backfill else None,
        "current": current,
        "earliest": None if request.membership.can_edit else current - weeks.WEEK,
    }
    return render(request, "metrics/metric_detail.html", context, status=status)


@business_view()
@require_http_methods(["GET", "HEAD", "POST"])
def metric_detail(request: BusinessRequest, pk: int) -> HttpResponse:
    """The metric's facts, history and audit trail; POST backfills a week."""
    posted = request.method == "POST"
    metric = get_metric_for_member(request, pk, for_work=posted)
    if not posted:
        return _detail_page(request, metric, None)
    form = EntryForm(request.POST, metric=metric)
    valid = form.is_valid()
    if "week" in form.cleaned_data:
        require_enter(request, metric, form.cleaned_data["week"])
    if not valid:
        return _detail_page(request, metric, form, status=INVALID)
    week = form.cleaned_data["week"]
    result = services.entry_record(
        metric=metric,
        week=week,
        value=form.cleaned_data["value"],
        acting_user=request.user,
    )
    done = _("Number for the week of %(week)s saved.") % {"week": date_format(week)}
    level, message = saved_message([result], done)
    messages.add_message(request, level, message)
    return redirect(metric.get_absolute_url() + "#history")
