"""Lint and analysis of a system map, on plain data (the map document, see
`document.py`).

The caller validates the document first (`schema.validate_graph`): ids are
unique and every arrow joins two existing nodes. The lint is a table of rules
(`RULES`), each a small function of the map's index that yields its findings;
`lint` runs them in table order.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
from django.utils.translation import gettext as _

from .document import (
    DECISION,
    TERMINUS,
    WORK_KINDS,
    EdgeData,
    Index,
    NodeData,
    box_of,
    capfirst,
    overlaps,
    step_name,
)

ERROR = "error"
WARNING = "warning"

NO_START = "no-start"
NO_END = "no-end"
TERMINUS_IN_AND_OUT = "terminus-in-and-out"
ISOLATED = "isolated"
SELF_LOOP = "self-loop"
DUPLICATE_ARROW = "duplicate-arrow"
UNREACHABLE = "unreachable"
DEAD_END = "dead-end"
CLOSED_LOOP = "closed-loop"
DECISION_BRANCHES = "decision-branches"
DECISION_LABELS = "decision-labels"
OVERLAP = "overlap"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem on the map, pointing at the nodes and arrows involved.

    `nodes` keep the order of the input; `edges` are sorted by id, so a finding
    is the same whatever order the arrows arrive in.
    """

    rule: str
    severity: str
    message: str
    nodes: tuple[str, ...] = ()
    edges: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "nodes": list(self.nodes),
            "edges": list(self.edges),
        }


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


class _Map(Index):
    """The index with what several rules (and the analysis) derive from it."""

    @cached_property
    def graph(self) -> nx.DiGraph:
        # Duplicate arrows collapse into one: they are one way on, not two.
        graph = nx.DiGraph()
        graph.add_nodes_from(self.by_id)
        graph.add_edges_from(
            (node_id, other)
            for node_id, others in self.successors.items()
            for other in others
        )
        return graph

    @cached_property
    def isolated(self) -> set[str]:
        return {n["id"] for n in self.nodes if self.is_isolated(n["id"])}

    @cached_property
    def connected_steps(self) -> list[NodeData]:
        """Tasks and decisions with at least one arrow (isolated ones have their
        own finding)."""
        return [
            n
            for n in self.nodes
            if n["kind"] in WORK_KINDS and n["id"] not in self.isolated
        ]

    @cached_property
    def closed_loops(self) -> list[tuple[str, ...]]:
        """Loops with no way out: strongly connected components of more than one
        node (or one node with an arrow to itself) that no arrow leaves and that
        hold no stop. Each as node ids in input order, the loops in input order."""
        loops = []
        for component in nx.strongly_connected_components(self.graph):
            if len(component) == 1:
                (node_id,) = component
                if not self.graph.has_edge(node_id, node_id):
                    continue
            if any(o not in component for n in component for o in self.successors[n]):
                continue
            if any(n in component for n in self.stops):
                continue
            loops.append(self.node_order(component))
        return sorted(loops, key=lambda loop: self.position[loop[0]])

    def decisions(self) -> list[NodeData]:
        return [n for n in self.nodes if n["kind"] == DECISION]


def _reach(
    sources: Iterable[str], neighbours: Callable[[str], Iterable[str]]
) -> set[str]:
    seen = set(sources)
    stack = list(seen)
    while stack:
        for other in neighbours(stack.pop()):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def _names(nodes: Sequence[NodeData]) -> str:
    # A long loop is named by its first few steps; the editor highlights the rest.
    if len(nodes) > 4:
        shown = ", ".join(step_name(n) for n in nodes[:3])
        rest = _("%(count)d other steps") % {"count": len(nodes) - 3}
        return _("%(names)s and %(last)s") % {"names": shown, "last": rest}
    if len(nodes) == 1:
        return step_name(nodes[0])
    return _("%(names)s and %(last)s") % {
        "names": ", ".join(step_name(n) for n in nodes[:-1]),
        "last": step_name(nodes[-1]),
    }


def _label_key(label: str | None) -> str:
    return (label or "").strip().casefold()


# A rule yields (message, node ids, edge ids) for each problem it finds.
Problem = tuple[str, Iterable[str], Iterable[str]]


