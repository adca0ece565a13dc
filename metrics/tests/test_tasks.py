"""The Celery tasks of metrics, called directly or eagerly (the queue itself is
tested with a real worker in test_worker.py)."""

import logging
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from hourglass.celery import app
from hourglass.models import Membership
from hourglass.tests.factories import BusinessFactory, MembershipFactory
from metrics import recompute, reminders, rollup, selectors, services, tasks, weeks
from metrics.models import MetricWeek, RollupWeek
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import use_broker
from metrics.weeks import WEEK

W = date(2025, 3, 3)


def test_catch_up_rolls_up_every_stale_week_and_only_those(acme, other_co):
    mine = MetricFactory(business=acme, first_week=W - WEEK * 4, goal=5)
    theirs = MetricFactory(business=other_co, first_week=W - WEEK * 4)
    EntryFactory(metric=mine, week=W, value=7)
    EntryFactory(metric=theirs, week=W - WEEK, value=3)
    rollup.rollup_business_week(acme.id, W - WEEK * 2)
    fresh_at = RollupWeek.objects.get(business=acme, week=W - WEEK * 2).computed_at
    rollup.mark_stale(business_id=acme.id, week=W)
    rollup.mark_stale(business_id=other_co.id, week=W - WEEK)

    def expected(business) -> int:
        """Mondays from W − 4 weeks to the business's open week."""
        return (weeks.current_week(business.timezone) - (W - WEEK * 4)).days // 7 + 1

    # The two stale weeks, and every week they expect that had no row yet;
    # not the fresh one.
    assert tasks.rollup_catch_up() == expected(acme) - 1 + expected(other_co)

    assert rollup.stale_business_weeks() == []
    assert MetricWeek.objects.get(metric=mine, week=W).status == "on"
    assert MetricWeek.objects.get(metric=theirs, week=W - WEEK).value == 3
    # The week that was not stale was left alone.
    untouched = RollupWeek.objects.get(business=acme, week=W - WEEK * 2)
    assert untouched.computed_at == fresh_at
    assert tasks.rollup_catch_up() == 0


def test_rollup_task_also_redoes_later_stale_weeks_that_have_started(acme):
    metric = MetricFactory(business=acme, first_week=W - WEEK * 20)
    current = weeks.current_week(acme.timezone)
    for week in (W, W + WEEK, W + WEEK * 12, W + WEEK * 13, current + WEEK):
        rollup.rollup_business_week(acme.id, week)
    EntryFactory(metric=metric, week=W, value=4)
    rollup.mark_stale(business_id=acme.id, week=W)
    rollup.mark_stale(business_id=acme.id, week=current + WEEK)
    RollupWeek.objects.filter(week=W + WEEK * 13).update(stale_since=timezone.now())

    tasks.rollup_business_week(acme.id, W.isoformat())

    stale = set(
        RollupWeek.objects.filter(stale_since__isnull=False).values_list(
            "week", flat=True
        )
    )
    # W+13 weeks is outside W's window; next week has not started.
    assert stale == {W + WEEK * 13, current + WEEK}
    assert MetricWeek.objects.get(metric=metric, week=W + WEEK).avg_4 == 4


def test_rollup_all_rolls_up_last_week_of_every_business_with_metrics(
    acme, other_co, celery_eager
):
    far_east = BusinessFactory(timezone="Pacific/Kiritimati")
    no_metrics = BusinessFactory(timezone="UTC")
    for business in (acme, other_co, far_east):
        MetricFactory(business=business, first_week=W)

    # One chunk per distinct last week (zones ahead of UTC may be a week on).
    assert tasks.rollup_all.delay().get() >= 1

    done = set(RollupWeek.objects.values_list("business_id", "week"))
    assert done == {
        (acme.id, weeks.last_week(acme.timezone)),
        (other_co.id, weeks.last_week(other_co.timezone)),
        (far_east.id, weeks.last_week(far_east.timezone)),
    }
    assert no_metrics.id not in {business_id for business_id, _ in done}


def test_rollup_all_chunks_a_given_week(acme, other_co, celery_eager):
    for business in (acme, other_co):
        MetricFactory(business=business, first_week=W)

    assert recompute.all_chunks(W, chunk_size=1) == [
        ([acme.id], W),
        ([other_co.id], W),
    ]
    assert tasks.rollup_all.delay(W.isoformat(), chunk_size=1).get() == 2
    assert RollupWeek.objects.filter(week=W, computed_at__isnull=False).count() == 2


