"""The demo's numbers tell a story on first run: trends, a drop-off, some metrics
off track and one missing, all rolled up already."""

from django.core.management import call_command
from django.urls import reverse

from hourglass import demo
from hourglass.models import Business
from metrics import weeks
from metrics.models import (
    Entry,
    Metric,
    MetricWeek,
    RollupWeek,
    StageWeek,
    Status,
    StepConversion,
)


def test_demo_has_26_weeks_of_numbers_rolled_up(db):
    call_command("seed_demo", verbosity=0)
    business = Business.objects.get(slug=demo.DEMO_SLUG)
    last = weeks.last_week(business.timezone)

    entered_weeks = set(
        Entry.objects.filter(business=business).values_list("week", flat=True)
    )
    assert len([w for w in entered_weeks if w <= last]) == 26
    rolled = RollupWeek.objects.filter(
        business=business, computed_at__isnull=False, stale_since__isnull=True
    )
    assert rolled.filter(week__lte=last).count() == 26
    assert rolled.filter(week=weeks.current_week(business.timezone)).exists()


def test_demo_last_week_shows_off_track_missing_and_a_drop_off(db):
    call_command("seed_demo", verbosity=0)
    business = Business.objects.get(slug=demo.DEMO_SLUG)
    last = weeks.last_week(business.timezone)

    statuses = list(
        MetricWeek.objects.filter(business=business, week=last).values_list(
            "status", flat=True
        )
    )
    assert statuses.count(Status.OFF_TRACK) >= 3
    assert statuses.count(Status.ON_TRACK) >= 2
    assert statuses.count(Status.MISSING) == 1
    assert MetricWeek.objects.filter(business=business, week=last).exclude(trend="")
    drop = StepConversion.objects.get(
        business=business, week=last, is_biggest_drop=True
    )
    assert (drop.from_key, drop.to_key) == (
        "webinar",
        "consultation",
    )
    totals = {
        s.stage: s.total for s in StageWeek.objects.filter(business=business, week=last)
    }
    # The funnel narrows from the top of the hourglass to the try stage.
    assert totals["know"] > totals["like"] > totals["trust"] > totals["try"]
    # The webinar metrics sit on the webinar map's steps.
    assert Metric.objects.get(business=business, name="Webinar attendees").step


def test_demo_review_page_opens_on_last_week(client, db):
    call_command("seed_demo", verbosity=0)
    business = Business.objects.get(slug=demo.DEMO_SLUG)
    client.force_login(business.memberships.get(user__email=demo.DEMO_EMAIL).user)

    response = client.get(
        reverse("metrics:review", kwargs={"slug": business.slug}), follow=True
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Biggest drop-off" in html
    assert "Add-on services sold" in html
