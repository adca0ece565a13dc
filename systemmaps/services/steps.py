"""Writes of the steps people own: a step's owner, cost and automation, its SOP
checklist, the runs of that checklist, and the problems flagged at it."""

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from hourglass.models import User

from ..models import (
    STEP_DETAIL_FIELDS,
    ChecklistItem,
    ChecklistRun,
    Node,
    RunTick,
    StepFlag,
)


def step_update(*, node: Node, **values: Any) -> Node:
    """Set the owner, critical flag, automation and cost figures of a step.

    `owner` must be a membership of the map's business (the form checks it).
    """
    unknown = set(values) - set(STEP_DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"not step details: {sorted(unknown)}")
    for name, value in values.items():
        setattr(node, name, value)
    node.save(update_fields=[*values])
    return node


def sop_update(*, node: Node, why: str, reviewed_on: date | None) -> Node:
    node.sop_why = why
    node.sop_reviewed_on = reviewed_on
    node.save(update_fields=["sop_why", "sop_reviewed_on"])
    return node


@transaction.atomic
def checklist_item_add(*, node: Node, text: str) -> ChecklistItem:
    # Lock the step so two adds at once do not share a position.
    Node.all_objects.select_for_update().filter(pk=node.pk).first()
    last = node.checklist_items.aggregate(last=Max("position"))["last"]
    return ChecklistItem.objects.create(
        node=node, text=text, position=0 if last is None else last + 1
    )


def checklist_item_edit(*, item: ChecklistItem, text: str) -> ChecklistItem:
    item.text = text
    item.save(update_fields=["text"])
    return item


def checklist_item_delete(*, item: ChecklistItem) -> None:
    item.delete()


@transaction.atomic
def checklist_reorder(*, node: Node, item_ids: list[int]) -> None:
    """Put the step's items in the order of `item_ids` (every item, once each)."""
    Node.all_objects.select_for_update().filter(pk=node.pk).first()
    items = {item.pk: item for item in node.checklist_items.all()}
    if sorted(item_ids) != sorted(items):
        raise ValueError("item_ids must name every item of the step once")
    for position, pk in enumerate(item_ids):
        items[pk].position = position
    ChecklistItem.objects.bulk_update(items.values(), ["position"])


def checklist_item_move(*, item: ChecklistItem, offset: int) -> None:
    """Move an item up (-1) or down (+1): the keyboard alternative to dragging."""
    ids = list(item.node.checklist_items.values_list("pk", flat=True))
    index = ids.index(item.pk)
    target = min(max(index + offset, 0), len(ids) - 1)
    ids.insert(target, ids.pop(index))
    checklist_reorder(node=item.node, item_ids=ids)


def run_start(*, node: Node, acting_user: User, subject: str = "") -> ChecklistRun:
    return ChecklistRun.objects.create(
        node=node, started_by=acting_user, subject=subject
    )


class RunFinished(Exception):
    """The checklist run is finished: its ticks, subject and notes stay as they were."""


def _lock_open_run(run: ChecklistRun) -> None:
    # A tick or note arriving while someone finishes the run must not slip in
    # after the finish counted the ticks.
    finished_at = (
        ChecklistRun.objects.select_for_update()
        .values_list("finished_at", flat=True)
        .get(pk=run.pk)
    )
    if finished_at is not None:
        run.finished_at = finished_at
        raise RunFinished


@transaction.atomic
def run_tick(
    *, run: ChecklistRun, item: ChecklistItem, ticked: bool, acting_user: User
) -> None:
    """Tick or untick one item of an open run (the item is of the run's step).

    Raises RunFinished when the run is finished.
    """
    _lock_open_run(run)
    if ticked:
        RunTick.objects.get_or_create(
            run=run,
            item=item,
            defaults={"item_text": item.text, "ticked_by": acting_user},
        )
    else:
        RunTick.objects.filter(run=run, item=item).delete()


@transaction.atomic
def run_update(*, run: ChecklistRun, subject: str, notes: str) -> ChecklistRun:
    """Raises RunFinished when the run is finished."""
    _lock_open_run(run)
    run.subject = subject
    run.notes = notes
    run.save(update_fields=["subject", "notes"])
    return run


@transaction.atomic
def run_finish(
    *, run: ChecklistRun, notes: dict[str, str] | None = None
) -> ChecklistRun:
    """Close the run, keeping how many items the checklist had and how many
    were ticked, so the completion rate stays true after the checklist changes.
    `notes` (its subject and notes, sent with the Finish button) are saved with
    it, in the same transaction.

    Raises RunFinished when the run is already finished.
    """
    _lock_open_run(run)
    if notes is not None:
        run_update(run=run, subject=notes["subject"], notes=notes["notes"])
    run.finished_at = timezone.now()
    run.item_count = run.node.checklist_items.count()
    run.ticked_count = run.ticks.filter(item__isnull=False).count()
    run.save(update_fields=["finished_at", "item_count", "ticked_count"])
    return run


def flag_add(*, node: Node, acting_user: User, text: str) -> StepFlag:
    return StepFlag.objects.create(node=node, created_by=acting_user, text=text)


def flag_resolve(*, flag: StepFlag, acting_user: User) -> StepFlag:
    flag.resolved_at = timezone.now()
    flag.resolved_by = acting_user
    flag.save(update_fields=["resolved_at", "resolved_by"])
    return flag
