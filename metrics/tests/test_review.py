"""The weekly review dashboard: numbers from the real rollup, freshness and the
recompute button, week navigation, access, bad input and query counts."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hourglass.models import Membership
from metrics import rollup, weeks
from metrics.models import (
    Meeting,
    MeetingIssue,
    MetricWeek,
    RollupWeek,
    Todo,
)
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import unescaped_text_of
from systemmaps.models import Node

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def funnel_stage(html: str, stage: str) -> str:
    """The words of one stage of the funnel."""
    funnel = html[html.index('data-testid="funnel"') :]
    match = re.search(
        rf'<li class="funnel-stage" data-stage="{stage}">(.*?)</li>', funnel, re.S
    )
    assert match, f"no funnel stage {stage}"
    return unescaped_text_of(match.group(1))


def score_row(html: str, metric_pk: int) -> str:
    """The words of one metric's scorecard row."""
    match = re.search(
        rf'<tr data-testid="score-row" data-metric="{metric_pk}".*?</tr>', html, re.S
    )
    assert match, f"no scorecard row for metric {metric_pk}"
    return unescaped_text_of(match.group(0))


def week_url(name: str, business, week, **kwargs) -> str:
    return reverse(f"metrics:{name}", args=[business.slug, week.isoformat()])


@pytest.fixture
def scored(acme, metric, bob_metric, last_week):
    """Three metrics of acme with numbers for last week and the weeks before it,
    rolled up by the real rollup: attendees on track, consultations off track,
    and an unowned metric whose number is missing."""
    unowned = MetricFactory(
        business=acme,
        name="Clients onboarded",
        goal=2,
        stage="buy",
        first_week=last_week - weeks.WEEK * 8,
    )
    for i in range(1, 5):
        EntryFactory(metric=metric, week=last_week - weeks.WEEK * i, value=30 + i)
        EntryFactory(metric=bob_metric, week=last_week - weeks.WEEK * i, value=8)
        EntryFactory(metric=unowned, week=last_week - weeks.WEEK * i, value=1)
    EntryFactory(metric=metric, week=last_week, value=Decimal("1234"))
    EntryFactory(metric=bob_metric, week=last_week, value=4)
    for i in range(4, -1, -1):
        rollup.rollup_business_week(acme.pk, last_week - weeks.WEEK * i)
    return {"attendees": metric, "booked": bob_metric, "unowned": unowned}


# ---------------------------------------------------------------------------
# The dashboard
# ---------------------------------------------------------------------------


def test_review_opens_the_last_completed_week(alice_client, acme, last_week):
    response = alice_client.get(reverse("metrics:review", args=[acme.slug]))
    assert response.status_code == 302
    assert response.url == week_url("review-week", acme, last_week)


def test_scorecard_shows_rolled_up_numbers_and_status_words(
    alice_client, acme, scored, last_week
):
    response = alice_client.get(week_url("review-week", acme, last_week))
    assert response.status_code == 200
    html = response.content.decode()

    attendees = score_row(html, scored["attendees"].pk)
    assert "Webinar attendees" in attendees
    assert "Alice Archer" in attendees and "AA" in attendees
    assert "1,234 ✓ on track" in attendees
    # 4-week average of 1234, 33, 32, 31 → 332.5; rising and higher is better.
    assert "332.5" in attendees
    assert "better" in attendees

    booked = score_row(html, scored["booked"].pk)
    assert "Bob Baker" in booked
    assert "4 ✕ off track" in booked
    assert "worse" in booked

    unowned = score_row(html, scored["unowned"].pk)
    assert "No owner" in unowned
    assert "— ? missing" in unowned
    # Colour comes with words: each cell carries its status as a class too.
    assert 'class="num cell cell-off"' in html
    assert 'class="num cell cell-on"' in html


def test_scorecard_groups_rows_by_stage_in_hourglass_order(
    alice_client, acme, scored, last_week
):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    assert html.index('data-stage="try"') < html.index('data-stage="buy"')
    tbody_try = html[html.index('<tbody data-stage="try"') :]
    tbody_try = tbody_try[: tbody_try.index("</tbody>")]
    assert f'data-metric="{scored["attendees"].pk}"' in tbody_try
    assert f'data-metric="{scored["unowned"].pk}"' not in tbody_try


