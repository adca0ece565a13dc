"""Who may see and change the maps of a business, and the steps, checklists,
runs and flagged problems on them.

Each helper returns an object of the request's business (resolved by
`hourglass.access.business_view`) or raises 404 — another business's object
looks exactly like one that does not exist — and does its `select_related`.

Who may change a map is a matter of role, checked for the whole URL by
`business_view(role=…)`: editors and owners change maps, only owners bring one
back from the trash. Who may work on a step — its checklist, runs and flagged
problems — depends on the step: editors and owners, and the member who owns it
(`Membership.can_work_on`); the step helpers check it with `for_work=True` and
raise 403 for a member who may read the step but not work on it.
"""

from hourglass.access import BusinessRequest, one_or_404, require

from .document import WORK_KINDS
from .models import (
    ChecklistItem,
    ChecklistRun,
    ImportDraft,
    Node,
    Revision,
    StepFlag,
    SystemMap,
)


def get_map_for_member(
    request: BusinessRequest, pk: int, *, in_trash: bool = False
) -> SystemMap:
    """A live map of the request's business, or 404; with `in_trash`, a map in
    the trash (invisible everywhere else)."""
    maps = SystemMap.objects.filter(business=request.business).select_related(
        "business", "updated_by", "created_by"
    )
    maps = maps.in_trash() if in_trash else maps.alive()
    return one_or_404(maps, "No such map", pk=pk)


def get_revision_for_member(
    request: BusinessRequest, pk: int, version: int
) -> Revision:
    """A saved version of a live map of the request's business, or 404."""
    system_map = get_map_for_member(request, pk)
    revisions = Revision.objects.select_related("created_by")
    revision = one_or_404(revisions, "No such version", map=system_map, version=version)
    revision.map = system_map
    return revision


def get_step_for_member(
    request: BusinessRequest,
    pk: int,
    node: str,
    *,
    work_only: bool = True,
    for_work: bool = False,
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
    step = one_or_404(steps, "No such step")
    if for_work:
        require(
            request.membership.can_work_on(step.owner_id),
            "Only the step's owner or an editor can do this.",
        )
    return step


def _of_step(request, pk, node, related: str, child: int, for_work: bool):
    """One row of a step's related `related` rows (`row.node` is the step)."""
    step = get_step_for_member(request, pk, node, for_work=for_work)
    row = one_or_404(getattr(step, related), f"No such {related}", pk=child)
    row.node = step
    return row


def get_checklist_item_for_member(
    request: BusinessRequest, pk: int, node: str, item: int, *, for_work=False
) -> ChecklistItem:
    """An item of a step's checklist (`item.node` is the step), or 404."""
    return _of_step(request, pk, node, "checklist_items", item, for_work)


def get_flag_for_member(
    request: BusinessRequest, pk: int, node: str, flag: int, *, for_work=False
) -> StepFlag:
    """A problem flagged at a step (`flag.node` is the step), or 404."""
    return _of_step(request, pk, node, "flags", flag, for_work)


def get_run_for_member(
    request: BusinessRequest, run: int, *, for_work: bool = False
) -> ChecklistRun:
    """A checklist run of a step (not deleted) in a live map of the request's
    business, or 404."""
    runs = ChecklistRun.objects.filter(
        node__map__business=request.business,
        node__map__deleted_at__isnull=True,
        node__deleted_at__isnull=True,
    ).select_related("node__map__business", "node__owner__user", "started_by")
    checklist_run = one_or_404(runs, "No such run", pk=run)
    if for_work:
        require(
            request.membership.can_work_on(checklist_run.node.owner_id),
            "Only the step's owner or an editor can do this.",
        )
    return checklist_run


def get_run_item_for_member(
    request: BusinessRequest, run: int, item: int, *, for_work: bool = False
) -> tuple[ChecklistRun, ChecklistItem]:
    """A run and an item of its step's checklist, or 404."""
    checklist_run = get_run_for_member(request, run, for_work=for_work)
    items = checklist_run.node.checklist_items
    entry = one_or_404(items, "No such checklist item", pk=item)
    return checklist_run, entry


def get_import_draft_for_member(request: BusinessRequest, pk: int) -> ImportDraft:
    """A file the request's user uploaded to this business's import page and
    has not turned into maps yet, or 404 (anyone else's is nobody's business)."""
    drafts = ImportDraft.objects.filter(business=request.business, user=request.user)
    return one_or_404(drafts, "No such upload", pk=pk)
