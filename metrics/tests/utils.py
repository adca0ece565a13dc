"""Helpers of the metrics tests: snapshots of the entries and of the rollup's rows,
reading the review's pages, and pointing Celery at a broker."""

import re
from html import unescape

from metrics.models import (
    Entry,
    EntryRevision,
    MetricWeek,
    OwnerWeek,
    RollupWeek,
    StageWeek,
    StepConversion,
)


def entries_snapshot():
    """Every stored entry and entry revision, to prove that a refused request
    wrote nothing."""
    return (
        list(Entry.objects.order_by("pk").values()),
        list(EntryRevision.objects.order_by("pk").values()),
    )


def dump(business_ids=None) -> dict[str, list[dict]]:
    """Every rollup row without ids and rollup times, for comparing two runs."""
    tables = {
        "metricweek": MetricWeek,
        "stageweek": StageWeek,
        "ownerweek": OwnerWeek,
        "stepconversion": StepConversion,
        "rollupweek": RollupWeek,
    }
    result = {}
    for name, model in tables.items():
        rows = model.objects.all()
        if business_ids is not None:
            rows = rows.filter(business_id__in=business_ids)
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in ("id", "computed_at")
        ]
        result[name] = sorted(
            (tuple(row) for row in rows.values_list(*fields)), key=repr
        )
    return result


def unescaped_text_of(html: str) -> str:
    """The words of some HTML, tags dropped, character references unescaped
    (`&#x27;` → `'`) and spaces squeezed; systemmaps.tests.utils.text_of leaves
    the references as written."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def use_broker(url: str, options: dict | None = None) -> None:
    """Point the Celery app at `url`, dropping its cached connection pools (they
    hold the previous broker's connection)."""
    from hourglass.celery import app

    app.conf.broker_url = url
    # The CELERY_BROKER_URL environment variable outranks broker_url when Celery
    # reads it; a write URL of our own does not.
    app.conf.broker_write_url = url
    app.conf.broker_transport_options = options or {}
    app._pool = None
    app.amqp._producer_pool = None


def cached_figures(business, membership, week, page: str = "review") -> dict:
    """What the cache holds for `page` of `week` as `membership` sees it in
    English: the rendered parts, as bytes (None when nothing is cached)."""
    from types import SimpleNamespace

    from django.core.cache import cache
    from django.utils import translation

    from metrics import selectors
    from metrics.views.review import figures_key

    request = SimpleNamespace(business=business, membership=membership)
    with translation.override("en"):
        key = figures_key(request, selectors.review_inputs(business, week), page)
    return cache.get(key)