# --- the rules ---------------------------------------------------------------


def _no_start(m: _Map) -> Iterator[Problem]:
    if not m.starts:
        message = _(
            "The map has no start. Add a start (a rounded terminus) with an "
            "arrow going out to the first step: a start has arrows out and "
            "none in."
        )
        yield message, (), ()


def _no_end(m: _Map) -> Iterator[Problem]:
    if not m.stops:
        message = _(
            "The map has no stop. Add a stop (a rounded terminus) with an arrow "
            "coming in from the last step: a stop has arrows in and none out."
        )
        yield message, (), ()


def _terminus_in_and_out(m: _Map) -> Iterator[Problem]:
    for node in m.nodes:
        incoming, outgoing = m.in_edges.get(node["id"]), m.out_edges.get(node["id"])
        if node["kind"] == TERMINUS and incoming and outgoing:
            message = _(
                "%(name)s is drawn as a start or stop but has arrows both in and "
                "out. A start only has arrows out and a stop only arrows in; if "
                "something happens here, make it a task."
            ) % {"name": step_name(node)}
            yield message, [node["id"]], [e["id"] for e in incoming + outgoing]


def _isolated(m: _Map) -> Iterator[Problem]:
    for node in m.nodes:
        if node["id"] in m.isolated:
            message = _(
                "%(name)s is not connected to anything. Draw arrows to and from "
                "it, or delete it."
            ) % {"name": step_name(node)}
            yield message, [node["id"]], ()


def _self_loop(m: _Map) -> Iterator[Problem]:
    for edge in m.edges:
        if edge["source"] == edge["target"]:
            message = _(
                "An arrow from %(name)s leads straight back to it. Remove it; to "
                "repeat a step, add a decision after it with an answer that leads "
                "back."
            ) % {"name": step_name(m.by_id[edge["source"]])}
            yield message, [edge["source"]], [edge["id"]]


def _duplicate_arrow(m: _Map) -> Iterator[Problem]:
    parallel: dict[tuple[str, str], list[str]] = defaultdict(list)
    for edge in m.edges:
        parallel[edge["source"], edge["target"]].append(edge["id"])
    for (source, target), edge_ids in parallel.items():
        if len(edge_ids) > 1:
            # Keep the smallest id, so which arrow counts as the extra one does
            # not depend on the order the arrows arrive in.
            message = _(
                "%(source)s has more than one arrow to %(target)s. Keep one and "
                "delete the others."
            ) % {
                "source": step_name(m.by_id[source]),
                "target": step_name(m.by_id[target]),
            }
            yield message, m.node_order({source, target}), sorted(edge_ids)[1:]


def _unreachable(m: _Map) -> Iterator[Problem]:
    if not m.starts:
        return
    reached = _reach(m.starts, m.graph.successors)
    for node in m.connected_steps:
        if node["id"] in reached:
            continue
        if m.in_edges.get(node["id"]):
            message = _(
                "%(name)s cannot be reached from any start: the arrows into it "
                "come only from steps that no start leads to. Connect the steps "
                "before it to a start."
            )
        else:
            message = _(
                "Nothing leads to %(name)s: no arrow comes into it. Draw an "
                "arrow to it from the step before it."
            )
        yield message % {"name": step_name(node)}, [node["id"]], ()


def _dead_end(m: _Map) -> Iterator[Problem]:
    if not m.stops:
        return
    reaches_stop = _reach(m.stops, m.graph.predecessors)
    in_closed_loop = set().union(*m.closed_loops)
    for node in m.connected_steps:
        if node["id"] in reaches_stop or node["id"] in in_closed_loop:
            continue
        if m.out_edges.get(node["id"]):
            message = _(
                "No route from %(name)s reaches a stop: every way on from it "
                "runs out or goes round in circles. Add what happens next, or "
                "connect it to a stop."
            )
        else:
            message = _(
                "%(name)s leads nowhere: no arrow goes out of it. Add what "
                "happens next, or connect it to a stop."
            )
        yield message % {"name": step_name(node)}, [node["id"]], ()


