"""The walkthrough of a system map, on plain data (the graph JSON, schema v1).

A walk is a path of node ids from a start: each next node is one an arrow leads
to. The page keeps the path in its URL (`?path=start,nurture,booked`), so this
module checks a path against the map, says what may come next, and which
branches the walker has already taken (a set of arrow ids the caller keeps).

Starts and stops are the document index's (`document.Index`): a start is a
terminus with arrows out and none in, a stop a terminus with arrows in and none
out.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .document import ROLE_WORDS, Index, step_title

# The longest walk one URL holds: a loop walked round and round stops here.
MAX_PATH = 200
SEPARATOR = ","

NodeData = Mapping[str, Any]
EdgeData = Mapping[str, Any]


class InvalidPath(ValueError):
    """The path does not fit the map; the message says why, for the walker."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Choice:
    """One way on from a step: the arrow, its label and where it leads."""

    edge: str
    label: str
    target: str


def parse_path(raw: str | None) -> list[str]:
    """The node ids of `?path=a,b,c` (none for an empty value), without looking
    at the map. Too many ids or an empty one raise InvalidPath."""
    raw = (raw or "").strip()
    if not raw:
        return []
    # Split at most MAX_PATH times: a huge value costs no more than a long one.
    parts = raw.split(SEPARATOR, MAX_PATH)
    if len(parts) > MAX_PATH:
        raise InvalidPath(
            _("A walk holds at most %(count)d steps.") % {"count": MAX_PATH}
        )
    ids = [part.strip() for part in parts]
    if not all(ids):
        raise InvalidPath(_("The walk has an empty step in it."))
    return ids


def format_path(path: Iterable[str]) -> str:
    return SEPARATOR.join(path)


class Walk:
    """Indexes of one map for walking it."""

    def __init__(self, nodes: Sequence[NodeData], edges: Sequence[EdgeData]):
        index = Index(nodes, edges)
        self.index = index
        self.nodes = index.by_id
        self._choices: dict[str, list[Choice]] = {n: [] for n in self.nodes}
        self._arrow: dict[tuple[str, str], str] = {}
        for edge in index.edges:
            source, target = edge["source"], edge["target"]
            # Two arrows to the same step are one way on: the first one counts.
            if (source, target) in self._arrow:
                continue
            self._arrow[source, target] = edge["id"]
            self._choices[source].append(
                Choice(
                    edge=edge["id"],
                    label=(edge.get("label") or "").strip(),
                    target=target,
                )
            )
        self.starts = index.starts
        self.stops = set(index.stops)
        # Where the walker picks a way: every step with more than one way on
        # (decisions, and tasks drawn with several arrows out).
        self.branch_points = [n["id"] for n in nodes if len(self._choices[n["id"]]) > 1]

    def name(self, node_id: str) -> str:
        return step_title(self.nodes[node_id])

    def role_words(self, node_id: str) -> str:
        """Start, Stop, Task, …: what the step is, in words."""
        return str(ROLE_WORDS[self.index.role(node_id)])

    def is_stop(self, node_id: str) -> bool:
        return node_id in self.stops

    def choices(self, node_id: str) -> list[Choice]:
        """The ways on from a step, in the order of the arrows."""
        return list(self._choices.get(node_id, ()))

    def is_dead_end(self, node_id: str) -> bool:
        """Nothing comes after this step and it is not a stop: a gap in the map."""
        return not self._choices.get(node_id) and not self.is_stop(node_id)

    def arrow(self, source: str, target: str) -> str | None:
        return self._arrow.get((source, target))

    def check(self, path: Sequence[str]) -> None:
        """Raise InvalidPath unless `path` begins at a start and follows arrows."""
        if len(path) > MAX_PATH:
            raise InvalidPath(
                _("A walk holds at most %(count)d steps.") % {"count": MAX_PATH}
            )
        if not path:
            raise InvalidPath(_("The walk is empty."))
        for node_id in path:
            if node_id not in self.nodes:
                raise InvalidPath(
                    _("The walk names a step that is not on this map (“%(id)s”).")
                    % {"id": node_id[:64]}
                )
        if path[0] not in self.starts:
            raise InvalidPath(
                _("A walk begins at a start of the map, and “%(name)s” is not one.")
                % {"name": self.name(path[0])}
            )
        for source, target in zip(path, path[1:], strict=False):
            if self.arrow(source, target) is None:
                raise InvalidPath(
                    _(
                        "No arrow leads from “%(source)s” to “%(target)s” on this "
                        "map; it may have changed since the walk began."
                    )
                    % {"source": self.name(source), "target": self.name(target)}
                )

    def arrows_of(self, path: Sequence[str]) -> list[str]:
        """The arrows a (checked) path walks along, in order."""
        return [
            self._arrow[source, target]
            for source, target in zip(path, path[1:], strict=False)
        ]

    def progress(self, node_id: str, walked: Collection[str]) -> tuple[int, int]:
        """(branches walked, branches) out of one step."""
        ways = self._choices.get(node_id, ())
        return sum(c.edge in walked for c in ways), len(ways)

    def map_progress(self, walked: Collection[str]) -> tuple[int, int]:
        """(branches walked, branches) over every branch point of the map."""
        done = total = 0
        for node_id in self.branch_points:
            n, m = self.progress(node_id, walked)
            done, total = done + n, total + m
        return done, total

    def back_to_branch(
        self, path: Sequence[str], walked: Collection[str]
    ) -> list[str] | None:
        """The path up to the last branch point on it with a branch not yet
        walked, to take that branch; None when every branch along it is walked."""
        for index in range(len(path) - 1, -1, -1):
            node_id = path[index]
            if node_id not in self.nodes or len(self._choices[node_id]) < 2:
                continue
            if any(c.edge not in walked for c in self._choices[node_id]):
                return list(path[: index + 1])
        return None


def path_cost(
    path: Iterable[str], costs: Mapping[str, Decimal | None]
) -> tuple[Decimal | None, int]:
    """(total annual cost, steps without a cost) of the steps along a path.

    A step walked twice (round a loop) is counted once: its annual cost is what
    it costs in a year, however often a walk passes it. `costs` holds the steps
    that have a cost at all (tasks and decisions); termini are left out. The
    total is None when no step along the path has a cost.
    """
    total: Decimal | None = None
    unknown = 0
    for node_id in dict.fromkeys(path):
        if node_id not in costs:
            continue
        cost = costs[node_id]
        if cost is None:
            unknown += 1
        else:
            total = (total or Decimal(0)) + cost
    return total, unknown
