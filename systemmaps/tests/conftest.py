import pytest

from systemmaps import services


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


@pytest.fixture
def webinar_map(acme, alice):
    return services.map_create(
        business=acme,
        user=alice,
        name="Webinar to client",
        half="marketing",
        stages=["like", "try"],
        graph=webinar_graph(),
    )


@pytest.fixture
def other_map(other_co, charlie):
    return services.map_create(
        business=other_co,
        user=charlie,
        name="Their secret system",
        half="operations",
        stages=["buy"],
        graph=webinar_graph("Their secret system"),
    )
