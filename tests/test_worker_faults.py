"""Faults around the rollup queue, on PostgreSQL and Redis only (the production
set-up; a SQLite file and the filesystem broker cannot show them):

- a real `celery -A hourglass worker` is SIGKILLed in the middle of a rollup
  chunk (inside its transaction, after it deleted and re-inserted rows); a new
  worker picks the unacknowledged task up again and the rows equal a clean run's;
- the broker is down while an entry is saved: the entry is kept, the week is
  left stale, and the nightly catch-up makes it fresh.

The worker is caught mid-way without any test hook in the code: the test holds
a row lock on the RollupWeek row the chunk updates last, so the chunk waits there
with its deletes and inserts done but not committed.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from hourglass.celery import app
from hourglass.tests.factories import BusinessFactory, MembershipFactory, UserFactory
from metrics import rollup, services, tasks
from metrics.models import MetricWeek, RollupWeek, StageWeek
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import dump, use_broker
from metrics.weeks import WEEK

ROOT = Path(__file__).resolve().parent.parent
W = date(2025, 3, 3)
VISIBILITY_TIMEOUT = 5

pytestmark = pytest.mark.skipif(
    not (
        settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
        and app.conf.broker_url.startswith("redis://")
    ),
    reason="needs PostgreSQL and Redis (DATABASE_URL=postgres://…, "
    "CELERY_BROKER_URL=redis://…)",
)


def _database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


class Worker:
    """`celery -A hourglass worker` in a session of its own, on the test
    database and a queue of the test's own."""

    def __init__(self, queue: str, log: Path):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            CELERY_BROKER_URL=app.conf.broker_url,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            DJANGO_SETTINGS_MODULE="hourglass.settings",
        )
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hourglass",
                "worker",
                "-P",
                "solo",
                "--concurrency",
                "1",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []
    queue = f"faults-{uuid.uuid4().hex[:12]}"

    def start() -> Worker:
        worker = Worker(queue, tmp_path / "worker.log")
        started.append(worker)
        return worker

    start.queue = queue
    start.started = started
    start.log = tmp_path / "worker.log"
    yield start
    for worker in started:
        worker.kill()


def _make_data(count: int) -> list[int]:
    ids = []
    for i in range(count):
        business = BusinessFactory(timezone="UTC")
        for stage in ("know", "try", "buy"):
            metric = MetricFactory(
                business=business, stage=stage, first_week=W - WEEK * 8, goal=5
            )
            for back in range(6):
                EntryFactory(metric=metric, week=W - WEEK * back, value=i + back)
        ids.append(business.id)
    return ids


def _waiting_on_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%metrics_rollupweek%"],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_chunk_redoes_it_and_rows_match_a_clean_run(workers):
    ids = _make_data(4)
    rollup.rollup_businesses_week(ids, W)
    clean = dump()
    # Wipe the rows, so the redone chunk has to write every one of them again.
    MetricWeek.objects.all().delete()
    StageWeek.objects.all().delete()
    RollupWeek.objects.update(computed_at=None, stale_since=None)

    blocker = psycopg2.connect(_database_url())
    try:
        with blocker.cursor() as cursor:
            cursor.execute(
                "UPDATE metrics_rollupweek SET stale_since = stale_since"
                " WHERE business_id = %s AND week = %s",
                [ids[-1], W],
            )
        workers()
        # A Redis queue exists once a consumer declared it; before, the message
        # would have nowhere to go.
        assert _wait_for(lambda: "ready." in workers.log.read_text())
        tasks.rollup_chunk.apply_async(args=[ids, W.isoformat()], queue=workers.queue)
        assert _wait_for(_waiting_on_lock), workers.log.read_text()
        workers.started[0].kill()
    finally:
        blocker.rollback()
        blocker.close()

    # The killed worker's transaction never committed.
    assert not MetricWeek.objects.exists()
    assert not RollupWeek.objects.filter(computed_at__isnull=False).exists()

    # Redis hands an unacknowledged task out again once it is older than the
    # visibility timeout; a worker looks for such tasks as it starts (and then
    # only every 100 s by default), so start the new one after the timeout.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    workers()
    done = _wait_for(
        lambda: (
            RollupWeek.objects.filter(computed_at__isnull=False).count() == len(ids)
        ),
        timeout=VISIBILITY_TIMEOUT * 12,
    )
    assert done, workers.log.read_text()
    assert dump() == clean
    assert MetricWeek.objects.count() == len(ids) * 3


@pytest.mark.django_db(transaction=True)
def test_entry_saved_while_the_broker_is_down_is_caught_up():
    business = BusinessFactory(timezone="UTC")
    user = UserFactory()
    MembershipFactory(business=business, user=user, role="owner")
    metric = MetricFactory(business=business, first_week=W - WEEK * 2, goal=3)
    rollup.rollup_business_week(business.id, W)
    assert rollup.is_fresh(business.id, W)

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    use_broker("redis://127.0.0.1:1/0")
    try:
        started = time.monotonic()
        result = services.entry_record(metric=metric, week=W, value=4, acting_user=user)
        elapsed = time.monotonic() - started
    finally:
        use_broker(*saved)

    assert result.queued is False
    assert elapsed < 4  # a dead broker must not hold the save up
    assert metric.entries.get(week=W).value == 4
    assert not rollup.is_fresh(business.id, W)
    assert MetricWeek.objects.get(metric=metric, week=W).value is None

    assert tasks.rollup_catch_up() >= 1

    assert rollup.is_fresh(business.id, W)
    row = MetricWeek.objects.get(metric=metric, week=W)
    assert (row.value, row.status) == (4, "on")