def test_tasks_retry_when_the_database_is_unreachable():
    for task in (
        tasks.rollup_business_week,
        tasks.rollup_chunk,
        tasks.rollup_all,
        tasks.rollup_catch_up,
        tasks.weeks_closed,
        tasks.reminders_send,
    ):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.max_retries == 5 and task.retry_backoff


def test_beat_schedules_the_metrics_tasks():
    schedule = {
        entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()
    }
    # Hourly, so each zone's Monday 00:00 and 08:00 come within the hour.
    for task in ("metrics.tasks.weeks_closed", "metrics.tasks.reminders_send"):
        assert len(schedule[task].hour) == 24 and len(schedule[task].day_of_week) == 7
    assert schedule["metrics.tasks.rollup_catch_up"].hour == {2}
    assert "metrics.tasks.rollup_all" not in schedule
    assert "hourglass.tasks.invitations_purge_expired" in schedule
    assert app.conf.timezone == "UTC"


# ---------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------


@pytest.fixture
def reminder_metrics(acme, alice, bob, erin, other_co, charlie, last_week):
    def owner(business, user):
        return Membership.objects.get(business=business, user=user)

    since = last_week - WEEK * 4
    missing = [
        MetricFactory(
            business=acme, owner=owner(acme, alice), name=name, first_week=since
        )
        for name in ("Webinar attendees", "Consultations booked")
    ]
    cleared = MetricFactory(
        business=acme, owner=owner(acme, alice), name="Proposals", first_week=since
    )
    EntryFactory(metric=cleared, week=last_week, value=None)
    # bob entered his; erin's metric is archived; nobody owns the last one;
    # charlie's other business has its number too.
    done = MetricFactory(business=acme, owner=owner(acme, bob), first_week=since)
    EntryFactory(metric=done, week=last_week, value=3)
    MetricFactory(
        business=acme,
        owner=owner(acme, erin),
        first_week=since,
        archived_on=last_week - WEEK,
    )
    MetricFactory(business=acme, owner=None, first_week=since)
    # This week's number does not stand in for last week's.
    EntryFactory(metric=missing[1], week=last_week + WEEK, value=8)
    theirs = MetricFactory(
        business=other_co, owner=owner(other_co, charlie), first_week=since
    )
    EntryFactory(metric=theirs, week=weeks.last_week(other_co.timezone), value=1)
    return [*missing, cleared]


def monday_at(business, hour: int) -> datetime:
    """This week's Monday at `hour` o'clock in the business's zone."""
    monday = weeks.current_week(business.timezone)
    zone = ZoneInfo(business.timezone)
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=zone)


def test_reminders_go_to_owners_with_missing_numbers_only(
    acme, reminder_metrics, last_week
):
    assert reminders.reminders_send(now=monday_at(acme, 9)) == 1

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "Acme" in message.subject
    for metric in reminder_metrics:
        assert f"- {metric.name}" in message.body
    link = reverse("metrics:this-week", kwargs={"slug": acme.slug})
    assert f"{link}?week={last_week.isoformat()}" in message.body


def test_no_reminder_when_nothing_is_missing(acme, reminder_metrics, last_week):
    for metric in reminder_metrics:
        metric.entries.update_or_create(
            week=last_week,
            defaults={
                "value": 1,
                "business": acme,
                "entered_at": metric.created_at,
            },
        )
    assert reminders.reminders_send(now=monday_at(acme, 9)) == 0
    assert mail.outbox == []


def test_no_reminder_for_metrics_that_start_this_week(acme, alice, this_week):
    owner = Membership.objects.get(business=acme, user=alice)
    MetricFactory(business=acme, owner=owner, first_week=this_week)
    assert reminders.reminders_send(now=monday_at(acme, 9)) == 0


def test_reminders_wait_for_monday_morning_in_each_zone_and_go_once(
    acme, reminder_metrics, other_co
):
    # Before 08:00 on Monday in Paris: nothing; then once, however often the
    # hourly job runs.
    assert reminders.reminders_send(now=monday_at(acme, 7)) == 0
    assert reminders.reminders_send(now=monday_at(acme, 8)) == 1
    assert reminders.reminders_send(now=monday_at(acme, 10)) == 0
    assert len(mail.outbox) == 1
    # Tuesday is not Monday anywhere west of Paris either.
    assert reminders.reminders_send(now=monday_at(acme, 8) + timedelta(days=1)) == 0