def test_sparkline_is_an_svg_with_a_title(alice_client, acme, scored, last_week):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    row = re.search(
        rf'data-metric="{scored["attendees"].pk}".*?</tr>', html, re.S
    ).group(0)
    assert '<svg class="spark" role="img"' in row
    # The scorecard starts at the earliest tracked week, 8 weeks before last week.
    assert "<title>Webinar attendees over 9 weeks: from 34 to 1,234</title>" in row
    assert "<polyline" in row


def test_missing_numbers_link_to_the_this_week_form(
    alice_client, acme, scored, last_week
):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    missing = html[html.index('data-testid="missing"') :]
    assert "Clients onboarded" in missing[: missing.index("</ul>")]
    form_url = reverse("metrics:this-week", args=[acme.slug])
    assert f"{form_url}?week={last_week.isoformat()}&amp;who=all" in html


def test_member_gets_the_form_link_without_everyone(
    bob_client, acme, scored, last_week
):
    html = bob_client.get(week_url("review-week", acme, last_week)).content.decode()
    form_url = reverse("metrics:this-week", args=[acme.slug])
    assert f'{form_url}?week={last_week.isoformat()}"' in html
    assert "who=all" not in html


def test_accountability_counts_per_owner_and_unowned(
    alice_client, acme, scored, last_week
):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    rows = re.findall(r'<tr data-testid="owner-row">.*?</tr>', html, re.S)
    words = [unescaped_text_of(r) for r in rows]
    assert "AA Alice Archer 1 1 0 0" in words
    assert "BB Bob Baker 1 0 1 0" in words
    unowned = re.search(r'<tr data-testid="unowned-row">.*?</tr>', html, re.S)
    assert unescaped_text_of(unowned.group(0)) == "No owner 1 0 0 1"
    assert "1 metric has no owner" in unescaped_text_of(html)


def test_funnel_shows_stage_totals_and_empty_stages(
    alice_client, acme, scored, last_week
):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    funnel = html[html.index('data-testid="funnel"') :]
    funnel = funnel[: funnel.index("</ol>")]
    stages = re.findall(r'data-stage="(\w+)"', funnel)
    assert stages == ["know", "like", "trust", "try", "buy", "repeat", "refer"]
    # 1234 attendees + 4 consultations, both count metrics of the try stage.
    assert funnel_stage(html, "try") == "Try 1,238"
    assert funnel_stage(html, "know") == "Know no numbers"
    assert 'style="' not in funnel
    assert re.search(
        r'<rect class="funnel-fill funnel-fill-try" x="0" y="0" width="100"', funnel
    )


def test_funnel_says_the_conversion_from_the_stage_above(
    alice_client, acme, alice, last_week
):
    MetricFactory(business=acme, name="Visitors", stage="trust", first_week=last_week)
    MetricFactory(business=acme, name="Trials", stage="try", first_week=last_week)
    for name, value in (("Visitors", 200), ("Trials", 64)):
        EntryFactory(metric=acme.metrics.get(name=name), week=last_week, value=value)
    rollup.rollup_business_week(acme.pk, last_week)
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    assert funnel_stage(html, "try") == "Try 64 32 % of Trust"


def test_map_conversions_call_out_the_biggest_drop_off(
    alice_client, acme, webinar_map, last_week
):
    steps = {n.client_id: n for n in Node.objects.filter(map=webinar_map)}
    figures = [("start", "Registrations", 100), ("nurture", "Nurtured", 80)]
    figures += [("call", "Calls held", 20), ("proposal", "Proposals", 15)]
    for client_id, name, value in figures:
        m = MetricFactory(
            business=acme,
            name=name,
            step=steps[client_id],
            stage="try",
            first_week=last_week,
        )
        EntryFactory(metric=m, week=last_week, value=value)
    rollup.rollup_business_week(acme.pk, last_week)

    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    part = html[html.index('data-testid="conv-map"') :]
    drop = re.search(r'<p class="conv-drop".*?</p>', part, re.S).group(0)
    assert unescaped_text_of(drop) == (
        "⬇ Biggest drop-off: Email nurture campaign → Consultation call (25 % made it)"
    )
    rows = [
        unescaped_text_of(r)
        for r in re.findall(r'data-testid="conv-row">(.*?)</tr>', part, re.S)
    ]
    assert (
        "Webinar (Registrations) Email nurture campaign (Nurtured) 100 80 80 %" in rows
    )
    assert any(r.endswith("25 % ⬇ biggest drop-off") for r in rows)


