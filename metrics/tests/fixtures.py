"""Fixtures of the metrics tests, shared with every app's tests (a plugin of the
root conftest): the weeks of acme, its memberships, metrics of acme, one owned by
each person, a metric of other_co, and Celery pointed at a broker of the test's
own (or at a dead one)."""

import pytest

from hourglass.models import Membership
from metrics import weeks
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import use_broker


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
