from datetime import timedelta
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from .. import archive, ratelimit, services
from ..access import (
    BusinessRequest,
    HtmxHttpRequest,
    business_view,
    get_import_job_for_user,
)
from ..forms import (
    BusinessForm,
    BusinessImportForm,
    DeleteBusinessForm,
    initial_place,
)
from ..http import INVALID, download, go_to, page_or_fragment, printable
from ..models import Business, ImportStatus, Role


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def business_create(request: HtmxHttpRequest) -> HttpResponse:
    form = BusinessForm(request.POST or None, initial=initial_place(request), new=True)
    if request.method == "POST" and form.is_valid():
        business = services.business_create(
            name=form.cleaned_data["name"],
            owner=request.user,
            currency=form.cleaned_data["currency"],
            timezone_name=form.cleaned_data["timezone"],
            country=form.cleaned_data["country"],
        )
        messages.success(request, _("%(name)s is ready.") % {"name": business.name})
        return go_to(request, business.get_absolute_url())
    status = INVALID if request.method == "POST" else 200
    return render(
        request, "hourglass/business_create.html", {"form": form}, status=status
    )


# ---------------------------------------------------------------------------
# Business settings
# ---------------------------------------------------------------------------


def _business_form(business: Business, data=None) -> BusinessForm:
    initial = {
        "name": business.name,
        "currency": business.currency,
        "timezone": business.timezone,
        "country": business.country,
    }
    return BusinessForm(data, initial=initial)


def _settings_page(
    request: BusinessRequest,
    form: BusinessForm,
    delete_form: DeleteBusinessForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    delete_form = delete_form or DeleteBusinessForm(business_name=request.business.name)
    return render(
        request,
        "hourglass/business_settings.html",
        {"form": form, "delete_form": delete_form},
        status=status,
    )


@business_view(role=Role.OWNER)
@require_http_methods(["GET", "HEAD", "POST"])
def business_settings(request: BusinessRequest) -> HttpResponse:
    business = request.business
    form = _business_form(business, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.business_update(
            business=business,
            name=form.cleaned_data["name"],
            currency=form.cleaned_data["currency"],
            timezone_name=form.cleaned_data["timezone"],
            country=form.cleaned_data["country"],
        )
        messages.success(request, _("Business settings saved."))
        return go_to(request, reverse("hourglass:settings", args=[business.slug]))
    status = INVALID if request.method == "POST" else 200
    return _settings_page(request, form, status=status)


@business_view(role=Role.OWNER)
@require_POST
def business_delete(request: BusinessRequest) -> HttpResponse:
    business = request.business
    form = DeleteBusinessForm(request.POST, business_name=business.name)
    if not form.is_valid():
        return _settings_page(request, _business_form(business), form, status=INVALID)
    name = business.name
    services.business_delete(business=business)
    messages.success(
        request, _("%(name)s and everything in it is deleted.") % {"name": name}
    )
    return go_to(request, reverse("home"))


# ---------------------------------------------------------------------------
# The whole business as one archive
# ---------------------------------------------------------------------------


@business_view(role=Role.OWNER)
@require_safe
def business_export(request: BusinessRequest) -> HttpResponse:
    business = request.business
    refusal = ratelimit.hit("export", user=request.user.pk, business=business.pk)
    if refusal:
        return ratelimit.refused_page(request, refusal)
    return download(
        archive.archive_export(business),
        content_type="application/zip",
        filename=f"{business.slug}-{timezone.localdate():%Y-%m-%d}.zip",
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def business_import(request: HtmxHttpRequest) -> HttpResponse:
    form = BusinessImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    status = INVALID if request.method == "POST" else 200
    refusal = None
    if request.method == "POST" and form.is_valid():
        refusal = ratelimit.hit("import", user=request.user.pk)
    if refusal:
        problems = [refusal.message]
        status = ratelimit.TOO_MANY
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = archive.archive_import_enqueue(
                raw=upload.read(),
                file_name=upload.name or "",
                acting_user=request.user,
                name=form.cleaned_data["name"],
            )
        except archive.ImportInvalid as invalid:
            problems = [printable(problem) for problem in invalid.problems]
        else:
            return go_to(request, job.get_absolute_url())
    return render(
        request,
        "hourglass/business_import.html",
        {"form": form, "problems": problems},
        status=status,
    )


# How long a job may wait for a worker before the page asks whether one runs.
QUEUED_TOO_LONG = timedelta(seconds=30)


@login_required
@require_safe
def business_import_job(request: HtmxHttpRequest, job_id: UUID) -> HttpResponse:
    job = get_import_job_for_user(request, job_id)
    timed_out = archive.job_timed_out(job)
    context = {
        "job": job,
        "failed": job.status == ImportStatus.FAILED or timed_out,
        "finished": job.finished or timed_out,
        "problems": (
            [archive.timed_out_problem()]
            if timed_out
            else [printable(problem) for problem in job.problems]
        ),
        "warnings": [printable(warning) for warning in job.warnings],
        "progress": archive.job_progress(job),
        "waited": job.status == ImportStatus.QUEUED
        and timezone.now() - job.created_at > QUEUED_TOO_LONG,
    }
    return page_or_fragment(
        request,
        "hourglass/business_import_job.html",
        "hourglass/_business_import_job.html",
        context,
    )
