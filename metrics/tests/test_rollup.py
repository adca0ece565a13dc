"""The rollup (metrics.rollup) on small hand-computed data: every expected number
below was worked out by hand from the entries the test writes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hourglass.models import Membership
from metrics import conversions as map_conversions
from metrics import rollup, weeks
from metrics.models import (
    MetricWeek,
    OwnerWeek,
    RollupWeek,
    StageWeek,
    StepConversion,
)
from metrics.numbers import MAX_VALUE
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import dump
from metrics.weeks import WEEK
from systemmaps import services as map_services
from systemmaps.models import Node, SystemMap, TrashSpan
from systemmaps.tests.factories import make_map

W = date(2025, 3, 3)  # a Monday


def w(back: int) -> date:
    return W - WEEK * back


def metric_of(business, **fields):
    fields.setdefault("first_week", w(30))
    return MetricFactory(business=business, **fields)


def enter(metric, week: date, value) -> None:
    EntryFactory(metric=metric, week=week, value=value)


def metric_week(metric, week: date = W) -> MetricWeek:
    return MetricWeek.objects.get(metric=metric, week=week)


# ---------------------------------------------------------------------------
# MetricWeek: status, averages, trend, which metrics are included
# ---------------------------------------------------------------------------


def test_status_for_higher_lower_no_goal_and_missing(acme):
    higher_on = metric_of(acme, direction="higher", goal=40)
    higher_off = metric_of(acme, direction="higher", goal=40)
    higher_equal = metric_of(acme, direction="higher", goal=40)
    lower_on = metric_of(acme, direction="lower", goal=5)
    lower_off = metric_of(acme, direction="lower", goal=5)
    no_goal = metric_of(acme, goal=None)
    no_entry = metric_of(acme, goal=10)
    cleared = metric_of(acme, goal=10)
    enter(higher_on, W, 45)
    enter(higher_off, W, 30)
    enter(higher_equal, W, 40)
    enter(lower_on, W, 3)
    enter(lower_off, W, 7)
    enter(no_goal, W, 12)
    enter(cleared, W, None)
    enter(no_entry, w(1), 50)  # another week's number does not count

    rollup.rollup_business_week(acme.id, W)

    assert metric_week(higher_on).status == "on"
    assert metric_week(higher_off).status == "off"
    assert metric_week(higher_equal).status == "on"
    assert metric_week(lower_on).status == "on"
    assert metric_week(lower_off).status == "off"
    assert metric_week(no_goal).status == "nogoal"
    assert metric_week(no_entry).status == "missing"
    assert metric_week(no_entry).value is None
    assert metric_week(cleared).status == "missing"
    row = metric_week(higher_on)
    assert (row.value, row.goal, row.stage) == (Decimal("45"), Decimal("40"), "know")


def test_snapshots_stage_and_owner(acme, alice):
    owner = Membership.objects.get(business=acme, user=alice)
    metric = metric_of(acme, stage="buy", owner=owner)
    rollup.rollup_business_week(acme.id, W)
    row = metric_week(metric)
    assert (row.stage, row.owner_id, row.business_id) == ("buy", owner.id, acme.id)


def test_averages_over_4_and_13_weeks_skip_missing_weeks(acme):
    metric = metric_of(acme)
    # Last four weeks W..W-3: 10, 20, (none), 30 → 20.
    # Four before W-4..W-7: 4, 6, (cleared), 8 → 6.
    # Thirteen W..W-12 adds 100 at W-12: (10+20+30+4+6+8+100) / 7 = 25.428571…
    # W-13 is outside every window.
    for back, value in [
        (0, 10),
        (1, 20),
        (3, 30),
        (4, 4),
        (5, 6),
        (6, None),
        (7, 8),
        (12, 100),
        (13, 1000),
    ]:
        enter(metric, w(back), value)

    rollup.rollup_business_week(acme.id, W)

    row = metric_week(metric)
    assert row.avg_4 == Decimal("20.0000")
    assert row.avg_prev_4 == Decimal("6.0000")
    assert row.avg_13 == Decimal("25.4286")
    assert row.trend == "up"


@pytest.mark.parametrize(
    ("recent", "before", "trend"),
    [
        (10, 20, "down"),
        (Decimal("10.40"), 10, "flat"),
        (Decimal("10.50"), 10, "flat"),  # exactly 5 % is not more than 5 %
        (Decimal("10.60"), 10, "up"),
        (Decimal("9.40"), 10, "down"),
        (1, 0, "up"),
        (0, 0, "flat"),
        (-3, -2, "down"),
    ],
)
def test_trend_compares_last_four_weeks_with_four_before(acme, recent, before, trend):
    metric = metric_of(acme)
    enter(metric, w(0), recent)
    enter(metric, w(5), before)
    rollup.rollup_business_week(acme.id, W)
    assert metric_week(metric).trend == trend


@pytest.mark.parametrize("sign", [1, -1])
def test_the_largest_numbers_roll_up_exactly(acme, sign):
    """Every one of 13 weeks at the largest number a field takes (or its
    negative): the sums in cents and the trend's products stay exact integers,
    nothing overflows, and the averages are that number."""
    largest = sign * MAX_VALUE
    metric = metric_of(acme)
    for back in range(13):
        enter(metric, w(back), largest)
    rollup.rollup_business_week(acme.id, W)
    row = metric_week(metric)
    assert (row.value, row.avg_4, row.avg_13, row.avg_prev_4) == (largest,) * 4
    assert row.trend == "flat"


def test_trend_unknown_without_the_four_weeks_before(acme):
    metric = metric_of(acme)
    enter(metric, w(0), 10)
    enter(metric, w(3), 12)
    rollup.rollup_business_week(acme.id, W)
    row = metric_week(metric)
    assert row.avg_4 == Decimal("11.0000")
    assert row.avg_prev_4 is None
    assert row.trend == ""


def test_archived_and_not_yet_started_metrics_are_left_out(acme):
    archived_before = metric_of(acme, archived_on=W - timedelta(days=1))
    archived_in_week = metric_of(acme, archived_on=W + timedelta(days=2))
    archived_on_monday = metric_of(acme, archived_on=W)
    starts_next_week = metric_of(acme, first_week=w(-1))
    starts_this_week = metric_of(acme, first_week=W)
    for metric in (archived_before, starts_next_week):
        enter(metric, W, 5)

    rollup.rollup_business_week(acme.id, W)

    included = set(
        MetricWeek.objects.filter(week=W).values_list("metric_id", flat=True)
    )
    assert included == {archived_in_week.id, archived_on_monday.id, starts_this_week.id}
    assert RollupWeek.objects.get(business=acme, week=W).metric_count == 3


# ---------------------------------------------------------------------------
# StageWeek, OwnerWeek, RollupWeek
# ---------------------------------------------------------------------------


def test_stage_totals_and_shares_of_the_nearest_stage_with_a_total(acme):
    # know: 100 + 50 (money, outside-funnel and missing counts do not add up).
    enter(metric_of(acme, stage="know", goal=80), W, 100)
    enter(metric_of(acme, stage="know", goal=80), W, 50)
    enter(metric_of(acme, stage="know", unit="money"), W, 999)
    enter(metric_of(acme, stage="know", in_funnel=False), W, 7)
    metric_of(acme, stage="know", goal=1)  # missing
    # like: no metrics at all.  trust: a total of 0.
    enter(metric_of(acme, stage="trust"), W, 0)
    # try: a share of trust, whose 0 leaves no share (like's nothing is skipped).
    enter(metric_of(acme, stage="try", goal=40), W, 30)
    # buy: only a percent metric, so no total.
    enter(metric_of(acme, stage="buy", unit="percent"), W, 12)
    # repeat: 7 ÷ 30 (buy has no total).
    enter(metric_of(acme, stage="repeat"), W, 7)

    rollup.rollup_business_week(acme.id, W)

    rows = StageWeek.objects.filter(business=acme, week=W).order_by("id")
    stages = {s.stage: s for s in rows}
    assert list(stages) == ["know", "like", "trust", "try", "buy", "repeat", "refer"]
    summary = {
        name: (s.total, s.from_stage, s.conversion, s.metric_count)
        for name, s in stages.items()
    }
    assert summary == {
        "know": (Decimal("150"), "", None, 5),
        "like": (None, "", None, 0),
        "trust": (Decimal("0"), "know", Decimal("0"), 1),
        "try": (Decimal("30"), "trust", None, 1),
        "buy": (None, "", None, 1),
        "repeat": (Decimal("7"), "try", Decimal("0.2333"), 1),
        "refer": (None, "", None, 0),
    }
    know = stages["know"]
    assert (know.on_track, know.off_track, know.missing) == (1, 1, 1)
    assert (stages["try"].on_track, stages["try"].off_track) == (0, 1)


def test_owner_counts_and_business_counts(acme, alice, bob):
    alice_m = Membership.objects.get(business=acme, user=alice)
    bob_m = Membership.objects.get(business=acme, user=bob)
    enter(metric_of(acme, owner=alice_m, goal=10), W, 12)  # on
    enter(metric_of(acme, owner=alice_m, goal=10), W, 8)  # off
    metric_of(acme, owner=alice_m, goal=10)  # missing
    enter(metric_of(acme, owner=bob_m), W, 3)  # no goal
    enter(metric_of(acme, owner=None, goal=1), W, 5)  # on, nobody's
    metric_of(acme, owner=bob_m, archived_on=w(2))  # not included

    rollup.rollup_business_week(acme.id, W)

    owners = {
        o.owner_id: (o.metric_count, o.on_track, o.off_track, o.missing, o.no_goal)
        for o in OwnerWeek.objects.filter(business=acme, week=W)
    }
    assert owners == {alice_m.id: (3, 1, 1, 1, 0), bob_m.id: (1, 0, 0, 0, 1)}
    week = RollupWeek.objects.get(business=acme, week=W)
    counts = (
        week.metric_count,
        week.on_track,
        week.off_track,
        week.missing,
        week.no_goal,
    )
    assert counts == (5, 2, 1, 1, 1)
    assert week.computed_at is not None
    assert week.stale_since is None


# ---------------------------------------------------------------------------
# StepConversion along the arrows of a map
# ---------------------------------------------------------------------------


def nodes_of(system_map: SystemMap) -> dict[str, Node]:
    return {n.client_id: n for n in system_map.nodes.all()}


@pytest.fixture
def measured_webinar(acme, alice, webinar_map):
    """The webinar system (DESIGN.md) with counts on five of its steps:
    Webinar 100 → (nurture) → Booked? 40 → no: Down-sell 20 / yes: Call 30 →
    (proposal) → Signed? 10 → no: back through nurture to Booked?."""
    nodes = nodes_of(webinar_map)
    values = {"start": 100, "booked": 40, "downsell": 20, "call": 30, "signed": 10}
    metrics = {}
    for client_id, value in values.items():
        metric = metric_of(acme, step=nodes[client_id], position=5)
        enter(metric, W, value)
        metrics[client_id] = metric
    # A second count on the start with a later position is not its flow metric,
    # and a money metric does not make the nurture step measured.
    enter(metric_of(acme, step=nodes["start"], position=9), W, 1)
    enter(metric_of(acme, step=nodes["nurture"], unit="money"), W, 500)
    return webinar_map, nodes, metrics


def conversions(system_map) -> list[tuple]:
    return [
        (c.position, c.from_key, c.to_key, c.rate)
        for c in StepConversion.objects.filter(map=system_map, week=W).order_by(
            "position"
        )
    ]


def test_step_conversions_follow_arrows_through_branches_and_loops(
    acme, measured_webinar
):
    webinar_map, nodes, metrics = measured_webinar

    rollup.rollup_business_week(acme.id, W)

    assert conversions(webinar_map) == [
        (0, "start", "booked", Decimal("0.4000")),  # through the nurture step
        (1, "booked", "downsell", Decimal("0.5000")),  # the decision's "no"
        (2, "booked", "call", Decimal("0.7500")),  # and its "yes"
        (3, "call", "signed", Decimal("0.3333")),  # through the proposal
        (4, "signed", "booked", Decimal("4.0000")),  # the loop back to nurture
    ]
    # The loop back is a return, not a share above 100 %, and never a drop.
    returns = StepConversion.objects.filter(map=webinar_map, week=W, is_return=True)
    assert [(c.from_key, c.to_key) for c in returns] == [("signed", "booked")]
    first = StepConversion.objects.get(map=webinar_map, week=W, position=0)
    assert first.from_metric_id == metrics["start"].id
    assert first.to_metric_id == metrics["booked"].id
    assert (first.from_value, first.to_value) == (Decimal("100"), Decimal("40"))
    drops = StepConversion.objects.filter(map=webinar_map, is_biggest_drop=True)
    assert [(d.from_key, d.to_key, d.from_label) for d in drops] == [
        ("call", "signed", nodes["call"].label)
    ]


def test_step_conversion_without_a_number_has_no_rate(acme, measured_webinar):
    webinar_map, nodes, metrics = measured_webinar
    metrics["booked"].entries.update(value=None)
    metrics["call"].entries.update(value=0)

    rollup.rollup_business_week(acme.id, W)

    rates = {(f, t): r for _, f, t, r in conversions(webinar_map)}
    assert rates[("start", "booked")] is None
    assert rates[("booked", "call")] is None
    assert rates[("call", "signed")] is None  # from zero
    assert rates[("signed", "booked")] is None
    assert rates[("booked", "downsell")] is None
    assert not StepConversion.objects.filter(is_biggest_drop=True).exists()


def test_no_biggest_drop_when_every_rate_grows(acme, alice):
    graph = {
        "schema_version": 1,
        "name": "Loop",
        "nodes": [
            {"id": i, "kind": k, "label": i, "x": 0.0, "y": 0.0}
            for i, k in [("s", "terminus"), ("a", "task"), ("b", "task")]
        ],
        "edges": [
            {"id": "e1", "source": "s", "target": "a"},
            {"id": "e2", "source": "a", "target": "b"},
            {"id": "e3", "source": "b", "target": "a"},
        ],
    }
    system_map = make_map(acme, alice, name="Loop", graph=graph)
    nodes = nodes_of(system_map)
    enter(metric_of(acme, step=nodes["a"]), W, 10)
    enter(metric_of(acme, step=nodes["b"]), W, 10)

    rollup.rollup_business_week(acme.id, W)

    assert conversions(system_map) == [
        (0, "a", "b", Decimal("1.0000")),
        (1, "b", "a", Decimal("1.0000")),
    ]
    assert not StepConversion.objects.filter(is_biggest_drop=True).exists()


def test_a_map_in_the_trash_when_the_week_closed_has_no_conversions(
    acme, alice, measured_webinar
):
    webinar_map, _, _ = measured_webinar
    close = weeks.close_of(W, acme.timezone)
    # In the trash over the week's close, restored since: still none for W.
    TrashSpan.objects.create(
        map=webinar_map,
        trashed_at=close - timedelta(days=2),
        restored_at=close + timedelta(days=1),
    )
    rollup.rollup_business_week(acme.id, W)
    assert not StepConversion.objects.exists()
    assert MetricWeek.objects.filter(week=W).count() == 7
    # Trashed only after the week closed: the week keeps its conversions.
    TrashSpan.objects.all().delete()
    map_services.map_delete(system_map=webinar_map, acting_user=alice)
    rollup.rollup_business_week(acme.id, W)
    assert StepConversion.objects.filter(week=W).count() == 5
    # The open week judges the map as it is: in the trash.
    this_week = weeks.current_week(acme.timezone)
    rollup.rollup_business_week(acme.id, this_week)
    assert not StepConversion.objects.filter(week=this_week).exists()


def test_step_pairs_on_plain_data():
    # 1 start → 2 → 3 ⇄ 4, 3 → 5; measured 2, 4, 5; 6 unreachable and measured.
    nodes = [(1, "terminus"), (2, "task"), (3, "decision"), (4, "task"), (5, "task")]
    nodes.append((6, "task"))
    edges = [(1, 2), (2, 3), (3, 4), (4, 3), (3, 5), (6, 5)]
    assert map_conversions.step_pairs(nodes, edges, {2, 4, 5, 6}) == [
        (2, 4),
        (2, 5),
        (4, 5),
        (6, 5),
    ]


# ---------------------------------------------------------------------------
# Idempotence, isolation, staleness, query count
# ---------------------------------------------------------------------------


@pytest.fixture
def two_businesses(acme, other_co, measured_webinar, alice):
    owner = Membership.objects.get(business=acme, user=alice)
    liked = metric_of(acme, stage="like", owner=owner, goal=3)
    for back in range(10):
        enter(liked, w(back), back)
    enter(metric_of(other_co, stage="buy", goal=2), W, 1)
    return acme, other_co


def test_rerun_gives_identical_rows_and_no_duplicates(two_businesses):
    acme, other_co = two_businesses
    rollup.rollup_businesses_week([acme.id, other_co.id], W)
    first = dump()
    rollup.rollup_businesses_week([acme.id, other_co.id], W)
    assert dump() == first
    assert MetricWeek.objects.filter(week=W).count() == 9
    assert StageWeek.objects.filter(week=W).count() == 14
    assert StepConversion.objects.filter(week=W).count() == 5
    assert RollupWeek.objects.filter(week=W).count() == 2


def test_other_businesses_are_untouched(two_businesses):
    acme, other_co = two_businesses
    rollup.rollup_business_week(other_co.id, W)
    theirs = dump([other_co.id])
    computed_at = RollupWeek.objects.get(business=other_co).computed_at

    rollup.rollup_business_week(acme.id, W)

    assert dump([other_co.id]) == theirs
    assert RollupWeek.objects.get(business=other_co).computed_at == computed_at
    assert MetricWeek.objects.filter(business=acme).count() == 8


def test_mark_stale_marks_the_week_and_the_twelve_after(acme):
    metric_of(acme)
    for back in (0, -11, -12):
        rollup.rollup_business_week(acme.id, w(back))
    assert not RollupWeek.objects.filter(stale_since__isnull=False).exists()

    rollup.mark_stale(business_id=acme.id, week=w(1))

    stale = set(
        RollupWeek.objects.filter(stale_since__isnull=False).values_list(
            "week", flat=True
        )
    )
    # w(1) gets a row of its own; w(-11) is 12 weeks later, the last week whose
    # 13-week average includes w(1); w(-12) is outside the window.
    assert stale == {w(1), W, w(-11)}
    assert rollup.stale_business_weeks() == [
        (acme.id, w(1)),
        (acme.id, W),
        (acme.id, w(-11)),
    ]
    assert rollup.stale_business_weeks(limit=1) == [(acme.id, w(1))]
    assert not rollup.is_fresh(acme.id, W)
    assert rollup.is_fresh(acme.id, w(-12))


def test_rollup_clears_only_marks_older_than_its_start(acme):
    metric_of(acme)
    rollup.mark_stale(business_id=acme.id, week=W)
    rollup.mark_stale(business_id=acme.id, week=w(1))
    # An entry saved while the rollup runs: its mark is later than the start.
    later = timezone.now() + timedelta(minutes=5)
    rollup.mark_stale(business_id=acme.id, week=w(1), at=later)

    rollup.rollup_business_week(acme.id, w(1))
    rollup.rollup_business_week(acme.id, W)

    assert RollupWeek.objects.get(business=acme, week=w(1)).stale_since == later
    assert RollupWeek.objects.get(business=acme, week=W).stale_since == later
    rollup.mark_stale(business_id=acme.id, week=W, at=later - timedelta(days=1))
    # An older mark does not replace a newer one.
    assert RollupWeek.objects.get(business=acme, week=W).stale_since == later


def test_mark_stale_then_rollup_makes_the_week_fresh(acme):
    metric_of(acme)
    rollup.mark_stale(business_id=acme.id, week=W)
    assert not rollup.is_fresh(acme.id, W)
    rollup.rollup_business_week(acme.id, W)
    assert rollup.is_fresh(acme.id, W)


def _make_business_data(business, user, metric_count: int) -> None:
    system_map = make_map(business, user, name=f"Map {metric_count}")
    steps = list(system_map.nodes.order_by("id"))
    owner = Membership.objects.get(business=business, user=user)
    for i in range(metric_count):
        metric = metric_of(
            business,
            stage=["know", "try", "buy"][i % 3],
            step=steps[i % len(steps)],
            owner=owner if i % 2 else None,
            goal=i,
        )
        for back in range(0, 14, 3):
            enter(metric, w(back), i + back)


def _rollup_queries(business) -> int:
    with CaptureQueriesContext(connection) as queries:
        rollup.rollup_business_week(business.id, W)
    return len(queries)


def test_query_count_does_not_grow_with_metrics(
    acme, alice, other_co, charlie, django_assert_max_num_queries
):
    _make_business_data(acme, alice, 3)
    _make_business_data(other_co, charlie, 60)
    small = _rollup_queries(acme)
    with django_assert_max_num_queries(small):
        rollup.rollup_business_week(other_co.id, W)
    assert MetricWeek.objects.filter(business=other_co).count() == 60
    assert small <= 20


def test_a_loop_back_reads_as_a_return_on_the_review(
    acme, alice_client, measured_webinar
):
    rollup.rollup_business_week(acme.id, W)
    html = alice_client.get(
        reverse("metrics:review-week", args=[acme.slug, W])
    ).content.decode()
    assert "comes back to Booked a consultation?" in html
    assert "400" not in html.split('data-testid="conv-map"')[1].split("</table>")[0]


def test_a_recompute_keeps_unchanged_rows_and_updates_changed_ones_in_place(acme):
    kept = metric_of(acme, goal=5)
    changed = metric_of(acme, goal=5)
    gone = metric_of(acme, goal=5)
    for metric in (kept, changed, gone):
        enter(metric, W, 7)
    rollup.rollup_business_week(acme.id, W)
    before = dict(MetricWeek.objects.filter(week=W).values_list("metric_id", "pk"))

    changed.entries.filter(week=W).update(value=3)
    # Archived before the week: no longer counted in it.
    gone.archived_on = W - WEEK
    gone.save()
    rollup.rollup_business_week(acme.id, W)

    after = {row.metric_id: row for row in MetricWeek.objects.filter(week=W)}
    assert set(after) == {kept.pk, changed.pk}
    # Rows are updated where they are, never deleted and inserted again.
    assert {pk: row.pk for pk, row in after.items()} == {
        kept.pk: before[kept.pk],
        changed.pk: before[changed.pk],
    }
    assert (after[changed.pk].value, after[changed.pk].status) == (3, "off")


ROLLUP_TABLES = (MetricWeek, StageWeek, OwnerWeek, StepConversion)


def rows_of(model) -> dict:
    """pk → every field's value, of the model's rows for W."""
    return {row["id"]: row for row in model.objects.filter(week=W).values()}


def test_every_rollup_table_is_synced_in_place(acme, alice, measured_webinar):
    """Stage, owner and step-conversion rows, like the metric weeks: an
    unchanged recompute sends no write to them at all; a change updates the
    rows it changes where they are, leaves the others, and deletes the rows
    no longer there."""
    webinar_map, nodes, metrics = measured_webinar
    owner = Membership.objects.get(business=acme, user=alice)
    metrics["call"].owner = owner
    metrics["call"].goal = 20
    metrics["call"].direction = "higher"
    metrics["call"].save()
    rollup.rollup_business_week(acme.id, W)
    before = {model: rows_of(model) for model in ROLLUP_TABLES}
    assert all(before.values()), "every table has rows to keep"

    with CaptureQueriesContext(connection) as queries:
        rollup.rollup_business_week(acme.id, W)
    touched = [
        q["sql"]
        for q in queries.captured_queries
        for model in (StageWeek, StepConversion)
        if model._meta.db_table in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert touched == []
    assert {model: rows_of(model) for model in ROLLUP_TABLES} == before

    # The call's number halves (off track now); the signed step's metric is
    # archived before the week, so its conversions (in and out) go and the call
    # leads, through the unmeasured steps, back to the booking.
    metrics["call"].entries.filter(week=W).update(value=15)
    metrics["signed"].archived_on = W - WEEK
    metrics["signed"].save()
    rollup.rollup_business_week(acme.id, W)
    after = {model: rows_of(model) for model in ROLLUP_TABLES}

    def pairs(rows):
        return {(r["from_key"], r["to_key"]): r for r in rows.values()}

    old, new = pairs(before[StepConversion]), pairs(after[StepConversion])
    assert set(old) - set(new) == {("call", "signed"), ("signed", "booked")}
    assert set(new) - set(old) == {("call", "booked")}
    assert new[("call", "booked")]["is_return"] is True
    for pair in set(new) & set(old):
        assert new[pair]["id"] == old[pair]["id"], pair  # updated where it was
    assert new[("booked", "call")]["rate"] == Decimal("0.3750")  # 15 / 40
    assert new[("start", "booked")] == old[("start", "booked")]  # untouched
    # Every stage keeps its row; only the ones whose figures moved changed.
    assert set(after[StageWeek]) == set(before[StageWeek])
    moved = {
        before[StageWeek][pk]["stage"]
        for pk in before[StageWeek]
        if before[StageWeek][pk] != after[StageWeek][pk]
    }
    assert moved == {metrics["call"].stage, metrics["signed"].stage} - {""}
    # The owner's row is updated where it was: the call is off track now.
    (owner_before,) = before[OwnerWeek].values()
    (owner_after,) = after[OwnerWeek].values()
    assert owner_after["id"] == owner_before["id"]
    assert (owner_before["on_track"], owner_before["off_track"]) == (1, 0)
    assert (owner_after["on_track"], owner_after["off_track"]) == (0, 1)
