"""The SOP checklist on the step page: items added, edited, deleted and reordered
(drag and drop sends the whole order; the move buttons are the keyboard
alternative), "why it matters" and the last review. Editors and owners work on
every step's checklist; a member only on the steps he owns."""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from hourglass.tests.utils import HTMX
from systemmaps import services
from systemmaps.models import ChecklistItem, Node

from .utils import main_html, step_url, text_of


def business_today(step) -> date:
    """Today where the step's business is: the pages count days in its zone."""
    return timezone.localdate(timezone=ZoneInfo(step.map.business.timezone))


def texts(node: Node) -> list[str]:
    return list(node.checklist_items.values_list("text", flat=True))


def items_snapshot(node: Node) -> list[tuple]:
    return list(node.checklist_items.values_list("pk", "position", "text"))


def sop_snapshot(node: Node) -> tuple:
    return Node.objects.values_list("sop_why", "sop_reviewed_on").get(pk=node.pk)


@pytest.fixture
def three(nurture) -> list[ChecklistItem]:
    return [
        services.checklist_item_add(node=nurture, text=text)
        for text in ("Write the email", "Check the links", "Schedule it")
    ]


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def test_items_show_in_order_with_their_controls(alice_client, nurture, three):
    html = main_html(alice_client.get(step_url(nurture)))

    listed = re.findall(r'<span class="checklist-text">([^<]*)</span>', html)
    assert listed == ["Write the email", "Check the links", "Schedule it"]
    assert "3 items" in html
    assert html.count('draggable="true"') == 3
    assert "data-checklist-sortable" in html
    # The first cannot move up, the last cannot move down.
    assert re.search(rf'id="up-{three[0].pk}"[^>]*disabled', html)
    assert not re.search(rf'id="up-{three[1].pk}"[^>]*disabled', html)
    assert re.search(rf'id="down-{three[2].pk}"[^>]*disabled', html)
    # No inline script or style: the page runs under a strict CSP.
    assert "<script>" not in html and "style=" not in html and "onclick" not in html


def test_member_reads_the_checklist_of_a_step_he_does_not_own(
    bob_client, nurture, three
):
    html = main_html(bob_client.get(step_url(nurture)))

    assert "Write the email" in html
    assert 'draggable="true"' not in html
    assert "data-checklist-order" not in html
    assert 'data-testid="checklist-add-form"' not in html
    assert 'data-action="move-up"' not in html
    assert 'data-testid="sop-form"' not in html
    assert "Mark reviewed today" not in html


def test_member_works_on_the_checklist_of_a_step_he_owns(bob_client, bobs_step):
    services.checklist_item_add(node=bobs_step, text="Send the agenda")

    html = main_html(bob_client.get(step_url(bobs_step)))

    assert 'data-testid="checklist-add-form"' in html
    assert 'draggable="true"' in html
    assert 'data-testid="sop-form"' in html


def test_empty_checklist_invites_the_first_item(alice_client, nurture):
    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "Checklist 0 items No items yet. Add the first one below" in html


# ---------------------------------------------------------------------------
# Add
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_owner_adds_an_item_at_the_end(alice_client, nurture, three, htmx):
    response = alice_client.post(
        step_url(nurture, "step-checklist"),
        {"text": "  Send a test to yourself  "},
        headers=HTMX if htmx else {},
    )

    assert texts(nurture) == [
        "Write the email",
        "Check the links",
        "Schedule it",
        "Send a test to yourself",
    ]
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<div class="checklist" id="checklist"')
        assert "Send a test to yourself" in html
        # Focus back in an empty box, ready for the next item.
        add = re.search(r'<input[^>]*id="checklist-add-text"[^>]*>', html).group()
        assert "autofocus" in add and "value=" not in add
    else:
        assert response.status_code == 302
        assert response["Location"] == step_url(nurture) + "#checklist"


