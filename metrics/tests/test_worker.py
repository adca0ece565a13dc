"""A real Celery worker on the configured broker (filesystem on a laptop, Redis
in CI) rolls up every business: rollup_all fans out chunk tasks, and the rows
they write equal a direct run's."""

import time
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker

from hourglass.tests.factories import BusinessFactory
from metrics import rollup, tasks
from metrics.models import MetricWeek, RollupWeek, StageWeek
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import dump
from metrics.weeks import WEEK

W = date(2025, 3, 3)


@pytest.fixture
def worker(transactional_db, celery_broker):
    with start_worker(
        celery_broker, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        yield


def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_rolls_up_all_businesses_in_chunks(worker):
    businesses = [BusinessFactory(timezone="UTC") for _ in range(5)]
    for i, business in enumerate(businesses):
        for stage in ("know", "try"):
            metric = MetricFactory(
                business=business, stage=stage, first_week=W - WEEK * 6, goal=10
            )
            for back in range(5):
                EntryFactory(metric=metric, week=W - WEEK * back, value=i + back * 3)
    BusinessFactory()  # no metrics: no chunk for it

    tasks.rollup_all.delay(W.isoformat(), chunk_size=2)

    def all_done() -> bool:
        return RollupWeek.objects.filter(
            week=W, computed_at__isnull=False
        ).count() == len(businesses)

    assert _wait_for(all_done), "the worker did not roll up every business"
    by_worker = dump()
    assert MetricWeek.objects.filter(week=W).count() == 10
    assert StageWeek.objects.filter(week=W).count() == 35

    rollup.rollup_businesses_week([b.id for b in businesses], W)
    assert dump() == by_worker
