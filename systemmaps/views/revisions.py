"""The versions of a map: the list, one version drawn, and bringing one back."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hourglass.access import BusinessRequest, business_view
from hourglass.models import Role

from .. import selectors, services
from ..access import get_map_for_member, get_revision_for_member
from ..graph import lint
from .drawings import revision_drawing_context


@business_view()
@require_safe
def revision_list(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    context = {"map": system_map, "revisions": selectors.revisions(system_map)}
    return render(request, "systemmaps/revision_list.html", context)


@business_view()
@require_safe
def revision_detail(request: BusinessRequest, pk: int, version: int) -> HttpResponse:
    revision = get_revision_for_member(request, pk, version)
    graph = revision.graph
    context = {
        # The worker draws the version; the page shows it or a placeholder.
        **revision_drawing_context(request, revision.map, revision.version),
        "map": revision.map,
        "revision": revision,
        "findings": lint(graph["nodes"], graph["edges"]),
    }
    return render(request, "systemmaps/revision_detail.html", context)


@business_view(role=Role.EDITOR)
@require_POST
def revision_restore(request: BusinessRequest, pk: int, version: int) -> HttpResponse:
    revision = get_revision_for_member(request, pk, version)
    result = services.revision_restore(
        system_map=revision.map, revision=revision, acting_user=request.user
    )
    messages.success(
        request,
        _("Version %(old)d is back, saved as version %(new)d; nothing was lost.")
        % {"old": revision.version, "new": result.system_map.version},
    )
    return redirect(result.system_map)
