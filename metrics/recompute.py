"""What the queued and scheduled rollup jobs do, one function per job, so the
Celery tasks in `metrics.tasks` only take ids and ISO dates and call one of
these (a test or the benchmark calls them in-process).

- a business's week after an entry changed, then its later stale weeks;
- every business's last completed week, in chunks of businesses;
- the nightly catch-up of every stale (business, week).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Exists, OuterRef

from hourglass.models import Business

from . import rollup, weeks
from .models import Metric

CHUNK_SIZE = 200


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


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


def all_chunks(
    week: date | None = None, *, chunk_size: int = CHUNK_SIZE
) -> list[tuple[list[int], date]]:
    """The (business ids, week) chunks of every business that has metrics;
    without a week, each business's last completed week in its own time zone."""
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


def catch_up(chunk_size: int = CHUNK_SIZE) -> int:
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
