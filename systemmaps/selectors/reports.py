"""Reads of the business's systems as reports: the annual cost totals (per map,
per stage and for the business) and the gap reports."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone

from hourglass.models import Business

from .. import costs, gaps
from ..document import WORK_KINDS
from ..models import ChecklistItem, Edge, Node, StepFlag, SystemMap
from .maps import step_stage, work_steps

# ---------------------------------------------------------------------------
# Annual cost totals
# ---------------------------------------------------------------------------

# What a step's annual cost needs, read with `values()` (the owner's rate joined).
COST_FIELDS = (
    "minutes_per_run",
    "runs_per_month",
    "hourly_cost",
    "owner__hourly_rate",
)


def step_cost(row: dict[str, Any]) -> Decimal | None:
    """The annual cost of a step read as a `values()` row with COST_FIELDS: the
    step's own hourly cost, else its owner's rate (as Node.annual_cost)."""
    return costs.annual_cost(
        minutes_per_run=row["minutes_per_run"],
        runs_per_month=row["runs_per_month"],
        hourly_cost=costs.hourly_cost(row["hourly_cost"], row["owner__hourly_rate"]),
    )


@dataclass
class CostTotal:
    """The annual cost of some steps, and how many of them lack a figure."""

    amount: Decimal = Decimal(0)
    steps: int = 0
    unknown: int = 0

    def add(self, cost: Decimal | None) -> None:
        self.steps += 1
        if cost is None:
            self.unknown += 1
        else:
            self.amount += cost

    @property
    def known(self) -> int:
        return self.steps - self.unknown


@dataclass
class CostTotals:
    business: CostTotal = field(default_factory=CostTotal)
    by_map: defaultdict[int, CostTotal] = field(
        default_factory=lambda: defaultdict(CostTotal)
    )
    by_stage: defaultdict[str, CostTotal] = field(
        default_factory=lambda: defaultdict(CostTotal)
    )

    def add(self, row: dict[str, Any]) -> None:
        cost = step_cost(row)
        self.business.add(cost)
        self.by_map[row["map_id"]].add(cost)
        self.by_stage[step_stage(row["stage"], row["map__stages"])].add(cost)


def cost_totals(business: Business) -> CostTotals:
    """Annual cost per map, per stage and for the business, in one query."""
    totals = CostTotals()
    rows = work_steps(business).values("map_id", "stage", "map__stages", *COST_FIELDS)
    for row in rows:
        totals.add(row)
    return totals


def map_cost_total(system_map: SystemMap) -> CostTotal:
    """The annual cost of one map's steps, in one query."""
    total = CostTotal()
    rows = system_map.nodes.filter(kind__in=WORK_KINDS).values(*COST_FIELDS)
    for row in rows:
        total.add(step_cost(row))
    return total


# ---------------------------------------------------------------------------
# Gap reports
# ---------------------------------------------------------------------------


@dataclass
class MapGaps:
    map: SystemMap
    report: gaps.Report
    cost: CostTotal
    step_count: int


@dataclass
class BusinessGaps:
    maps: list[MapGaps]
    cost: CostTotal
    # The automation candidates of every map as (map, gap), dearest first.
    candidates: list[tuple[SystemMap, gaps.Gap]]
    candidates_without_cost: int

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        """(rule, title, gaps) of each rule over all maps, rules with gaps only."""
        totals: dict[str, int] = defaultdict(int)
        titles: dict[str, str] = {}
        for map_gaps in self.maps:
            for section in map_gaps.report.sections:
                totals[section.rule] += len(section.gaps)
                titles[section.rule] = section.title
        return [(rule, titles[rule], n) for rule, n in totals.items() if n]

    @property
    def gap_count(self) -> int:
        return sum(m.report.gap_count for m in self.maps)


_NODE_FIELDS = (
    "pk",
    "map_id",
    "client_id",
    "kind",
    "label",
    "stage",
    "owner_id",
    "critical",
    "automation",
    "sop_reviewed_on",
    *COST_FIELDS,
)


