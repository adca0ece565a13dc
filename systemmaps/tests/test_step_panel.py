"""The canvas editor's side panel for one step: a server-rendered form that checks
the fields and hands them back to the canvas as an event, saving nothing; and the
owner and cost of a task or decision, saved at once through their own endpoint."""

import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass.tests.factories import MembershipFactory, UserFactory
from hourglass.tests.utils import HTMX
from systemmaps import services
from systemmaps.models import Node

from .factories import make_map
from .utils import maps_snapshot, membership


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


def changed_values(html: str) -> dict:
    """The values an applied panel form hands the canvas (its data-changed)."""
    match = re.search(r'data-changed="([^"]*)"', html)
    assert match, html
    return json.loads(unescape(match.group(1)))


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
    assert ">\nEmail nurture campaign</textarea>" in field(html, "label")
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
    assert ">\nWeekly tips</textarea>" in field(html, "label")
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
    assert json.loads(response["HX-Trigger-After-Swap"]) == {
        "stepChanged": {"id": "call"}
    }
    html = response.content.decode()
    assert changed_values(html) == {
        "id": "call",
        "label": "Discovery call",
        "kind": "task",
        "stage": "trust",
        "notes": "Use the call script.\nThirty minutes.",
    }
    assert html.lstrip().startswith('<form class="step-panel-section')
    assert 'data-testid="step-applied"' in html
    assert ">\nDiscovery call</textarea>" in field(html, "label")
    assert selected(html, "stage") == "trust"
    # The canvas is the only writer of the graph: nothing is saved here.
    assert maps_snapshot() == before
    webinar_map.refresh_from_db()
    assert webinar_map.version == 1


def test_a_label_in_two_lines_keeps_its_line_break(alice_client, webinar_map):
    # A browser sends a textarea's line breaks as CR LF, and spaces typed at the
    # ends of lines stay behind.
    data = {**VALID, "label": " Bake and decorate \r\n\r\n(day before) "}

    response = alice_client.post(panel_url(webinar_map, "call"), data, headers=HTMX)

    html = response.content.decode()
    assert changed_values(html)["label"] == "Bake and decorate\n(day before)"
    assert ">\nBake and decorate\n(day before)</textarea>" in field(html, "label")


def test_empty_stage_and_notes_are_null_in_the_event(alice_client, webinar_map):
    response = alice_client.post(
        panel_url(webinar_map, "call"),
        {"label": "Call", "kind": "decision", "stage": "", "notes": ""},
        headers=HTMX,
    )

    assert changed_values(response.content.decode()) == {
        "id": "call",
        "label": "Call",
        "kind": "decision",
        "stage": None,
        "notes": None,
    }


def test_the_event_header_stays_small_for_the_longest_label_and_notes(
    alice_client, webinar_map
):
    # Korean escapes to six bytes a letter in JSON: in a header this would be
    # 31 KB, which nginx answers with 502.
    data = {**VALID, "label": "상" * 200, "notes": "담" * 5000}

    response = alice_client.post(panel_url(webinar_map, "call"), data, headers=HTMX)

    assert response.status_code == 200
    header_bytes = sum(len(k) + len(v) for k, v in response.items())
    assert header_bytes < 2048
    values = changed_values(response.content.decode())
    assert (values["label"], values["notes"]) == (data["label"], data["notes"])


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
    assert "HX-Trigger-After-Swap" not in response
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


# ---------------------------------------------------------------------------
# Owner and cost: saved at once through their own endpoint
# ---------------------------------------------------------------------------


def owner_url(system_map, node_id: str) -> str:
    return reverse(
        "systemmaps:step-panel-owner",
        kwargs={
            "slug": system_map.business.slug,
            "pk": system_map.pk,
            "node": node_id,
        },
    )


def step_page_url(system_map, node_id: str) -> str:
    return reverse(
        "systemmaps:step-detail",
        kwargs={
            "slug": system_map.business.slug,
            "pk": system_map.pk,
            "node": node_id,
        },
    )


def step_of(system_map, node_id: str) -> Node:
    return Node.objects.select_related("owner__user").get(
        map=system_map, client_id=node_id
    )


def details_of(system_map) -> list:
    """Every step's owner and cost columns, to prove a refused request wrote none."""
    return list(
        Node.objects.filter(map=system_map)
        .order_by("pk")
        .values(
            "owner_id",
            "critical",
            "automation",
            "automation_tool",
            "minutes_per_run",
            "runs_per_month",
            "hourly_cost",
        )
    )


def owner_section(html: str) -> str:
    match = re.search(r'<(form|section)[^>]*id="step-panel-owner".*?</\1>', html, re.S)
    assert match, "no owner section"
    return match.group()


