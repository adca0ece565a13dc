"""Builders of the systemmaps tests: graph documents and maps made through the
services."""

import copy

from systemmaps import services
from systemmaps.models import SystemMap


def webinar_graph(name: str = "Webinar to client") -> dict:
    """The example system of DESIGN.md as a graph document."""
    nodes = [
        ("start", "terminus", "Webinar", "try"),
        ("nurture", "task", "Email nurture campaign", "like"),
        ("booked", "decision", "Booked a consultation?", "try"),
        ("downsell", "task", "Down-sell campaign", "try"),
        ("bucket", "terminus", "Future email automation bucket", None),
        ("call", "task", "Consultation call", "buy"),
        ("proposal", "task", "Proposal sent", "buy"),
        ("signed", "decision", "Signed?", "buy"),
        ("onboard", "terminus", "Onboard new client", "buy"),
    ]
    edges = [
        ("e1", "start", "nurture", None),
        ("e2", "nurture", "booked", None),
        ("e3", "booked", "downsell", "no"),
        ("e4", "downsell", "bucket", None),
        ("e5", "booked", "call", "yes"),
        ("e6", "call", "proposal", None),
        ("e7", "proposal", "signed", None),
        ("e8", "signed", "nurture", "no"),
        ("e9", "signed", "onboard", "yes"),
    ]
    return {
        "schema_version": 1,
        "name": name,
        "nodes": [
            {
                "id": node_id,
                "kind": kind,
                "label": label,
                "x": 200.0 * i,
                "y": 0.0,
                "stage": stage,
                "notes": None,
            }
            for i, (node_id, kind, label, stage) in enumerate(nodes)
        ],
        "edges": [
            {"id": e, "source": s, "target": t, "label": label}
            for e, s, t, label in edges
        ],
    }


def without_steps(graph: dict, *client_ids: str) -> dict:
    """A copy of `graph` with the shapes `client_ids` and their arrows taken out;
    without “Consultation call” (`call`), the yes of “Booked a consultation?”
    goes straight to the proposal, so the webinar system has no lint errors."""
    graph = copy.deepcopy(graph)
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] not in client_ids]
    graph["edges"] = [
        e for e in graph["edges"] if not {e["source"], e["target"]} & set(client_ids)
    ]
    if "call" in client_ids:
        graph["edges"].append(
            {"id": "e-skip", "source": "booked", "target": "proposal", "label": "yes"}
        )
    return graph


def graph_with_errors(name: str = "Webinar to client") -> dict:
    """The webinar system where “Signed?” has lost its yes branch: the decision has
    one branch and “Onboard new client” is cut off."""
    graph = webinar_graph(name)
    graph["edges"] = [e for e in graph["edges"] if e["id"] != "e9"]
    return graph


def graph_with_warnings(name: str = "Webinar to client") -> dict:
    """The webinar system with the first arrow drawn twice: a warning, no error."""
    graph = webinar_graph(name)
    graph["edges"].append({**graph["edges"][0], "id": "e10"})
    return graph


def chain_graph(name, count):
    """start → count tasks → stop."""
    tasks = [
        {"id": f"t{i}", "kind": "task", "label": f"Task {i}", "x": 100.0 * (i + 1)}
        for i in range(count)
    ]
    nodes = [
        {"id": "start", "kind": "terminus", "label": "Start", "x": 0.0},
        *tasks,
        {"id": "stop", "kind": "terminus", "label": "Stop", "x": 100.0 * (count + 1)},
    ]
    ids = [n["id"] for n in nodes]
    return {
        "schema_version": 1,
        "name": name,
        "nodes": [{"y": 0.0, **n} for n in nodes],
        "edges": [
            {"id": f"e{i}", "source": a, "target": b, "label": None}
            for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
        ],
    }


def fan_graph(name: str, branches: int, length: int) -> dict:
    """start → `branches` rows of `length` tasks side by side → stop: a map as
    tall as it is long."""
    rows = [[f"b{b}t{t}" for t in range(length)] for b in range(branches)]
    nodes = [("start", "terminus", "Start"), ("stop", "terminus", "Stop")]
    nodes += [
        (i, "task", f"Branch {i[1:].replace('t', ' task ')}") for r in rows for i in r
    ]
    pairs = [("start", r[0]) for r in rows] + [(r[-1], "stop") for r in rows]
    pairs += [(a, b) for r in rows for a, b in zip(r, r[1:], strict=False)]
    return {
        "schema_version": 1,
        "name": name,
        "nodes": [
            {"id": i, "kind": kind, "label": label, "x": 0.0, "y": 0.0}
            for i, kind, label in nodes
        ],
        "edges": [
            {"id": f"e{n}", "source": a, "target": b, "label": None}
            for n, (a, b) in enumerate(pairs)
        ],
    }


def make_map(business, user, name: str = "A map", graph=None, **fields) -> SystemMap:
    """A map made through the service; the webinar drawing unless told otherwise."""
    return services.map_create(
        business=business,
        acting_user=user,
        name=name,
        half=fields.pop("half", "marketing"),
        stages=fields.pop("stages", ["try"]),
        graph=graph if graph is not None else webinar_graph(name),
        **fields,
    )
