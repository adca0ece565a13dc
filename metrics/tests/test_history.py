"""The rule of history (README, "The rollup"): a week, once it has closed, is
judged by the definitions in force when it closed — goal, direction, owner,
stage, whether the metric was active, and the map as it was then. Each test
changes a definition today and checks a closed week against the old one and
the open week against the new one, computed here from the rule."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from metrics import rollup, selectors, services, weeks
from metrics.models import MetricDefinition, MetricWeek, RollupWeek, StepConversion
from metrics.tests.factories import EntryFactory, MetricFactory
from systemmaps import services as map_services
from systemmaps.models import Node, Revision
from systemmaps.tests.factories import webinar_graph


def status_by_rule(value, goal, direction) -> str:
    """README: no number is missing; no goal is no goal; on track when the
    number is at or past the goal in the metric's direction."""
    if value is None:
        return "missing"
    if goal is None:
        return "nogoal"
    met = value >= goal if direction == "higher" else value <= goal
    return "on" if met else "off"


def change(metric, acting_user, **changes):
    """The metric form saved with `changes`."""
    fields = {
        "name": metric.name,
        "unit": metric.unit,
        "direction": metric.direction,
        "goal": metric.goal,
        "owner": metric.owner,
        "step": metric.step,
        "stage": metric.stage,
        "in_funnel": metric.in_funnel,
        "description": metric.description,
        **changes,
    }
    return services.metric_update(metric=metric, **fields)


def week_row(metric, week) -> MetricWeek | None:
    return MetricWeek.objects.filter(metric=metric, week=week).first()


@pytest.fixture
def tracked(acme, alice_membership, this_week):
    """A count with a goal of 40, tracked for ten weeks, 42 every week."""
    metric = MetricFactory(
        business=acme,
        goal=Decimal(40),
        owner=alice_membership,
        stage="try",
        first_week=this_week - weeks.WEEK * 10,
    )
    for back in range(11):
        EntryFactory(metric=metric, week=this_week - weeks.WEEK * back, value=42)
    return metric


def test_a_closed_week_keeps_the_goal_owner_and_stage_it_closed_with(
    acme, alice, tracked, erin_membership, this_week, last_week
):
    rollup.rollup_business_week(acme.id, last_week)
    change(tracked, alice, goal=Decimal(50), owner=erin_membership, stage="buy")
    for week in (last_week, this_week):
        rollup.rollup_business_week(acme.id, week)

    closed, open_week = week_row(tracked, last_week), week_row(tracked, this_week)
    assert (closed.goal, closed.owner_id, closed.stage) == (
        Decimal(40),
        tracked.definitions.get().owner_id,
        "try",
    )
    assert closed.status == status_by_rule(Decimal(42), Decimal(40), "higher")
    assert (open_week.goal, open_week.owner_id, open_week.stage) == (
        Decimal(50),
        erin_membership.pk,
        "buy",
    )
    assert open_week.status == status_by_rule(Decimal(42), Decimal(50), "higher")
    # Recomputing any week again, later, gives the same figures.
    before = list(MetricWeek.objects.order_by("week").values())
    for week in (last_week, this_week):
        rollup.rollup_business_week(acme.id, week)
    after = list(MetricWeek.objects.order_by("week").values())
    assert [{**r, "id": 0} for r in after] == [{**r, "id": 0} for r in before]


def test_changes_within_the_open_week_keep_no_history(acme, alice, tracked, this_week):
    change(tracked, alice, goal=Decimal(45))
    change(tracked, alice, goal=Decimal(50))
    kept = MetricDefinition.objects.get(metric=tracked)
    # One definition kept: the one every closed week had, up to this week.
    assert (kept.goal, kept.from_week, kept.until_week) == (
        Decimal(40),
        this_week - weeks.WEEK * 10,
        this_week,
    )


def test_a_change_recomputes_only_the_open_week(acme, alice, tracked, this_week):
    RollupWeek.objects.all().delete()
    change(tracked, alice, goal=Decimal(50))
    assert list(
        RollupWeek.objects.filter(stale_since__isnull=False).values_list(
            "week", flat=True
        )
    ) == [this_week]