def _map_reports(
    maps: list[SystemMap], *, today: date, measured: set[int] | None
) -> list[MapGaps]:
    """Each map's gap report and cost, in four queries whatever the number of
    maps and steps: steps, arrows, checklist sizes and open flags."""
    ids = [m.pk for m in maps]
    item_counts = dict(
        ChecklistItem.objects.filter(
            node__map_id__in=ids, node__deleted_at__isnull=True
        )
        .values("node_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("node_id", "n")
    )
    flags: dict[int, list[dict]] = defaultdict(list)
    for flag in (
        StepFlag.objects.filter(
            node__map_id__in=ids,
            node__deleted_at__isnull=True,
            resolved_at__isnull=True,
        )
        .order_by("created_at", "id")
        .values("node_id", "text", "created_at", "created_by__name")
    ):
        flags[flag["node_id"]].append(
            {
                "text": flag["text"],
                "by": flag["created_by__name"],
                "created_at": timezone.localtime(flag["created_at"]),
            }
        )

    nodes: dict[int, list[dict]] = defaultdict(list)
    client_ids: dict[int, str] = {}
    # `measured` holds step pks; the gap rules name steps by their ids in the map.
    measured_by_map: dict[int, set[str]] = defaultdict(set)
    costs_by_map: dict[int, CostTotal] = defaultdict(CostTotal)
    for row in Node.objects.filter(map_id__in=ids).order_by("id").values(*_NODE_FIELDS):
        client_ids[row["pk"]] = row["client_id"]
        if measured is not None and row["pk"] in measured:
            measured_by_map[row["map_id"]].add(row["client_id"])
        work = row["kind"] in WORK_KINDS
        cost = step_cost(row) if work else None
        if work:
            costs_by_map[row["map_id"]].add(cost)
        nodes[row["map_id"]].append(
            {
                "id": row["client_id"],
                "kind": row["kind"],
                "label": row["label"],
                "stage": row["stage"] or None,
                "owner": row["owner_id"],
                "critical": row["critical"],
                "automation": row["automation"],
                "sop_reviewed_on": row["sop_reviewed_on"],
                "checklist_items": item_counts.get(row["pk"], 0),
                "annual_cost": cost,
                "open_flags": flags.get(row["pk"], []),
            }
        )

    edges: dict[int, list[dict]] = defaultdict(list)
    for row in (
        Edge.objects.filter(map_id__in=ids)
        .order_by("id")
        .values("map_id", "client_id", "source_id", "target_id", "label")
    ):
        edges[row["map_id"]].append(
            {
                "id": row["client_id"],
                "source": client_ids[row["source_id"]],
                "target": client_ids[row["target_id"]],
                "label": row["label"] or None,
            }
        )

    return [
        MapGaps(
            map=m,
            report=gaps.report(
                nodes[m.pk],
                edges[m.pk],
                today=today,
                measured=None if measured is None else measured_by_map[m.pk],
            ),
            cost=costs_by_map[m.pk],
            step_count=costs_by_map[m.pk].steps,
        )
        for m in maps
    ]


def map_gaps(
    system_map: SystemMap, *, today: date, measured: set[int] | None = None
) -> MapGaps:
    """The gap report of one map. `measured`: the pks of the steps that have a
    metric (the metrics app's reverse relation); None leaves that rule out."""
    return _map_reports([system_map], today=today, measured=measured)[0]


def business_gaps(
    business: Business, *, today: date, measured: set[int] | None = None
) -> BusinessGaps:
    """The gap report of every live map of the business, in five queries."""
    maps = list(
        SystemMap.objects.filter(business=business)
        .alive()
        .select_related("business")
        .order_by("name", "id")
    )
    reports = _map_reports(maps, today=today, measured=measured)
    total = CostTotal()
    for report in reports:
        total.amount += report.cost.amount
        total.steps += report.cost.steps
        total.unknown += report.cost.unknown
    candidates = sorted(
        ((r.map, gap) for r in reports for gap in r.report.candidates),
        key=lambda pair: -pair[1].amount,
    )
    return BusinessGaps(
        maps=reports,
        cost=total,
        candidates=candidates,
        candidates_without_cost=sum(r.report.candidates_without_cost for r in reports),
    )
