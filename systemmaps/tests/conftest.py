from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from hourglass.models import User
from systemmaps import services
from systemmaps.models import Edge, Node, Revision, SystemMap


@pytest.fixture(autouse=True)
def _empty_svg_cache():
    """The map page caches its SVG by map pk and version. Rolled-back tests hand
    out the same pks again on SQLite, so a cached drawing of one test's map would
    show up as another test's map."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(db) -> Callable[[User], Client]:
    """A fresh client logged in as `user`, for tests that need two people (the
    root `alice_client`, `bob_client`, … share one `client`)."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def maps_snapshot() -> dict:
    """Every stored row of every map, to prove that a refused request wrote nothing."""
    return {
        "maps": list(
            SystemMap.objects.order_by("pk").values(
                "pk",
                "business_id",
                "name",
                "description",
                "half",
                "stages",
                "product",
                "status",
                "version",
                "lint_errors",
                "lint_warnings",
                "updated_at",
                "deleted_at",
            )
        ),
        "nodes": list(
            Node.objects.order_by("pk").values(
                "pk", "map_id", "client_id", "kind", "label", "x", "y", "stage", "notes"
            )
        ),
        "edges": list(
            Edge.objects.order_by("pk").values(
                "pk", "map_id", "client_id", "source_id", "target_id", "label"
            )
        ),
        "revisions": list(
            Revision.objects.order_by("pk").values(
                "pk", "map_id", "version", "graph", "note", "created_at"
            )
        ),
    }


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


def make_map(business, user, name: str = "A map", graph=None, **fields) -> SystemMap:
    """A map made through the service; the webinar drawing unless told otherwise."""
    return services.map_create(
        business=business,
        user=user,
        name=name,
        half=fields.pop("half", "marketing"),
        stages=fields.pop("stages", ["try"]),
        graph=graph if graph is not None else webinar_graph(name),
        **fields,
    )


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


@pytest.fixture
def alice_page(page, live_server, client, alice, acme):
    """A Playwright page logged in as alice (the owner of acme)."""
    client.force_login(alice)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    return page


@pytest.fixture
def alice_phone_page(alice_page):
    """alice's page at phone width."""
    alice_page.set_viewport_size({"width": 375, "height": 800})
    return alice_page
