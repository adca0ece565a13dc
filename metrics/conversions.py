"""Step conversions: along the arrows of each map as it was when the week
closed, from each measured step to the next measured ones (through unmeasured
steps), with the biggest drop-off and the loops back marked. Written by
`metrics.rollup` with the rest of a week's rows."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hourglass.models import Business
from metrics import upsert, weeks
from metrics.models import MetricWeek, StepConversion, Unit
from systemmaps import selectors as map_selectors
from systemmaps.document import Index

PLACES = Decimal("0.0001")
# The largest rate a DecimalField(max_digits=12, decimal_places=4) holds.
RATE_LIMIT = Decimal("100000000")


def share(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """numerator ÷ denominator to four places (a share, a conversion); None when
    either is missing, the denominator is 0, or it would not fit."""
    if numerator is None or not denominator:
        return None
    try:
        rate = (Decimal(numerator) / Decimal(denominator)).quantize(
            PLACES, rounding=ROUND_HALF_UP
        )
    except InvalidOperation:
        return None
    return rate if abs(rate) < RATE_LIMIT else None


COLUMNS = [
    "business_id",
    "from_label",
    "to_label",
    "from_metric_id",
    "to_metric_id",
    "from_value",
    "to_value",
    "rate",
    "is_biggest_drop",
    "is_return",
    "position",
]
KEY = ["map_id", "week", "from_key", "to_key"]


def upsert_step_conversions(ids: list[int], week: date) -> None:
    """Along the arrows of each map as it was when the week closed (its saved
    version then; none while it was in the trash): from each measured step to
    the next. A step's flow metric is its first count metric by (position, id),
    from the week's definitions. The pairs no longer there lose their row; the
    others are written only when they changed."""
    rows = _conversion_rows(ids, week)
    upsert.sync_rows(
        StepConversion.objects.filter(business_id__in=ids, week=week),
        KEY,
        COLUMNS,
        [
            (*(getattr(row, name) for name in KEY), *(getattr(row, c) for c in COLUMNS))
            for row in rows
        ],
    )


def _conversion_rows(ids: list[int], week: date) -> list[StepConversion]:
    measured = (
        MetricWeek.objects.filter(
            business_id__in=ids, week=week, unit=Unit.COUNT, step_map__isnull=False
        )
        .exclude(step_key="")
        .order_by("metric__position", "metric_id")
        .values_list("business_id", "step_map_id", "step_key", "metric_id", "value")
    )
    flows: dict[int, dict[str, tuple[int, Decimal | None]]] = defaultdict(dict)
    business_of: dict[int, int] = {}
    for business_id, map_id, key, metric_id, value in measured:
        business_of[map_id] = business_id
        flows[map_id].setdefault(key, (metric_id, value))
    if not flows:
        return []
    zones = dict(
        Business.objects.filter(id__in=set(business_of.values())).values_list(
            "id", "timezone"
        )
    )
    by_close: dict[datetime, set[int]] = defaultdict(set)
    for map_id, business_id in business_of.items():
        by_close[weeks.close_of(week, zones[business_id])].add(map_id)
    graphs: dict[int, dict] = {}
    for close, map_ids in by_close.items():
        graphs.update(map_selectors.maps_as_of(map_ids, close))

    rows = []
    for map_id, graph in graphs.items():
        flow = flows[map_id]
        labels = {node["id"]: node.get("label") or "" for node in graph["nodes"]}
        index = Index(graph["nodes"], graph["edges"])
        rank = walk_ranks(
            [(node["id"], node["kind"]) for node in graph["nodes"]], index
        )
        pairs = _pairs(index, rank, set(flow) & set(labels))
        map_rows = []
        for position, (source, target) in enumerate(pairs):
            from_metric, from_value = flow[source]
            to_metric, to_value = flow[target]
            map_rows.append(
                StepConversion(
                    business_id=business_of[map_id],
                    map_id=map_id,
                    week=week,
                    from_key=source,
                    to_key=target,
                    from_label=labels[source],
                    to_label=labels[target],
                    from_metric_id=from_metric,
                    to_metric_id=to_metric,
                    from_value=from_value,
                    to_value=to_value,
                    rate=share(to_value, from_value),
                    position=position,
                    is_return=rank[target] <= rank[source],
                )
            )
        rated = [row for row in map_rows if row.rate is not None and not row.is_return]
        if rated:
            lowest = min(rated, key=lambda row: (row.rate, row.position))
            lowest.is_biggest_drop = lowest.rate < 1
        rows.extend(map_rows)
    return rows


def walk_ranks(nodes: Sequence[tuple[int, str]], index: Index) -> dict:
    """Each node's place in a breadth-first walk from the map's starts; nodes no
    start reaches come after, in node order."""
    successors, starts = index.successors, index.starts
    rank: dict = {}
    queue = deque(starts)
    for start in starts:
        rank.setdefault(start, len(rank))
    while queue:
        for other in successors.get(queue.popleft(), []):
            if other not in rank:
                rank[other] = len(rank)
                queue.append(other)
    for node_id, _ in nodes:
        rank.setdefault(node_id, len(rank))
    return rank


def step_pairs(
    nodes: Sequence[tuple[int, str]],
    edges: Iterable[tuple[int, int]],
    measured: set[int],
) -> list[tuple[int, int]]:
    """Pairs (from, to) of measured steps where `to` is the first measured node
    reached from `from` along the arrows (through unmeasured nodes), in the order
    of `from` along a breadth-first walk from the map's starts.

    `nodes` are (id, kind) in a stable order; the starts and the ways on are
    the document index's (`systemmaps.document.Index`)."""
    index = Index(
        [{"id": node_id, "kind": kind} for node_id, kind in nodes],
        [{"source": source, "target": target} for source, target in edges],
    )
    return _pairs(index, walk_ranks(nodes, index), measured)


def _pairs(index: Index, rank: dict, measured: set) -> list[tuple]:
    successors = index.successors
    pairs: list[tuple[int, int]] = []
    for source in sorted(measured, key=lambda n: rank.get(n, len(rank))):
        reached: list[int] = []
        visited = {source}
        queue = deque(successors.get(source, []))
        while queue:
            node_id = queue.popleft()
            if node_id in visited:
                continue
            visited.add(node_id)
            if node_id in measured:
                reached.append(node_id)
            else:
                queue.extend(successors.get(node_id, []))
        reached.sort(key=lambda n: rank.get(n, len(rank)))
        pairs.extend((source, target) for target in reached)
    return pairs
