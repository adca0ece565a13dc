"""How a write transaction of a business begins: the one lock order, and the
bounded retry of a transaction the database still refuses.

**The rule.** Every transaction that writes a business's metrics, entries, maps
or rollup rows (or deletes rows they point at: a member, a map) takes the lock
of that business's row first, before it locks or writes anything else
(`lock_business`: `SELECT … FOR NO KEY UPDATE` of hourglass_business on
PostgreSQL); one that writes several businesses (the rollup of a chunk, the
purge of the trash) takes them in id order (`lock_businesses`). Services get
the rule from `business_write`; `metrics.rollup.mark_stale` takes the lock
again (a no-op for a caller that followed the rule). Writers of one business
then queue at that row instead of meeting each other's row locks — and
PostgreSQL's deferred foreign-key checks, which take `FOR KEY SHARE` of the
business row at COMMIT — in different orders, which is how two entry saves
and a rollup deadlocked. Writers of different businesses never wait for each
other.

`FOR NO KEY UPDATE` rather than `FOR UPDATE`: it conflicts with itself, so the
writers of a business queue, but not with `FOR KEY SHARE`, so a write outside
the rule (a tactic, an invitation: rows pointing at the business) is never held
up by a long rollup.

On SQLite there are no row locks: every transaction begins with
`BEGIN IMMEDIATE` (`hourglass/settings.py`), which takes the database's one
write lock first, waiting up to the busy timeout for it — the same rule with
the whole database as the row.

**The retry.** A transaction that still meets a deadlock or a serialization
failure (PostgreSQL `40P01`, `40001`) or "database is locked" (SQLite, after
the busy timeout) is run again from the start, up to `RETRIES` times, after a
short jittered pause. Only the outermost transaction is retried: inside
someone else's atomic block the error goes up to whoever opened it, since the
work before the call was rolled back with it.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, transaction

from hourglass.models import Business

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# Attempts after the first, and the pause before the n-th of them: a random
# share of BACKOFF_SECONDS × 2ⁿ, so colliding writers do not collide again.
RETRIES = 3
BACKOFF_SECONDS = 0.05
# Deadlock detected, serialization failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def lock_business(business_id: int) -> None:
    """Take the write lock of one business, inside the current transaction."""
    lock_businesses([business_id])


def lock_businesses(business_ids: Iterable[int]) -> list[int]:
    """Take the write locks of several businesses in id order; the ids of those
    that exist, in that order."""
    return list(
        Business.objects.select_for_update(no_key=True)
        .filter(id__in=list(business_ids))
        .order_by("id")
        .values_list("id", flat=True)
    )


def is_retryable(error: OperationalError) -> bool:
    """A deadlock, a serialization failure or a locked SQLite database: the
    transaction did nothing and may simply be run again."""
    cause = error.__cause__
    if getattr(cause, "pgcode", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error)


def run_retrying(attempt: Callable[[], T], *, what: str = "a transaction") -> T:
    """`attempt()` (which opens the transaction), again after a retryable
    failure when it is the outermost one."""
    if connection.in_atomic_block:
        return attempt()
    retries = 0
    while True:
        try:
            return attempt()
        except OperationalError as error:
            if retries >= RETRIES or not is_retryable(error):
                raise
            retries += 1
            logger.warning("Retrying %s (%d of %d): %s", what, retries, RETRIES, error)
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**retries))


def retrying(func: Callable[P, T]) -> Callable[P, T]:
    """Run `func` in a transaction of its own, retried as `run_retrying` says."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        def attempt() -> T:
            with transaction.atomic():
                return func(*args, **kwargs)

        return run_retrying(attempt, what=func.__qualname__)

    return wrapper


def business_write(
    business_of: Callable[..., int | None],
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A service that writes one business's rows: one transaction that first
    takes the business's lock, retried as `run_retrying` says. `business_of`
    gets the service's arguments and names the business's id (None: nothing of
    any business to lock)."""

    def decorate(func: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            business_id = business_of(*args, **kwargs)

            def attempt() -> T:
                with transaction.atomic():
                    if business_id is not None:
                        lock_business(business_id)
                    return func(*args, **kwargs)

            return run_retrying(attempt, what=func.__qualname__)

        return wrapper

    return decorate