def _closed_loop(m: _Map) -> Iterator[Problem]:
    for loop in m.closed_loops:
        members = [m.by_id[node_id] for node_id in loop]
        if len(members) == 1:
            message = _(
                "%(names)s only leads back to itself, so the flow never gets past "
                "it. Add an arrow to what happens next, or to a stop."
            )
        else:
            message = _(
                "%(names)s go round in a loop with no way out. Add an arrow from one "
                "of them to what happens next or to a stop, for example from a "
                "decision with an answer that leaves the loop."
            )
        inside = set(loop)
        arrows = [
            e["id"] for n in loop for e in m.out_edges[n] if e["target"] in inside
        ]
        yield message % {"names": _names(members)}, loop, arrows


def _decision_branches(m: _Map) -> Iterator[Problem]:
    for node in m.decisions():
        # Two arrows to the same step are one way on, not a choice.
        ways = m.successors[node["id"]]
        if node["id"] in m.isolated or len(ways) >= 2:
            continue
        if ways:
            message = _(
                "%(name)s has only one way on, but a decision needs an arrow for "
                "each answer, to different steps, for example “Yes” and “No”. If "
                "there is no choice here, make it a task."
            )
        else:
            message = _(
                "%(name)s has no way on. Give the decision an arrow for each "
                "answer, for example “Yes” and “No”."
            )
        arrows = [e["id"] for e in m.out_edges.get(node["id"], ())]
        yield message % {"name": step_name(node)}, [node["id"]], arrows


def _decision_labels(m: _Map) -> Iterator[Problem]:
    for node in m.decisions():
        out = m.out_edges.get(node["id"], [])
        if len(out) < 2:
            continue
        unlabelled = [e["id"] for e in out if not _label_key(e.get("label"))]
        if unlabelled:
            message = _(
                "An arrow out of %(name)s has no label. Label each "
                "arrow out of a decision with its answer, for example “Yes” and "
                "“No”."
            ) % {"name": step_name(node)}
            yield message, [node["id"]], unlabelled
        by_label: dict[str, list[EdgeData]] = defaultdict(list)
        for edge in out:
            if key := _label_key(edge.get("label")):
                by_label[key].append(edge)
        for same in by_label.values():
            if len(same) > 1:
                # "Yes" and " yes" are the same answer; quote one spelling, the
                # same one whatever the order of the arrows.
                message = _(
                    "More than one arrow out of %(name)s is "
                    "labelled “%(label)s”. Give each answer its own label."
                ) % {
                    "name": step_name(node),
                    "label": min(e["label"].strip() for e in same),
                }
                yield message, [node["id"]], [e["id"] for e in same]


def _overlap(m: _Map) -> Iterator[Problem]:
    # Sorted by left edge, a shape is compared only with those that start before
    # its right edge, so a long row of steps costs no n² comparisons.
    placed = [n for n in m.nodes if "x" in n and "y" in n]
    boxes = sorted(
        ((box_of(n), n) for n in placed), key=lambda pair: (pair[0].x, pair[0].y)
    )
    pairs = []
    for i, (box, node) in enumerate(boxes):
        for other_box, other in boxes[i + 1 :]:
            if other_box.x >= box.x + box.width:
                break
            if overlaps(box, other_box):
                pairs.append(m.node_order({node["id"], other["id"]}))
    pairs.sort(key=lambda pair: (m.position[pair[0]], m.position[pair[1]]))
    for first, second in pairs:
        message = _(
            "%(first)s and %(second)s lie on top of each other on the canvas, so "
            "one hides the other. Move one of them (or tidy the layout)."
        ) % {
            "first": step_name(m.by_id[first]),
            "second": step_name(m.by_id[second]),
        }
        yield message, (first, second), ()


@dataclass(frozen=True, slots=True)
class Rule:
    severity: str
    check: Callable[[_Map], Iterable[Problem]]


# Every rule with its severity, in the order findings are listed.
RULES: dict[str, Rule] = {
    NO_START: Rule(ERROR, _no_start),
    NO_END: Rule(ERROR, _no_end),
    TERMINUS_IN_AND_OUT: Rule(ERROR, _terminus_in_and_out),
    ISOLATED: Rule(ERROR, _isolated),
    SELF_LOOP: Rule(ERROR, _self_loop),
    DUPLICATE_ARROW: Rule(WARNING, _duplicate_arrow),
    UNREACHABLE: Rule(ERROR, _unreachable),
    DEAD_END: Rule(ERROR, _dead_end),
    CLOSED_LOOP: Rule(ERROR, _closed_loop),
    DECISION_BRANCHES: Rule(ERROR, _decision_branches),
    DECISION_LABELS: Rule(ERROR, _decision_labels),
    OVERLAP: Rule(WARNING, _overlap),
}