def test_fresh_rollup_says_when_it_ran(alice_client, acme, scored, last_week):
    RollupWeek.objects.filter(business=acme, week=last_week).update(
        computed_at=timezone.now() - timedelta(minutes=3)
    )
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    assert "Rolled up 3\xa0minutes ago" in html
    assert "Recompute now" not in html


def test_stale_week_says_so_and_offers_a_recompute(
    alice_client, acme, scored, last_week
):
    rollup.mark_stale(business_id=acme.pk, week=last_week)
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    assert "Numbers changed since the last rollup." in html
    assert 'data-testid="recompute"' in html
    assert f'hx-post="{week_url("review-recompute", acme, last_week)}"' in html
    # The old numbers stay on screen until the recompute.
    assert "1,234" in html


def test_week_never_rolled_up_says_so(alice_client, acme, metric, last_week):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    assert "Not rolled up yet." in html
    assert 'data-testid="recompute"' in html
    assert 'data-testid="review-not-rolled-up"' in html


def test_business_without_metrics_gets_an_explanation(alice_client, acme, last_week):
    response = alice_client.get(week_url("review-week", acme, last_week))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="review-empty"' in html
    assert reverse("metrics:metric-create", args=[acme.slug]) in html


def test_member_without_metrics_is_not_offered_to_create_one(
    bob_client, acme, last_week
):
    html = bob_client.get(week_url("review-week", acme, last_week)).content.decode()
    assert 'data-testid="review-empty"' in html
    assert reverse("metrics:metric-create", args=[acme.slug]) not in html


# ---------------------------------------------------------------------------
# Weeks in the URL
# ---------------------------------------------------------------------------


def test_a_day_that_is_not_monday_redirects_to_its_monday(
    alice_client, acme, last_week
):
    thursday = last_week + timedelta(days=3)
    for name in ("review-week", "meeting", "meeting-print"):
        response = alice_client.get(
            reverse(f"metrics:{name}", args=[acme.slug, thursday.isoformat()])
        )
        assert response.status_code == 302, name
        assert response.url == week_url(name, acme, last_week)


@pytest.mark.parametrize("text", ["garbage", "2026-13-01", "0001-01-01", "99999"])
def test_a_week_that_is_not_a_date_is_404(alice_client, acme, text):
    for name in ("review-week", "meeting", "review-status"):
        response = alice_client.get(reverse(f"metrics:{name}", args=[acme.slug, text]))
        assert response.status_code == 404, name


def test_a_future_week_is_404(alice_client, acme, this_week):
    response = alice_client.get(week_url("review-week", acme, this_week + weeks.WEEK))
    assert response.status_code == 404


def test_week_links_go_back_and_forward_but_not_past_this_week(
    alice_client, acme, scored, last_week, this_week
):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    prev_url = week_url("review-week", acme, last_week - weeks.WEEK)
    next_url = week_url("review-week", acme, this_week)
    assert f'href="{prev_url}" rel="prev"' in html
    assert f'href="{next_url}" rel="next"' in html
    assert "Week of " + last_week.strftime("%-d %b %Y") in html

    html = alice_client.get(week_url("review-week", acme, this_week)).content.decode()
    assert 'rel="next"' not in html


def test_each_week_column_links_to_that_weeks_review(
    alice_client, acme, scored, last_week
):
    html = alice_client.get(week_url("review-week", acme, last_week)).content.decode()
    # From the earliest week a metric was tracked (8 weeks before last week) on.
    for week in weeks.weeks_back(last_week, 9):
        assert f'<a href="{week_url("review-week", acme, week)}"' in html
    before = last_week - weeks.WEEK * 9
    assert week_url("review-week", acme, before) not in html


# ---------------------------------------------------------------------------
# Recompute and status
# ---------------------------------------------------------------------------


