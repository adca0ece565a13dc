"""Reads of the steps people own: My steps, the accountability chart, a step's
page (its cost, checklist, runs and flagged problems), a run and a walk."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from hourglass.models import STAGE_ORDER, Business, Membership

from .. import costs
from ..document import WORK_KINDS
from ..models import ChecklistItem, ChecklistRun, Node, RunTick, StepFlag, SystemMap
from .maps import stage_label, step_stage, work_steps
from .reports import CostTotal

# ---------------------------------------------------------------------------
# My steps
# ---------------------------------------------------------------------------


@dataclass
class StageSteps:
    stage: str
    steps: list[Node] = field(default_factory=list)

    @property
    def label(self) -> str:
        return stage_label(self.stage)


@dataclass
class MapSteps:
    map: SystemMap
    stages: list[StageSteps] = field(default_factory=list)
    cost: CostTotal = field(default_factory=CostTotal)

    @property
    def step_count(self) -> int:
        return sum(len(group.steps) for group in self.stages)


def _open_runs() -> QuerySet[ChecklistRun]:
    return (
        ChecklistRun.objects.filter(finished_at__isnull=True)
        .select_related("started_by")
        .annotate(tick_count=Count("ticks"))
        .order_by("-started_at", "-id")
    )


def my_steps(membership: Membership) -> list[MapSteps]:
    """The work steps `membership` owns in live maps, by map and then stage
    (hourglass order), each with its checklist items and open runs (`open_runs`),
    in three queries whatever the number of steps."""
    steps = (
        Node.objects.filter(
            owner=membership,
            kind__in=WORK_KINDS,
            map__business_id=membership.business_id,
            map__deleted_at__isnull=True,
        )
        .select_related("map", "owner")
        .prefetch_related(
            Prefetch(
                "checklist_items",
                queryset=ChecklistItem.objects.order_by("position", "id"),
            ),
            Prefetch("runs", queryset=_open_runs(), to_attr="open_runs"),
        )
        .order_by("map__name", "map_id", "x", "y", "id")
    )
    by_map: dict[int, MapSteps] = {}
    stage_groups: dict[tuple[int, str], StageSteps] = {}
    for step in steps:
        group = by_map.get(step.map_id)
        if group is None:
            group = by_map[step.map_id] = MapSteps(map=step.map)
        stage = step_stage(step.stage, step.map.stages)
        stage_group = stage_groups.get((step.map_id, stage))
        if stage_group is None:
            stage_group = stage_groups[step.map_id, stage] = StageSteps(stage)
            group.stages.append(stage_group)
        stage_group.steps.append(step)
        group.cost.add(step.annual_cost)
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    for group in by_map.values():
        # Steps without any stage come last.
        group.stages.sort(key=lambda s: order.get(s.stage, len(order)))
    return list(by_map.values())


def my_other_open_runs(membership: Membership) -> list[ChecklistRun]:
    """Open runs the member started on steps they do not own (one query)."""
    return list(
        _open_runs()
        .filter(
            started_by_id=membership.user_id,
            node__map__business_id=membership.business_id,
            node__map__deleted_at__isnull=True,
            node__deleted_at__isnull=True,
        )
        .exclude(node__owner=membership)
        .select_related("node__map")
    )


# ---------------------------------------------------------------------------
# The accountability chart
# ---------------------------------------------------------------------------


def steps_for_chart(business: Business) -> list[dict[str, Any]]:
    """Every work step of the business's live maps as plain rows (one query):
    pk, client_id, label, kind, critical, owner_id, map_id, map_name."""
    rows = (
        work_steps(business)
        .order_by("map__name", "map_id", "x", "y", "id")
        .values(
            "pk",
            "client_id",
            "label",
            "kind",
            "critical",
            "owner_id",
            "map_id",
            "map__name",
        )
    )
    return [{**row, "map_name": row.pop("map__name")} for row in rows]


# ---------------------------------------------------------------------------
# A step's page
# ---------------------------------------------------------------------------

# Runs listed on the step page; the completion rate covers every finished run.
HISTORY_RUNS = 25


def _exact(value: Decimal | None) -> Decimal | None:
    """A figure to show in full, without trailing zeros (40, 4.25)."""
    if value is None:
        return None
    return (
        value.quantize(Decimal(1))
        if value == value.to_integral_value()
        else (value.normalize())
    )


def _figure(value: Decimal | None) -> Decimal | None:
    """A figure to show: at most two decimals, and none that are zeros (0.5, 20)."""
    if value is None:
        return None
    value = value.quantize(Decimal("0.01"))
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _missing_figures(node: Node, hourly: Decimal | None) -> list[str]:
    missing = []
    if node.minutes_per_run is None:
        missing.append(_("the time per run"))
    if node.runs_per_month is None:
        missing.append(_("the runs per month"))
    if hourly is None:
        if node.owner_id is None:
            missing.append(_("an hourly cost (or an owner with an hourly rate)"))
        else:
            missing.append(
                _("an hourly cost (%(name)s has no hourly rate)")
                % {"name": node.owner.user.name or node.owner.user.email}
            )
    return missing


def cost_summary(node: Node) -> dict[str, Any]:
    """The annual cost of a step with the figures behind it, or what is missing
    (the step's owner and user preloaded)."""
    hourly = node.effective_hourly_cost
    missing = _missing_figures(node, hourly)
    if node.hourly_cost is not None:
        source = "step"
    elif hourly is not None:
        source = "owner"
    else:
        source = ""
    minutes = node.minutes_per_run
    return {
        "annual": node.annual_cost,
        "annual_hours": costs.annual_hours(
            minutes_per_run=minutes, runs_per_month=node.runs_per_month
        ),
        "hourly": hourly,
        "source": source,
        "minutes_per_run": _figure(minutes),
        "runs_per_month": _figure(node.runs_per_month),
        # Exact (minutes × runs × 12 ÷ 60 ends after at most four decimals),
        # so the formula shown multiplies to the total beside it.
        "hours_a_year": _exact(
            costs.annual_hours(
                minutes_per_run=minutes, runs_per_month=node.runs_per_month, exact=True
            )
        ),
        "missing": get_text_list(missing, _("and")) if missing else "",
    }


def checklist(node: Node) -> list[ChecklistItem]:
    return list(node.checklist_items.all())


def checklist_item_ids(node: Node) -> list[int]:
    return list(node.checklist_items.values_list("pk", flat=True))


def open_flags(node: Node) -> list[StepFlag]:
    """The problems flagged at the step and not resolved yet, oldest first."""
    return list(
        node.flags.filter(resolved_at__isnull=True).select_related("created_by")
    )


@dataclass
class RunHistory:
    runs: list[ChecklistRun]
    stats: dict[str, Any]
    # Items ticked ÷ items listed over the finished runs, in percent.
    completion_rate: Decimal | None
    hidden: int


def run_history(node: Node, *, item_total: int | None = None) -> RunHistory:
    """The step's latest runs, each with `shown_ticked` and `shown_total`
    (finished runs keep the counts of their day; open ones count today's
    list), and the counts over every run, in three queries at most."""
    if item_total is None:
        item_total = node.checklist_items.count()
    finished = Q(finished_at__isnull=False)
    runs = list(
        node.runs.select_related("started_by")
        .order_by("-started_at", "-id")
        .annotate(ticked_now=Count("ticks", filter=Q(ticks__item__isnull=False)))[
            :HISTORY_RUNS
        ]
    )
    for run in runs:
        run.shown_ticked = run.ticked_count if run.finished_at else run.ticked_now
        run.shown_total = run.item_count if run.finished_at else item_total
    stats = node.runs.aggregate(
        total=Count("pk"),
        finished=Count("pk", filter=finished),
        items=Sum("item_count", filter=finished),
        ticked=Sum("ticked_count", filter=finished),
    )
    rate = None
    if stats["items"]:
        rate = (Decimal(100) * stats["ticked"] / stats["items"]).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    return RunHistory(
        runs=runs,
        stats=stats,
        completion_rate=rate,
        hidden=max(stats["total"] - len(runs), 0),
    )


@dataclass
class RunSheet:
    """A run's checklist as its page shows it."""

    rows: list[dict[str, Any]]
    # Ticks of items deleted since: kept with the words they had.
    removed_ticks: list[RunTick]
    ticked: int
    total: int
    checklist_changed: bool


def run_sheet(run: ChecklistRun) -> RunSheet:
    """The run's items with their ticks (two queries): an open run counts
    today's checklist, a finished one the counts it was finished with."""
    items = checklist(run.node)
    ticks = list(run.ticks.select_related("ticked_by"))
    by_item = {tick.item_id: tick for tick in ticks if tick.item_id is not None}
    if run.is_open:
        ticked, total = len(by_item), len(items)
    else:
        ticked, total = run.ticked_count or 0, run.item_count or 0
    return RunSheet(
        rows=[{"item": item, "tick": by_item.get(item.pk)} for item in items],
        removed_ticks=[tick for tick in ticks if tick.item_id is None],
        ticked=ticked,
        total=total,
        checklist_changed=not run.is_open and run.item_count != len(items),
    )


def steps_by_id(system_map: SystemMap, client_ids: set[str]) -> dict[str, Node]:
    """The map's steps with these client ids, with their owners (one query)."""
    return {
        node.client_id: node
        for node in system_map.nodes.filter(client_id__in=client_ids).select_related(
            "owner__user"
        )
    }