def test_member_adds_an_item_to_a_step_he_owns(client_for, bob, bobs_step):
    response = client_for(bob).post(
        step_url(bobs_step, "step-checklist"), {"text": "Send the agenda"}, headers=HTMX
    )

    assert response.status_code == 200
    assert texts(bobs_step) == ["Send the agenda"]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_member_cannot_add_to_a_step_he_does_not_own(
    client_for, bob, nurture, three, htmx
):
    before = items_snapshot(nurture)

    response = client_for(bob).post(
        step_url(nurture, "step-checklist"),
        {"text": "Sneaky"},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 403
    assert items_snapshot(nurture) == before


def test_outsider_cannot_add(charlie_client, nurture):
    response = charlie_client.post(step_url(nurture, "step-checklist"), {"text": "x"})

    assert response.status_code == 404
    assert not ChecklistItem.objects.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("   ", "Write what to do in this item."),
        ("x" * 501, "Ensure this value has at most 500 characters (it has 501)."),
    ],
    ids=["empty", "too-long"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_item_is_422_naming_the_field(alice_client, nurture, text, message, htmx):
    response = alice_client.post(
        step_url(nurture, "step-checklist"),
        {"text": text},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    html = response.content.decode()
    field = re.search(
        r'<div class="field field-invalid">.*?id="checklist-add-text".*?</div>',
        html,
        re.S,
    )
    assert field and "Checklist item" in field.group()
    assert message in html
    assert not ChecklistItem.objects.exists()
    assert ("<html" in html) is not htmx


# ---------------------------------------------------------------------------
# Edit inline
# ---------------------------------------------------------------------------


def test_edit_link_opens_the_inline_form_with_htmx(alice_client, nurture, three):
    response = alice_client.get(
        step_url(nurture, "step-checklist"), {"edit": three[1].pk}, headers=HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    form = re.search(
        r'<form[^>]*data-testid="checklist-edit-form".*?</form>', html, re.S
    )
    assert form
    assert 'value="Check the links"' in form.group()
    assert "autofocus" in form.group()
    assert f'action="{step_url(nurture, "step-checklist-item", item=three[1].pk)}"' in (
        form.group()
    )


def test_edit_link_without_js_opens_the_form_on_the_page(alice_client, nurture, three):
    response = alice_client.get(
        step_url(nurture, "step-checklist"), {"edit": three[1].pk}
    )

    assert response.status_code == 302
    page = response["Location"]
    assert page == step_url(nurture) + f"?edit={three[1].pk}#item-{three[1].pk}"
    html = main_html(alice_client.get(page))
    assert 'data-testid="checklist-edit-form"' in html
    assert 'value="Check the links"' in html


def test_member_gets_no_edit_form_on_a_step_he_does_not_own(bob_client, nurture, three):
    html = main_html(bob_client.get(step_url(nurture) + f"?edit={three[0].pk}"))

    assert 'data-testid="checklist-edit-form"' not in html


def test_outsider_cannot_get_the_checklist_fragment(charlie_client, nurture, three):
    response = charlie_client.get(step_url(nurture, "step-checklist"), headers=HTMX)

    assert response.status_code == 404


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_owner_edits_an_item(alice_client, nurture, three, htmx):
    response = alice_client.post(
        step_url(nurture, "step-checklist-item", item=three[1].pk),
        {"text": "Click every link"},
        headers=HTMX if htmx else {},
    )

    assert texts(nurture) == ["Write the email", "Click every link", "Schedule it"]
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="checklist-edit-form"' not in html
        assert re.search(rf'id="edit-{three[1].pk}"[^>]*autofocus', html)
    else:
        assert response.status_code == 302
        assert response["Location"] == step_url(nurture) + f"#item-{three[1].pk}"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_edit_is_422_with_the_form_open_and_saves_nothing(
    alice_client, nurture, three, htmx
):
    before = items_snapshot(nurture)

    response = alice_client.post(
        step_url(nurture, "step-checklist-item", item=three[1].pk),
        {"text": ""},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="checklist-edit-form"' in html
    assert "Write what to do in this item." in html
    assert f'id="checklist-edit-{three[1].pk}-text"' in html
    assert items_snapshot(nurture) == before


def test_member_cannot_edit_an_item_of_a_step_he_does_not_own(
    client_for, bob, nurture, three
):
    before = items_snapshot(nurture)

    response = client_for(bob).post(
        step_url(nurture, "step-checklist-item", item=three[0].pk), {"text": "Mine"}
    )

    assert response.status_code == 403
    assert items_snapshot(nurture) == before


def test_item_of_another_step_is_404(alice_client, webinar_map, nurture, bobs_step):
    other = services.checklist_item_add(node=bobs_step, text="Send the agenda")

    response = alice_client.post(
        step_url(nurture, "step-checklist-item", item=other.pk), {"text": "Moved"}
    )

    assert response.status_code == 404
    assert texts(bobs_step) == ["Send the agenda"]


# ---------------------------------------------------------------------------
# Delete
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_owner_deletes_an_item(alice_client, nurture, three, htmx):
    response = alice_client.post(
        step_url(nurture, "step-checklist-item-delete", item=three[0].pk),
        headers=HTMX if htmx else {},
    )

    assert texts(nurture) == ["Check the links", "Schedule it"]
    if htmx:
        assert response.status_code == 200
        assert "Write the email" not in response.content.decode()
        assert re.search(
            r'id="checklist-title"[^>]*autofocus', response.content.decode()
        )
    else:
        assert response.status_code == 302


def test_member_deletes_on_his_step_but_not_on_others(
    client_for, bob, nurture, three, bobs_step
):
    mine = services.checklist_item_add(node=bobs_step, text="Send the agenda")
    client = client_for(bob)

    refused = client.post(
        step_url(nurture, "step-checklist-item-delete", item=three[0].pk)
    )
    allowed = client.post(
        step_url(bobs_step, "step-checklist-item-delete", item=mine.pk)
    )

    assert refused.status_code == 403
    assert len(texts(nurture)) == 3
    assert allowed.status_code == 302
    assert texts(bobs_step) == []


def test_outsider_cannot_delete(charlie_client, nurture, three):
    response = charlie_client.post(
        step_url(nurture, "step-checklist-item-delete", item=three[0].pk)
    )

    assert response.status_code == 404
    assert len(texts(nurture)) == 3


# ---------------------------------------------------------------------------
# Reorder: move up / down (keyboard), whole order (drag and drop)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_move_up_swaps_with_the_item_above(alice_client, nurture, three, htmx):
    response = alice_client.post(
        step_url(nurture, "step-checklist-item-move", item=three[2].pk),
        {"direction": "up"},
        headers=HTMX if htmx else {},
    )

    assert texts(nurture) == ["Write the email", "Schedule it", "Check the links"]
    if htmx:
        assert response.status_code == 200
        # The focus stays on the button just pressed.
        assert re.search(
            rf'id="up-{three[2].pk}"[^>]*autofocus', response.content.decode()
        )
    else:
        assert response.status_code == 302
        assert response["Location"] == step_url(nurture) + f"#item-{three[2].pk}"


def test_move_down_swaps_with_the_item_below(alice_client, nurture, three):
    alice_client.post(
        step_url(nurture, "step-checklist-item-move", item=three[0].pk),
        {"direction": "down"},
    )

    assert texts(nurture) == ["Check the links", "Write the email", "Schedule it"]


def test_moving_to_the_top_hands_the_focus_to_move_down(alice_client, nurture, three):
    response = alice_client.post(
        step_url(nurture, "step-checklist-item-move", item=three[1].pk),
        {"direction": "up"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert texts(nurture)[0] == "Check the links"
    assert re.search(rf'id="down-{three[1].pk}"[^>]*autofocus', html)
    assert not re.search(rf'id="up-{three[1].pk}"[^>]*autofocus', html)


def test_moving_the_top_item_up_changes_nothing(alice_client, nurture, three):
    response = alice_client.post(
        step_url(nurture, "step-checklist-item-move", item=three[0].pk),
        {"direction": "up"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert texts(nurture) == ["Write the email", "Check the links", "Schedule it"]


@pytest.mark.parametrize("direction", ["", "sideways"])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_direction_is_422_and_moves_nothing(
    alice_client, nurture, three, direction, htmx
):
    before = items_snapshot(nurture)

    response = alice_client.post(
        step_url(nurture, "step-checklist-item-move", item=three[1].pk),
        {"direction": direction},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    assert "Say whether to move the item up or down." in response.content.decode()
    assert items_snapshot(nurture) == before


def test_member_moves_on_his_step_but_not_on_others(
    client_for, bob, nurture, three, bobs_step
):
    first = services.checklist_item_add(node=bobs_step, text="Send the agenda")
    services.checklist_item_add(node=bobs_step, text="Take notes")
    client = client_for(bob)
    before = items_snapshot(nurture)

    refused = client.post(
        step_url(nurture, "step-checklist-item-move", item=three[1].pk),
        {"direction": "up"},
    )
    allowed = client.post(
        step_url(bobs_step, "step-checklist-item-move", item=first.pk),
        {"direction": "down"},
    )

    assert refused.status_code == 403
    assert items_snapshot(nurture) == before
    assert allowed.status_code == 302
    assert texts(bobs_step) == ["Take notes", "Send the agenda"]


def order_data(*items) -> dict:
    return {"item": [str(item.pk) for item in items]}


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_drag_and_drop_saves_the_whole_order(alice_client, nurture, three, htmx):
    a, b, c = three

    response = alice_client.post(
        step_url(nurture, "step-checklist-order"),
        order_data(c, a, b),
        headers=HTMX if htmx else {},
    )

    assert texts(nurture) == ["Schedule it", "Write the email", "Check the links"]
    assert list(nurture.checklist_items.values_list("position", flat=True)) == [0, 1, 2]
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        hidden = re.findall(r'<input type="hidden" name="item" value="(\d+)">', html)
        assert hidden == [str(c.pk), str(a.pk), str(b.pk)]
    else:
        assert response.status_code == 302


@pytest.mark.parametrize(
    "order",
    [
        lambda a, b, c: [a.pk, b.pk],  # one left out
        lambda a, b, c: [a.pk, b.pk, c.pk, c.pk],  # one twice
        lambda a, b, c: [a.pk, b.pk, 999999],  # a stranger
        lambda a, b, c: [a.pk, b.pk, "three"],  # not an id
        lambda a, b, c: [],  # nothing
    ],
    ids=["missing", "twice", "unknown", "not-a-number", "empty"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_order_is_422_and_changes_nothing(
    alice_client, nurture, three, order, htmx
):
    before = items_snapshot(nurture)

    response = alice_client.post(
        step_url(nurture, "step-checklist-order"),
        {"item": [str(pk) for pk in order(*three)]},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'class="form-errors" role="alert">.*reload', html, re.S)
    assert items_snapshot(nurture) == before


def test_member_cannot_reorder_a_step_he_does_not_own(client_for, bob, nurture, three):
    before = items_snapshot(nurture)
    a, b, c = three

    response = client_for(bob).post(
        step_url(nurture, "step-checklist-order"), order_data(c, b, a), headers=HTMX
    )

    assert response.status_code == 403
    assert items_snapshot(nurture) == before


def test_outsider_cannot_reorder(charlie_client, nurture, three):
    before = items_snapshot(nurture)
    a, b, c = three

    response = charlie_client.post(
        step_url(nurture, "step-checklist-order"), order_data(c, b, a)
    )

    assert response.status_code == 404
    assert items_snapshot(nurture) == before


# ---------------------------------------------------------------------------
# Why it matters, last reviewed
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_owner_saves_why_it_matters_and_the_review_date(alice_client, nurture, htmx):
    response = alice_client.post(
        step_url(nurture, "step-sop"),
        {"why": "Leads go cold in a week.", "reviewed_on": "2025-01-15"},
        headers=HTMX if htmx else {},
    )

    assert sop_snapshot(nurture) == ("Leads go cold in a week.", date(2025, 1, 15))
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<div class="checklist-sop" id="sop"')
        assert "Leads go cold in a week." in html
    else:
        assert response.status_code == 302
        assert response["Location"] == step_url(nurture) + "#sop"


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"why": "", "reviewed_on": "15/01/2025x"}, "reviewed_on", "YYYY-MM-DD"),
        ({"why": "", "reviewed_on": "2999-01-01"}, "reviewed_on", "in the future"),
        ({"why": "x" * 5001, "reviewed_on": ""}, "why", "at most 5000 characters"),
    ],
    ids=["bad-date", "future", "too-long"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_sop_is_422_naming_the_field(
    alice_client, nurture, data, field, message, htmx
):
    before = sop_snapshot(nurture)

    response = alice_client.post(
        step_url(nurture, "step-sop"), data, headers=HTMX if htmx else {}
    )

    assert response.status_code == 422
    html = response.content.decode()
    invalid = re.search(
        rf'<div class="field field-invalid">(?:(?!<div class="field).)*name="{field}"',
        html,
        re.S,
    )
    assert invalid and message in invalid.group()
    assert sop_snapshot(nurture) == before
    # The form stays open to fix it.
    assert re.search(r'<details class="step-edit" open>', html)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_mark_reviewed_today(alice_client, nurture, htmx):
    services.sop_update(node=nurture, why="Keep it", reviewed_on=date(2020, 1, 1))

    response = alice_client.post(
        step_url(nurture, "step-sop-reviewed"), headers=HTMX if htmx else {}
    )

    assert sop_snapshot(nurture) == ("Keep it", business_today(nurture))
    assert response.status_code == (200 if htmx else 302)
    if htmx:
        assert "Last reviewed today." in response.content.decode()


def test_member_reviews_his_step_but_not_others(client_for, bob, nurture, bobs_step):
    client = client_for(bob)

    refused = client.post(step_url(nurture, "step-sop-reviewed"))
    refused_form = client.post(
        step_url(nurture, "step-sop"), {"why": "Mine", "reviewed_on": ""}
    )
    allowed = client.post(
        step_url(bobs_step, "step-sop"),
        {"why": "Clients decide here", "reviewed_on": ""},
    )

    assert refused.status_code == 403
    assert refused_form.status_code == 403
    assert sop_snapshot(nurture) == ("", None)
    assert allowed.status_code == 302
    assert sop_snapshot(bobs_step) == ("Clients decide here", None)


def test_outsider_cannot_touch_the_sop(charlie_client, nurture):
    assert (
        charlie_client.post(step_url(nurture, "step-sop-reviewed")).status_code == 404
    )
    response = charlie_client.post(
        step_url(nurture, "step-sop"), {"why": "x", "reviewed_on": ""}
    )
    assert response.status_code == 404
    assert sop_snapshot(nurture) == ("", None)


def review_state(client, node) -> str:
    html = main_html(client.get(step_url(node)))
    match = re.search(r'<p class="review-state[^"]*"[^>]*>(.*?)</p>', html, re.S)
    return match.group(0)


def test_review_within_90_days_has_no_warning(alice_client, nurture):
    reviewed = business_today(nurture) - timedelta(days=90)
    services.sop_update(node=nurture, why="", reviewed_on=reviewed)

    state = review_state(alice_client, nurture)

    assert "warning" not in state
    assert "90 days ago" in text_of(state)


def test_review_older_than_90_days_warns_in_words_and_icon(alice_client, nurture):
    reviewed = business_today(nurture) - timedelta(days=91)
    services.sop_update(node=nurture, why="", reviewed_on=reviewed)

    state = review_state(alice_client, nurture)

    assert 'class="review-state warning"' in state
    assert "⚠" in state
    assert "Review due: not reviewed for 91 days" in text_of(state)


def test_never_reviewed_says_so(alice_client, nurture):
    state = text_of(review_state(alice_client, nurture))

    assert "never been reviewed" in state


def test_reviewed_yesterday_is_one_day(alice_client, nurture):
    services.sop_update(
        node=nurture, why="", reviewed_on=business_today(nurture) - timedelta(days=1)
    )

    assert "1 day ago" in text_of(review_state(alice_client, nurture))


def test_checklist_writes_need_post(alice_client, nurture, three):
    for name, extra in (
        ("step-sop", {}),
        ("step-sop-reviewed", {}),
        ("step-checklist-order", {}),
        ("step-checklist-item", {"item": three[0].pk}),
        ("step-checklist-item-delete", {"item": three[0].pk}),
        ("step-checklist-item-move", {"item": three[0].pk}),
    ):
        assert alice_client.get(step_url(nurture, name, **extra)).status_code == 405