def test_recompute_queues_the_rollup(
    alice_client, acme, scored, last_week, filesystem_broker
):
    broker = filesystem_broker
    rollup.mark_stale(business_id=acme.pk, week=last_week)
    before = broker()
    response = alice_client.post(
        week_url("review-recompute", acme, last_week), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert broker() == before + 1
    html = response.content.decode()
    assert f'hx-get="{week_url("review-status", acme, last_week)}?n=1"' in html
    assert 'hx-trigger="every 2s"' in html
    # Queued, not computed: no worker runs in this test.
    assert RollupWeek.objects.get(business=acme, week=last_week).stale_since


def test_recompute_after_a_rollup_that_just_finished_reloads_the_page(
    alice_client, acme, scored, last_week, filesystem_broker
):
    # The page was stale when it loaded; a rollup finished before the click.
    rollup.rollup_business_week(acme.id, last_week)
    response = alice_client.post(
        week_url("review-recompute", acme, last_week), HTTP_HX_REQUEST="true"
    )
    # Never "✓ Rolled up just now" above the figures of before: a reload.
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    assert "Rolled up" not in response.content.decode()


def test_recompute_computes_here_when_the_broker_is_down(
    bob_client, acme, metric, last_week, dead_broker
):
    EntryFactory(metric=metric, week=last_week, value=41)
    rollup.mark_stale(business_id=acme.pk, week=last_week)
    response = bob_client.post(
        week_url("review-recompute", acme, last_week), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    row = RollupWeek.objects.get(business=acme, week=last_week)
    assert row.stale_since is None and row.computed_at is not None
    assert MetricWeek.objects.get(metric=metric, week=last_week).value == 41

    html = bob_client.get(week_url("review-week", acme, last_week)).content.decode()
    assert "The task queue could not be reached" in html
    assert "41 ✓ on track" in score_row(html, metric.pk)


def test_recompute_without_htmx_redirects_back(
    alice_client, acme, metric, last_week, dead_broker
):
    response = alice_client.post(week_url("review-recompute", acme, last_week))
    assert response.status_code == 302
    assert response.url == week_url("review-week", acme, last_week)
    assert RollupWeek.objects.get(business=acme, week=last_week).computed_at


def test_status_keeps_polling_while_stale(alice_client, acme, scored, last_week):
    rollup.mark_stale(business_id=acme.pk, week=last_week)
    response = alice_client.get(
        week_url("review-status", acme, last_week), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "HX-Refresh" not in response
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_status_stops_polling_after_two_minutes_without_a_worker(
    alice_client, acme, scored, last_week
):
    rollup.mark_stale(business_id=acme.pk, week=last_week)
    url = week_url("review-status", acme, last_week)

    early = alice_client.get(f"{url}?n=3", HTTP_HX_REQUEST="true").content.decode()
    late = alice_client.get(f"{url}?n=60", HTTP_HX_REQUEST="true").content.decode()
    garbage = alice_client.get(f"{url}?n=x", HTTP_HX_REQUEST="true")

    assert "?n=4" in early and "every 2s" in early
    assert "every 2s" not in late
    assert "is the Celery worker running?" in late
    assert 'data-testid="recompute"' in late
    assert garbage.status_code == 200 and "?n=1" in garbage.content.decode()


def test_status_refreshes_the_page_once_fresh(alice_client, acme, scored, last_week):
    response = alice_client.get(
        week_url("review-status", acme, last_week), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"


def test_status_polls_for_a_week_never_rolled_up(alice_client, acme, last_week):
    response = alice_client.get(
        week_url("review-status", acme, last_week), HTTP_HX_REQUEST="true"
    )
    assert "HX-Refresh" not in response
    assert "every 2s" in response.content.decode()


# ---------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------


@pytest.fixture
def acme_issue(acme, alice, last_week):
    return MeetingIssue.objects.create(
        business=acme, title="Webinar slides", raised_week=last_week, raised_by=alice
    )


@pytest.fixture
def alice_todo(acme, alice_membership, last_week):
    return Todo.objects.create(
        business=acme,
        text="Call the printer",
        owner=alice_membership,
        created_week=last_week,
    )


def _acme_urls(acme, week, issue, todo):
    w = week.isoformat()
    return [
        ("get", reverse("metrics:review", args=[acme.slug])),
        ("get", reverse("metrics:review-week", args=[acme.slug, w])),
        ("get", reverse("metrics:review-status", args=[acme.slug, w])),
        ("post", reverse("metrics:review-recompute", args=[acme.slug, w])),
        ("get", reverse("metrics:meeting", args=[acme.slug, w])),
        ("get", reverse("metrics:meeting-print", args=[acme.slug, w])),
        ("post", reverse("metrics:meeting-notes", args=[acme.slug, w])),
        ("post", reverse("metrics:issue-add", args=[acme.slug, w])),
        ("post", reverse("metrics:todo-add", args=[acme.slug, w])),
        ("post", reverse("metrics:issue-resolve", args=[acme.slug, issue.pk])),
        ("post", reverse("metrics:todo-done", args=[acme.slug, todo.pk])),
    ]


def test_outsider_gets_404_on_every_review_view(
    charlie_client, acme, last_week, acme_issue, alice_todo, dead_broker
):
    post = {"title": "x", "text": "x", "notes": "x", "week": last_week.isoformat()}
    for method, url in _acme_urls(acme, last_week, acme_issue, alice_todo):
        response = getattr(charlie_client, method)(url, post)
        assert response.status_code == 404, url
    assert not Meeting.objects.exists()
    assert MeetingIssue.objects.get().resolved_week is None
    assert Todo.objects.get().done_week is None
    assert not RollupWeek.objects.exists()


def test_owner_of_another_business_gets_404_for_acme_issues_and_todos(
    charlie_client, other_co, acme_issue, alice_todo, last_week
):
    data = {"week": last_week.isoformat()}
    for name, pk in (("issue-resolve", acme_issue.pk), ("todo-done", alice_todo.pk)):
        url = reverse(f"metrics:{name}", args=[other_co.slug, pk])
        assert charlie_client.post(url, data).status_code == 404
    assert MeetingIssue.objects.get().resolved_week is None
    assert Todo.objects.get().done_week is None


def test_member_may_not_write_notes_todos_or_resolve(
    bob_client, acme, last_week, acme_issue, alice_todo
):
    w = last_week.isoformat()
    attempts = [
        (reverse("metrics:meeting-notes", args=[acme.slug, w]), {"notes": "x"}),
        (reverse("metrics:todo-add", args=[acme.slug, w]), {"text": "x"}),
        (
            reverse("metrics:issue-resolve", args=[acme.slug, acme_issue.pk]),
            {"week": w},
        ),
        (reverse("metrics:todo-done", args=[acme.slug, alice_todo.pk]), {"week": w}),
    ]
    for url, data in attempts:
        assert bob_client.post(url, data).status_code == 403, url
    assert not Meeting.objects.exists()
    assert Todo.objects.count() == 1 and Todo.objects.get().done_week is None
    assert MeetingIssue.objects.get().resolved_week is None


def test_member_may_raise_an_issue_and_tick_off_their_own_todo(
    bob_client, acme, bob_membership, last_week
):
    todo = Todo.objects.create(
        business=acme,
        text="Send the slides",
        owner=bob_membership,
        created_week=last_week,
    )
    w = last_week.isoformat()
    response = bob_client.post(
        reverse("metrics:issue-add", args=[acme.slug, w]), {"title": "No-shows"}
    )
    assert response.status_code == 302
    assert MeetingIssue.objects.get().title == "No-shows"
    response = bob_client.post(
        reverse("metrics:todo-done", args=[acme.slug, todo.pk]),
        {"week": w},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    todo.refresh_from_db()
    assert todo.done_week == last_week
    assert "Send the slides" in response.content.decode()


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_issue_without_title_is_422_naming_the_field(alice_client, acme, last_week):
    response = alice_client.post(
        week_url("issue-add", acme, last_week), {"title": " "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="issue-title_error"' in html or "field-invalid" in html
    assert "This field is required." in html
    assert not MeetingIssue.objects.exists()


def test_issue_with_another_business_metric_or_step_is_refused(
    alice_client, acme, last_week, other_metric, other_map
):
    foreign_step = other_map.nodes.filter(kind="task").first()
    for data, message in (
        (
            {"title": "x", "metric": other_metric.pk},
            "Choose a metric of this business.",
        ),
        (
            {"title": "x", "step": foreign_step.pk},
            "Choose a step of one of this business&#x27;s maps.",
        ),
    ):
        response = alice_client.post(
            week_url("issue-add", acme, last_week), data, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 422
        assert message in response.content.decode()
    assert not MeetingIssue.objects.exists()


def test_issue_without_htmx_shows_the_meeting_with_the_message(
    alice_client, acme, last_week
):
    response = alice_client.post(week_url("issue-add", acme, last_week), {})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Weekly review: week of" in html
    assert "This field is required." in html


def test_todo_owner_from_another_business_is_refused(
    alice_client, acme, last_week, other_co, charlie
):
    outsider = Membership.objects.get(business=other_co, user=charlie)
    response = alice_client.post(
        week_url("todo-add", acme, last_week),
        {"text": "Spy", "owner": outsider.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "Choose a member of this business." in response.content.decode()
    assert not Todo.objects.exists()


def test_todo_due_date_garbage_is_refused(
    alice_client, acme, last_week, alice_membership
):
    response = alice_client.post(
        week_url("todo-add", acme, last_week),
        {"text": "Print flyers", "owner": alice_membership.pk, "due": "next tuesday"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "Enter the due date as YYYY-MM-DD." in response.content.decode()
    assert not Todo.objects.exists()


def test_resolve_with_a_garbage_week_is_refused(alice_client, acme, acme_issue):
    response = alice_client.post(
        reverse("metrics:issue-resolve", args=[acme.slug, acme_issue.pk]),
        {"week": "someday"},
    )
    assert response.status_code == 422
    assert "Week:" in response.content.decode()
    assert MeetingIssue.objects.get().resolved_week is None


# ---------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------


def _metrics_with_rollup(acme, webinar_map, count: int, last_week) -> None:
    owners = list(Membership.objects.filter(business=acme))
    steps = list(webinar_map.nodes.filter(kind__in=["task", "decision"]))
    stages = ["know", "like", "trust", "try", "buy", "repeat", "refer"]
    for i in range(count):
        m = MetricFactory(
            business=acme,
            name=f"Metric {i}",
            goal=10 if i % 3 else None,
            owner=owners[i % len(owners)] if i % 4 else None,
            step=steps[i % len(steps)] if i < len(steps) else None,
            stage=stages[i % 7],
            first_week=last_week - weeks.WEEK * 13,
        )
        for back in range(0, 13, 2):
            EntryFactory(metric=m, week=last_week - weeks.WEEK * back, value=i + back)
    for back in range(12, -1, -1):
        rollup.rollup_business_week(acme.pk, last_week - weeks.WEEK * back)
    MeetingIssue.objects.create(
        business=acme,
        title="An issue",
        raised_week=last_week,
        metric=acme.metrics.first(),
        step=steps[0],
    )
    Todo.objects.create(
        business=acme, text="A to-do", owner=owners[0], created_week=last_week
    )


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("name", ["review-week", "meeting", "meeting-print"])
def test_review_pages_issue_the_same_queries_for_5_and_200_metrics(
    name, alice_client, acme, erin, webinar_map, last_week, django_assert_num_queries
):
    """Drawn (the first request after a rollup) and from the cache alike."""
    url = week_url(name, acme, last_week)
    _metrics_with_rollup(acme, webinar_map, 5, last_week)
    alice_client.get(url)  # the session's business is remembered on the first view
    cache.clear()
    drawn, response = _count_queries(alice_client, url)
    assert response.content.decode().count('data-testid="score-row"') == 5
    cached, response = _count_queries(alice_client, url)
    assert response.content.decode().count('data-testid="score-row"') == 5
    assert cached < drawn

    MetricWeek.objects.all().delete()
    acme.metrics.all().delete()
    _metrics_with_rollup(acme, webinar_map, 200, last_week)
    # The new rollups changed the key: the first request draws the figures.
    with django_assert_num_queries(drawn):
        response = alice_client.get(url)
    assert response.content.decode().count('data-testid="score-row"') == 200
    with django_assert_num_queries(cached):
        response = alice_client.get(url)
    assert response.content.decode().count('data-testid="score-row"') == 200
