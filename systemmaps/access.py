from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from hourglass.models import Membership

from .document import WORK_KINDS
from .models import ChecklistRun, Node, SystemMap


def get_map_for_member(
    request: HttpRequest, pk: int, *, in_trash: bool = False
) -> SystemMap:
    """A map of the request's business (resolved by `business_view`), or 404.

    Deleted maps are invisible except to the trash pages, which ask for them.
    """
    maps = SystemMap.objects.filter(business=request.business).select_related(
        "business", "updated_by", "created_by"
    )
    maps = maps.in_trash() if in_trash else maps.alive()
    try:
        return maps.get(pk=pk)
    except SystemMap.DoesNotExist:
        raise Http404("No such map") from None


def get_step_for_member(
    request: HttpRequest, pk: int, node: str, *, work_only: bool = True
) -> Node:
    """A step (by its client id) of a live map of the request's business, or 404.

    With `work_only`, termini (which nobody does) are 404 too. The map, its
    business and the owner with their user come with it.
    """
    steps = Node.objects.filter(
        map_id=pk,
        map__business=request.business,
        map__deleted_at__isnull=True,
        client_id=node,
    ).select_related("map__business", "owner__user")
    if work_only:
        steps = steps.filter(kind__in=WORK_KINDS)
    try:
        return steps.get()
    except Node.DoesNotExist:
        raise Http404("No such step") from None


def can_work_on_step(membership: Membership, node: Node) -> bool:
    """Editors and owners work on every step; a member only on the steps they own."""
    return membership.can_edit or node.owner_id == membership.pk


def require_step_worker(request: HttpRequest, node: Node) -> None:
    """403 unless the request's member may edit the checklist and runs of `node`."""
    if not can_work_on_step(request.membership, node):
        raise PermissionDenied("Only the step's owner or an editor can do this.")


def get_run_for_member(request: HttpRequest, run_pk: int) -> ChecklistRun:
    """A checklist run of a step in a live map of the request's business, or 404."""
    runs = ChecklistRun.objects.filter(
        node__map__business=request.business,
        node__map__deleted_at__isnull=True,
    ).select_related("node__map__business", "node__owner__user", "started_by")
    try:
        return runs.get(pk=run_pk)
    except ChecklistRun.DoesNotExist:
        raise Http404("No such run") from None
