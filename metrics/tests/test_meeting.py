"""Meeting mode: the agenda of one week's review, issues and to-dos that carry
over from week to week, notes per meeting, and the print page."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from metrics import rollup, weeks
from metrics.models import Meeting, MeetingIssue, Todo
from metrics.tests.factories import EntryFactory
from metrics.tests.utils import unescaped_text_of
from systemmaps.models import SystemMap


def url(name: str, business, week) -> str:
    return reverse(f"metrics:{name}", args=[business.slug, week.isoformat()])


def section(html: str, testid: str) -> str:
    """The words of the agenda part marked `data-testid=testid`."""
    match = re.search(
        rf'<section[^>]*data-testid="{testid}"[^>]*>(.*?)</section>', html, re.S
    )
    assert match, f"no section {testid}"
    return unescaped_text_of(match.group(1))


@pytest.fixture
def weeks3(last_week):
    """Three consecutive reviews, oldest first."""
    return [last_week - weeks.WEEK * 2, last_week - weeks.WEEK, last_week]


def test_open_issues_carry_over_until_resolved(alice_client, acme, weeks3):
    w1, w2, w3 = weeks3
    alice_client.post(url("issue-add", acme, w1), {"title": "Few webinar sign-ups"})
    issue = MeetingIssue.objects.get()
    assert issue.raised_week == w1

    html = alice_client.get(url("meeting", acme, w2)).content.decode()
    assert "Few webinar sign-ups" in section(html, "issues")
    assert "since" in section(html, "issues")

    response = alice_client.post(
        reverse("metrics:issue-resolve", args=[acme.slug, issue.pk]),
        {"week": w2.isoformat(), "resolution": "Moved the webinar to Tuesday"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    fragment = unescaped_text_of(response.content.decode())
    assert "Few webinar sign-ups resolved : Moved the webinar to Tuesday" in fragment

    # The week it was resolved shows it resolved; later weeks no longer list it;
    # the week it was raised still shows it open, as that meeting saw it.
    assert "No open issues." in section(
        alice_client.get(url("meeting", acme, w2)).content.decode(), "issues"
    )
    later = section(
        alice_client.get(url("meeting", acme, w3)).content.decode(), "issues"
    )
    assert "Few webinar sign-ups" not in later
    earlier = alice_client.get(url("meeting", acme, w1)).content.decode()
    assert 'data-testid="issue"' in earlier
    assert "Few webinar sign-ups" in section(earlier, "issues")


def test_issue_links_a_metric_and_a_step(
    alice_client, acme, metric, webinar_map, last_week
):
    step = webinar_map.nodes.get(client_id="call")
    response = alice_client.post(
        url("issue-add", acme, last_week),
        {"title": "Calls start late", "metric": metric.pk, "step": step.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    issue = MeetingIssue.objects.get()
    assert (issue.metric, issue.step) == (metric, step)
    assert (
        "Calls start late — Webinar attendees, Webinar to client: Consultation call"
        in unescaped_text_of(response.content.decode())
    )


def test_todos_carry_over_and_done_ones_are_struck_through(
    alice_client, acme, bob_membership, weeks3
):
    w1, w2, w3 = weeks3
    response = alice_client.post(
        url("todo-add", acme, w1),
        {"text": "Call the venue", "owner": bob_membership.pk, "due": "2026-01-30"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "To-do added." in response.content.decode()
    todo = Todo.objects.get()
    assert (todo.created_week, todo.owner, str(todo.due)) == (
        w1,
        bob_membership,
        "2026-01-30",
    )
    alice_client.post(
        url("todo-add", acme, w2), {"text": "Order flyers", "owner": bob_membership.pk}
    )

    html = alice_client.get(url("meeting", acme, w2)).content.decode()
    todos = section(html, "todos")
    assert "Call the venue — Bob Baker, due 30 Jan 2026 overdue" in todos
    assert "Order flyers" in todos

    response = alice_client.post(
        reverse("metrics:todo-done", args=[acme.slug, todo.pk]),
        {"week": w2.isoformat()},
    )
    assert response.status_code == 302
    html = alice_client.get(url("meeting", acme, w2)).content.decode()
    done = re.search(r'<li[^>]*data-testid="done-todo".*?</li>', html, re.S).group(0)
    assert "<s>Call the venue</s>" in done and "done" in unescaped_text_of(done)

    later = section(
        alice_client.get(url("meeting", acme, w3)).content.decode(), "todos"
    )
    assert "Call the venue" not in later
    assert "Order flyers" in later
    earlier = section(
        alice_client.get(url("meeting", acme, w1)).content.decode(), "todos"
    )
    assert "Call the venue" in earlier and "Order flyers" not in earlier


def test_a_done_todo_can_be_undone(alice_client, acme, alice_membership, last_week):
    todo = Todo.objects.create(
        business=acme,
        text="Fix the form",
        owner=alice_membership,
        created_week=last_week,
    )
    done_url = reverse("metrics:todo-done", args=[acme.slug, todo.pk])
    alice_client.post(done_url, {"week": last_week.isoformat()})
    todo.refresh_from_db()
    assert todo.done_week == last_week
    response = alice_client.post(
        done_url, {"week": last_week.isoformat(), "undo": "1"}, HTTP_HX_REQUEST="true"
    )
    todo.refresh_from_db()
    assert todo.done_week is None and todo.done_at is None
    assert 'data-testid="todo"' in response.content.decode()


def test_notes_are_kept_per_meeting(alice_client, acme, weeks3):
    w1, w2, _ = weeks3
    response = alice_client.post(
        url("meeting-notes", acme, w1),
        {"notes": "Webinar moved to Tuesdays."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Notes saved." in response.content.decode()
    response = alice_client.post(
        url("meeting-notes", acme, w2), {"notes": "Hire a second closer."}
    )
    assert response.status_code == 302
    assert response.url.endswith("#notes")

    assert Meeting.objects.get(week=w1).notes == "Webinar moved to Tuesdays."
    assert Meeting.objects.get(week=w2).notes == "Hire a second closer."
    html = alice_client.get(url("meeting", acme, w1)).content.decode()
    assert "Webinar moved to Tuesdays." in html
    assert "Hire a second closer." not in html

    alice_client.post(url("meeting-notes", acme, w1), {"notes": "Edited."})
    assert Meeting.objects.count() == 2
    assert Meeting.objects.get(week=w1).notes == "Edited."


def test_notes_that_are_too_long_are_refused(alice_client, acme, last_week):
    response = alice_client.post(
        url("meeting-notes", acme, last_week),
        {"notes": "x" * 20001},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "at most 20000 characters" in response.content.decode()
    assert not Meeting.objects.exists()


def test_member_reads_the_notes_without_a_form(bob_client, acme, alice, last_week):
    Meeting.objects.create(business=acme, week=last_week, notes="Agreed: price up.")
    html = bob_client.get(url("meeting", acme, last_week)).content.decode()
    notes = section(html, "notes")
    assert "Agreed: price up." in notes
    assert "Save the notes" not in notes
    # A member may raise an issue but not add a to-do.
    assert "Raise the issue" in html
    assert "Add the to-do" not in html


def test_agenda_lists_off_track_metrics(
    alice_client, acme, metric, bob_metric, last_week
):
    EntryFactory(metric=metric, week=last_week, value=45)
    EntryFactory(metric=bob_metric, week=last_week, value=3)
    rollup.rollup_business_week(acme.pk, last_week)
    html = alice_client.get(url("meeting", acme, last_week)).content.decode()
    off = re.search(
        r'<ul class="agenda-list" data-testid="off-track">.*?</ul>', html, re.S
    )
    words = unescaped_text_of(off.group(0))
    assert (
        "✕ Consultations booked : 3 against a goal of 10 — Bob Baker off track" in words
    )
    assert "Webinar attendees" not in words
    # The compact scorecard has no week columns.
    assert 'class="num sc-week' not in html
    assert html.count('data-testid="score-row"') == 2


def test_agenda_lists_maps_changed_that_week_and_gaps(
    alice_client, acme, webinar_map, last_week
):
    wednesday_noon = datetime.combine(
        last_week + timedelta(days=2), time(12), tzinfo=ZoneInfo(acme.timezone)
    )
    SystemMap.objects.filter(pk=webinar_map.pk).update(updated_at=wednesday_noon)
    html = alice_client.get(url("meeting", acme, last_week)).content.decode()
    assert 'data-testid="maps-changed"' in html
    assert "Webinar to client" in html
    assert 'data-testid="gap-count"' in html
    assert "gaps in the maps today" in html

    html = alice_client.get(
        url("meeting", acme, last_week - weeks.WEEK)
    ).content.decode()
    assert 'data-testid="no-maps-changed"' in html


def test_print_page_has_the_agenda_notes_todos_and_issues_without_navigation(
    alice_client, acme, alice, alice_membership, last_week
):
    Meeting.objects.create(business=acme, week=last_week, notes="Raise prices in May.")
    MeetingIssue.objects.create(
        business=acme, title="Slow onboarding", raised_week=last_week - weeks.WEEK
    )
    Todo.objects.create(
        business=acme,
        text="Write the SOP",
        owner=alice_membership,
        created_week=last_week,
    )
    Todo.objects.create(
        business=acme,
        text="Old chore",
        owner=alice_membership,
        created_week=last_week - weeks.WEEK,
        done_week=last_week,
    )
    response = alice_client.get(url("meeting-print", acme, last_week))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="mainnav"' not in html and 'class="topbar"' not in html
    assert "metrics/review.css" in html
    assert "Raise prices in May." in section(html, "print-notes")
    assert "Slow onboarding" in section(html, "print-issues")
    todos = section(html, "print-todos")
    assert "Write the SOP — Alice Archer" in todos
    assert "Old chore done" in todos
    assert "<script" not in html


def test_meeting_page_links_to_print_and_dashboard(alice_client, acme, last_week):
    html = alice_client.get(url("meeting", acme, last_week)).content.decode()
    assert f'href="{url("meeting-print", acme, last_week)}"' in html
    assert f'href="{url("review-week", acme, last_week)}"' in html