def test_weeks_closed_while_archived_stay_out_after_a_restore(
    acme, alice, tracked, this_week, last_week, monkeypatch
):
    three_back = this_week - weeks.WEEK * 3
    # Archived on the Sunday three weeks ago, restored today.
    sunday = weeks.close_of(three_back, acme.timezone) - timedelta(hours=12)
    with monkeypatch.context() as past:
        past.setattr(weeks.timezone, "now", lambda: sunday)
        services.metric_archive(metric=tracked, acting_user=alice)
    services.metric_restore(metric=tracked, acting_user=alice)
    tried = [three_back + weeks.WEEK * i for i in range(4)]
    for week in tried:
        rollup.rollup_business_week(acme.id, week)

    included = set(
        MetricWeek.objects.filter(metric=tracked).values_list("week", flat=True)
    )
    # The week it was archived in still counted; the weeks that closed while
    # it was archived did not; the open week does again.
    assert tried[-1] == this_week
    assert included == {three_back, this_week}


def test_a_backfill_before_the_first_definition_is_judged_by_it(
    acme, alice, tracked, this_week
):
    change(tracked, alice, goal=Decimal(50))
    early = this_week - weeks.WEEK * 20
    services.entry_record(
        metric=tracked, week=early, value=Decimal(45), acting_user=alice
    )
    rollup.rollup_business_week(acme.id, early)
    row = week_row(tracked, early)
    assert row.goal == Decimal(40)
    assert row.status == status_by_rule(Decimal(45), Decimal(40), "higher") == "on"


def test_a_deleted_step_keeps_its_conversions_in_the_weeks_it_was_there(
    acme, alice, this_week, last_week
):
    system_map = map_services.map_create(
        business=acme,
        acting_user=alice,
        name="Webinar",
        half="marketing",
        stages=["try"],
        graph=webinar_graph(),
    )
    Revision.objects.filter(map=system_map).update(
        created_at=weeks.close_of(last_week, acme.timezone) - timedelta(days=3)
    )
    nodes = {n.client_id: n for n in Node.objects.filter(map=system_map)}
    flow = {}
    for key, value in (("start", 100), ("booked", 40), ("call", 30)):
        flow[key] = MetricFactory(
            business=acme, step=nodes[key], first_week=last_week, stage="try"
        )
        EntryFactory(metric=flow[key], week=last_week, value=value)
        EntryFactory(metric=flow[key], week=this_week, value=value)
    # Today the call step goes: its metric loses the step, not its key.
    graph = webinar_graph()
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "call"]
    graph["edges"] = [
        e for e in graph["edges"] if "call" not in (e["source"], e["target"])
    ]
    map_services.map_save_graph(
        system_map=system_map, graph=graph, acting_user=alice, expected_version=1
    )
    flow["call"].refresh_from_db()
    assert (flow["call"].step_id, flow["call"].step_key) == (None, "call")

    for week in (last_week, this_week):
        rollup.rollup_business_week(acme.id, week)

    def pairs(week):
        return list(
            StepConversion.objects.filter(week=week)
            .order_by("position")
            .values_list("from_key", "to_key", "to_label", "rate")
        )

    assert ("booked", "call", "Consultation call", Decimal("0.7500")) in pairs(
        last_week
    )
    assert all("call" not in pair[:2] for pair in pairs(this_week))


def test_a_map_save_makes_the_open_week_stale(acme, alice, webinar_map, this_week):
    RollupWeek.objects.all().delete()
    map_services.map_save_graph(
        system_map=webinar_map,
        graph=webinar_graph(),
        acting_user=alice,
        expected_version=webinar_map.version,
    )
    assert RollupWeek.objects.get(week=this_week).stale_since is not None


@pytest.mark.parametrize(
    ("recent", "trend"),
    [
        ("95", "flat"),  # exactly −5 %: not a move
        ("105", "flat"),  # exactly +5 %
        ("94.99", "down"),
        ("105.01", "up"),
    ],
)
def test_the_trend_at_the_five_percent_boundary(acme, this_week, recent, trend):
    metric = MetricFactory(business=acme, first_week=this_week - weeks.WEEK * 8)
    for back in range(8):
        value = Decimal(recent) if back < 4 else Decimal(100)
        EntryFactory(metric=metric, week=this_week - weeks.WEEK * back, value=value)
    rollup.rollup_business_week(acme.id, this_week)

    # The rule, on the exact averages: moved by more than 5 % of the earlier.
    avg_4, avg_prev_4 = Decimal(recent), Decimal(100)
    by_rule = "flat"
    if 100 * (avg_4 - avg_prev_4) > 5 * avg_prev_4:
        by_rule = "up"
    elif 100 * (avg_prev_4 - avg_4) > 5 * avg_prev_4:
        by_rule = "down"
    assert week_row(metric, this_week).trend == by_rule == trend