def lint(nodes: Sequence[NodeData], edges: Sequence[EdgeData]) -> list[Finding]:
    """Every problem of the map, by rule (in the order of `RULES`), then in the
    order of the nodes or arrows of the input."""
    m = _Map(nodes, edges)
    return [
        Finding(
            rule=name,
            severity=rule.severity,
            message=capfirst(message),
            nodes=tuple(node_ids),
            edges=tuple(sorted(set(edge_ids))),
        )
        for name, rule in RULES.items()
        for message, node_ids, edge_ids in rule.check(m)
    ]


# --- analysis ----------------------------------------------------------------


def analyse(nodes: Sequence[NodeData], edges: Sequence[EdgeData]) -> dict[str, Any]:
    """Starts, ends, routes between them, steps per stage and each decision's
    branches, as JSON-ready data.

    Routes are counted without listing them (a map of a thousand steps can have
    more routes than can be listed): a depth-first search from the starts, in the
    order of the nodes, finds the arrows that loop back to a step already on the
    way (back edges); without them the map is acyclic, and the number of routes
    and the longest route (in steps, both termini included) come from dynamic
    programming in topological order. So a loop is walked at most once: the
    nurture loop from “Signed?” back to the campaign adds no route, and no step
    appears twice on a counted route. Duplicate arrows count as one.
    """
    m = _Map(nodes, edges)
    dag = _acyclic(m)
    order = list(nx.topological_sort(dag))
    rank = {node_id: i for i, node_id in enumerate(order)}

    paths = []
    for start in m.starts:
        count = {start: 1}
        longest = {start: 1}
        # Nothing before the start in topological order can be reached from it.
        for node_id in order[rank[start] :]:
            if node_id not in count:
                continue
            for other in dag.successors(node_id):
                count[other] = count.get(other, 0) + count[node_id]
                longest[other] = max(longest.get(other, 0), longest[node_id] + 1)
        for end in m.stops:
            if end in count:
                paths.append(
                    {
                        "start": start,
                        "end": end,
                        "count": count[end],
                        "longest": longest[end],
                    }
                )

    steps_per_stage: dict[str, int] = {}
    for node in m.nodes:
        if node["kind"] in WORK_KINDS:
            stage = node.get("stage") or "none"
            steps_per_stage[stage] = steps_per_stage.get(stage, 0) + 1

    branches = [
        {
            "decision": node["id"],
            "label": node.get("label") or "",
            "branches": [
                {"edge": e["id"], "label": e.get("label"), "target": e["target"]}
                for e in m.out_edges.get(node["id"], ())
            ],
        }
        for node in m.nodes
        if node["kind"] == DECISION
    ]

    return {
        "starts": list(m.starts),
        "ends": list(m.stops),
        "paths": paths,
        "steps_per_stage": steps_per_stage,
        "branches": branches,
    }


def _acyclic(m: _Map) -> nx.DiGraph:
    """The map without its back edges, found by an iterative depth-first search
    from the starts, then from any node not yet seen, in input order."""
    on_stack, done = 1, 2
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in [*m.starts, *m.by_id]:
        if root in state:
            continue
        state[root] = on_stack
        stack = [(root, iter(m.successors[root]))]
        while stack:
            node_id, pending = stack[-1]
            for other in pending:
                seen = state.get(other)
                if seen is None:
                    state[other] = on_stack
                    stack.append((other, iter(m.successors[other])))
                    break
                if seen == on_stack:
                    back.add((node_id, other))
            else:
                state[node_id] = done
                stack.pop()

    dag = nx.DiGraph()
    dag.add_nodes_from(m.by_id)
    dag.add_edges_from(
        (node_id, other)
        for node_id, successors in m.successors.items()
        for other in successors
        if (node_id, other) not in back
    )
    return dag
