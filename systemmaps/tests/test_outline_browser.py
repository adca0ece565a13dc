"""The outline end to end in real Chromium: edited with the keyboard alone, and
what it saves shows on the canvas."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from systemmaps import selectors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Tab presses allowed to reach a control; the webinar outline has far fewer.
MAX_TABS = 120


def outline_url(live_server, system_map) -> str:
    return live_server.url + reverse(
        "systemmaps:map-outline",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the control matching `selector` has the focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)",
            selector,
        ):
            return
    raise AssertionError(f"Tab never reached {selector}")


def saved(system_map) -> dict:
    system_map.refresh_from_db()
    return selectors.graph_of(system_map)


def test_rename_and_add_a_step_with_the_keyboard_only(
    alice_page: Page, live_server, webinar_map
):
    page = alice_page
    page.goto(outline_url(live_server, webinar_map))
    expect(page.locator("#step-nurture .outline-label")).to_have_text(
        "Email nurture campaign"
    )

    # Rename: Tab to the step's Rename, Enter, type the new name, Enter.
    tab_to(page, '#step-nurture > .outline-line [data-action="rename"]')
    page.keyboard.press("Enter")
    field = page.locator("#outline-label")
    expect(field).to_be_focused()
    expect(field).to_have_value("Email nurture campaign")
    page.keyboard.press("Control+A")
    page.keyboard.type("Weekly tips email")
    page.keyboard.press("Enter")

    label = page.locator("#label-nurture")
    expect(label).to_have_text("Weekly tips email")
    expect(label).to_be_focused()
    expect(page.get_by_test_id("outline-notice")).to_contain_text("version 2")
    url = page.url

    # Add the next step after “Consultation call”: the focus moves on from the
    # renamed step, so Tab carries on from there.
    tab_to(page, '#step-call > .outline-line [data-action="add"]')
    page.keyboard.press("Enter")
    field = page.locator("#outline-label")
    expect(field).to_be_focused()
    page.keyboard.type("Prepare the call")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("outline-notice")).to_contain_text("version 3")
    focused = page.locator(".outline-label:focus")
    expect(focused).to_have_text("Prepare the call")
    assert page.url == url  # all through htmx, no page load

    graph = saved(webinar_map)
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    assert labels["nurture"] == "Weekly tips email"
    [new_id] = [i for i, text in labels.items() if text == "Prepare the call"]
    arrows = {(e["source"], e["target"]) for e in graph["edges"]}
    assert ("call", new_id) in arrows
    assert (new_id, "proposal") in arrows
    assert ("call", "proposal") not in arrows
    assert webinar_map.version == 3
    # The new step sits in the outline between the call and the proposal.
    steps = page.locator("#step-booked li.outline-step").evaluate_all(
        "items => items.map(i => i.dataset.stepId)"
    )
    assert steps.index("call") < steps.index(new_id) < steps.index("proposal")


def test_a_step_added_in_the_outline_shows_on_the_canvas(
    alice_page: Page, live_server, webinar_map
):
    page = alice_page
    page.goto(outline_url(live_server, webinar_map))
    page.locator('#step-proposal > .outline-line [data-action="add"]').click()
    page.locator("#outline-label").fill("Send the contract")
    page.locator("#outline-label").press("Enter")
    expect(page.get_by_test_id("outline-notice")).to_contain_text("version 2")
    [new_id] = [
        n["id"]
        for n in saved(webinar_map)["nodes"]
        if n["label"] == "Send the contract"
    ]

    page.goto(
        live_server.url
        + reverse(
            "systemmaps:map-edit",
            kwargs={"slug": webinar_map.business.slug, "pk": webinar_map.pk},
        )
    )

    shape = page.locator(f'[data-node-id="{new_id}"]')
    expect(shape).to_have_count(1)
    expect(shape).to_contain_text("Send the contract")


def test_two_line_name_kind_stage_and_notes_with_the_keyboard_only(
    alice_page: Page, live_server, webinar_map
):
    page = alice_page
    page.goto(outline_url(live_server, webinar_map))

    # A two-line name: Shift+Enter starts the second line, Enter saves.
    tab_to(page, '#step-call > .outline-line [data-action="rename"]')
    page.keyboard.press("Enter")
    field = page.locator("#outline-label")
    expect(field).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Bake and decorate")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("(day before)")
    page.keyboard.press("Enter")
    label = page.locator("#label-call")
    expect(label).to_be_focused()
    # Shown on two lines, not glued: taller than one line of the same text.
    expect(label).to_have_text("Bake and decorate\n(day before)")
    one_line = page.locator("#label-nurture").bounding_box()["height"]
    assert label.bounding_box()["height"] > 1.5 * one_line

    # A refused kind: the message names the step, the stage and notes typed stay.
    tab_to(page, '#step-call > .outline-line [data-action="details"]')
    page.keyboard.press("Enter")
    kind = page.locator("#outline-kind")
    expect(kind).to_be_focused()
    # Arrow keys pick in a closed select: task → decision, buy → repeat.
    page.keyboard.press("ArrowDown")
    expect(kind).to_have_value("decision")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#outline-stage")).to_have_value("repeat")
    page.keyboard.press("Tab")
    page.keyboard.type("Book 30 minutes")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Save
    expect(page.locator("#outline-kind_error")).to_contain_text(
        "has fewer than two ways on"
    )
    expect(page.locator("#outline-kind_error")).to_contain_text("Bake and decorate")
    expect(page.locator("#outline-kind")).to_be_focused()
    expect(page.locator("#outline-stage")).to_have_value("repeat")
    expect(page.locator("#outline-notes")).to_have_value("Book 30 minutes")
    assert saved(webinar_map)["nodes"] and webinar_map.version == 2

    # Back to a task (the focus is on the kind): saved with the stage and notes.
    page.keyboard.press("ArrowUp")
    expect(page.locator("#outline-kind")).to_have_value("task")
    for _field in ("stage", "notes", "save"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("outline-notice")).to_contain_text("version 3")
    expect(page.locator("#step-call .outline-stage").first).to_contain_text("Repeat")
    expect(page.locator("#step-call [data-testid=outline-notes]")).to_have_text(
        "Notes: Book 30 minutes"
    )
    call = next(n for n in saved(webinar_map)["nodes"] if n["id"] == "call")
    assert (call["label"], call["stage"], call["notes"]) == (
        "Bake and decorate\n(day before)",
        "repeat",
        "Book 30 minutes",
    )


def test_the_outline_forms_fit_a_phone(
    alice_phone_page: Page, live_server, webinar_map
):
    page = alice_phone_page
    for action in ("rename", "details"):
        page.goto(outline_url(live_server, webinar_map) + f"?{action}=call")
        expect(page.get_by_test_id("outline-form")).to_be_visible()
        assert page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
        ), action
