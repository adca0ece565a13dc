"""The canvas editor's side panel for one step: a server-rendered form that checks
the fields and hands them back to the canvas as an event, saving nothing."""

import json
import re

import pytest
from django.urls import reverse

from .conftest import maps_snapshot

HTMX = {"HX-Request": "true"}


def panel_url(system_map, node_id: str) -> str:
    return reverse(
        "systemmaps:step-panel",
        kwargs={
            "slug": system_map.business.slug,
            "pk": system_map.pk,
            "node": node_id,
        },
    )


def field(html: str, name: str) -> str:
    """The markup of one form control, found by its name."""
    for tag, rest in (
        ("input", ""),
        ("select", ".*?</select>"),
        ("textarea", ".*?</textarea>"),
    ):
        match = re.search(rf'<{tag}\b[^>]*name="{name}"[^>]*>{rest}', html, re.S)
        if match:
            return match.group()
    raise AssertionError(f"no field {name}")


def selected(html: str, name: str) -> str:
    match = re.search(r'<option value="([^"]*)"[^>]*selected', field(html, name))
    return match.group(1) if match else None


VALID = {
    "label": "Discovery call",
    "kind": "task",
    "stage": "trust",
    "notes": "Use the call script.\nThirty minutes.",
}


def test_get_returns_the_panel_fragment_with_the_saved_values(
    alice_client, webinar_map
):
    response = alice_client.get(panel_url(webinar_map, "nurture"), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section class="step-panel"')
    assert 'data-step-id="nurture"' in html
    assert 'value="Email nurture campaign"' in field(html, "label")
    assert selected(html, "kind") == "task"
    assert selected(html, "stage") == "like"
    assert ">—</option>" in field(html, "stage")
    assert field(html, "notes").endswith("\n</textarea>")
    form = re.search(r"<form.*?>", html, re.S).group()
    assert f'hx-post="{panel_url(webinar_map, "nurture")}"' in form
    assert 'hx-target="this"' in form
    assert 'hx-swap="outerHTML"' in form
    assert "Applied" not in html


def test_get_takes_the_canvas_unsaved_values_from_the_query(alice_client, webinar_map):
    response = alice_client.get(
        panel_url(webinar_map, "nurture"),
        {"label": "Weekly tips", "kind": "decision", "stage": "", "notes": "Draft"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert 'value="Weekly tips"' in field(html, "label")
    assert selected(html, "kind") == "decision"
    assert selected(html, "stage") == ""
    assert ">\nDraft</textarea>" in field(html, "notes")


def test_get_ignores_a_query_value_that_is_no_kind_or_stage(alice_client, webinar_map):
    html = alice_client.get(
        panel_url(webinar_map, "nurture"), {"kind": "cloud", "stage": "someday"}
    ).content.decode()

    assert selected(html, "kind") == "task"
    assert selected(html, "stage") == "like"


def test_unknown_step_is_404(alice_client, webinar_map):
    assert alice_client.get(panel_url(webinar_map, "nope")).status_code == 404
    response = alice_client.post(panel_url(webinar_map, "nope"), VALID, headers=HTMX)
    assert response.status_code == 404


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_valid_post_sends_step_changed_and_saves_nothing(
    client_for, erin, webinar_map, htmx
):
    before = maps_snapshot()

    response = client_for(erin).post(
        panel_url(webinar_map, "call"), VALID, headers=HTMX if htmx else {}
    )

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {
        "stepChanged": {
            "id": "call",
            "label": "Discovery call",
            "kind": "task",
            "stage": "trust",
            "notes": "Use the call script.\nThirty minutes.",
        }
    }
    html = response.content.decode()
    assert html.lstrip().startswith('<form class="step-panel-section')
    assert 'data-testid="step-applied"' in html
    assert 'value="Discovery call"' in field(html, "label")
    assert selected(html, "stage") == "trust"
    # The canvas is the only writer of the graph: nothing is saved here.
    assert maps_snapshot() == before
    webinar_map.refresh_from_db()
    assert webinar_map.version == 1


def test_empty_stage_and_notes_are_null_in_the_event(alice_client, webinar_map):
    response = alice_client.post(
        panel_url(webinar_map, "call"),
        {"label": "Call", "kind": "decision", "stage": "", "notes": ""},
        headers=HTMX,
    )

    event = json.loads(response["HX-Trigger"])["stepChanged"]
    assert event == {
        "id": "call",
        "label": "Call",
        "kind": "decision",
        "stage": None,
        "notes": None,
    }


@pytest.mark.parametrize(
    "data,name,message",
    [
        ({**VALID, "label": ""}, "label", "This field is required"),
        ({**VALID, "label": "x" * 201}, "label", "at most 200 characters"),
        ({**VALID, "kind": "cloud"}, "kind", "Select a valid choice"),
        ({**VALID, "stage": "someday"}, "stage", "Select a valid choice"),
        ({**VALID, "notes": "x" * 5001}, "notes", "at most 5000 characters"),
    ],
)
def test_invalid_post_is_422_with_messages_and_no_event(
    alice_client, webinar_map, data, name, message
):
    before = maps_snapshot()

    response = alice_client.post(panel_url(webinar_map, "call"), data, headers=HTMX)

    assert response.status_code == 422
    assert "HX-Trigger" not in response
    html = response.content.decode()
    errors = re.search(
        rf'<ul class="errorlist" id="step-panel-{name}_error">.*?</ul>', html, re.S
    )
    assert errors and message in errors.group()
    assert 'aria-invalid="true"' in field(html, name)
    assert "step-applied" not in html
    assert maps_snapshot() == before


def test_member_reads_the_values_and_may_not_post(bob_client, webinar_map):
    response = bob_client.get(panel_url(webinar_map, "nurture"), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<form" not in html
    assert "<input" not in html
    values = re.search(r"<dl.*?</dl>", html, re.S).group()
    assert "Email nurture campaign" in values
    assert "Task" in values
    assert "Like" in values

    before = maps_snapshot()
    response = bob_client.post(panel_url(webinar_map, "nurture"), VALID, headers=HTMX)
    assert response.status_code == 403
    assert "HX-Trigger" not in response
    assert maps_snapshot() == before


def test_member_sees_the_canvas_values_from_the_query(bob_client, webinar_map):
    html = bob_client.get(
        panel_url(webinar_map, "signed"), {"notes": "Chase after 3 days"}
    ).content.decode()

    values = re.search(r"<dl.*?</dl>", html, re.S).group()
    assert "Signed?" in values
    assert "Decision" in values
    assert "Chase after 3 days" in values


def test_outsider_gets_404(charlie_client, webinar_map):
    before = maps_snapshot()

    assert charlie_client.get(panel_url(webinar_map, "call")).status_code == 404
    response = charlie_client.post(panel_url(webinar_map, "call"), VALID)
    assert response.status_code == 404
    assert maps_snapshot() == before


def test_a_label_with_markup_is_escaped(alice_client, webinar_map):
    html = alice_client.get(
        panel_url(webinar_map, "call"), {"label": '<script>alert("x")</script>'}
    ).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
