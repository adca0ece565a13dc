"""Writes of metrics: the metrics themselves, their weekly entries (with the audit
trail of edits), CSV imports; and, at the bottom, the review meeting's writes.

An entry write marks its week stale in the rollup tables inside its transaction
and queues the recompute once it has committed, so the dashboard is fresh within
a minute, or after the nightly catch-up when the broker cannot be reached.

Every write of metrics and entries is a `hourglass.locks.business_write`: one
transaction that takes the business's lock first (the one lock order, so
concurrent savers and the rollup cannot deadlock) and is run again when the
database still answers with a deadlock or "database is locked".
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Max, When
from django.utils import timezone

from hourglass.locks import business_write
from hourglass.models import Business, Membership, User
from systemmaps import selectors as map_selectors
from systemmaps.models import Node

from . import rollup, tasks, weeks
from .models import (
    DEFINITION_FIELDS,
    Entry,
    EntryRevision,
    Meeting,
    MeetingIssue,
    Metric,
    MetricDefinition,
    Todo,
)

# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def stage_of_step(step: Node) -> str:
    """The stage a step counts under: its own, else its map's first ("" if none)."""
    return map_selectors.step_stage(step.stage, step.map.stages)


def _queue_rollup(business_id: int, week: date) -> None:
    """Mark the week stale now and queue its recompute after the commit."""
    rollup.mark_stale(business_id=business_id, week=week)
    transaction.on_commit(lambda: tasks.rollup_enqueue(business_id, week))


def _open_week_changed(business: Business) -> None:
    """A definition changed: only the open week judges by it (weeks that closed
    keep theirs), so that week is recomputed."""
    _queue_rollup(business.pk, weeks.current_week(business.timezone))


def map_changed_receiver(
    *,
    business_id: int,
    map_id: int,
    deleted_steps: list[int] | None = None,
    returned_steps: dict[str, int] | None = None,
    **_kwargs,
) -> None:
    """A map was saved, trashed or restored (`systemmaps.signals.map_changed`).

    A metric of a step the save left out loses its step, as it always has (its
    `step_map` and `step_key` stay: the weeks that closed are judged by the map
    as it was); one whose step comes back is measured there again. Issues keep
    their step row, which reads as none while deleted (`Node.is_deleted`)."""
    if deleted_steps:
        Metric.objects.filter(step_id__in=deleted_steps).update(step=None)
    if returned_steps:
        Metric.objects.filter(
            business_id=business_id,
            step__isnull=True,
            step_map_id=map_id,
            step_key__in=returned_steps,
        ).update(
            step_id=Case(
                *(When(step_key=key, then=pk) for key, pk in returned_steps.items()),
                output_field=IntegerField(),
            )
        )
    business = Business.objects.only("timezone").get(pk=business_id)
    _open_week_changed(business)


def definition_keep(metric: Metric) -> None:
    """Before `metric`'s definition changes: keep the one in force for the weeks
    that have closed since it took effect (`MetricDefinition`), so they are
    judged by it for good. A definition only the open week has seen is simply
    replaced. Locks the metric's row."""
    current = weeks.current_week(metric.business.timezone)
    saved = Metric.objects.select_for_update().get(pk=metric.pk)
    start = (
        saved.definitions.aggregate(last=Max("until_week"))["last"] or saved.first_week
    )
    if start >= current:
        return
    MetricDefinition.objects.create(
        metric=saved,
        from_week=start,
        until_week=current,
        **{field: getattr(saved, field) for field in DEFINITION_FIELDS},
    )


@business_write(lambda *, business, **_: business.pk)
def metric_create(
    *,
    business: Business,
    acting_user: User,
    name: str,
    unit: str,
    direction: str,
    goal: Decimal | None,
    owner: Membership | None,
    step: Node | None,
    stage: str,
    in_funnel: bool,
    description: str = "",
) -> Metric:
    if not stage and step is not None:
        stage = stage_of_step(step)
    last = Metric.objects.filter(business=business).aggregate(last=Max("position"))[
        "last"
    ]
    return Metric.objects.create(
        business=business,
        name=name,
        unit=unit,
        direction=direction,
        goal=goal,
        owner=owner,
        step=step,
        stage=stage,
        in_funnel=in_funnel,
        description=description,
        position=0 if last is None else last + 1,
        first_week=weeks.current_week(business.timezone),
        created_by=acting_user,
    )


@business_write(lambda *, metric, **_: metric.business_id)
def metric_update(
    *,
    metric: Metric,
    name: str,
    unit: str,
    direction: str,
    goal: Decimal | None,
    owner: Membership | None,
    step: Node | None,
    stage: str,
    in_funnel: bool,
    description: str = "",
) -> Metric:
    if not stage and step is not None:
        stage = stage_of_step(step)
    definition_keep(metric)
    if step is None:
        # No step from now on (the weeks that closed keep theirs, kept above).
        metric.step_map, metric.step_key = None, ""
    metric.name = name
    metric.unit = unit
    metric.direction = direction
    metric.goal = goal
    metric.owner = owner
    metric.step = step
    metric.stage = stage
    metric.in_funnel = in_funnel
    metric.description = description
    metric.save()
    _open_week_changed(metric.business)
    return metric


