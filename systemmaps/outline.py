"""A map as an outline: its flow as an indented list, and the edits the outline
page makes. Plain functions on the graph document (schema v1); no database.

`flow` walks depth-first from each start terminus, following the arrows in the
order of the document. A step reached again (a loop back, or two branches that
merge) is listed once; every later arrival is a reference to it. `rows` flattens
the result for a template, so a deep map needs no recursive include.

The edits (`rename`, `change_details`, `add_next`, `add_branch`, `delete`)
return a new document and leave the given one untouched; the caller validates
and saves it. They assume a valid document (`schema.validate_graph`).
"""

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from hourglass.models import Stage

from .document import (
    COLUMN,
    DECISION,
    ROLE_WORDS,
    ROW,
    STOP,
    TASK,
    TERMINUS,
    Index,
    next_free_spot,
    step_name,
)
from .schema import MAX_COORDINATE, MAX_EDGE_LABEL

Graph = dict[str, Any]
NodeData = dict[str, Any]
EdgeData = dict[str, Any]

# A new step goes one column to the right of the one it follows, a new branch
# also a row below the decision's other branches — or the first free spot below.
BRANCH_LABELS = ("yes", "no")


class StepNotFound(KeyError):
    """The document has no node with that id."""


class OutlineError(ValueError):
    """An edit that does not fit this step; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------
# The flow
# ---------------------------------------------------------------------------


@dataclass
class Branch:
    """One arrow out of a branching step and the steps it leads to."""

    edge: EdgeData
    entries: list["Entry"] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        return self.edge.get("label")


@dataclass
class Entry:
    """One line of the outline: a step, or a reference to a step listed earlier."""

    node: NodeData
    role: str
    ref: bool = False
    branches: list[Branch] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return str(ROLE_WORDS.get(self.role, self.role))

    @property
    def stage_label(self) -> str:
        stage = self.node.get("stage")
        return str(Stage(stage).label) if stage in Stage.values else ""

    @property
    def can_add_next(self) -> bool:
        return _can_add_next(self.role)

    @property
    def can_branch(self) -> bool:
        return self.role == DECISION


@dataclass
class Outline:
    # One chain per start terminus, beginning with it, in the order of the nodes.
    flows: list[list[Entry]]
    # Chains of the steps no start reaches; empty when every step is reached.
    unreached: list[list[Entry]]


class _Index(Index):
    def __init__(self, graph: Graph):
        super().__init__(graph["nodes"], graph["edges"])

    def node(self, node_id: str) -> NodeData:
        try:
            return self.by_id[node_id]
        except KeyError:
            raise StepNotFound(node_id) from None


def role_of(graph: Graph, node_id: str) -> str:
    """start, stop, start-or-stop, task or decision; StepNotFound if no such step."""
    index = _Index(graph)
    index.node(node_id)
    return index.role(node_id)


def can_add_next(graph: Graph, node_id: str) -> bool:
    return _can_add_next(role_of(graph, node_id))


def _can_add_next(role: str) -> bool:
    # A decision goes on through its labelled branches; nothing follows a stop.
    return role not in (DECISION, STOP)


def _branches(index: _Index, node_id: str) -> bool:
    """Whether the step's arrows are listed as branches rather than followed."""
    return index.by_id[node_id]["kind"] == DECISION or len(index.out_edges[node_id]) > 1


def flow(graph: Graph) -> Outline:
    """The steps in flow order, starting from each start terminus."""
    index = _Index(graph)
    seen: set[str] = set()

    def walk(first: str) -> list[Entry]:
        chain: list[Entry] = []
        # Pending walks: (list to fill, node id). Branches are pushed in reverse
        # so the first arrow's subtree is walked completely before the second's;
        # a loop, not recursion, so a map of a thousand steps in a row is fine.
        stack: list[tuple[list[Entry], str]] = [(chain, first)]
        while stack:
            entries, node_id = stack.pop()
            while node_id is not None:
                node = index.by_id[node_id]
                if node_id in seen:
                    entries.append(Entry(node, index.role(node_id), ref=True))
                    break
                seen.add(node_id)
                entry = Entry(node, index.role(node_id))
                entries.append(entry)
                outgoing = index.out_edges[node_id]
                if _branches(index, node_id):
                    entry.branches = [Branch(edge) for edge in outgoing]
                    stack.extend(
                        (b.entries, b.edge["target"]) for b in reversed(entry.branches)
                    )
                    node_id = None
                else:
                    node_id = outgoing[0]["target"] if outgoing else None
        return chain

    flows = [walk(start) for start in index.starts]

    # What no start reaches: first from the steps nothing leads to, then from
    # whatever is left (steps on a loop of their own), in the order of the nodes.
    unreached: list[list[Entry]] = []
    left = [n["id"] for n in index.nodes if n["id"] not in seen]
    roots = [i for i in left if not index.in_edges[i]]
    for node_id in roots + left:
        if node_id not in seen:
            unreached.append(walk(node_id))
    return Outline(flows=flows, unreached=unreached)


