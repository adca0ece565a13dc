"""The bounded retry of hourglass/locks.py: a transaction refused with "database
is locked", a deadlock or a serialization failure is run again from the start
(what it wrote the first time is gone), a few times at most, and only when it
is the outermost transaction. On SQLite the locked database and on PostgreSQL
the deadlock are real ones, made by a second connection."""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from hourglass import locks
from hourglass.models import Business
from hourglass.tests.factories import BusinessFactory


@pytest.fixture
def no_pause(monkeypatch):
    monkeypatch.setattr(locks, "BACKOFF_SECONDS", 0)


class Cause(Exception):
    def __init__(self, pgcode: str):
        super().__init__(pgcode)
        self.pgcode = pgcode


def refused(message: str, pgcode: str | None = None) -> OperationalError:
    """An OperationalError as Django raises it: the driver's error as cause."""
    error = OperationalError(message)
    error.__cause__ = Cause(pgcode) if pgcode else None
    return error


def flaky(business: Business, failures: list[OperationalError]):
    """A write that renames the business, then raises the next of `failures`."""
    calls = []

    @locks.business_write(lambda: business.pk)
    def write() -> None:
        calls.append(1)
        Business.objects.filter(pk=business.pk).update(name=f"Take {len(calls)}")
        if failures:
            raise failures.pop(0)

    return write, calls


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "error",
    [
        refused("database is locked"),
        refused("deadlock detected", "40P01"),
        refused("could not serialize access", "40001"),
    ],
    ids=["sqlite-locked", "deadlock", "serialization"],
)
def test_a_refused_transaction_is_run_again_and_commits_once(error, no_pause):
    business = BusinessFactory(name="Before")
    write, calls = flaky(business, [error, error])

    write()

    assert len(calls) == 3
    # The first two takes were rolled back with their transactions.
    assert Business.objects.get(pk=business.pk).name == "Take 3"


@pytest.mark.django_db(transaction=True)
def test_after_three_retries_the_error_goes_up_and_nothing_is_written(no_pause):
    business = BusinessFactory(name="Before")
    locked = refused("database is locked")
    write, calls = flaky(business, [locked] * (locks.RETRIES + 1))

    with pytest.raises(OperationalError, match="database is locked"):
        write()

    assert len(calls) == locks.RETRIES + 1
    assert Business.objects.get(pk=business.pk).name == "Before"


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried(no_pause):
    business = BusinessFactory(name="Before")
    write, calls = flaky(business, [refused("server closed the connection", "08006")])

    with pytest.raises(OperationalError, match="server closed"):
        write()

    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_inside_an_outer_transaction_nothing_is_retried(no_pause):
    business = BusinessFactory(name="Before")
    write, calls = flaky(business, [refused("deadlock detected", "40P01")])

    with pytest.raises(OperationalError), transaction.atomic():
        write()

    assert len(calls) == 1
    assert Business.objects.get(pk=business.pk).name == "Before"


@pytest.mark.django_db(transaction=True)
def test_a_really_locked_sqlite_database_is_waited_out_by_the_retry(no_pause):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's database lock")
    business = BusinessFactory(name="Before")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():  # BEGIN IMMEDIATE: the write lock
                holding.set()
                release.wait(20)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holding.wait(20)
    # Wait 50 ms for the lock instead of the settings' 20 s.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 50")
    attempts = []

    def attempt() -> None:
        attempts.append(1)
        if len(attempts) == 2:
            release.set()
            holder.join(20)
        with transaction.atomic():
            Business.objects.filter(pk=business.pk).update(name="After")

    try:
        locks.run_retrying(attempt)
    finally:
        release.set()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 20000")

    assert len(attempts) == 2
    assert Business.objects.get(pk=business.pk).name == "After"


@pytest.mark.django_db(transaction=True)
def test_a_real_postgresql_deadlock_is_retried_and_both_writers_finish(no_pause):
    """Two writers lock two businesses in opposite orders (what the rule
    forbids); PostgreSQL aborts the retrying one, which then runs again."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's deadlock detection")
    first, second = BusinessFactory(), BusinessFactory()
    other_has_first, mine_has_second = threading.Event(), threading.Event()
    other_error: list[Exception] = []

    def other() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL deadlock_timeout = '10s'")
                locks.lock_business(first.pk)
                other_has_first.set()
                mine_has_second.wait(20)
                locks.lock_business(second.pk)
        except Exception as error:  # noqa: BLE001 - reported below
            other_error.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    attempts = []

    def attempt() -> None:
        attempts.append(1)
        with transaction.atomic():
            with connection.cursor() as cursor:
                # This side finds the deadlock first, so it is the one aborted.
                cursor.execute("SET LOCAL deadlock_timeout = '100ms'")
            locks.lock_business(second.pk)
            if len(attempts) == 1:
                mine_has_second.set()
                assert other_has_first.wait(20)
            locks.lock_business(first.pk)

    locks.run_retrying(attempt)
    thread.join(20)

    assert not thread.is_alive()
    assert other_error == []
    assert len(attempts) == 2
