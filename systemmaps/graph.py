"""Lint and analysis of a system map, on plain data (the graph JSON, schema v1).

    nodes: [{"id", "kind": "terminus"|"task"|"decision", "label", "x", "y",
             "stage", "notes"}]
    edges: [{"id", "source", "target", "label"}]

The caller validates the document first (`schema.validate_graph`): ids are unique
and every arrow joins two existing nodes. A terminus is a *start* when arrows only
leave it and an *end* (a stop) when arrows only arrive; tasks and decisions are the
steps in between.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
from django.utils.translation import gettext as _

TERMINUS = "terminus"
TASK = "task"
DECISION = "decision"
STEP_KINDS = (TASK, DECISION)

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

# Every rule with its severity, in the order findings are listed.
RULES: dict[str, str] = {
    NO_START: ERROR,
    NO_END: ERROR,
    TERMINUS_IN_AND_OUT: ERROR,
    ISOLATED: ERROR,
    SELF_LOOP: ERROR,
    DUPLICATE_ARROW: WARNING,
    UNREACHABLE: ERROR,
    DEAD_END: ERROR,
    CLOSED_LOOP: ERROR,
    DECISION_BRANCHES: ERROR,
    DECISION_LABELS: ERROR,
}

NodeData = Mapping[str, Any]
EdgeData = Mapping[str, Any]


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


def starts_and_stops(
    nodes: Sequence[NodeData], edges: Sequence[EdgeData]
) -> tuple[list[str], list[str]]:
    """A start is a terminus with arrows out and none in; a stop is a terminus
    with arrows in and none out. Both in the order of the nodes."""
    has_out = {e["source"] for e in edges}
    has_in = {e["target"] for e in edges}
    termini = [n["id"] for n in nodes if n["kind"] == TERMINUS]
    starts = [t for t in termini if t in has_out and t not in has_in]
    stops = [t for t in termini if t in has_in and t not in has_out]
    return starts, stops


class _Map:
    """Indexes of the input shared by lint and analyse."""

    def __init__(self, nodes: Sequence[NodeData], edges: Sequence[EdgeData]):
        self.nodes = list(nodes)
        self.edges = list(edges)
        self.by_id = {n["id"]: n for n in self.nodes}
        self.position = {n["id"]: i for i, n in enumerate(self.nodes)}
        self.out_edges: dict[str, list[EdgeData]] = defaultdict(list)
        self.in_edges: dict[str, list[EdgeData]] = defaultdict(list)
        for edge in self.edges:
            self.out_edges[edge["source"]].append(edge)
            self.in_edges[edge["target"]].append(edge)

        # Duplicate arrows collapse into one: they are one way on, not two.
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(self.by_id)
        self.graph.add_edges_from((e["source"], e["target"]) for e in self.edges)
        # Successors in the order of the nodes, not of the arrows, so a search
        # walks the same way whatever order the arrows arrive in.
        self.successors = {
            node_id: sorted(self.graph.successors(node_id), key=self.position.get)
            for node_id in self.by_id
        }

        self.starts, self.ends = starts_and_stops(self.nodes, self.edges)

    def is_isolated(self, node_id: str) -> bool:
        return not self.in_edges.get(node_id) and not self.out_edges.get(node_id)

    def node_order(self, node_ids: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(node_ids, key=self.position.__getitem__))


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


# --- messages ----------------------------------------------------------------


def _capfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name(node: NodeData) -> str:
    label = (node.get("label") or "").strip()
    if label:
        # Translatable, so a language can use its own quotation marks.
        return _("“%(label)s”") % {"label": label}
    return {
        TERMINUS: _("an unnamed start or stop"),
        TASK: _("an unnamed task"),
        DECISION: _("an unnamed decision"),
    }.get(node["kind"], _("an unnamed step"))


def _names(nodes: Sequence[NodeData]) -> str:
    # A long loop is named by its first few steps; the editor highlights the rest.
    if len(nodes) > 4:
        shown = ", ".join(_name(n) for n in nodes[:3])
        rest = _("%(count)d other steps") % {"count": len(nodes) - 3}
        return _("%(names)s and %(last)s") % {"names": shown, "last": rest}
    if len(nodes) == 1:
        return _name(nodes[0])
    return _("%(names)s and %(last)s") % {
        "names": ", ".join(_name(n) for n in nodes[:-1]),
        "last": _name(nodes[-1]),
    }


def _label_key(label: str | None) -> str:
    return (label or "").strip().casefold()


# --- lint --------------------------------------------------------------------


def lint(nodes: Sequence[NodeData], edges: Sequence[EdgeData]) -> list[Finding]:
    """Every problem of the map, by rule (in the order of `RULES`), then in the
    order of the nodes or arrows of the input."""
    m = _Map(nodes, edges)
    findings: list[Finding] = []

    def add(
        rule: str,
        message: str,
        node_ids: Iterable[str] = (),
        edge_ids: Iterable[str] = (),
    ) -> None:
        findings.append(
            Finding(
                rule=rule,
                severity=RULES[rule],
                message=_capfirst(message),
                nodes=tuple(node_ids),
                edges=tuple(sorted(set(edge_ids))),
            )
        )

    if not m.starts:
        add(
            NO_START,
            _(
                "The map has no start. Add a start (a rounded terminus) with an "
                "arrow going out to the first step: a start has arrows out and "
                "none in."
            ),
        )
    if not m.ends:
        add(
            NO_END,
            _(
                "The map has no stop. Add a stop (a rounded terminus) with an arrow "
                "coming in from the last step: a stop has arrows in and none out."
            ),
        )

    for node in m.nodes:
        node_id = node["id"]
        incoming, outgoing = m.in_edges.get(node_id), m.out_edges.get(node_id)
        if node["kind"] == TERMINUS and incoming and outgoing:
            add(
                TERMINUS_IN_AND_OUT,
                _(
                    "%(name)s is drawn as a start or stop but has arrows both in and "
                    "out. A start only has arrows out and a stop only arrows in; if "
                    "something happens here, make it a task."
                )
                % {"name": _name(node)},
                [node_id],
                [e["id"] for e in incoming + outgoing],
            )

    isolated = {n["id"] for n in m.nodes if m.is_isolated(n["id"])}
    for node in m.nodes:
        if node["id"] in isolated:
            add(
                ISOLATED,
                _(
                    "%(name)s is not connected to anything. Draw arrows to and from "
                    "it, or delete it."
                )
                % {"name": _name(node)},
                [node["id"]],
            )

    for edge in m.edges:
        if edge["source"] == edge["target"]:
            add(
                SELF_LOOP,
                _(
                    "An arrow from %(name)s leads straight back to it. Remove it; to "
                    "repeat a step, add a decision after it with an answer that leads "
                    "back."
                )
                % {"name": _name(m.by_id[edge["source"]])},
                [edge["source"]],
                [edge["id"]],
            )

    parallel: dict[tuple[str, str], list[str]] = defaultdict(list)
    for edge in m.edges:
        parallel[edge["source"], edge["target"]].append(edge["id"])
    for (source, target), edge_ids in parallel.items():
        if len(edge_ids) > 1:
            # Keep the smallest id, so which arrow counts as the extra one does
            # not depend on the order the arrows arrive in.
            extras = sorted(edge_ids)[1:]
            add(
                DUPLICATE_ARROW,
                _(
                    "%(source)s has more than one arrow to %(target)s. Keep one and "
                    "delete the others."
                )
                % {
                    "source": _name(m.by_id[source]),
                    "target": _name(m.by_id[target]),
                },
                m.node_order({source, target}),
                extras,
            )

    steps = [n for n in m.nodes if n["kind"] in STEP_KINDS and n["id"] not in isolated]

    if m.starts:
        reached = _reach(m.starts, m.graph.successors)
        for node in steps:
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
            add(UNREACHABLE, message % {"name": _name(node)}, [node["id"]])

    closed_loops = _closed_loops(m)
    in_closed_loop = set().union(*closed_loops)

    if m.ends:
        reaches_end = _reach(m.ends, m.graph.predecessors)
        for node in steps:
            if node["id"] in reaches_end or node["id"] in in_closed_loop:
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
            add(DEAD_END, message % {"name": _name(node)}, [node["id"]])

    for loop in closed_loops:
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
        loop_set = set(loop)
        add(
            CLOSED_LOOP,
            message % {"names": _names(members)},
            loop,
            [e["id"] for n in loop for e in m.out_edges[n] if e["target"] in loop_set],
        )

    decisions = [n for n in m.nodes if n["kind"] == DECISION]
    for node in decisions:
        # Two arrows to the same step are one way on, not a choice.
        ways = m.successors[node["id"]]
        if node["id"] in isolated or len(ways) >= 2:
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
        add(
            DECISION_BRANCHES,
            message % {"name": _name(node)},
            [node["id"]],
            [e["id"] for e in m.out_edges.get(node["id"], ())],
        )

    for node in decisions:
        out = m.out_edges.get(node["id"], [])
        if len(out) < 2:
            continue
        unlabelled = [e["id"] for e in out if not _label_key(e.get("label"))]
        if unlabelled:
            add(
                DECISION_LABELS,
                _(
                    "An arrow out of %(name)s has no label. Label each "
                    "arrow out of a decision with its answer, for example “Yes” and "
                    "“No”."
                )
                % {"name": _name(node)},
                [node["id"]],
                unlabelled,
            )
        by_label: dict[str, list[EdgeData]] = defaultdict(list)
        for edge in out:
            if key := _label_key(edge.get("label")):
                by_label[key].append(edge)
        for same in by_label.values():
            if len(same) > 1:
                # "Yes" and " yes" are the same answer; quote one spelling, the
                # same one whatever the order of the arrows.
                label = min(e["label"].strip() for e in same)
                add(
                    DECISION_LABELS,
                    _(
                        "More than one arrow out of %(name)s is "
                        "labelled “%(label)s”. Give each answer its own label."
                    )
                    % {"name": _name(node), "label": label},
                    [node["id"]],
                    [e["id"] for e in same],
                )

    return findings


def _closed_loops(m: _Map) -> list[tuple[str, ...]]:
    """Loops with no way out: strongly connected components of more than one node
    (or one node with an arrow to itself) that no arrow leaves and that hold no
    end. Each as node ids in input order, the loops in input order."""
    loops = []
    for component in nx.strongly_connected_components(m.graph):
        if len(component) == 1:
            (node_id,) = component
            if not m.graph.has_edge(node_id, node_id):
                continue
        if any(other not in component for n in component for other in m.successors[n]):
            continue
        if any(n in component for n in m.ends):
            continue
        loops.append(m.node_order(component))
    return sorted(loops, key=lambda loop: m.position[loop[0]])


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
        for end in m.ends:
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
        if node["kind"] in STEP_KINDS:
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
        "ends": list(m.ends),
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
