"""Thin Celery tasks: each takes ids and ISO dates and calls one function of
`metrics.recompute` (the rollup jobs) or `metrics.reminders`.

Every task is idempotent: acked late and re-queued when a worker dies, retried
with backoff when the database is unreachable.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import OperationalError

from metrics import recompute, reminders

logger = logging.getLogger(__name__)

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}
CHUNK_SIZE = recompute.CHUNK_SIZE


@shared_task(name="metrics.tasks.rollup_business_week", **TASK_OPTIONS)
def rollup_business_week(business_id: int, week_iso: str) -> None:
    """That week, then the business's later weeks that are stale."""
    recompute.business_week_and_after(business_id, date.fromisoformat(week_iso))


@shared_task(name="metrics.tasks.rollup_chunk", **TASK_OPTIONS)
def rollup_chunk(business_ids: list[int], week_iso: str) -> int:
    """A chunk of `rollup_all`; a business that fails never stops the others."""
    return recompute.roll_up(business_ids, date.fromisoformat(week_iso))


@shared_task(name="metrics.tasks.rollup_all", **TASK_OPTIONS)
def rollup_all(week_iso: str | None = None, chunk_size: int = CHUNK_SIZE) -> int:
    """Queue a chunk task per `chunk_size` businesses that have metrics and
    whose week is missing or stale; without a week, each business's last
    completed week in its own time zone. Returns the number of chunks queued."""
    week = date.fromisoformat(week_iso) if week_iso else None
    chunks = recompute.all_chunks(week, chunk_size=chunk_size, only_stale=True)
    for ids, chunk_week in chunks:
        rollup_chunk.delay(ids, chunk_week.isoformat())
    return len(chunks)


@shared_task(name="metrics.tasks.rollup_catch_up", **TASK_OPTIONS)
def rollup_catch_up(chunk_size: int = CHUNK_SIZE) -> int:
    """Re-roll every stale (business, week); the number of business weeks done."""
    return recompute.catch_up(chunk_size)


@shared_task(name="metrics.tasks.weeks_closed", **TASK_OPTIONS)
def weeks_closed() -> int:
    """Hourly: roll up the week that closed in each zone; the number done."""
    return recompute.weeks_closed()


@shared_task(name="metrics.tasks.reminders_send", **TASK_OPTIONS)
def reminders_send() -> int:
    """Hourly: on Monday morning in each zone, remind the owners whose numbers
    for last week are missing (once); how many emails."""
    return reminders.reminders_send()


def rollup_enqueue(business_id: int, week: date) -> bool:
    """Queue the rollup of one business's week. False (logged) when the broker
    cannot be reached: the week stays stale and the nightly catch-up redoes it."""
    app = rollup_business_week.app
    try:
        with app.producer_or_acquire() as producer:
            # No retries: a dead broker must not hold up the request that saved
            # the entry (kombu would otherwise sleep between attempts).
            producer.connection.ensure_connection(max_retries=0, timeout=2)
            rollup_business_week.apply_async(
                args=[business_id, week.isoformat()], producer=producer, retry=False
            )
    except Exception:
        logger.warning(
            "Could not queue the rollup of business %s, week %s; "
            "the nightly catch-up will do it.",
            business_id,
            week,
            exc_info=True,
        )
        return False
    return True
