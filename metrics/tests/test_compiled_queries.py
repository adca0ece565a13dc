"""The review's queries compiled once (metrics/selectors/compiled.py) return the
rows their querysets return: the same values of the same types (SQLite stores
dates as text and decimals as numbers), the same models, for any arguments."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from metrics import rollup, weeks
from metrics.models import MetricWeek, RollupWeek, StageWeek, Unit
from metrics.selectors import compiled
from metrics.tests.factories import EntryFactory, MetricFactory

pytestmark = pytest.mark.django_db

FIELDS = ("metric_id", "week", "value", "goal", "avg_4", "status", "unit")


def _cells(business: int, start: date, end: date):
    return (
        MetricWeek.objects.filter(business=business, week__gte=start, week__lte=end)
        .order_by()
        .values_list(*FIELDS)
    )


def _latest(business: int, start: date, end: date, *stopped: int):
    return (
        MetricWeek.objects.filter(business=business, week__gte=start, week__lte=end)
        .filter(Q(week=end) | Q(metric_id__in=stopped))
        .order_by()
        .values_list(*FIELDS)
    )


def _stage_weeks(business: int, week: date):
    return StageWeek.objects.filter(business=business, week=week)


def _rollups(business: int, start: date, end: date):
    return RollupWeek.objects.filter(business=business, week__gte=start, week__lte=end)


@pytest.fixture
def rolled_up(acme):
    """Three weeks of two metrics (a money one with cents), rolled up."""
    last = weeks.last_week(acme.timezone)
    window = weeks.weeks_back(last, 3)
    money = MetricFactory(
        business=acme, unit=Unit.MONEY, goal=Decimal("99.5"), first_week=window[0]
    )
    count = MetricFactory(business=acme, first_week=window[0])
    for i, week in enumerate(window):
        EntryFactory(metric=money, week=week, value=Decimal("1234.56") + i)
        if week != last:
            EntryFactory(metric=count, week=week, value=7 + i)
    for week in window:
        rollup.rollup_business_week(acme.pk, week)
    return window, money, count


def _typed(rows):
    return sorted((tuple((type(v), v) for v in row) for row in rows), key=repr)


def test_values_rows_are_the_querysets_of_any_arguments(acme, rolled_up):
    window, money, count = rolled_up
    for start, end in ((window[0], window[-1]), (window[1], window[1])):
        expected = list(_cells(acme.pk, start, end))
        assert expected
        assert _typed(compiled.run(_cells, acme.pk, start, end)) == _typed(expected)
    value = next(r for r in expected if r[0] == money.pk)[2]
    assert isinstance(value, Decimal) and value == Decimal("1235.56")
    assert compiled.run(_cells, acme.pk + 1000, window[0], window[-1]) == []


def test_a_list_argument_of_any_length_is_its_own_query(acme, rolled_up):
    window, money, count = rolled_up
    for stopped in ((), (count.pk,), (count.pk, money.pk)):
        expected = list(_latest(acme.pk, window[0], window[-1], *stopped))
        got = compiled.run(_latest, acme.pk, window[0], window[-1], *stopped)
        assert _typed(got) == _typed(expected)
    # Both stopped: every week of both.
    assert len(got) == len(_cells(acme.pk, window[0], window[-1])) > 2


def test_model_rows_are_the_querysets_models(acme, rolled_up):
    window, *_ = rolled_up
    expected = list(_rollups(acme.pk, window[0], window[-1]))
    got = compiled.run(_rollups, acme.pk, window[0], window[-1])
    assert [type(r) for r in got] == [RollupWeek] * 3
    fields = [f.attname for f in RollupWeek._meta.concrete_fields]
    assert [[getattr(r, f) for f in fields] for r in got] == [
        [getattr(r, f) for f in fields] for r in expected
    ]
    assert all(r.computed_at is not None and not r._state.adding for r in got)
    stages = compiled.run(_stage_weeks, acme.pk, window[-1])
    assert sorted(s.pk for s in stages) == sorted(
        s.pk for s in _stage_weeks(acme.pk, window[-1])
    )


def test_each_run_is_one_query(acme, rolled_up):
    window, *_ = rolled_up
    compiled.run(_cells, acme.pk, window[0], window[-1])
    with CaptureQueriesContext(connection) as queries:
        compiled.run(_cells, acme.pk, window[0], window[-1])
    assert len(queries) == 1
