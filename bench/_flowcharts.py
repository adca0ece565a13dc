"""Random flowcharts for the benchmarks: one start, one stop, a chain through every
step plus extra forward arrows, word labels and grid positions with some jitter
(so two documents from the same generator differ in every step)."""

import random
import uuid
from contextlib import contextmanager

WORDS = (
    "email nurture campaign booked consultation call proposal sent signed onboard "
    "client webinar down-sell future automation bucket invoice follow up review "
    "referral survey upsell renewal checklist schedule demo quote payment welcome"
).split()


def random_document(
    rng: random.Random, *, nodes: int = 500, edges: int = 700, columns: int = 25
) -> dict:
    node_list = [
        {
            "id": f"n{i}",
            "kind": "terminus"
            if i in (0, nodes - 1)
            else rng.choices(["task", "decision"], weights=[4, 1])[0],
            "label": " ".join(rng.choices(WORDS, k=rng.randint(1, 5))).capitalize(),
            "x": 220.0 * (i % columns) + rng.randint(-20, 20),
            "y": 120.0 * (i // columns) + rng.randint(-20, 20),
            "stage": rng.choice([None, "know", "try", "buy"]),
            "notes": None,
        }
        for i in range(nodes)
    ]
    edge_list = [
        {"id": f"e{i}", "source": f"n{i}", "target": f"n{i + 1}", "label": None}
        for i in range(nodes - 1)
    ]
    while len(edge_list) < edges:
        a, b = sorted(rng.sample(range(nodes), 2))
        edge_list.append(
            {
                "id": f"e{len(edge_list)}",
                "source": f"n{a}",
                "target": f"n{b}",
                "label": "x",
            }
        )
    return {
        "schema_version": 1,
        "name": "Bench",
        "nodes": node_list,
        "edges": edge_list,
    }


@contextmanager
def throwaway_map(graph: dict):
    """(user, business, map) in a business of their own, all deleted afterwards.

    Needs Django set up by the calling script."""
    from hourglass import services as core
    from hourglass.models import User
    from systemmaps import services

    tag = uuid.uuid4().hex[:8]
    user = User.objects.create_user(email=f"bench-{tag}@example.com", password=None)
    business = core.business_create(name=f"Bench {tag}", owner=user)
    try:
        system_map = services.map_create(
            business=business,
            acting_user=user,
            name="Bench",
            half="marketing",
            stages=["know"],
            graph=graph,
        )
        yield user, business, system_map
    finally:
        business.delete()
        user.delete()
