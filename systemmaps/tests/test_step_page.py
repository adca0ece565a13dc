"""The step page: label, kind, stage and map; who does the step and what it costs
(edited by editors and owners); problems flagged at it."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass.tests.utils import HTMX
from systemmaps import selectors, services
from systemmaps.models import (
    STEP_DETAIL_FIELDS,
    ChecklistItem,
    ChecklistRun,
    Node,
    StepFlag,
)

from .factories import make_map
from .utils import main_html, membership, step, step_url, text_of


def details_snapshot(node: Node) -> dict:
    return Node.objects.filter(pk=node.pk).values(*STEP_DETAIL_FIELDS).get()


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------


def test_step_page_shows_label_kind_stage_map_and_notes(alice_client, webinar_map):
    node = step(webinar_map, "booked")
    Node.objects.filter(pk=node.pk).update(notes="Ask on the call.\nNo pressure.")

    response = alice_client.get(step_url(node))

    assert response.status_code == 200
    html = main_html(response)
    assert "Booked a consultation?" in html
    assert "Decision" in html
    assert "Stage: Try" in html
    assert f'href="{webinar_map.get_absolute_url()}"' in html
    edit_url = reverse(
        "systemmaps:map-edit", kwargs={"slug": "acme", "pk": webinar_map.pk}
    )
    assert f'href="{edit_url}"' in html
    assert "Open in editor" in html
    assert "Ask on the call.<br>No pressure." in html


def test_node_absolute_url_is_the_step_page(alice_client, nurture):
    assert nurture.get_absolute_url() == (
        f"/b/acme/maps/{nurture.map_id}/steps/nurture/"
    )


def test_terminus_has_no_step_page(alice_client, webinar_map):
    assert alice_client.get(step_url(step(webinar_map, "start"))).status_code == 404


def test_unknown_step_is_404(alice_client, webinar_map):
    url = reverse(
        "systemmaps:step-detail",
        kwargs={"slug": "acme", "pk": webinar_map.pk, "node": "nope"},
    )
    assert alice_client.get(url).status_code == 404


def test_step_of_a_deleted_map_is_404(alice_client, alice, webinar_map, nurture):
    services.map_delete(system_map=webinar_map, acting_user=alice)
    assert alice_client.get(step_url(nurture)).status_code == 404


def test_outsider_gets_404(charlie_client, nurture):
    assert charlie_client.get(step_url(nurture)).status_code == 404


def test_step_of_another_business_is_404_under_my_slug(alice_client, other_map):
    # Charlie's map id under alice's business.
    url = reverse(
        "systemmaps:step-detail",
        kwargs={"slug": "acme", "pk": other_map.pk, "node": "nurture"},
    )
    assert alice_client.get(url).status_code == 404


def test_member_sees_the_details_read_only(bob_client, nurture):
    html = main_html(bob_client.get(step_url(nurture)))

    assert "Who does it, and its cost" in html
    assert 'data-testid="step-details-form"' not in html
    assert step_url(nurture, "step-details") not in html


def test_editor_gets_the_details_form(client_for, erin, nurture):
    html = main_html(client_for(erin).get(step_url(nurture)))

    assert 'data-testid="step-details-form"' in html
    form = re.search(r'<form[^>]*data-testid="step-details-form"[^>]*>', html).group()
    assert f'action="{step_url(nurture, "step-details")}"' in form
    assert f'hx-post="{step_url(nurture, "step-details")}"' in form
    assert 'hx-target="#details"' in form


# ---------------------------------------------------------------------------
# Details and annual cost
# ---------------------------------------------------------------------------


def test_annual_cost_with_the_owners_rate_and_the_formula(
    alice_client, nurture, bob, acme
):
    owner = membership(bob, acme)
    owner.hourly_rate = Decimal(40)
    owner.save()
    services.step_update(
        node=nurture,
        owner=owner,
        minutes_per_run=Decimal(30),
        runs_per_month=Decimal(20),
        critical=True,
        automation="could",
        automation_tool="Zapier",
    )

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "Owner BB Bob Baker" in html
    assert "Critical step ★ Yes" in html
    assert "Could be automated · tool: Zapier" in html
    assert "Time per run 30 min" in html
    assert "Runs per month 20" in html
    assert "€40 (Bob Baker's hourly rate)" in html.replace("&#x27;", "'")
    assert "Annual cost €4,800" in html
    # The figures shown multiply to the total: 120 h × €40 = €4,800.
    assert (
        "30 min per run × 20 runs a month × 12 months = 120 hours a year, "
        "× €40 an hour" in html
    )


def test_annual_cost_with_an_override_says_so(alice_client, nurture, bob, acme):
    owner = membership(bob, acme)
    owner.hourly_rate = Decimal(40)
    owner.save()
    services.step_update(
        node=nurture,
        owner=owner,
        minutes_per_run=Decimal(45),
        runs_per_month=Decimal(4),
        hourly_cost=Decimal("62.50"),
    )

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "€62.50 (set for this step, instead of the owner's rate)" in html.replace(
        "&#x27;", "'"
    )
    # 45 min × 4 × 12 = 36 h; 36 h × €62.50 = €2,250
    assert "Annual cost €2,250" in html
    assert (
        "45 min per run × 4 runs a month × 12 months = 36 hours a year, "
        "× €62.50 an hour" in html
    )


def test_annual_cost_uses_the_business_currency(alice_client, acme, nurture):
    acme.currency = "CHF"
    acme.save()
    services.step_update(
        node=nurture,
        minutes_per_run=Decimal(60),
        runs_per_month=Decimal(1),
        hourly_cost=Decimal("100.5"),
    )

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "Annual cost CHF 1,206" in html  # a no-break space


def test_zero_minutes_is_a_cost_of_zero_not_missing(alice_client, nurture):
    services.step_update(
        node=nurture,
        minutes_per_run=Decimal(0),
        runs_per_month=Decimal(100),
        hourly_cost=Decimal(50),
    )

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "Annual cost €0" in html
    assert "Not known yet" not in html


@pytest.mark.parametrize(
    "details, missing",
    [
        (
            {"runs_per_month": Decimal(3), "hourly_cost": Decimal(10)},
            "it needs the time per run.",
        ),
        (
            {"minutes_per_run": Decimal(3), "hourly_cost": Decimal(10)},
            "it needs the runs per month.",
        ),
        (
            {"minutes_per_run": Decimal(3), "runs_per_month": Decimal(3)},
            "it needs an hourly cost (or an owner with an hourly rate).",
        ),
        (
            {},
            "it needs the time per run, the runs per month and an hourly cost",
        ),
    ],
    ids=["minutes", "runs", "rate", "all"],
)
def test_missing_figure_shows_a_dash_and_names_it(
    alice_client, nurture, details, missing
):
    services.step_update(node=nurture, **details)

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "Annual cost — Not known yet: " + missing in html


def test_missing_rate_names_the_owner_without_one(alice_client, nurture, bob, acme):
    services.step_update(
        node=nurture,
        owner=membership(bob, acme),
        minutes_per_run=Decimal(3),
        runs_per_month=Decimal(3),
    )

    html = text_of(main_html(alice_client.get(step_url(nurture))))

    assert "it needs an hourly cost (Bob Baker has no hourly rate)." in html


DETAILS = {
    "owner": "",
    "critical": "on",
    "automation": "manual",
    "automation_tool": "",
    "minutes_per_run": "15",
    "runs_per_month": "40",
    "hourly_cost": "30",
}


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_owner_saves_the_details(alice_client, nurture, bob, acme, htmx):
    bob_membership = membership(bob, acme)
    data = {**DETAILS, "owner": str(bob_membership.pk)}

    response = alice_client.post(
        step_url(nurture, "step-details"), data, headers=HTMX if htmx else {}
    )

    saved = details_snapshot(nurture)
    assert saved == {
        "owner": bob_membership.pk,
        "critical": True,
        "automation": "manual",
        "automation_tool": "",
        "minutes_per_run": Decimal(15),
        "runs_per_month": Decimal(40),
        "hourly_cost": Decimal(30),
    }
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<section class="card step-details"')
        # 0.25 h × 40 × 30 × 12 = 3,600
        assert "€3,600" in html
        assert "Saved" in html
    else:
        assert response.status_code == 302
        assert response["Location"] == step_url(nurture) + "#details"


def test_editor_saves_the_details(client_for, erin, nurture):
    response = client_for(erin).post(
        step_url(nurture, "step-details"), DETAILS, headers=HTMX
    )

    assert response.status_code == 200
    assert details_snapshot(nurture)["minutes_per_run"] == Decimal(15)


def test_emptying_the_hourly_cost_falls_back_to_the_owners_rate(
    alice_client, nurture, bob, acme
):
    owner = membership(bob, acme)
    owner.hourly_rate = Decimal(20)
    owner.save()
    services.step_update(node=nurture, owner=owner, hourly_cost=Decimal(99))

    response = alice_client.post(
        step_url(nurture, "step-details"),
        {**DETAILS, "owner": str(owner.pk), "hourly_cost": ""},
        headers=HTMX,
    )

    assert details_snapshot(nurture)["hourly_cost"] is None
    # 0.25 h × 40 × 20 × 12 = 2,400, at bob's rate
    html = text_of(response.content.decode()).replace("&#x27;", "'")
    assert "€20 (Bob Baker's hourly rate)" in html
    assert "€2,400" in html


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_member_cannot_save_details_even_of_a_step_he_owns(
    client_for, bob, bobs_step, htmx
):
    before = details_snapshot(bobs_step)

    response = client_for(bob).post(
        step_url(bobs_step, "step-details"), DETAILS, headers=HTMX if htmx else {}
    )

    assert response.status_code == 403
    assert details_snapshot(bobs_step) == before


def test_outsider_cannot_save_details(charlie_client, nurture):
    before = details_snapshot(nurture)

    response = charlie_client.post(step_url(nurture, "step-details"), DETAILS)

    assert response.status_code == 404
    assert details_snapshot(nurture) == before


def test_the_costs_are_typed_and_shown_the_local_way(alice_client, alice, nurture):
    alice.language = "fr"
    alice.save(update_fields=["language"])
    data = {
        **DETAILS,
        "minutes_per_run": "7,5",
        "runs_per_month": "1 200",
        "hourly_cost": "32,50",
    }

    response = alice_client.post(step_url(nurture, "step-details"), data, headers=HTMX)

    assert response.status_code == 200
    saved = details_snapshot(nurture)
    assert (
        saved["minutes_per_run"],
        saved["runs_per_month"],
        saved["hourly_cost"],
    ) == (Decimal("7.5"), Decimal(1200), Decimal("32.5"))
    html = response.content.decode()
    # 7.5 min × 1200 × 12 ÷ 60 = 1800 h a year, × 32.50 = 58 500 €
    assert "58\u00a0500\u00a0€" in html
    # The fields show the saved figures to be typed again, the French way.
    assert 'value="7,5"' in html and 'value="32,5"' in html


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("minutes_per_run", "-5", "Ensure this value is greater than or equal to 0."),
        ("runs_per_month", "lots", "Runs per month: “lots” is not a number."),
        ("automation", "robots", "Select a valid choice."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_details_are_422_naming_the_field_and_save_nothing(
    alice_client, nurture, field, value, message, htmx
):
    before = details_snapshot(nurture)

    response = alice_client.post(
        step_url(nurture, "step-details"),
        {**DETAILS, field: value},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    assert details_snapshot(nurture) == before
    html = response.content.decode()
    invalid = re.search(
        rf'<div class="field field-invalid">(?:(?!<div class="field).)*name="{field}"',
        html,
        re.S,
    )
    assert invalid, f"{field} is not marked invalid"
    assert message in invalid.group()
    assert ("<html" in html) is not htmx
    # The figures shown are the saved ones, not the refused input.
    assert "Not known yet" in html


def test_owner_from_another_business_is_refused(
    alice_client, nurture, charlie, other_co
):
    before = details_snapshot(nurture)
    outsider = membership(charlie, other_co)

    response = alice_client.post(
        step_url(nurture, "step-details"),
        {**DETAILS, "owner": str(outsider.pk)},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "Pick a member of this business as the owner." in response.content.decode()
    assert details_snapshot(nurture) == before


def test_details_need_post(alice_client, nurture):
    assert alice_client.get(step_url(nurture, "step-details")).status_code == 405


# ---------------------------------------------------------------------------
# Flagged problems
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_any_member_flags_a_problem(client_for, bob, nurture, htmx):
    response = client_for(bob).post(
        step_url(nurture, "step-flag-add"),
        {"text": "The nurture emails link to an old price list."},
        headers=HTMX if htmx else {},
    )

    flag = StepFlag.objects.get(node=nurture)
    assert flag.text == "The nurture emails link to an old price list."
    assert flag.created_by == bob
    assert flag.resolved_at is None
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card step-flags"')
        assert "old price list" in html
        assert "flagged by Bob Baker" in html
        # Bob does not own the step: he flags but may not resolve.
        assert 'data-action="resolve"' not in html
    else:
        assert response.status_code == 302
        assert response["Location"] == step_url(nurture) + "#flags"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_empty_flag_is_422_naming_the_field(alice_client, nurture, htmx):
    response = alice_client.post(
        step_url(nurture, "step-flag-add"),
        {"text": "   "},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Describe the problem." in html
    assert 'name="text"' in html
    assert not StepFlag.objects.exists()


def test_outsider_cannot_flag(charlie_client, nurture):
    response = charlie_client.post(step_url(nurture, "step-flag-add"), {"text": "x"})

    assert response.status_code == 404
    assert not StepFlag.objects.exists()


def test_open_flags_show_on_the_page_resolved_ones_do_not(
    alice_client, alice, bob, nurture
):
    services.flag_add(node=nurture, acting_user=bob, text="Open one")
    done = services.flag_add(node=nurture, acting_user=bob, text="Fixed one")
    services.flag_resolve(flag=done, acting_user=alice)

    html = main_html(alice_client.get(step_url(nurture)))

    assert "Open one" in html
    assert "Fixed one" not in html


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_owner_resolves_a_flag(alice_client, alice, bob, nurture, htmx):
    flag = services.flag_add(node=nurture, acting_user=bob, text="Broken link")

    response = alice_client.post(
        step_url(nurture, "step-flag-resolve", flag=flag.pk),
        headers=HTMX if htmx else {},
    )

    flag.refresh_from_db()
    assert flag.resolved_at is not None
    assert flag.resolved_by == alice
    if htmx:
        assert response.status_code == 200
        assert "Broken link" not in response.content.decode()
        assert "No open problems." in response.content.decode()
    else:
        assert response.status_code == 302


def test_member_resolves_a_flag_on_a_step_he_owns(client_for, bob, alice, bobs_step):
    flag = services.flag_add(node=bobs_step, acting_user=alice, text="Script outdated")

    response = client_for(bob).post(
        step_url(bobs_step, "step-flag-resolve", flag=flag.pk), headers=HTMX
    )

    assert response.status_code == 200
    flag.refresh_from_db()
    assert flag.resolved_by == bob


def test_member_cannot_resolve_a_flag_on_a_step_he_does_not_own(
    client_for, bob, alice, nurture
):
    flag = services.flag_add(node=nurture, acting_user=alice, text="Broken link")

    response = client_for(bob).post(
        step_url(nurture, "step-flag-resolve", flag=flag.pk), headers=HTMX
    )

    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_outsider_cannot_resolve(charlie_client, alice, nurture):
    flag = services.flag_add(node=nurture, acting_user=alice, text="Broken link")

    response = charlie_client.post(step_url(nurture, "step-flag-resolve", flag=flag.pk))

    assert response.status_code == 404
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_flag_of_another_step_is_404(alice_client, alice, webinar_map, nurture):
    other = services.flag_add(
        node=step(webinar_map, "call"), acting_user=alice, text="x"
    )

    response = alice_client.post(step_url(nurture, "step-flag-resolve", flag=other.pk))

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.resolved_at is None


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


def _fill(node: Node, user, *, items: int, runs: int, flags: int) -> None:
    for n in range(items):
        services.checklist_item_add(node=node, text=f"Item {n}")
    first = node.checklist_items.first()
    for n in range(runs):
        run = services.run_start(node=node, acting_user=user, subject=f"Client {n}")
        services.run_tick(run=run, item=first, ticked=True, acting_user=user)
        if n % 2:
            services.run_finish(run=run)
    for n in range(flags):
        services.flag_add(node=node, acting_user=user, text=f"Problem {n}")


def _page_queries(client, node) -> int:
    url = step_url(node)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_step_page_queries_do_not_grow_with_runs_items_and_flags(
    client_for, alice, acme, bob, django_assert_max_num_queries
):
    small = make_map(acme, alice, "Small")
    large = make_map(acme, alice, "Large")
    owner = membership(bob, acme)
    for system_map, size in ((small, 2), (large, 30)):
        node = step(system_map, "nurture")
        services.step_update(node=node, owner=owner, hourly_cost=Decimal(10))
        _fill(node, alice, items=size, runs=size, flags=size)
    client = client_for(alice)
    client.get(step_url(step(small, "nurture")))  # session and business settle

    few = _page_queries(client, step(small, "nurture"))
    large_url = step_url(step(large, "nurture"))
    with django_assert_max_num_queries(few):
        response = client.get(large_url)

    assert response.status_code == 200
    assert ChecklistItem.objects.filter(node__map=large).count() == 30
    assert ChecklistRun.objects.filter(node__map=large).count() == 30
    html = main_html(response)
    assert "Item 29" in html
    assert "Problem 29" in html
    assert "… and 5 older runs." in html


@pytest.mark.parametrize(
    ("minutes", "runs", "rate"),
    [("5", "40", "18.50"), ("7", "13", "33"), ("2.25", "3.5", "41.10")],
)
def test_the_cost_formula_shown_multiplies_to_the_total(
    alice_client, nurture, minutes, runs, rate
):
    services.step_update(
        node=nurture,
        minutes_per_run=Decimal(minutes),
        runs_per_month=Decimal(runs),
        hourly_cost=Decimal(rate),
    )
    html = text_of(main_html(alice_client.get(step_url(nurture)))).replace(",", "")
    shown = re.search(
        r"([\d.]+) min per run × ([\d.]+) runs a month × 12 months = ([\d.]+) hours "
        r"a year × €([\d.]+) an hour",
        html,
    )
    assert shown, html
    m, r, hours, hourly = (Decimal(g) for g in shown.groups())
    assert m * r * 12 / 60 == hours
    total = Decimal(re.search(r"Annual cost €([\d.]+)", html).group(1))
    assert (hours * hourly).quantize(Decimal("0.01")) == total.quantize(Decimal("0.01"))


def test_a_two_line_label_shows_on_two_lines_on_every_page(
    alice_client, alice, acme, webinar_map
):
    graph = selectors.graph_of(webinar_map)
    for shape in graph["nodes"]:
        if shape["id"] == "nurture":
            shape["label"] = "Bake and decorate\n(day before)"
    services.map_save_graph(
        system_map=webinar_map, graph=graph, acting_user=alice, expected_version=1
    )
    nurture = step(webinar_map, "nurture")
    services.step_update(node=nurture, owner=membership(alice, acme))
    two_lines = '<span class="lines">Bake and decorate\n(day before)</span>'
    walk = reverse("systemmaps:map-walk", kwargs={"slug": "acme", "pk": webinar_map.pk})

    pages = {
        "step page": step_url(nurture),
        "walk": f"{walk}?path=start,nurture",
        "my steps": reverse("systemmaps:my-steps", kwargs={"slug": "acme"}),
    }
    for page, url in pages.items():
        html = alice_client.get(url).content.decode()
        # Kept as typed; the class shows the break (white-space: pre-line).
        assert two_lines in html, page