def test_a_zone_west_of_utc_minus_8_is_reminded_of_its_own_last_week(alice):
    honolulu = BusinessFactory(name="Aloha", timezone="Pacific/Honolulu")
    owner = MembershipFactory(business=honolulu, user=alice)
    last = weeks.last_week(honolulu.timezone)
    MetricFactory(business=honolulu, owner=owner, first_week=last - WEEK)
    now = monday_at(honolulu, 8)
    # 08:00 Monday in Honolulu is 18:00 Monday UTC: still the same local week.
    assert reminders.reminders_send(now=now) == 1
    assert f"?week={(weeks.week_at(now, honolulu.timezone) - WEEK).isoformat()}" in (
        mail.outbox[0].body
    )


# ---------------------------------------------------------------------------
# Enqueueing
# ---------------------------------------------------------------------------


def test_rollup_enqueue_sends_the_task(celery_broker, acme):
    assert tasks.rollup_enqueue(acme.id, W) is True


def test_rollup_enqueue_returns_false_fast_when_the_broker_is_down(
    celery_broker, acme, caplog
):
    # The warning is heard whatever level an earlier test's Celery worker left
    # the root logger at (start_worker sets it to ERROR).
    caplog.set_level(logging.WARNING, logger="metrics.tasks")
    use_broker("redis://127.0.0.1:1/0")
    started = time.monotonic()
    assert tasks.rollup_enqueue(acme.id, W) is False
    # Generous bound: kombu's default retries would take 6 s or more; the
    # point is that saving an entry is not held up, not a benchmark.
    assert time.monotonic() - started < 4
    assert "catch-up" in caplog.text


# ---------------------------------------------------------------------------
# Every expected week is rolled up
# ---------------------------------------------------------------------------


def test_the_week_that_closed_is_rolled_up_though_nobody_saved_a_number(
    acme, alice_membership
):
    last = weeks.last_week(acme.timezone)
    MetricFactory(business=acme, owner=alice_membership, first_week=last - WEEK * 2)
    now = monday_at(acme, 0) + timedelta(minutes=5)

    assert recompute.weeks_closed(now=now) == 1
    row = RollupWeek.objects.get(business=acme, week=last)
    assert (row.computed_at is not None, row.stale_since, row.missing) == (
        True,
        None,
        1,
    )
    # That week and the open one have their rows; the next hour finds nothing
    # to do.
    assert set(RollupWeek.objects.values_list("week", flat=True)) == {last, last + WEEK}
    assert recompute.weeks_closed(now=now + timedelta(hours=1)) == 0
    # The nightly catch-up gives every earlier expected week its row, rolled up.
    recompute.catch_up()
    assert set(
        RollupWeek.objects.filter(computed_at__isnull=False).values_list(
            "week", flat=True
        )
    ) == {last - WEEK * 2, last - WEEK, last, last + WEEK}


def test_empty_weeks_inside_a_backfill_are_rolled_up_and_show_what_is_missing(
    acme, alice, alice_membership, this_week
):
    metric = MetricFactory(business=acme, owner=alice_membership, first_week=this_week)
    early = this_week - WEEK * 20
    services.entry_record(metric=metric, week=early, value=5, acting_user=alice)

    stale = set(
        RollupWeek.objects.filter(stale_since__isnull=False).values_list(
            "week", flat=True
        )
    )
    assert stale == {early + WEEK * i for i in range(21)}
    recompute.catch_up()
    empty_week = early + WEEK * 15
    review = selectors.review(acme, empty_week)
    assert [r.metric.pk for r in review.missing] == [metric.pk]


def test_rollup_all_skips_the_weeks_already_fresh(acme, other_co, celery_eager):
    for business in (acme, other_co):
        MetricFactory(business=business, first_week=W - WEEK)
    rollup.rollup_business_week(acme.id, W)
    assert recompute.all_chunks(W) == [([other_co.id], W)]
    rollup.mark_stale(business_id=acme.id, week=W)
    assert recompute.all_chunks(W) == [(sorted([acme.id, other_co.id]), W)]
    assert recompute.all_chunks(W, only_stale=False) == recompute.all_chunks(W)
