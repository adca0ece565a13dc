"""Concurrent writers never fail: 20 people save numbers of one business at
once, over HTTP against the live server, while a real Celery worker rolls the
business up after every save — on whatever database the suite runs on (a
SQLite file by default, PostgreSQL in CI; hourglass/locks.py and the SQLite
options in hourglass/settings.py are what make it pass).

Each saver makes a fixed number of saves, each with a value nobody else sends,
into a few (metric, week) cells they share, so saves of one cell and rollups of
one business meet all the time. Every save must be answered 200, and every
value a saver was told is saved must be in the database: the number of its
cell, or an earlier value kept in the audit trail (EntryRevision) by the save
that replaced it.
"""

import http.client
import threading
import time
from collections import Counter
from datetime import datetime
from urllib.parse import urlencode, urlsplit

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_failure, task_retry
from django.conf import settings
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from metrics.models import Entry, EntryRevision, RollupWeek
from metrics.tests.factories import MetricFactory
from metrics.weeks import WEEK

pytestmark = pytest.mark.django_db(transaction=True)

SAVERS = 20
SAVES_EACH = 10
METRICS = 4
WEEKS = 3
TIMEOUT = 60


class Saver:
    """One person's browser: a session of its own, the CSRF cookie the This
    week page set, and the field saves it sends as htmx does."""

    def __init__(self, live_server, user, index: int):
        client = Client()
        client.force_login(user)
        self.session = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.index = index
        self.address = urlsplit(live_server.url)
        self.csrf = ""
        # (cell, value, status, answer) of every save, in order.
        self.saves: list[tuple[tuple[int, str], int, int, str]] = []
        self.acknowledged_at: datetime | None = None

    def request(self, method: str, path: str, body: str = "", headers=None):
        connection = http.client.HTTPConnection(
            self.address.hostname, self.address.port, timeout=TIMEOUT
        )
        cookies = f"{settings.SESSION_COOKIE_NAME}={self.session}"
        if self.csrf:
            cookies += f"; {settings.CSRF_COOKIE_NAME}={self.csrf}"
        try:
            connection.request(
                method, path, body=body, headers={"Cookie": cookies, **(headers or {})}
            )
            response = connection.getresponse()
            return response, response.read().decode()
        finally:
            connection.close()

    def open_page(self, path: str) -> None:
        response, _ = self.request("GET", path)
        assert response.status == 200
        for header, value in response.getheaders():
            name, _, rest = value.partition("=")
            if header.lower() == "set-cookie" and name == settings.CSRF_COOKIE_NAME:
                self.csrf = rest.split(";")[0]
        assert self.csrf

    def save(self, url: str, metric_pk: int, value: int) -> tuple[int, str]:
        response, answer = self.request(
            "POST",
            url,
            body=urlencode({f"value-{metric_pk}": value}),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
                "X-CSRFToken": self.csrf,
            },
        )
        return response.status, answer


@pytest.fixture
def rollup_worker(celery_broker):
    """A real worker on the test's broker; yields the failures and retries of
    its tasks (a rollup that met "database is locked" or a deadlock)."""
    problems: list[str] = []

    def failed(sender=None, exception=None, **_):
        problems.append(f"{sender.name} failed: {exception!r}")

    def retried(sender=None, reason=None, **_):
        problems.append(f"{sender.name} retried: {reason!r}")

    task_failure.connect(failed, weak=False)
    task_retry.connect(retried, weak=False)
    try:
        with start_worker(
            celery_broker, pool="solo", perform_ping_check=False, shutdown_timeout=20
        ):
            yield problems
    finally:
        task_failure.disconnect(failed)
        task_retry.disconnect(retried)


def test_twenty_savers_and_the_worker_never_fail_and_keep_every_number(
    live_server, acme, alice, this_week, rollup_worker, caplog
):
    metrics = [
        MetricFactory(business=acme, first_week=this_week - WEEK * 8, goal=50)
        for _ in range(METRICS)
    ]
    weeks = [this_week - WEEK * back for back in range(WEEKS)]
    cells = [(metric.pk, week.isoformat()) for metric in metrics for week in weeks]
    urls = {
        cell: reverse(
            "metrics:entry-save",
            kwargs={"slug": acme.slug, "pk": cell[0], "week": cell[1]},
        )
        for cell in cells
    }
    savers = [Saver(live_server, alice, index) for index in range(SAVERS)]
    for saver in savers:
        saver.open_page(reverse("metrics:this-week", kwargs={"slug": acme.slug}))
    start = threading.Barrier(SAVERS)

    def run(saver: Saver) -> None:
        try:
            start.wait(TIMEOUT)
            for k in range(SAVES_EACH):
                cell = cells[(saver.index * 7 + k) % len(cells)]
                # Unique among all saves, so each can be found again.
                value = (saver.index + 1) * 1000 + k
                status, answer = saver.save(urls[cell], cell[0], value)
                saver.saves.append((cell, value, status, answer))
                if status == 200:
                    saver.acknowledged_at = timezone.now()
        finally:
            connections.close_all()

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(s,), daemon=True) for s in savers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
        assert not thread.is_alive(), "a saver never finished"
    elapsed = time.monotonic() - started

    saves = [save for saver in savers for save in saver.saves]
    assert len(saves) == SAVERS * SAVES_EACH
    failed = [
        (cell, status, answer[:300])
        for cell, _, status, answer in saves
        if status != 200
    ]
    assert failed == [], f"{len(failed)} of {len(saves)} saves failed: {failed[:3]}"
    assert all("Saved at" in answer for *_, answer in saves)
    # The worker rolled the business up while the saves went on, and no task of
    # it failed or had to be retried.
    last_save = max(saver.acknowledged_at for saver in savers)
    assert RollupWeek.objects.filter(
        business=acme, computed_at__lt=last_save
    ).exists(), f"no rollup ran during the {elapsed:.1f} s of saves"
    assert rollup_worker == []
    # Nor did a save: with one lock order there is no deadlock to retry (the
    # retry of hourglass.locks is the safety net, not what makes this pass).
    assert [r.getMessage() for r in caplog.records if r.name == "hourglass.locks"] == []

    for cell in cells:
        acknowledged = Counter(value for c, value, *_ in saves if c == cell)
        entry = Entry.objects.get(metric_id=cell[0], week=cell[1])
        revisions = list(
            EntryRevision.objects.filter(entry=entry).order_by("replaced_at", "pk")
        )
        stored = Counter([int(entry.value), *(int(r.value) for r in revisions)])
        assert stored == acknowledged, cell
        # Each revision keeps the number the next save replaced.
        assert all(r.replaced_by_id == alice.pk for r in revisions)
