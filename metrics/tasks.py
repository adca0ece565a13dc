"""Thin Celery tasks around `metrics.rollup` (ids and ISO dates as arguments).

Every task is idempotent: acked late and re-queued when a worker dies, retried
with backoff when the database is unreachable.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse

from hourglass.models import Business
from metrics import rollup, weeks
from metrics.models import Entry, Metric

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
CHUNK_SIZE = 200


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@shared_task(name="metrics.tasks.rollup_business_week", **TASK_OPTIONS)
def rollup_business_week(business_id: int, week_iso: str) -> None:
    """That week, then the business's later weeks (within the averaging window)
    that are stale and have started."""
    week = date.fromisoformat(week_iso)
    rollup.rollup_business_week(business_id, week)
    business = Business.objects.filter(id=business_id).only("timezone").first()
    if business is None:
        return
    current = weeks.current_week(business.timezone)
    later = rollup.stale_weeks_after(business_id, week, until=current)
    for later_week in later:
        rollup.rollup_business_week(business_id, later_week)


@shared_task(name="metrics.tasks.rollup_chunk", **TASK_OPTIONS)
def rollup_chunk(business_ids: list[int], week_iso: str) -> None:
    rollup.rollup_businesses_week(business_ids, date.fromisoformat(week_iso))


@shared_task(name="metrics.tasks.rollup_all", **TASK_OPTIONS)
def rollup_all(week_iso: str | None = None, chunk_size: int = CHUNK_SIZE) -> int:
    """Queue a chunk task per `chunk_size` businesses that have metrics; without
    a week, each business's last completed week in its own time zone. Returns
    the number of chunks queued."""
    week = date.fromisoformat(week_iso) if week_iso else None
    chunks = rollup_all_chunks(week, chunk_size=chunk_size)
    for ids, chunk_week in chunks:
        rollup_chunk.delay(ids, chunk_week.isoformat())
    return len(chunks)


def rollup_all_chunks(
    week: date | None = None, *, chunk_size: int = CHUNK_SIZE
) -> list[tuple[list[int], date]]:
    """The (business ids, week) chunks `rollup_all` fans out, so a caller can
    also run them in-process (the benchmark does)."""
    businesses = (
        Business.objects.filter(Exists(Metric.objects.filter(business=OuterRef("pk"))))
        .order_by("id")
        .values_list("id", "timezone")
    )
    by_week: dict[date, list[int]] = defaultdict(list)
    zone_weeks: dict[str, date] = {}
    for business_id, zone in businesses:
        if week is None and zone not in zone_weeks:
            zone_weeks[zone] = weeks.last_week(zone)
        by_week[week or zone_weeks[zone]].append(business_id)
    return [
        (ids, chunk_week)
        for chunk_week, week_ids in sorted(by_week.items())
        for ids in _chunks(week_ids, chunk_size)
    ]


@shared_task(name="metrics.tasks.rollup_catch_up", **TASK_OPTIONS)
def rollup_catch_up(chunk_size: int = CHUNK_SIZE) -> int:
    """Re-roll every stale (business, week), oldest week first, a chunk of
    businesses per transaction. Returns the number of business weeks done."""
    by_week: dict[date, list[int]] = defaultdict(list)
    for business_id, week in rollup.stale_business_weeks():
        by_week[week].append(business_id)
    done = 0
    for week in sorted(by_week):
        for ids in _chunks(by_week[week], chunk_size):
            rollup.rollup_businesses_week(ids, week)
            done += len(ids)
    return done


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


# ---------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------


@shared_task(name="metrics.tasks.reminders_send", **TASK_OPTIONS)
def reminders_send() -> int:
    """One email per owner whose metrics lack a number for last week (in the
    business's time zone). Returns the number of emails sent."""
    zones = (
        Business.objects.filter(Exists(Metric.objects.filter(business=OuterRef("pk"))))
        .values_list("timezone", flat=True)
        .distinct()
    )
    by_week: dict[date, set[str]] = defaultdict(set)
    for zone in zones:
        by_week[weeks.last_week(zone)].add(zone)
    sent = 0
    for week, week_zones in sorted(by_week.items()):
        has_value = Entry.objects.filter(
            metric=OuterRef("pk"), week=week, value__isnull=False
        )
        lacking = (
            Metric.objects.filter(
                business__timezone__in=week_zones,
                owner__isnull=False,
                owner__user__is_active=True,
                first_week__lte=week,
            )
            .filter(Q(archived_on__isnull=True) | Q(archived_on__gte=week))
            .filter(~Exists(has_value))
            .select_related("owner__user", "business")
            .order_by("business_id", "owner_id", "position", "id")
        )
        by_owner: dict[int, list[Metric]] = defaultdict(list)
        for metric in lacking:
            by_owner[metric.owner_id].append(metric)
        for metrics in by_owner.values():
            _send_reminder(metrics, week)
            sent += 1
    return sent


def _send_reminder(metrics: list[Metric], week: date) -> None:
    owner = metrics[0].owner
    business = metrics[0].business
    link = (
        settings.SITE_URL.rstrip("/")
        + reverse("metrics:this-week", kwargs={"slug": business.slug})
        + f"?week={week.isoformat()}"
    )
    context = {
        "user": owner.user,
        "business": business,
        "week": week,
        "metrics": metrics,
        "link": link,
    }
    send_mail(
        subject=render_to_string("metrics/email/reminder_subject.txt", context).strip(),
        message=render_to_string("metrics/email/reminder_body.txt", context),
        from_email=None,
        recipient_list=[owner.user.email],
    )
