"""The step page's checklist and a run of it, end to end in real Chromium at
phone width: items added, reordered with the keyboard (move up) and by drag and
drop, a run started, an item ticked (saved at once), kept after a reload, and
the run finished."""

import re

import pytest
from playwright.sync_api import Page, expect

from systemmaps.models import ChecklistRun, Node

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = ["Write the email", "Check every link", "Schedule the send"]


def listed(page: Page) -> list[str]:
    return page.locator("#checklist .checklist-text").all_inner_texts()


def saved(node: Node) -> list[str]:
    return list(node.checklist_items.values_list("text", flat=True))


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_checklist_edited_reordered_and_run(
    alice_phone_page: Page, live_server, webinar_map
):
    page = alice_phone_page
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    node = Node.objects.get(map=webinar_map, client_id="nurture")
    page.goto(live_server.url + node.get_absolute_url())
    expect(page.get_by_test_id("step-title")).to_contain_text("Email nurture campaign")
    assert fits_the_phone(page)
    # A marker a full page load would wipe: the edits below are htmx swaps.
    page.evaluate("window.__stillHere = true")

    # Add three items; the box keeps the focus, ready for the next one.
    box = page.locator("#checklist-add-text")
    box.fill(ITEMS[0])
    box.press("Enter")
    expect(page.locator("#checklist .checklist-text")).to_have_count(1)
    for count, text in enumerate(ITEMS[1:], start=2):
        expect(page.locator("#checklist-add-text")).to_be_focused()
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        expect(page.locator("#checklist .checklist-text")).to_have_count(count)
    assert listed(page) == ITEMS
    assert saved(node) == ITEMS

    # Keyboard: move the third item up; the focus stays on its button.
    schedule = node.checklist_items.get(text=ITEMS[2])
    page.locator(f"#up-{schedule.pk}").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#checklist .checklist-text").nth(1)).to_have_text(ITEMS[2])
    expect(page.locator(f"#up-{schedule.pk}")).to_be_focused()
    assert saved(node) == [ITEMS[0], ITEMS[2], ITEMS[1]]

    # Drag and drop: the first item onto the last one puts it at the end.
    # Centred, so the drag never nears the window's edge (where Chromium scrolls).
    page.locator("#checklist ol").evaluate("el => el.scrollIntoView({block: 'center'})")
    first = page.locator("#checklist li.checklist-item").filter(has_text=ITEMS[0])
    last = page.locator("#checklist li.checklist-item").filter(has_text=ITEMS[1])
    with page.expect_response(lambda r: r.url.endswith("/checklist/order/")) as sent:
        first.drag_to(last)
    assert sent.value.status == 200
    expected = [ITEMS[2], ITEMS[1], ITEMS[0]]
    expect(page.locator("#checklist .checklist-text")).to_have_text(expected)
    assert saved(node) == expected
    assert page.evaluate("window.__stillHere") is True

    # Start a run for a client: the run page opens.
    page.locator("#run-start-subject").fill("Jane Doe")
    page.get_by_role("button", name="Start a run").click()
    expect(page).to_have_url(re.compile(r"/b/acme/runs/\d+/$"))
    run = ChecklistRun.objects.get(node=node)
    expect(page.get_by_test_id("run-tally")).to_have_text("0 of 3 ticked")
    assert fits_the_phone(page)
    # With JavaScript, a tick saves itself: no Save buttons.
    expect(page.locator(".run-tick-save").first).to_be_hidden()

    # Tick one item: saved at once, with who.
    check_links = node.checklist_items.get(text=ITEMS[1])
    page.get_by_label(ITEMS[1]).click()
    expect(page.get_by_label(ITEMS[1])).to_be_checked()
    expect(page.get_by_test_id("run-tally")).to_have_text("1 of 3 ticked")
    expect(page.locator(f"#run-item-{check_links.pk}")).to_contain_text(
        "ticked by Alice Archer"
    )
    assert list(run.ticks.values_list("item_text", flat=True)) == [ITEMS[1]]

    # After a reload it is still ticked.
    page.reload()
    expect(page.get_by_label(ITEMS[1])).to_be_checked()
    expect(page.get_by_label(ITEMS[0])).not_to_be_checked()
    expect(page.get_by_test_id("run-tally")).to_have_text("1 of 3 ticked")

    # Notes typed before finishing are kept; the finished run is read-only.
    page.locator("#run-field-notes").fill("Sent on Tuesday.")
    page.get_by_test_id("finish-run").click()
    expect(page.get_by_text("Run finished: 1 of 3 items ticked.")).to_be_visible()
    expect(page.get_by_test_id("run-meta")).to_contain_text("Finished")
    expect(page.locator("#run-checklist input[type=checkbox]")).to_have_count(0)
    expect(page.get_by_test_id("finish-run")).to_have_count(0)
    run.refresh_from_db()
    assert run.finished_at is not None
    assert (run.item_count, run.ticked_count) == (3, 1)
    assert run.notes == "Sent on Tuesday."
    assert run.subject == "Jane Doe"

    # Back on the step page: the history and the completion rate.
    page.goto(live_server.url + node.get_absolute_url())
    expect(page.get_by_test_id("completion-rate")).to_have_text(
        re.compile(r"Completion rate:\s+33 %.*over 1 finished run\.")
    )
    expect(page.get_by_test_id("run-history")).to_contain_text("Jane Doe")
    assert fits_the_phone(page)
    assert problems == []


def test_a_form_swapped_in_is_live_at_once(alice_page: Page, live_server, webinar_map):
    """A form that htmx has just swapped in answers the next keystroke through
    htmx: no full page load. The add box keeps the focus across the swap, so a
    quick typist (or a scanner) presses Enter again straight away; with htmx's
    default 20 ms settle delay the new form was not wired up yet and that Enter
    posted the whole page (the checklist test's old flake). Here the next submit
    comes from a timer queued the moment the swap happens, before any settle
    timer could run."""
    page = alice_page
    node = Node.objects.get(map=webinar_map, client_id="nurture")
    page.goto(live_server.url + node.get_absolute_url())
    page.evaluate("window.__stillHere = true")
    navigations: list[str] = []
    page.on(
        "request",
        lambda r: navigations.append(r.url) if r.is_navigation_request() else None,
    )
    page.evaluate(
        """() => {
          document.body.addEventListener("htmx:afterSwap", () => {
            if (window.__resent) return;
            window.__resent = true;
            setTimeout(() => {
              const box = document.getElementById("checklist-add-text");
              box.value = "Second, at once";
              box.form.requestSubmit();
            }, 0);
          });
        }"""
    )
    box = page.locator("#checklist-add-text")
    box.fill(ITEMS[0])
    box.press("Enter")
    expect(page.locator("#checklist .checklist-text")).to_have_count(2)
    assert listed(page) == [ITEMS[0], "Second, at once"]
    assert saved(node) == [ITEMS[0], "Second, at once"]
    assert page.evaluate("window.__stillHere") is True
    assert navigations == []