@business_write(lambda *, metric, **_: metric.business_id)
def metric_archive(*, metric: Metric, acting_user: User) -> Metric:
    definition_keep(metric)
    metric.archived_on = weeks.today_in(metric.business.timezone)
    metric.save(update_fields=["archived_on"])
    _open_week_changed(metric.business)
    return metric


@business_write(lambda *, metric, **_: metric.business_id)
def metric_restore(*, metric: Metric, acting_user: User) -> Metric:
    definition_keep(metric)
    metric.archived_on = None
    metric.save(update_fields=["archived_on"])
    _open_week_changed(metric.business)
    return metric


# ---------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------


@dataclass
class EntryResult:
    # None when a week that never had a number was "cleared".
    entry: Entry | None
    changed: bool
    # Whether the rollup was queued: None until the transaction commits (or
    # when nothing changed), False when the broker could not be reached.
    queued: bool | None = None


def _lock_entry(metric: Metric, week: date) -> Entry | None:
    return Entry.objects.select_for_update().filter(metric=metric, week=week).first()


def _lower_first_week(metric: Metric, week: date) -> None:
    """A backfilled number makes the metric expected from that week on."""
    if week < metric.first_week:
        Metric.objects.filter(pk=metric.pk, first_week__gt=week).update(first_week=week)
        metric.first_week = week
        # The earliest definition kept reaches back to it.
        first = metric.definitions.order_by("from_week").first()
        if first is not None and first.from_week > week:
            MetricDefinition.objects.filter(pk=first.pk).update(from_week=week)
        # The weeks between expect numbers now: each has its (stale) row.
        rollup.ensure_weeks([metric.business_id])


@business_write(lambda *, metric, **_: metric.business_id)
def entry_record(
    *, metric: Metric, week: date, value: Decimal | None, acting_user: User
) -> EntryResult:
    """Set (or clear, with None) `metric`'s number for `week`. An edit keeps the
    number it replaces in the audit trail; the same number again changes nothing."""
    now = timezone.now()
    entry = _lock_entry(metric, week)
    if entry is None:
        if value is None:
            return EntryResult(entry=None, changed=False)
        try:
            # A savepoint: someone saving the same week at the same moment
            # makes this insert fail, and then their row is the one to edit.
            with transaction.atomic():
                entry = Entry.objects.create(
                    business_id=metric.business_id,
                    metric=metric,
                    week=week,
                    value=value,
                    entered_by=acting_user,
                    entered_at=now,
                )
        except IntegrityError:
            entry = _lock_entry(metric, week)
        else:
            return _recorded(metric, entry)
    if entry.value == value:
        return EntryResult(entry=entry, changed=False)
    EntryRevision.objects.create(
        entry=entry,
        value=entry.value,
        entered_by_id=entry.entered_by_id,
        entered_at=entry.entered_at,
        replaced_by=acting_user,
        replaced_at=now,
    )
    entry.value = value
    entry.entered_by = acting_user
    entry.entered_at = now
    entry.save(update_fields=["value", "entered_by", "entered_at"])
    return _recorded(metric, entry)


@business_write(lambda *, changes, **_: changes[0][0].business_id if changes else None)
def week_numbers_record(
    *,
    week: date,
    changes: list[tuple[Metric, Decimal | None]],
    acting_user: User,
) -> list[EntryResult]:
    """Several metrics' numbers for one week (the This week form posted whole):
    all saved, or none."""
    return [
        entry_record(metric=metric, week=week, value=value, acting_user=acting_user)
        for metric, value in changes
    ]


def _recorded(metric: Metric, entry: Entry) -> EntryResult:
    _lower_first_week(metric, entry.week)
    result = EntryResult(entry=entry, changed=True)
    rollup.mark_stale(business_id=metric.business_id, week=entry.week)

    def enqueue() -> None:
        result.queued = tasks.rollup_enqueue(metric.business_id, entry.week)

    transaction.on_commit(enqueue)
    return result


@dataclass
class ImportRow:
    """One checked row of an import: the line it came from and what it says."""

    line: int
    metric: Metric
    week: date
    value: Decimal | None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    weeks: list[date] = field(default_factory=list)
    # False when the rollup of some week could not be queued (None before the
    # commit, or when nothing changed).
    queued: bool | None = None


