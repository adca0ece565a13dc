"""Checklist runs: started from the step page, each tick saved at once, notes,
finished (then read-only); the step page's run history and completion rate."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass.tests.utils import HTMX
from systemmaps import services
from systemmaps.models import ChecklistRun, RunTick

from .utils import main_html, step_url, text_of


def run_url(run: ChecklistRun, name: str = "run-detail", **kwargs) -> str:
    return reverse(
        f"systemmaps:{name}",
        kwargs={"slug": run.node.map.business.slug, "run": run.pk, **kwargs},
    )


def ticked(run: ChecklistRun) -> list[str]:
    return list(
        run.ticks.order_by("item__position").values_list("item_text", flat=True)
    )


def run_snapshot(run: ChecklistRun) -> dict:
    return {
        "run": ChecklistRun.objects.filter(pk=run.pk)
        .values("subject", "notes", "finished_at", "item_count", "ticked_count")
        .get(),
        "ticks": list(run.ticks.values_list("item_id", "ticked_by_id", "ticked_at")),
    }


@pytest.fixture
def items(nurture):
    return [
        services.checklist_item_add(node=nurture, text=text)
        for text in ("Write the email", "Check the links", "Schedule it")
    ]


@pytest.fixture
def run(nurture, items, alice) -> ChecklistRun:
    return services.run_start(node=nurture, acting_user=alice, subject="Acme Ltd")


@pytest.fixture
def bobs_run(bobs_step, bob) -> ChecklistRun:
    services.checklist_item_add(node=bobs_step, text="Send the agenda")
    services.checklist_item_add(node=bobs_step, text="Take notes")
    return services.run_start(node=bobs_step, acting_user=bob)


# ---------------------------------------------------------------------------
# Start
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_owner_starts_a_run_and_lands_on_it(alice_client, alice, nurture, items, htmx):
    response = alice_client.post(
        step_url(nurture, "step-run-start"),
        {"subject": "Jane Doe"},
        headers=HTMX if htmx else {},
    )

    started = ChecklistRun.objects.get(node=nurture)
    assert started.subject == "Jane Doe"
    assert started.started_by == alice
    assert started.is_open
    if htmx:
        assert response.status_code == 200
        assert response["HX-Redirect"] == run_url(started)
    else:
        assert response.status_code == 302
        assert response["Location"] == run_url(started)


def test_subject_is_optional(alice_client, nurture, items):
    response = alice_client.post(step_url(nurture, "step-run-start"), {"subject": ""})

    assert response.status_code == 302
    assert ChecklistRun.objects.get(node=nurture).subject == ""


def test_member_starts_a_run_of_a_step_he_owns(client_for, bob, bobs_step):
    services.checklist_item_add(node=bobs_step, text="Send the agenda")
    response = client_for(bob).post(step_url(bobs_step, "step-run-start"), {})

    assert response.status_code == 302
    assert ChecklistRun.objects.get(node=bobs_step).started_by == bob


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_member_cannot_start_a_run_of_a_step_he_does_not_own(
    client_for, bob, nurture, htmx
):
    response = client_for(bob).post(
        step_url(nurture, "step-run-start"), {}, headers=HTMX if htmx else {}
    )

    assert response.status_code == 403
    assert not ChecklistRun.objects.exists()


def test_outsider_cannot_start_a_run(charlie_client, nurture):
    response = charlie_client.post(step_url(nurture, "step-run-start"), {})

    assert response.status_code == 404
    assert not ChecklistRun.objects.exists()


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_too_long_subject_is_422_naming_the_field(alice_client, nurture, items, htmx):
    response = alice_client.post(
        step_url(nurture, "step-run-start"),
        {"subject": "x" * 201},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(
        r'<div class="field field-invalid">.*?For \(optional\).*?'
        r"at most 200 characters",
        html,
        re.S,
    )
    assert not ChecklistRun.objects.exists()
    if htmx:
        assert html.lstrip().startswith('<section class="card step-runs" id="runs"')


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_step_without_a_checklist_offers_no_run_and_refuses_one(
    alice_client, nurture, htmx
):
    page = main_html(alice_client.get(step_url(nurture)))
    assert 'data-testid="run-start-form"' not in page
    assert "write the checklist of this step to start one" in page

    response = alice_client.post(
        step_url(nurture, "step-run-start"),
        {"subject": "Acme"},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert (
        "“Email nurture campaign” has no checklist yet, so there is nothing to "
        "run: write its checklist first." in html
    )
    assert not ChecklistRun.objects.exists()


def test_the_first_checklist_item_brings_the_start_of_a_run_along(
    alice_client, nurture
):
    response = alice_client.post(
        step_url(nurture, "step-checklist"), {"text": "Write the email"}, headers=HTMX
    )

    html = response.content.decode()
    runs = re.search(r'<section class="card step-runs" id="runs"[^>]*>', html).group()
    assert 'hx-swap-oob="true"' in runs
    assert 'data-testid="run-start-form"' in html


def test_member_sees_no_start_button_on_a_step_he_does_not_own(bob_client, nurture):
    html = main_html(bob_client.get(step_url(nurture)))

    assert 'data-testid="run-start-form"' not in html


# ---------------------------------------------------------------------------
# The run page
# ---------------------------------------------------------------------------


def test_run_page_lists_the_items_as_checkboxes(alice_client, run, items):
    response = alice_client.get(run_url(run))

    assert response.status_code == 200
    html = main_html(response)
    assert "Run of “Email nurture campaign”" in html
    assert "started by Alice Archer" in html
    boxes = re.findall(
        r'<input type="checkbox" name="ticked" value="1" id="tick-(\d+)"', html
    )
    assert boxes == [str(item.pk) for item in items]
    assert "0 of 3 ticked" in html
    assert 'value="Acme Ltd"' in html
    assert f'href="{step_url(run.node)}"' in html
    for item in items:
        tick_url = run_url(run, "run-tick", item=item.pk)
        assert f'action="{tick_url}" hx-post="{tick_url}"' in html


def test_member_reads_a_run_of_a_step_he_does_not_own(bob_client, run, alice, items):
    services.run_tick(run=run, item=items[0], ticked=True, acting_user=alice)

    html = main_html(bob_client.get(run_url(run)))

    assert 'type="checkbox"' not in html
    assert 'data-testid="run-form"' not in html
    assert "Only the step’s owner or an editor can tick this run." in html
    assert "Ticked:" in html and "Not ticked:" in html
    assert "1 of 3 ticked" in html


def test_outsider_gets_404_for_a_run(charlie_client, run):
    assert charlie_client.get(run_url(run)).status_code == 404


def test_run_of_another_business_is_404_under_my_slug(alice_client, other_map, charlie):
    node = other_map.nodes.get(client_id="nurture")
    theirs = services.run_start(node=node, acting_user=charlie)
    url = reverse("systemmaps:run-detail", kwargs={"slug": "acme", "run": theirs.pk})

    assert alice_client.get(url).status_code == 404


def test_run_of_a_deleted_map_is_404(alice_client, alice, webinar_map, run):
    services.map_delete(system_map=webinar_map, acting_user=alice)

    assert alice_client.get(run_url(run)).status_code == 404


def test_run_page_query_count_does_not_grow_with_items(
    client_for, alice, nurture, bobs_step, bob, django_assert_max_num_queries
):
    small = services.run_start(node=bobs_step, acting_user=alice)
    for n in range(28):
        services.checklist_item_add(node=nurture, text=f"Item {n}")
    large = services.run_start(node=nurture, acting_user=alice)
    for item in list(nurture.checklist_items.all())[:20]:
        services.run_tick(run=large, item=item, ticked=True, acting_user=bob)
    for item in bobs_step.checklist_items.all():
        services.run_tick(run=small, item=item, ticked=True, acting_user=bob)
    client = client_for(alice)
    client.get(run_url(small))  # session and business settle
    small_url, large_url = run_url(small), run_url(large)
    with CaptureQueriesContext(connection) as few:
        client.get(small_url)
    with django_assert_max_num_queries(len(few)):
        response = client.get(large_url)
    assert "20 of 28 ticked" in main_html(response)


# ---------------------------------------------------------------------------
# Ticks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_tick_is_saved_at_once_with_who_and_when(alice_client, alice, run, items, htmx):
    response = alice_client.post(
        run_url(run, "run-tick", item=items[1].pk),
        {"ticked": "1"},
        headers=HTMX if htmx else {},
    )

    tick = RunTick.objects.get(run=run)
    assert tick.item == items[1]
    assert tick.item_text == "Check the links"
    assert tick.ticked_by == alice
    assert tick.ticked_at is not None
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card run-checklist"')
        assert "1 of 3 ticked" in html
        assert re.search(rf'id="tick-{items[1].pk}" checked', html)
        assert "ticked by Alice Archer on" in html
    else:
        assert response.status_code == 302
        assert response["Location"] == run_url(run) + f"#run-item-{items[1].pk}"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_untick_removes_the_tick(alice_client, alice, run, items, htmx):
    services.run_tick(run=run, item=items[0], ticked=True, acting_user=alice)

    # An unchecked box is not sent at all.
    response = alice_client.post(
        run_url(run, "run-tick", item=items[0].pk), {}, headers=HTMX if htmx else {}
    )

    assert response.status_code == (200 if htmx else 302)
    assert not RunTick.objects.filter(run=run).exists()


def test_ticking_twice_keeps_the_first_tick(client_for, alice, erin, run, items):
    services.run_tick(run=run, item=items[0], ticked=True, acting_user=alice)

    client_for(erin).post(run_url(run, "run-tick", item=items[0].pk), {"ticked": "1"})

    tick = RunTick.objects.get(run=run)
    assert tick.ticked_by == alice


def test_ticks_show_who_and_when_after_a_reload(
    client_for, alice, bob, erin, run, items
):
    client_for(erin).post(run_url(run, "run-tick", item=items[2].pk), {"ticked": "1"})

    html = text_of(main_html(client_for(alice).get(run_url(run))))

    assert "Schedule it Save : Schedule it ticked by Erin Edwards on" in html


def test_member_ticks_a_run_of_a_step_he_owns(client_for, bob, bobs_run):
    item = bobs_run.node.checklist_items.first()

    response = client_for(bob).post(
        run_url(bobs_run, "run-tick", item=item.pk), {"ticked": "1"}, headers=HTMX
    )

    assert response.status_code == 200
    assert ticked(bobs_run) == ["Send the agenda"]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_member_cannot_tick_a_run_of_a_step_he_does_not_own(
    client_for, bob, run, items, htmx
):
    response = client_for(bob).post(
        run_url(run, "run-tick", item=items[0].pk),
        {"ticked": "1"},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 403
    assert not RunTick.objects.exists()


def test_outsider_cannot_tick(charlie_client, run, items):
    response = charlie_client.post(
        run_url(run, "run-tick", item=items[0].pk), {"ticked": "1"}
    )

    assert response.status_code == 404
    assert not RunTick.objects.exists()


def test_item_of_another_step_cannot_be_ticked(alice_client, run, bobs_run):
    theirs = bobs_run.node.checklist_items.first()

    response = alice_client.post(
        run_url(run, "run-tick", item=theirs.pk), {"ticked": "1"}
    )

    assert response.status_code == 404
    assert not RunTick.objects.exists()


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_finished_run_refuses_ticks_with_a_clear_message(
    alice_client, alice, run, items, htmx
):
    services.run_tick(run=run, item=items[0], ticked=True, acting_user=alice)
    services.run_finish(run=run)
    before = run_snapshot(run)

    tick = alice_client.post(
        run_url(run, "run-tick", item=items[1].pk),
        {"ticked": "1"},
        headers=HTMX if htmx else {},
    )
    untick = alice_client.post(
        run_url(run, "run-tick", item=items[0].pk), {}, headers=HTMX if htmx else {}
    )

    for response in (tick, untick):
        assert response.status_code == 422
        html = response.content.decode()
        assert "This run was finished on" in html
        assert "it can no longer change" in html
        assert ("<html" in html) is not htmx
        assert 'type="checkbox"' not in html
    assert run_snapshot(run) == before


def test_tick_writes_need_post(alice_client, run, items):
    assert alice_client.get(run_url(run, "run-tick", item=items[0].pk)).status_code == (
        405
    )


# ---------------------------------------------------------------------------
# Notes and finish
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_notes_and_subject_are_saved(alice_client, run, htmx):
    response = alice_client.post(
        run_url(run, "run-update"),
        {"subject": "Acme GmbH", "notes": "Sent on Tuesday.\nTwo bounces."},
        headers=HTMX if htmx else {},
    )

    run.refresh_from_db()
    assert (run.subject, run.notes) == ("Acme GmbH", "Sent on Tuesday.\nTwo bounces.")
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card run-notes"')
        assert "Saved" in html
    else:
        assert response.status_code == 302
        assert response["Location"] == run_url(run)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_notes_are_422_naming_the_field(alice_client, run, htmx):
    before = run_snapshot(run)

    response = alice_client.post(
        run_url(run, "run-update"),
        {"subject": "ok", "notes": "x" * 5001},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    assert re.search(
        r'<div class="field field-invalid"><label for="run-field-notes">.*?'
        r"at most 5000 characters",
        response.content.decode(),
        re.S,
    )
    assert run_snapshot(run) == before


def test_member_cannot_write_notes_on_a_run_he_may_not_work_on(client_for, bob, run):
    before = run_snapshot(run)

    response = client_for(bob).post(
        run_url(run, "run-update"), {"subject": "x", "notes": "y"}
    )

    assert response.status_code == 403
    assert run_snapshot(run) == before


def test_outsider_cannot_write_notes(charlie_client, run):
    before = run_snapshot(run)

    response = charlie_client.post(run_url(run, "run-update"), {"notes": "y"})

    assert response.status_code == 404
    assert run_snapshot(run) == before


def test_finished_run_refuses_notes(alice_client, run):
    services.run_finish(run=run)
    before = run_snapshot(run)

    response = alice_client.post(
        run_url(run, "run-update"), {"subject": "Late", "notes": "Late"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "it can no longer change" in response.content.decode()
    assert run_snapshot(run) == before


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_finish_keeps_the_counts_and_the_notes_sent_with_it(
    alice_client, alice, run, items, htmx
):
    services.run_tick(run=run, item=items[0], ticked=True, acting_user=alice)
    services.run_tick(run=run, item=items[2], ticked=True, acting_user=alice)

    response = alice_client.post(
        run_url(run, "run-finish"),
        {"subject": "Acme Ltd", "notes": "All good"},
        headers=HTMX if htmx else {},
    )

    run.refresh_from_db()
    assert run.finished_at is not None
    assert (run.item_count, run.ticked_count) == (3, 2)
    assert run.notes == "All good"
    if htmx:
        assert response.status_code == 200
        assert response["HX-Redirect"] == run_url(run)
    else:
        assert response.status_code == 302
        assert response["Location"] == run_url(run)


def test_finished_run_page_is_read_only_and_says_how_it_went(client, alice, run, items):
    services.run_tick(run=run, item=items[0], ticked=True, acting_user=alice)
    client.force_login(alice)
    client.post(run_url(run, "run-finish"), {"subject": "Acme Ltd", "notes": "Done"})

    response = client.get(run_url(run))

    html = main_html(response)
    assert "Run finished: 1 of 3 items ticked." in html
    assert "✓</span> Finished" in html
    assert "finished on" in html
    assert 'type="checkbox"' not in html
    assert 'data-testid="finish-run"' not in html
    assert "1 of 3 ticked" in html
    assert "Done" in html


def test_finish_without_the_notes_form_keeps_the_notes(alice_client, run):
    services.run_update(run=run, subject="Acme Ltd", notes="Keep me")

    alice_client.post(run_url(run, "run-finish"))

    run.refresh_from_db()
    assert run.finished_at is not None
    assert run.notes == "Keep me"


def test_bad_notes_with_finish_are_422_and_the_run_stays_open(alice_client, run):
    before = run_snapshot(run)

    response = alice_client.post(
        run_url(run, "run-finish"), {"subject": "x" * 201, "notes": ""}, headers=HTMX
    )

    assert response.status_code == 422
    assert "at most 200 characters" in response.content.decode()
    assert run_snapshot(run) == before


def test_finishing_twice_is_refused(alice_client, run):
    services.run_finish(run=run)
    before = run_snapshot(run)

    response = alice_client.post(run_url(run, "run-finish"), headers=HTMX)

    assert response.status_code == 422
    assert "it can no longer change" in response.content.decode()
    assert run_snapshot(run) == before


def test_member_finishes_a_run_of_a_step_he_owns(client_for, bob, bobs_run):
    response = client_for(bob).post(run_url(bobs_run, "run-finish"))

    assert response.status_code == 302
    bobs_run.refresh_from_db()
    assert (bobs_run.item_count, bobs_run.ticked_count) == (2, 0)


def test_member_cannot_finish_a_run_he_may_not_work_on(client_for, bob, run):
    response = client_for(bob).post(run_url(run, "run-finish"), headers=HTMX)

    assert response.status_code == 403
    run.refresh_from_db()
    assert run.is_open


def test_outsider_cannot_finish(charlie_client, run):
    assert charlie_client.post(run_url(run, "run-finish")).status_code == 404
    run.refresh_from_db()
    assert run.is_open


def test_finish_needs_post(alice_client, run):
    assert alice_client.get(run_url(run, "run-finish")).status_code == 405


# ---------------------------------------------------------------------------
# Services refuse changes to a finished run (a tick racing the finish)
# ---------------------------------------------------------------------------


def test_services_refuse_to_change_a_finished_run(alice, run, items):
    stale = ChecklistRun.objects.get(pk=run.pk)  # loaded before the finish
    services.run_finish(run=run)

    with pytest.raises(services.RunFinished):
        services.run_tick(run=stale, item=items[0], ticked=True, acting_user=alice)
    with pytest.raises(services.RunFinished):
        services.run_update(run=stale, subject="x", notes="y")
    with pytest.raises(services.RunFinished):
        services.run_finish(run=stale)
    assert not RunTick.objects.exists()
    run.refresh_from_db()
    assert run.subject == "Acme Ltd"


def test_a_ticked_item_deleted_later_stays_on_the_run_with_its_words(
    alice_client, alice, run, items
):
    services.run_tick(run=run, item=items[1], ticked=True, acting_user=alice)
    services.checklist_item_delete(item=items[1])

    html = text_of(main_html(alice_client.get(run_url(run))))

    assert "Ticked, then removed from the checklist ✓ Ticked: Check the links" in html


# ---------------------------------------------------------------------------
# History and completion rate on the step page
# ---------------------------------------------------------------------------


def history_rows(html: str) -> list[str]:
    body = re.search(r'data-testid="run-history">.*?<tbody>(.*?)</tbody>', html, re.S)
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def test_no_finished_runs_yet(alice_client, nurture, run):
    html = main_html(alice_client.get(step_url(nurture)))

    assert "No finished runs yet." in html
    rows = history_rows(html)
    assert len(rows) == 1
    assert "Alice Archer Acme Ltd 0 of 3 ◯ Open Continue" in rows[0]


def test_history_and_completion_rate_over_finished_runs(
    alice_client, alice, bob, nurture, items
):
    # Run 1: 3 of 3. Run 2: 1 of 3, then the checklist grows to 4.
    # Run 3: 0 of 4, still open (left out of the rate).
    first = services.run_start(node=nurture, acting_user=alice, subject="One")
    for item in items:
        services.run_tick(run=first, item=item, ticked=True, acting_user=alice)
    services.run_finish(run=first)
    second = services.run_start(node=nurture, acting_user=bob, subject="Two")
    services.run_tick(run=second, item=items[0], ticked=True, acting_user=bob)
    services.run_finish(run=second)
    services.checklist_item_add(node=nurture, text="Log it")
    services.run_start(node=nurture, acting_user=alice, subject="Three")

    html = main_html(alice_client.get(step_url(nurture)))

    # (3 + 1) ticked of (3 + 3) listed = 67 %
    rate = text_of(re.search(r'data-testid="completion-rate">(.*?)</p>', html, re.S)[1])
    assert rate == ("Completion rate: 67 % of the items ticked, over 2 finished runs.")
    rows = history_rows(html)
    assert "Three 0 of 4 ◯ Open Continue" in rows[0]
    assert "Bob Baker Two 1 of 3 ✓ Finished" in rows[1]
    assert "Alice Archer One 3 of 3 ✓ Finished" in rows[2]
    assert rows[2].endswith(" View the run started " + rows[2].split(" Alice")[0])


def test_completion_rate_with_one_finished_run_is_singular(
    alice_client, alice, nurture, run, items
):
    services.run_tick(run=run, item=items[0], ticked=True, acting_user=alice)
    services.run_finish(run=run)

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "Completion rate: 33 % of the items ticked, over 1 finished run." in html


def test_finished_runs_of_an_empty_checklist_have_no_rate(alice_client, alice, nurture):
    services.run_finish(run=services.run_start(node=nurture, acting_user=alice))

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "1 finished run, with no items on the checklist: no completion rate." in (
        html
    )


def test_completion_rate_rounds_half_up(alice_client, alice, nurture):
    items = [
        services.checklist_item_add(node=nurture, text=f"Item {n}") for n in range(8)
    ]
    run = services.run_start(node=nurture, acting_user=alice)
    for item in items[:5]:
        services.run_tick(run=run, item=item, ticked=True, acting_user=alice)
    services.run_finish(run=run)

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    # 5 of 8 = 62.5 %
    assert "Completion rate: 63 % of the items ticked" in html