@dataclass
class Row:
    """One piece of the flattened outline, for a template to turn into markup.

    type: list-open / list-close (an <ol> of steps; `branch` is set when the
    list is a branch's), step-open / step-close (an <li> around a step and its
    branches), ref (a reference line), branches-open / branches-close (the <ul>
    of a step's branches), branch-open / branch-close (one branch, headed by its
    label).
    """

    type: str
    entry: Entry | None = None
    branch: Branch | None = None


def rows(chains: list[list[Entry]]) -> list[Row]:
    """The chains as a flat list of rows, in document order."""
    out: list[Row] = []
    # Work items: a Row to emit, or (chain, branch) to expand into rows.
    stack: list[Row | tuple[list[Entry], Branch | None]] = [
        (chain, None) for chain in reversed(chains)
    ]
    while stack:
        item = stack.pop()
        if isinstance(item, Row):
            out.append(item)
            continue
        chain, owner = item
        todo: list[Row | tuple[list[Entry], Branch | None]] = [
            Row("list-open", branch=owner)
        ]
        for entry in chain:
            if entry.ref:
                todo.append(Row("ref", entry))
                continue
            todo.append(Row("step-open", entry))
            if entry.branches:
                todo.append(Row("branches-open", entry))
                for branch in entry.branches:
                    todo.append(Row("branch-open", entry, branch))
                    todo.append((branch.entries, branch))
                    todo.append(Row("branch-close", entry, branch))
                todo.append(Row("branches-close", entry))
            todo.append(Row("step-close", entry))
        todo.append(Row("list-close", branch=owner))
        stack.extend(reversed(todo))
    return out


# ---------------------------------------------------------------------------
# Edits
# ---------------------------------------------------------------------------


def _token() -> str:
    return secrets.token_hex(3)


def new_id(prefix: str, taken: set[str]) -> str:
    """`prefix` and a short random suffix that no id in `taken` has.

    Random rather than counted, so an id made here cannot collide with one a
    canvas open elsewhere has made but not saved yet.
    """
    while True:
        candidate = f"{prefix}{_token()}"
        if candidate not in taken:
            return candidate


def _right_of(value: float, distance: float) -> float:
    return max(-MAX_COORDINATE, min(MAX_COORDINATE, value + distance))


def _free_spot_after(graph: Graph, node: NodeData, down: float) -> dict[str, float]:
    """Where a new task after `node` goes: one column on (and `down`), or the
    first free spot below that (the editor's rule, `document.next_free_spot`)."""
    start = (_right_of(node["x"], COLUMN), _right_of(node["y"], down))
    x, y = next_free_spot(graph["nodes"], start)
    return {"x": _right_of(x, 0), "y": _right_of(y, 0)}


def rename(graph: Graph, node_id: str, label: str) -> Graph:
    """The document with the step's label replaced."""
    new = copy.deepcopy(graph)
    _Index(new).node(node_id)["label"] = label
    return new


def add_next(graph: Graph, node_id: str, label: str) -> tuple[Graph, str]:
    """A new task right after the step: it takes over the step's outgoing arrows
    and the step gets one arrow to it. Returns the document and the new id."""
    new = copy.deepcopy(graph)
    index = _Index(new)
    node = index.node(node_id)
    role = index.role(node_id)
    if role == DECISION:
        raise OutlineError(
            _("A decision goes on through its branches: add a branch instead.")
        )
    if role == STOP:
        raise OutlineError(
            _(
                "%(name)s is where the system stops, so nothing comes after it. "
                "Add the next step to the step before it instead."
            )
            % {"name": step_name(node)}
        )
    step_id = new_id("n", set(index.by_id))
    edge_id = new_id("e", {e["id"] for e in new["edges"]})
    for edge in index.out_edges[node_id]:
        edge["source"] = step_id
    position = new["nodes"].index(node)
    new["nodes"].insert(
        position + 1,
        {
            "id": step_id,
            "kind": TASK,
            "label": label,
            **_free_spot_after(new, node, 0),
            # The new step most likely belongs to the same stage of the journey.
            "stage": node.get("stage"),
            "notes": None,
        },
    )
    new["edges"].append(
        {"id": edge_id, "source": node_id, "target": step_id, "label": None}
    )
    return new, step_id