def test_the_scorecard_keeps_an_archived_metrics_earlier_weeks(
    acme, alice, alice_client, tracked, this_week, last_week, monkeypatch
):
    three_back = this_week - weeks.WEEK * 3
    sunday = weeks.close_of(three_back, acme.timezone) - timedelta(hours=12)
    with monkeypatch.context() as past:
        past.setattr(weeks.timezone, "now", lambda: sunday)
        services.metric_archive(metric=tracked, acting_user=alice)
    active = MetricFactory(business=acme, first_week=tracked.first_week, stage="try")
    for back in range(13):
        rollup.rollup_business_week(acme.id, last_week - weeks.WEEK * back)

    review = selectors.review(acme, last_week)
    [row] = [r for g in review.stages for r in g.rows if r.metric.pk == tracked.pk]
    assert not row.expected and row.row.week == three_back
    # Its weeks up to the archive are there; the weeks after are not counted.
    counted = [cell.week for cell in row.cells if cell is not None]
    assert counted == [w for w in review.weeks if tracked.first_week <= w <= three_back]
    # Only the metrics counted in the week reviewed count.
    assert [r.metric.pk for r in review.rows] == [active.pk]
    assert [r.metric.pk for r in review.missing] == [active.pk]
    html = alice_client.get(
        reverse("metrics:review-week", args=[acme.slug, last_week])
    ).content.decode()
    assert 'data-status="none"' in html and "archived" in html


def test_the_export_gives_each_weeks_owner_and_stage_and_todays(
    acme, alice, alice_client, tracked, erin_membership, this_week, last_week
):
    owner_then = tracked.owner.user.email
    change(tracked, alice, owner=erin_membership, stage="buy")
    response = alice_client.get(
        reverse("metrics:entries-export", args=[acme.slug]),
        {"from": last_week.isoformat(), "to": this_week.isoformat()},
    )
    rows = {r["week"]: r for r in csv.DictReader(io.StringIO(response.text))}
    closed, open_week = rows[last_week.isoformat()], rows[this_week.isoformat()]
    assert (closed["owner"], closed["stage"]) == (owner_then, "try")
    assert (open_week["owner"], open_week["stage"]) == ("erin@example.com", "buy")
    for row in (closed, open_week):
        assert (row["owner_now"], row["stage_now"]) == ("erin@example.com", "buy")
    # Times in the business's zone, with its offset.
    entered = datetime.fromisoformat(closed["entered_at"])
    offset = entered.utcoffset()
    assert offset == entered.astimezone(ZoneInfo(acme.timezone)).utcoffset()


def test_the_metric_page_and_lists_judge_each_week_by_its_definition(
    acme, alice, tracked, this_week, last_week, alice_membership
):
    change(tracked, alice, goal=Decimal(50))
    history = {
        h.week: h.status for h in selectors.metric_history(tracked, current=this_week)
    }
    assert history[last_week] == status_by_rule(Decimal(42), Decimal(40), "higher")
    assert history[this_week] == status_by_rule(Decimal(42), Decimal(50), "higher")
    [row] = selectors.entry_rows(
        acme,
        week=this_week,
        owner=None,
        membership=alice_membership,
        current=this_week,
    )
    assert [v.status for v in row.recent] == ["on"] * len(row.recent)


def test_a_trend_needs_both_four_week_windows_tracked(acme, this_week):
    # Tracked for six weeks: the earlier window (weeks −7 to −4) is half there.
    young = MetricFactory(business=acme, first_week=this_week - weeks.WEEK * 5)
    grown = MetricFactory(business=acme, first_week=this_week - weeks.WEEK * 7)
    for metric in (young, grown):
        for back in range(8):
            week = this_week - weeks.WEEK * back
            if week >= metric.first_week:
                value = 200 if back < 4 else 100
                EntryFactory(metric=metric, week=week, value=value)
    rollup.rollup_business_week(acme.id, this_week)
    assert week_row(young, this_week).trend == ""
    assert week_row(grown, this_week).trend == "up"


def test_weeks_archived_at_their_close_read_archived_not_untracked(
    acme, alice, tracked, this_week, alice_membership, monkeypatch
):
    three_back = this_week - weeks.WEEK * 3
    sunday = weeks.close_of(three_back, acme.timezone) - timedelta(hours=12)
    with monkeypatch.context() as past:
        past.setattr(weeks.timezone, "now", lambda: sunday)
        services.metric_archive(metric=tracked, acting_user=alice)
    services.metric_restore(metric=tracked, acting_user=alice)
    tracked.entries.filter(week__gt=three_back).delete()
    [row] = selectors.entry_rows(
        acme,
        week=this_week,
        owner=None,
        membership=alice_membership,
        current=this_week,
    )
    labels = {v.week: (v.expected, v.archived) for v in row.recent}
    assert labels[three_back] == (True, False)
    assert labels[this_week - weeks.WEEK] == (False, True)