def owner_data(owner=None, **overrides) -> dict:
    data = {
        "owner": owner.pk if owner else "",
        "automation": "manual",
        "automation_tool": "",
        "minutes_per_run": "",
        "runs_per_month": "",
        "hourly_cost": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_panel_of_a_task_has_the_owner_and_cost_form_after_the_details(
    alice_client, webinar_map
):
    html = alice_client.get(
        panel_url(webinar_map, "call"), headers=HTMX
    ).content.decode()

    assert html.index('id="step-panel-details"') < html.index('id="step-panel-owner"')
    section = owner_section(html)
    assert section.startswith('<form class="step-panel-section step-panel-owner')
    assert f'hx-post="{owner_url(webinar_map, "call")}"' in section
    assert f'action="{owner_url(webinar_map, "call")}"' in section
    assert 'hx-target="this"' in section and 'hx-swap="outerHTML"' in section
    assert "Owner and cost" in section
    for name in (
        "owner",
        "critical",
        "automation",
        "automation_tool",
        "minutes_per_run",
        "runs_per_month",
        "hourly_cost",
    ):
        assert f'id="step-owner-{name}"' in field(section, name)
    assert ">Nobody yet</option>" in field(section, "owner")
    assert ">Bob Baker</option>" not in field(section, "owner")  # not a member yet
    assert "Annual cost: <strong>—</strong>" in section
    assert f'href="{step_page_url(webinar_map, "call")}"' in section
    assert "Checklist and runs" in section
    assert "Saved" not in section


def test_panel_of_a_terminus_has_no_owner_and_cost(alice_client, webinar_map):
    html = alice_client.get(panel_url(webinar_map, "start")).content.decode()

    assert 'id="step-panel-details"' in html
    assert "step-panel-owner" not in html
    assert "Owner and cost" not in html


def test_panel_follows_the_kind_the_canvas_has_not_saved_yet(alice_client, webinar_map):
    made_terminus = alice_client.get(
        panel_url(webinar_map, "call"), {"kind": "terminus"}
    ).content.decode()
    made_task = alice_client.get(
        panel_url(webinar_map, "start"), {"kind": "task"}
    ).content.decode()

    assert "step-panel-owner" not in made_terminus
    section = owner_section(made_task)
    assert 'data-testid="step-owner-pending"' in section
    assert "Save the map first" in section
    assert "<form" not in section


def test_panel_shows_the_annual_cost_in_the_business_currency(
    alice_client, acme, alice, webinar_map
):
    services.step_update(
        node=step_of(webinar_map, "call"),
        owner=membership(alice, acme),
        minutes_per_run=Decimal("30"),
        runs_per_month=Decimal("10"),
        hourly_cost=Decimal("60"),
    )

    section = owner_section(
        alice_client.get(panel_url(webinar_map, "call")).content.decode()
    )

    # 0.5 h × 10 runs × €60 × 12 months
    assert "Annual cost: <strong>€3,600</strong>" in section
    assert selected(section, "owner") == str(membership(alice, acme).pk)


def test_member_reads_owner_and_cost_without_a_form(
    bob_client, acme, alice, webinar_map
):
    owner = membership(alice, acme)
    owner.hourly_rate = Decimal("90")
    owner.save()
    services.step_update(
        node=step_of(webinar_map, "proposal"),
        owner=owner,
        critical=True,
        automation="could",
        automation_tool="PandaDoc",
        minutes_per_run=Decimal("20"),
        runs_per_month=Decimal("8"),
    )

    html = bob_client.get(
        panel_url(webinar_map, "proposal"), headers=HTMX
    ).content.decode()

    section = owner_section(html)
    assert "<form" not in section and "<input" not in section
    values = re.search(r"<dl.*?</dl>", section, re.S).group()
    assert "Alice Archer" in values
    assert "★</span> Yes" in values
    assert "Could be automated (PandaDoc)" in values
    assert "20 min" in values
    assert "€90" in values and "(the owner's rate)" in values
    # 1/3 h × 8 runs × €90 × 12 months
    assert "Annual cost: <strong>€2,880</strong>" in section
    assert f'href="{step_page_url(webinar_map, "proposal")}"' in section


def test_member_sees_dashes_for_missing_figures(bob_client, webinar_map):
    section = owner_section(
        bob_client.get(panel_url(webinar_map, "nurture")).content.decode()
    )

    values = re.search(r"<dl.*?</dl>", section, re.S).group()
    assert "Nobody yet" in values
    assert values.count("<dd>—</dd>") == 3
    assert "Annual cost: <strong>—</strong>" in section


def test_owner_name_with_markup_is_escaped_in_the_panel(bob_client, acme, webinar_map):
    user = UserFactory(email="mallory@example.com", name='<img src=x onerror="1">')
    owner = MembershipFactory(business=acme, user=user)
    services.step_update(node=step_of(webinar_map, "call"), owner=owner)

    html = bob_client.get(panel_url(webinar_map, "call")).content.decode()

    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;1&quot;&gt;" in html


@pytest.mark.parametrize("user", ["alice", "erin"])
def test_saving_owner_and_cost_writes_at_once_and_tells_the_canvas(
    request, client_for, acme, bob, webinar_map, user
):
    before = maps_snapshot()

    response = client_for(request.getfixturevalue(user)).post(
        owner_url(webinar_map, "call"),
        owner_data(
            membership(bob, acme),
            critical="on",
            automation="could",
            automation_tool="Calendly",
            minutes_per_run="45",
            runs_per_month="12.5",
            hourly_cost="80",
        ),
        headers=HTMX,
    )

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {
        "stepDetailsChanged": {
            "id": "call",
            "ownerInitials": "BB",
            "ownerName": "Bob Baker",
            "critical": True,
            "automation": "could",
        }
    }
    html = response.content.decode()
    assert html.lstrip().startswith('<form class="step-panel-section step-panel-owner')
    assert 'data-testid="step-owner-saved"' in html
    # 0.75 h × 12.5 runs × €80 × 12 months
    assert "Annual cost: <strong>€9,000</strong>" in html
    step = step_of(webinar_map, "call")
    assert (step.owner.user, step.critical, step.automation) == (bob, True, "could")
    assert step.automation_tool == "Calendly"
    assert (step.minutes_per_run, step.runs_per_month, step.hourly_cost) == (
        Decimal("45"),
        Decimal("12.5"),
        Decimal("80"),
    )
    # Not part of the graph: no new version, no revision, the drawing untouched.
    assert maps_snapshot() == before


def test_clearing_the_owner_and_flags_sends_empty_badges(
    alice_client, acme, alice, webinar_map
):
    services.step_update(
        node=step_of(webinar_map, "signed"),
        owner=membership(alice, acme),
        critical=True,
        automation="automated",
    )

    response = alice_client.post(
        owner_url(webinar_map, "signed"), owner_data(), headers=HTMX
    )

    assert json.loads(response["HX-Trigger"])["stepDetailsChanged"] == {
        "id": "signed",
        "ownerInitials": "",
        "ownerName": "",
        "critical": False,
        "automation": "manual",
    }
    step = step_of(webinar_map, "signed")
    assert (step.owner, step.critical, step.automation) == (None, False, "manual")


def test_plain_post_saves_and_redirects_to_the_step_page(
    alice_client, acme, bob, webinar_map
):
    response = alice_client.post(
        owner_url(webinar_map, "call"),
        owner_data(membership(bob, acme), critical="on"),
    )

    assert response.status_code == 302
    assert response["Location"] == step_page_url(webinar_map, "call")
    assert "HX-Trigger" not in response
    step = step_of(webinar_map, "call")
    assert (step.owner.user, step.critical) == (bob, True)


def test_get_returns_the_owner_section_alone(client_for, alice, bob, webinar_map):
    html = (
        client_for(alice)
        .get(owner_url(webinar_map, "call"), headers=HTMX)
        .content.decode()
    )
    assert html.lstrip().startswith('<form class="step-panel-section step-panel-owner')

    html = client_for(bob).get(owner_url(webinar_map, "call")).content.decode()
    assert 'data-testid="step-owner-values"' in html
    assert "<form" not in html


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(
    "overrides,name,message",
    [
        ({"minutes_per_run": "-5"}, "minutes_per_run", "greater than or equal to 0"),
        ({"runs_per_month": "many"}, "runs_per_month", "“many” is not a number"),
        ({"hourly_cost": "-0.01"}, "hourly_cost", "greater than or equal to 0"),
        ({"automation": "magic"}, "automation", "Select a valid choice"),
        ({"automation_tool": "x" * 101}, "automation_tool", "at most 100"),
        ({"owner": "999999"}, "owner", "Pick a member of this business"),
    ],
)
def test_bad_owner_and_cost_is_422_naming_the_field_and_saves_nothing(
    alice_client, acme, alice, webinar_map, overrides, name, message, htmx
):
    services.step_update(
        node=step_of(webinar_map, "call"),
        minutes_per_run=Decimal("10"),
        runs_per_month=Decimal("6"),
        hourly_cost=Decimal("50"),
    )
    before = details_of(webinar_map)
    data = owner_data(
        membership(alice, acme),
        minutes_per_run="20",
        runs_per_month="6",
        hourly_cost="50",
    )

    response = alice_client.post(
        owner_url(webinar_map, "call"),
        {**data, **overrides},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    assert "HX-Trigger" not in response
    html = response.content.decode()
    errors = re.search(
        rf'<ul class="errorlist" id="step-owner-{name}_error">.*?</ul>', html, re.S
    )
    assert errors and message in errors.group()
    assert "step-owner-saved" not in html
    # The cost of what is saved, not of the refused figures.
    assert "Annual cost: <strong>€600</strong>" in html
    assert details_of(webinar_map) == before


def test_owner_from_another_business_is_refused(
    alice_client, charlie, other_co, webinar_map
):
    before = details_of(webinar_map)

    response = alice_client.post(
        owner_url(webinar_map, "call"),
        owner_data(membership(charlie, other_co)),
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "Pick a member of this business" in response.content.decode()
    assert details_of(webinar_map) == before


def test_member_may_not_save_owner_and_cost_even_of_a_step_they_own(
    bob_client, acme, bob, webinar_map
):
    services.step_update(node=step_of(webinar_map, "call"), owner=membership(bob, acme))
    before = details_of(webinar_map)

    response = bob_client.post(
        owner_url(webinar_map, "call"),
        owner_data(membership(bob, acme), critical="on"),
        headers=HTMX,
    )

    assert response.status_code == 403
    assert "HX-Trigger" not in response
    assert details_of(webinar_map) == before


def test_outsider_gets_404_for_owner_and_cost(charlie_client, webinar_map):
    before = details_of(webinar_map)

    assert charlie_client.get(owner_url(webinar_map, "call")).status_code == 404
    response = charlie_client.post(
        owner_url(webinar_map, "call"), owner_data(), headers=HTMX
    )
    assert response.status_code == 404
    assert details_of(webinar_map) == before


@pytest.mark.parametrize("node", ["start", "nope"])
def test_termini_and_unknown_steps_have_no_owner_and_cost(
    alice_client, webinar_map, node
):
    before = details_of(webinar_map)

    assert alice_client.get(owner_url(webinar_map, node)).status_code == 404
    response = alice_client.post(owner_url(webinar_map, node), owner_data())
    assert response.status_code == 404
    assert details_of(webinar_map) == before


def test_owner_and_cost_of_a_deleted_map_is_404(alice_client, alice, webinar_map):
    services.map_delete(system_map=webinar_map, acting_user=alice)

    response = alice_client.post(owner_url(webinar_map, "call"), owner_data())

    assert response.status_code == 404


# ---------------------------------------------------------------------------
# The editor's configuration carries the badges, not the graph
# ---------------------------------------------------------------------------


def editor_config(client, system_map) -> dict:
    url = reverse(
        "systemmaps:map-edit",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )
    response = client.get(url)
    assert response.status_code == 200
    match = re.search(
        r'<script id="editor-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1))


def test_editor_config_has_the_badges_of_steps_with_details_only(
    alice_client, acme, bob, webinar_map
):
    services.step_update(
        node=step_of(webinar_map, "call"),
        owner=membership(bob, acme),
        critical=True,
    )
    services.step_update(node=step_of(webinar_map, "proposal"), automation="automated")
    services.step_update(node=step_of(webinar_map, "nurture"), minutes_per_run=5)

    config = editor_config(alice_client, webinar_map)

    assert config["steps"] == {
        "call": {
            "ownerInitials": "BB",
            "ownerName": "Bob Baker",
            "critical": True,
            "automation": "manual",
        },
        "proposal": {
            "ownerInitials": "",
            "ownerName": "",
            "critical": False,
            "automation": "automated",
        },
    }
    # The graph the canvas saves stays schema v1: no owners or flags in it.
    assert set(config["graph"]["nodes"][0]) == {
        "id", "kind", "label", "x", "y", "stage", "notes",
    }  # fmt: skip


def _map_with_owned_steps(acme, alice, owner, count: int):
    graph = {
        "schema_version": 1,
        "name": f"{count} steps",
        "nodes": [
            {"id": f"n{i}", "kind": "task", "label": f"Step {i}", "x": i * 200.0}
            | {"y": 0.0, "stage": None, "notes": None}
            for i in range(count)
        ],
        "edges": [],
    }
    system_map = make_map(acme, alice, name=graph["name"], graph=graph)
    Node.objects.filter(map=system_map).update(owner=owner, critical=True)
    return system_map


def test_editor_queries_do_not_grow_with_owned_steps(
    alice_client, acme, alice, bob, django_assert_max_num_queries
):
    owner = membership(bob, acme)
    small = _map_with_owned_steps(acme, alice, owner, 5)
    large = _map_with_owned_steps(acme, alice, owner, 200)
    url = "systemmaps:map-edit"

    with CaptureQueriesContext(connection) as queries:
        alice_client.get(reverse(url, kwargs={"slug": "acme", "pk": small.pk}))
    with django_assert_max_num_queries(len(queries)):
        response = alice_client.get(
            reverse(url, kwargs={"slug": "acme", "pk": large.pk})
        )
    assert response.status_code == 200
    assert len(editor_config(alice_client, large)["steps"]) == 200
