"""Fixtures of the systemmaps tests, shared with every app's tests (a plugin of the
root conftest): the webinar map of acme and a map of other_co, two of the
webinar's steps, alice's browser page, and a worker that draws maps."""

import pytest

from hourglass.tests.utils import login_browser
from systemmaps import services
from systemmaps.models import Node
from systemmaps.tests.factories import webinar_graph
from systemmaps.tests.utils import membership, step


@pytest.fixture
def webinar_map(acme, alice):
    return services.map_create(
        business=acme,
        acting_user=alice,
        name="Webinar to client",
        half="marketing",
        stages=["like", "try"],
        graph=webinar_graph(),
    )


@pytest.fixture
def other_map(other_co, charlie):
    return services.map_create(
        business=other_co,
        acting_user=charlie,
        name="Their secret system",
        half="operations",
        stages=["buy"],
        graph=webinar_graph("Their secret system"),
    )


@pytest.fixture
def nurture(webinar_map) -> Node:
    """A step alice's business runs; nobody owns it yet."""
    return step(webinar_map, "nurture")


@pytest.fixture
def bobs_step(webinar_map, bob, acme) -> Node:
    """“Consultation call”, owned by bob (a plain member)."""
    node = step(webinar_map, "call")
    services.step_update(node=node, owner=membership(bob, acme))
    return node


@pytest.fixture
def alice_page(page, live_server, alice, acme):
    """A Playwright page logged in as alice (the owner of acme)."""
    return login_browser(page, live_server, alice)


@pytest.fixture
def alice_phone_page(alice_page):
    """alice's page at phone width."""
    alice_page.set_viewport_size({"width": 375, "height": 800})
    return alice_page


@pytest.fixture
def map_worker(transactional_db, celery_broker):
    """A real Celery worker (a thread of the test process) on the test's own
    broker: it draws the maps the pages queue (systemmaps.tasks.map_draw)."""
    from celery.contrib.testing.worker import start_worker

    with start_worker(
        celery_broker, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        yield