def change_details(
    graph: Graph, node_id: str, *, kind: str, stage: str | None, notes: str | None
) -> Graph:
    """The document with the step's kind, stage and notes replaced.

    A kind the step's arrows do not allow is refused (OutlineError on `kind`): a
    start or stop has arrows one way only; a decision goes on by an arrow for each
    answer, to different steps, each with its own label — arrows without one get
    “yes” and “no” (whichever the decision has not used), more are refused.
    """
    new = copy.deepcopy(graph)
    index = _Index(new)
    node = index.node(node_id)
    if kind != node["kind"]:
        _check_kind(index, node, kind)
    node.update(kind=kind, stage=stage or None, notes=notes or None)
    return new


def _check_kind(index: _Index, node: NodeData, kind: str) -> None:
    node_id = node["id"]
    name = step_name(node)
    out = index.out_edges[node_id]
    if kind == TERMINUS and index.in_edges[node_id] and out:
        raise OutlineError(
            _(
                "%(name)s has arrows coming in and going out, so it cannot be a "
                "start or a stop: a start only has arrows going out, a stop only "
                "arrows coming in."
            )
            % {"name": name},
            field="kind",
        )
    if kind != DECISION:
        return
    if len(index.successors[node_id]) < 2:
        raise OutlineError(
            _(
                "%(name)s has fewer than two ways on, but a decision needs an "
                "arrow for each answer (e.g. “yes” and “no”) to different steps. "
                "Keep it a task, or draw its second arrow on the canvas first."
            )
            % {"name": name},
            field="kind",
        )
    labels = [(e.get("label") or "").strip().casefold() for e in out]
    taken = [label for label in labels if label]
    if len(taken) != len(set(taken)):
        raise OutlineError(
            _(
                "Two arrows out of %(name)s have the same label, but each answer "
                "of a decision needs its own. Relabel them on the canvas first."
            )
            % {"name": name},
            field="kind",
        )
    free = [label for label in BRANCH_LABELS if label not in taken]
    unlabelled = [e for e in out if not (e.get("label") or "").strip()]
    if len(unlabelled) > len(free):
        raise OutlineError(
            _(
                "%(name)s has more unlabelled arrows than “yes” and “no”; label "
                "each with its answer on the canvas first."
            )
            % {"name": name},
            field="kind",
        )
    for edge, label in zip(unlabelled, free, strict=False):
        edge["label"] = label


def _branch_labels(index: _Index, node_id: str) -> set[str]:
    return {(e.get("label") or "").strip().casefold() for e in index.out_edges[node_id]}


def default_branch_label(graph: Graph, node_id: str) -> str:
    """“yes”, else “no”, whichever the decision has no branch for yet; else ""."""
    index = _Index(graph)
    index.node(node_id)
    used = _branch_labels(index, node_id)
    return next((label for label in BRANCH_LABELS if label not in used), "")


def add_branch(
    graph: Graph, node_id: str, label: str, edge_label: str
) -> tuple[Graph, str]:
    """A new task reached from the decision by a new arrow labelled `edge_label`.
    Returns the document and the new task's id."""
    new = copy.deepcopy(graph)
    index = _Index(new)
    node = index.node(node_id)
    if node["kind"] != DECISION:
        raise OutlineError(
            _("Only a decision has branches; add the next step instead.")
        )
    edge_label = edge_label.strip()
    if not edge_label:
        raise OutlineError(
            _("Name the branch, e.g. “yes” or “no”."), field="edge_label"
        )
    if len(edge_label) > MAX_EDGE_LABEL:
        raise OutlineError(
            _("At most %(limit)d characters.") % {"limit": MAX_EDGE_LABEL},
            field="edge_label",
        )
    if edge_label.casefold() in _branch_labels(index, node_id):
        raise OutlineError(
            _("%(name)s already has a branch “%(label)s”; give this one another label.")
            % {"name": step_name(node), "label": edge_label},
            field="edge_label",
        )
    siblings = len(index.out_edges[node_id])
    step_id = new_id("n", set(index.by_id))
    edge_id = new_id("e", {e["id"] for e in new["edges"]})
    position = new["nodes"].index(node)
    new["nodes"].insert(
        position + 1,
        {
            "id": step_id,
            "kind": TASK,
            "label": label,
            **_free_spot_after(new, node, ROW * siblings),
            "stage": node.get("stage"),
            "notes": None,
        },
    )
    new["edges"].append(
        {"id": edge_id, "source": node_id, "target": step_id, "label": edge_label}
    )
    return new, step_id


