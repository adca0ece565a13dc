"""Fixtures of the metrics tests: metrics of acme, one owned by each person.

The root conftest gives alice (owner of acme), bob (member), erin (editor) and
charlie (owner of other_co); systemmaps' conftest helpers (webinar_map, …) are
imported here so metrics tests can put metrics on steps."""

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from hourglass.models import Membership, User
from metrics import weeks
from metrics.tests.factories import EntryFactory, MetricFactory


@pytest.fixture
def client_for(db) -> Callable[[User], Client]:
    """A fresh client logged in as `user`, for tests that need two people."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _empty_svg_cache():
    """As in the systemmaps tests: metrics tests draw maps too, and the map page
    caches its SVG by map pk and version, which rolled-back tests hand out again."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def this_week(acme):
    return weeks.current_week(acme.timezone)


@pytest.fixture
def last_week(acme):
    return weeks.last_week(acme.timezone)


@pytest.fixture
def alice_membership(acme, alice) -> Membership:
    return Membership.objects.get(business=acme, user=alice)


@pytest.fixture
def bob_membership(acme, bob) -> Membership:
    return Membership.objects.get(business=acme, user=bob)


@pytest.fixture
def erin_membership(acme, erin) -> Membership:
    return Membership.objects.get(business=acme, user=erin)


@pytest.fixture
def metric(acme, alice, alice_membership):
    """Webinar attendees: a count with a goal, owned by alice, since 8 weeks ago."""
    return MetricFactory(
        business=acme,
        name="Webinar attendees",
        unit="count",
        goal=40,
        owner=alice_membership,
        stage="try",
        first_week=weeks.current_week(acme.timezone) - weeks.WEEK * 8,
        created_by=alice,
    )


@pytest.fixture
def bob_metric(acme, bob_membership, alice):
    """Consultations booked: a count owned by bob (a plain member)."""
    return MetricFactory(
        business=acme,
        name="Consultations booked",
        unit="count",
        goal=10,
        owner=bob_membership,
        stage="try",
        first_week=weeks.current_week(acme.timezone) - weeks.WEEK * 8,
        created_by=alice,
    )


@pytest.fixture
def other_metric(other_co, charlie):
    """A metric of another business, for the outsider tests."""
    owner = Membership.objects.get(business=other_co, user=charlie)
    return MetricFactory(
        business=other_co,
        name="Their secret number",
        owner=owner,
        stage="buy",
        created_by=charlie,
    )


@pytest.fixture
def other_entry(other_metric):
    return EntryFactory(metric=other_metric, value=7)


# ---------------------------------------------------------------------------
# Celery (ROLLUP helper): the app pointed at a broker of the test's own
# ---------------------------------------------------------------------------


def use_broker(url: str, options: dict | None = None) -> None:
    """Point the Celery app at `url`, dropping its cached connection pools (they
    hold the previous broker's connection)."""
    from hourglass.celery import app

    app.conf.broker_url = url
    # The CELERY_BROKER_URL environment variable outranks broker_url when Celery
    # reads it; a write URL of our own does not.
    app.conf.broker_write_url = url
    app.conf.broker_transport_options = options or {}
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_broker(tmp_path):
    """The configured broker; a filesystem broker gets folders of its own, so a
    developer's running worker is untouched. Restored afterwards."""
    from hourglass.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    url = saved[0]
    if url.startswith("filesystem://"):
        folder = str(tmp_path / "broker")
        for name in ("broker", "processed", "control"):
            (tmp_path / name).mkdir()
        use_broker(
            url,
            {
                "data_folder_in": folder,
                "data_folder_out": folder,
                "processed_folder": str(tmp_path / "processed"),
                "control_folder": str(tmp_path / "control"),
                "store_processed": False,
            },
        )
    else:
        use_broker(url, dict(saved[1] or {}))
    yield app
    use_broker(*saved)
    if not url.startswith("filesystem://"):
        app.control.purge()  # nothing left for the next test's worker


@pytest.fixture
def celery_eager(celery_broker):
    """Tasks run in the caller's thread, as `.delay` is called."""
    app = celery_broker
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


@pytest.fixture
def filesystem_broker(tmp_path):
    """A filesystem broker of the test's own, whatever the configured one is, so
    nothing lands in a developer's or CI's real queue; yields a function counting
    the messages sent to it."""
    from hourglass.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    folder = tmp_path / "broker"
    for name in ("broker", "processed", "control"):
        (tmp_path / name).mkdir()
    use_broker(
        "filesystem://",
        {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "processed_folder": str(tmp_path / "processed"),
            "control_folder": str(tmp_path / "control"),
        },
    )
    yield lambda: len(list(folder.iterdir()))
    use_broker(*saved)


DEAD_BROKER = "redis://127.0.0.1:9/0"


@pytest.fixture
def dead_broker():
    """A Redis broker URL on a port where nothing listens (checked first)."""
    from kombu import Connection

    from hourglass.celery import app

    with pytest.raises(Exception):  # noqa: B017 - proves the port is really dead
        with Connection(DEAD_BROKER, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1)
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    use_broker(DEAD_BROKER, {})
    yield DEAD_BROKER
    use_broker(*saved)
