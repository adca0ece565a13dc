"""What the queued and scheduled rollup jobs do, one function per job, so the
Celery tasks in `metrics.tasks` only take ids and ISO dates and call one of
these (a test or the benchmark calls them in-process).

- a business's week after an entry changed, then its later stale weeks;
- every hour, the businesses whose week has closed in their own time zone:
  their expected weeks exist and last week is rolled up (`weeks_closed`);
- every business's last completed week, in chunks of businesses (`rollup_all`,
  by hand and in the benchmark);
- the nightly catch-up of every stale (business, week), after making sure
  every expected week has its row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime

from django.db import OperationalError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from hourglass.models import Business

from . import rollup, weeks
from .models import Metric, RollupWeek

CHUNK_SIZE = 200

logger = logging.getLogger(__name__)


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def roll_up(ids: list[int], week: date) -> int:
    """The rollup of `week` for a chunk of businesses. When it fails, business
    by business: one business whose figures cannot be computed is logged and
    left stale, and never stops the others. A database that cannot be reached
    (OperationalError) stops the job, for its task to retry. Returns how many
    businesses were rolled up."""
    try:
        rollup.rollup_businesses_week(ids, week)
        return len(ids)
    except OperationalError:
        raise
    except Exception:
        if len(ids) == 1:
            logger.exception("The rollup of business %s, week %s failed.", ids[0], week)
            return 0
    done = 0
    for business_id in ids:
        done += roll_up([business_id], week)
    return done


def business_week_and_after(business_id: int, week: date) -> None:
    """That week, then the business's later weeks (within the averaging window)
    that are stale and have started."""
    rollup.rollup_business_week(business_id, week)
    business = Business.objects.filter(id=business_id).only("timezone").first()
    if business is None:
        return
    current = weeks.current_week(business.timezone)
    for later_week in rollup.stale_weeks_after(business_id, week, until=current):
        rollup.rollup_business_week(business_id, later_week)


def businesses_by_zone() -> dict[str, list[int]]:
    """The ids of the businesses that have metrics, by time zone (one query)."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for business_id, zone in (
        Business.objects.filter(Exists(Metric.objects.filter(business=OuterRef("pk"))))
        .order_by("id")
        .values_list("id", "timezone")
    ):
        by_zone[zone].append(business_id)
    return by_zone


def weeks_closed(*, now: datetime | None = None, chunk_size: int = CHUNK_SIZE) -> int:
    """The hourly job: in each time zone, the week that closed last (Monday
    00:00 there) is rolled up for every business whose row of it is missing or
    stale, once that week and the open one have their rows (a week nobody saved
    a number in included; earlier weeks are the nightly catch-up's and the
    backfill's). Returns the number of business weeks rolled up; a run in the
    same hour again finds nothing to do."""
    now = now or timezone.now()
    done = 0
    for zone, ids in businesses_by_zone().items():
        last = weeks.week_at(now, zone) - weeks.WEEK
        rollup.ensure_weeks(ids, since=last, until=last + weeks.WEEK)
        due = list(
            RollupWeek.objects.filter(business_id__in=ids, week=last)
            .filter(Q(computed_at__isnull=True) | Q(stale_since__isnull=False))
            .order_by("business_id")
            .values_list("business_id", flat=True)
        )
        for chunk in _chunks(due, chunk_size):
            done += roll_up(chunk, last)
    return done


def all_chunks(
    week: date | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    only_stale: bool = True,
) -> list[tuple[list[int], date]]:
    """The (business ids, week) chunks of every business that has metrics;
    without a week, each business's last completed week in its own time zone.
    With `only_stale`, only the businesses whose week is missing or stale: a
    week rolled up since its last change is not done again."""
    by_week: dict[date, list[int]] = defaultdict(list)
    for zone, ids in businesses_by_zone().items():
        by_week[week or weeks.last_week(zone)].extend(ids)
    if only_stale:
        for chunk_week, week_ids in by_week.items():
            fresh = set(
                RollupWeek.objects.filter(
                    business_id__in=week_ids,
                    week=chunk_week,
                    computed_at__isnull=False,
                    stale_since__isnull=True,
                ).values_list("business_id", flat=True)
            )
            by_week[chunk_week] = [i for i in week_ids if i not in fresh]
    return [
        (ids, chunk_week)
        for chunk_week, week_ids in sorted(by_week.items())
        for ids in _chunks(sorted(week_ids), chunk_size)
    ]


def catch_up(chunk_size: int = CHUNK_SIZE) -> int:
    """Re-roll every stale (business, week), oldest week first, a chunk of
    businesses per transaction, once every week a business expects numbers for
    has its row (`rollup.ensure_weeks`). Returns the number of business weeks
    done."""
    for ids in businesses_by_zone().values():
        rollup.ensure_weeks(ids)
    by_week: dict[date, list[int]] = defaultdict(list)
    for business_id, week in rollup.stale_business_weeks():
        by_week[week].append(business_id)
    done = 0
    for week in sorted(by_week):
        for ids in _chunks(by_week[week], chunk_size):
            done += roll_up(ids, week)
    return done