def predecessor(graph: Graph, node_id: str) -> str | None:
    """The step the first arrow into this one comes from (not itself), if any."""
    for edge in graph["edges"]:
        if edge["target"] == node_id and edge["source"] != node_id:
            return edge["source"]
    return None


def delete(graph: Graph, node_id: str) -> Graph:
    """The document without the step and its arrows.

    A step with exactly one arrow in and one out is cut out of the flow and the
    flow closed behind it: the arrow in now leads to the step after (keeping its
    id and label, so a decision's “yes” stays a “yes”) — unless that would draw
    a step's arrow to itself or a second arrow where one already is.
    """
    new = copy.deepcopy(graph)
    index = _Index(new)
    index.node(node_id)
    incoming, outgoing = index.in_edges[node_id], index.out_edges[node_id]
    bridge = None
    if len(incoming) == 1 and len(outgoing) == 1 and incoming[0] is not outgoing[0]:
        source, target = incoming[0]["source"], outgoing[0]["target"]
        already = any(
            e["source"] == source and e["target"] == target for e in new["edges"]
        )
        if source != target and not already:
            bridge = incoming[0]
            bridge["target"] = target
    new["nodes"] = [n for n in new["nodes"] if n["id"] != node_id]
    new["edges"] = [
        e
        for e in new["edges"]
        if e is bridge or (e["source"] != node_id and e["target"] != node_id)
    ]
    return new


# ---------------------------------------------------------------------------
# An edit as the outline page makes it: the new document and what to say
# ---------------------------------------------------------------------------

# The actions of the outline page: `?rename=<node>` (and so on) opens that
# form on that step; delete has no form of its own.
RENAME = "rename"
DETAILS = "details"
ADD = "add"
BRANCH = "branch"
DELETE = "delete"
FORM_ACTIONS = (RENAME, DETAILS, ADD, BRANCH)


@dataclass(frozen=True)
class Edit:
    graph: Graph
    # The step to put the keyboard focus on afterwards.
    focus: str | None
    # For the revision ("renamed … to …") and for the person ("Renamed …").
    note: str
    done: str


def _name_of(graph: Graph, node_id: str) -> str:
    return step_name(_Index(graph).node(node_id))


def action_fits(graph: Graph, action: str, node_id: str) -> bool:
    """Whether the action can be made on that step of the document."""
    try:
        role = role_of(graph, node_id)
    except StepNotFound:
        return False
    if action == ADD:
        return _can_add_next(role)
    if action == BRANCH:
        return role == DECISION
    return True


def apply(graph: Graph, action: str, node_id: str, data: dict[str, Any]) -> Edit:
    """Make an outline action on a step with the form's `data` (label,
    edge_label; kind, stage, notes); OutlineError when it does not fit the step."""
    if action == RENAME:
        new = rename(graph, node_id, data["label"])
        names = {"old": _name_of(graph, node_id), "new": _name_of(new, node_id)}
        return Edit(
            new,
            node_id,
            _("renamed %(old)s to %(new)s") % names,
            _("Renamed %(old)s to %(new)s.") % names,
        )
    if action == DETAILS:
        new = change_details(
            graph,
            node_id,
            kind=data["kind"],
            stage=data.get("stage"),
            notes=data.get("notes"),
        )
        names = {"name": _name_of(new, node_id)}
        return Edit(
            new,
            node_id,
            _("changed the kind, stage or notes of %(name)s") % names,
            _("Saved the kind, stage and notes of %(name)s.") % names,
        )
    if action == ADD:
        new, new_id = add_next(graph, node_id, data["label"])
        names = {"new": _name_of(new, new_id), "after": _name_of(graph, node_id)}
        return Edit(
            new,
            new_id,
            _("added %(new)s after %(after)s") % names,
            _("Added %(new)s after %(after)s.") % names,
        )
    if action == BRANCH:
        new, new_id = add_branch(graph, node_id, data["label"], data["edge_label"])
        names = {
            "branch": data["edge_label"].strip(),
            "new": _name_of(new, new_id),
            "decision": _name_of(graph, node_id),
        }
        return Edit(
            new,
            new_id,
            _("added the branch “%(branch)s” → %(new)s to %(decision)s") % names,
            _("Added the branch “%(branch)s” → %(new)s to %(decision)s.") % names,
        )
    names = {"name": _name_of(graph, node_id)}
    # Focus moves to the step before, where the flow now goes on.
    return Edit(
        delete(graph, node_id),
        predecessor(graph, node_id),
        _("deleted %(name)s") % names,
        _("Deleted %(name)s.") % names,
    )