@business_write(lambda *, business, **_: business.pk)
def entries_import(
    *, business: Business, rows: list[ImportRow], acting_user: User
) -> ImportResult:
    """Write every row or none: one transaction, a few set-based queries, and one
    rollup per week that changed (not one per row). Rows are checked first by
    `metrics.csvio`; (metric, week) pairs are unique among them."""
    now = timezone.now()
    result = ImportResult()
    if not rows:
        return result
    metric_ids = {row.metric.pk for row in rows}
    week_set = {row.week for row in rows}
    existing = {
        (entry.metric_id, entry.week): entry
        for entry in Entry.objects.select_for_update().filter(
            business=business, metric_id__in=metric_ids, week__in=week_set
        )
    }
    new, edited, revisions = [], [], []
    changed_weeks: set[date] = set()
    earliest: dict[int, date] = {}
    for row in rows:
        entry = existing.get((row.metric.pk, row.week))
        if entry is None:
            if row.value is None:
                result.unchanged += 1
                continue
            new.append(
                Entry(
                    business=business,
                    metric=row.metric,
                    week=row.week,
                    value=row.value,
                    entered_by=acting_user,
                    entered_at=now,
                )
            )
        elif entry.value == row.value:
            result.unchanged += 1
            continue
        else:
            revisions.append(
                EntryRevision(
                    entry=entry,
                    value=entry.value,
                    entered_by_id=entry.entered_by_id,
                    entered_at=entry.entered_at,
                    replaced_by=acting_user,
                    replaced_at=now,
                )
            )
            entry.value, entry.entered_by, entry.entered_at = (
                row.value,
                acting_user,
                now,
            )
            edited.append(entry)
        changed_weeks.add(row.week)
        if row.week < earliest.get(row.metric.pk, row.metric.first_week):
            earliest[row.metric.pk] = row.week
    Entry.objects.bulk_create(new, batch_size=500)
    Entry.objects.bulk_update(
        edited, ["value", "entered_by", "entered_at"], batch_size=500
    )
    EntryRevision.objects.bulk_create(revisions, batch_size=500)
    for metric_id, week in earliest.items():
        Metric.objects.filter(pk=metric_id, first_week__gt=week).update(first_week=week)
    result.created, result.updated = len(new), len(edited)
    result.weeks = sorted(changed_weeks)
    for week in result.weeks:
        rollup.mark_stale(business_id=business.pk, week=week, at=now)

    def enqueue() -> None:
        queued = [tasks.rollup_enqueue(business.pk, week) for week in result.weeks]
        result.queued = all(queued)

    if result.weeks:
        transaction.on_commit(enqueue)
    return result


# ---------------------------------------------------------------------------
# Meetings
# ---------------------------------------------------------------------------


def meeting_notes_save(
    *, business: Business, week: date, notes: str, acting_user: User
) -> Meeting:
    meeting, _ = Meeting.objects.update_or_create(
        business=business,
        week=week,
        defaults={"notes": notes, "updated_by": acting_user},
    )
    return meeting


def issue_raise(
    *,
    business: Business,
    week: date,
    title: str,
    detail: str = "",
    metric: Metric | None = None,
    step: Node | None = None,
    acting_user: User,
) -> MeetingIssue:
    return MeetingIssue.objects.create(
        business=business,
        raised_week=week,
        title=title,
        detail=detail,
        metric=metric,
        step=step,
        raised_by=acting_user,
    )


def issue_resolve(
    *, issue: MeetingIssue, week: date, resolution: str = ""
) -> MeetingIssue:
    # Resolved in the review it was closed in, never before it was raised.
    issue.resolved_week = max(week, issue.raised_week)
    issue.resolved_at = timezone.now()
    issue.resolution = resolution
    issue.save(update_fields=["resolved_week", "resolved_at", "resolution"])
    return issue


def todo_add(
    *,
    business: Business,
    week: date,
    text: str,
    owner: Membership | None,
    due: date | None = None,
    issue: MeetingIssue | None = None,
    acting_user: User,
) -> Todo:
    return Todo.objects.create(
        business=business,
        created_week=week,
        text=text,
        owner=owner,
        due=due,
        issue=issue,
        created_by=acting_user,
    )


def todo_done(*, todo: Todo, week: date) -> Todo:
    # Done in the review it was ticked off in, never before it existed.
    todo.done_week = max(week, todo.created_week)
    todo.done_at = timezone.now()
    todo.save(update_fields=["done_week", "done_at"])
    return todo


def todo_reopen(*, todo: Todo) -> Todo:
    todo.done_week = None
    todo.done_at = None
    todo.save(update_fields=["done_week", "done_at"])
    return todo


# ---------------------------------------------------------------------------
# The review's figures
# ---------------------------------------------------------------------------


def week_recompute(*, business: Business, week: date) -> bool:
    """Queue the rollup of the business's week; when the broker cannot be
    reached, compute it here and now (one business's week takes a few queries).
    True when queued, False when done already."""
    if tasks.rollup_enqueue(business.pk, week):
        return True
    rollup.rollup_business_week(business.pk, week)
    return False
