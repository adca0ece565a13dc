"""The numbers as CSV: the import (upload → preview with every row's status and
problems → confirm: all rows or none) and the export of a range of weeks."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from hourglass import ratelimit
from hourglass.access import BusinessRequest, business_view
from hourglass.http import INVALID, download, printable, problem
from hourglass.models import Role

from .. import csvio, selectors, services
from ..forms import ExportForm, ImportForm
from .entries import QUEUE_DOWN

PAGE = "metrics/entries_import.html"


def _import_page(request: BusinessRequest, status=200, **context) -> HttpResponse:
    context = {"preview": None, "problems": [], **context}
    return render(request, PAGE, context, status=status)


def _imported_message(result: services.ImportResult) -> str:
    return _(
        "Imported: %(created)d new numbers, %(updated)d changed, "
        "%(unchanged)d unchanged."
    ) % {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }


@business_view(role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def entries_import(request: BusinessRequest) -> HttpResponse:
    """Upload → preview → confirm (the text comes back in a hidden field and is
    checked again) → all rows or none."""
    if request.method != "POST":
        return _import_page(request)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, INVALID, problems=form.problems())
    raw, label = form.cleaned_data["raw"], form.cleaned_data["label"]
    preview = csvio.preview(request.business, raw, label=label)
    shown = {"preview": preview, "file_name": label}
    if not preview.is_valid:
        problems = [printable(p) for p in preview.problems]
        return _import_page(request, INVALID, problems=problems, **shown)
    if not form.cleaned_data["confirm"]:
        return _import_page(request, **shown)
    result = services.entries_import(
        business=request.business, rows=preview.import_rows, acting_user=request.user
    )
    messages.success(request, _imported_message(result))
    if result.queued is False:
        messages.warning(request, QUEUE_DOWN)
    return redirect(reverse("metrics:metric-list", args=[request.business.slug]))


@business_view()
@require_safe
def entries_export(request: BusinessRequest) -> HttpResponse:
    """The numbers of the weeks `from`–`to` (the last 13 weeks by default);
    `excel=1`: laid out for a spreadsheet in the page's language."""
    form = ExportForm(
        {"start": request.GET.get("from"), "end": request.GET.get("to")},
        default=selectors.export_range_default(request.business),
    )
    if not form.is_valid():
        return problem(form.problem())
    refusal = ratelimit.hit(
        "export", user=request.user.pk, business=request.business.pk
    )
    if refusal:
        return ratelimit.refused_page(request, refusal)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    excel = request.GET.get("excel") == "1"
    name = (
        f"{request.business.slug}-numbers-{start.isoformat()}-{end.isoformat()}"
        f"{'-excel' if excel else ''}.csv"
    )
    return download(
        csvio.export(request.business, start, end, excel=excel),
        content_type="text/csv; charset=utf-8",
        filename=name,
    )
