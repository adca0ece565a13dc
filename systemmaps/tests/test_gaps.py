"""The gap report: each rule on plain data, then the per-map and business pages."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hourglass.models import Membership
from systemmaps import gaps, services
from systemmaps.graph import lint
from systemmaps.models import ChecklistItem, Node, StepFlag
from systemmaps.tests.factories import chain_graph, make_map, webinar_graph
from systemmaps.tests.utils import step

TODAY = date(2025, 6, 30)


def node(node_id, kind="task", label=None, **facts):
    return {"id": node_id, "kind": kind, "label": label or node_id.title(), **facts}


def edge(edge_id, source, target, label=None):
    return {"id": edge_id, "source": source, "target": target, "label": label}


def rules_nodes(gap_list):
    return [(g.rule, g.node) for g in gap_list]


# ---------------------------------------------------------------------------
# Steps without an owner
# ---------------------------------------------------------------------------


def test_steps_without_owner_lists_tasks_and_decisions_nobody_owns():
    nodes = [
        node("start", "terminus"),
        node("call", owner=None),
        node("signed", "decision"),
        node("proposal", owner=7),
        node("stop", "terminus"),
    ]

    found = gaps.steps_without_owner(nodes)

    assert rules_nodes(found) == [(gaps.NO_OWNER, "call"), (gaps.NO_OWNER, "signed")]
    assert "“Call”" in found[0].message


# ---------------------------------------------------------------------------
# Critical steps without a checklist
# ---------------------------------------------------------------------------


def test_critical_step_without_checklist_is_a_gap_and_one_with_items_is_not():
    nodes = [
        node("call", critical=True, checklist_items=0),
        node("proposal", critical=True, checklist_items=3),
        node("nurture", critical=False, checklist_items=0),
        node("signed", "decision", critical=True),
    ]

    found = gaps.critical_without_checklist(nodes)

    assert [g.node for g in found] == ["call", "signed"]
    assert found[0].message == "“Call” is critical but has no checklist."


# ---------------------------------------------------------------------------
# Checklists not reviewed for 90 days
# ---------------------------------------------------------------------------


def test_checklist_never_reviewed_is_stale_with_its_own_wording():
    found = gaps.stale_checklists(
        [node("call", checklist_items=2, sop_reviewed_on=None)], today=TODAY
    )

    assert [g.node for g in found] == ["call"]
    assert "never been reviewed" in found[0].message


def test_checklist_reviewed_90_days_ago_is_stale_and_89_days_ago_is_not():
    nodes = [
        node("old", checklist_items=1, sop_reviewed_on=TODAY - timedelta(days=90)),
        node("fresh", checklist_items=1, sop_reviewed_on=TODAY - timedelta(days=89)),
    ]

    found = gaps.stale_checklists(nodes, today=TODAY)

    assert [g.node for g in found] == ["old"]
    assert "90 days ago" in found[0].message
    assert "never" not in found[0].message


def test_step_without_checklist_items_has_no_checklist_to_review():
    found = gaps.stale_checklists(
        [node("call", checklist_items=0, sop_reviewed_on=None)], today=TODAY
    )

    assert found == []


# ---------------------------------------------------------------------------
# Decisions without labelled branches
# ---------------------------------------------------------------------------


def test_decision_with_one_arrow_out_lacks_branches():
    nodes = [node("booked", "decision"), node("call")]
    edges = [edge("e1", "booked", "call", "yes")]

    found = gaps.decisions_without_labelled_branches(nodes, edges)

    assert rules_nodes(found) == [(gaps.DECISION_UNLABELLED, "booked")]
    assert "1 arrow out" in found[0].message


def test_decision_with_an_unlabelled_or_blank_arrow_is_a_gap():
    nodes = [node("booked", "decision"), node("call"), node("downsell")]
    edges = [
        edge("e1", "booked", "call", "yes"),
        edge("e2", "booked", "downsell", "  "),
    ]

    found = gaps.decisions_without_labelled_branches(nodes, edges)

    assert [g.node for g in found] == ["booked"]
    assert "1 arrow out of “Booked” has no label." == found[0].message


def test_decision_with_every_branch_labelled_is_fine():
    nodes = [node("booked", "decision"), node("call"), node("downsell")]
    edges = [
        edge("e1", "booked", "call", "yes"),
        edge("e2", "booked", "downsell", "no"),
    ]

    assert gaps.decisions_without_labelled_branches(nodes, edges) == []


def test_decision_without_arrows_and_tasks_are_judged_apart():
    nodes = [node("lonely", "decision"), node("task")]

    found = gaps.decisions_without_labelled_branches(nodes, [])

    assert [g.node for g in found] == ["lonely"]
    assert "0 arrows out" in found[0].message


# ---------------------------------------------------------------------------
# Unreachable steps and dead ends (from the lint)
# ---------------------------------------------------------------------------


def flow_nodes():
    return [
        node("start", "terminus"),
        node("a"),
        node("orphan"),
        node("stuck"),
        node("stop", "terminus"),
    ]


def test_unreachable_step_and_dead_end_come_from_the_lint_with_its_words():
    nodes = flow_nodes()
    edges = [
        edge("e1", "start", "a"),
        edge("e2", "a", "stop"),
        edge("e3", "orphan", "a"),
        edge("e4", "a", "stuck"),
    ]

    found = gaps.flow_gaps(nodes, edges)

    assert [g.node for g in found[gaps.UNREACHABLE]] == ["orphan"]
    assert [g.node for g in found[gaps.DEAD_END]] == ["stuck"]
    lint_messages = {f.message for f in lint(nodes, edges)}
    assert found[gaps.UNREACHABLE][0].message in lint_messages
    assert found[gaps.DEAD_END][0].message in lint_messages
    assert all(g.in_editor for g in found[gaps.UNREACHABLE] + found[gaps.DEAD_END])


def test_map_without_start_or_stop_reports_it_as_unreachable_and_dead_end():
    nodes = [node("a"), node("b")]
    edges = [edge("e1", "a", "b")]

    found = gaps.flow_gaps(nodes, edges)

    assert "no start" in found[gaps.UNREACHABLE][0].message
    assert "no stop" in found[gaps.DEAD_END][0].message


def test_empty_map_has_no_flow_gaps():
    assert gaps.flow_gaps([], []) == {gaps.UNREACHABLE: [], gaps.DEAD_END: []}


def test_webinar_system_flows_without_gaps():
    graph = webinar_graph()

    found = gaps.flow_gaps(graph["nodes"], graph["edges"])

    assert found == {gaps.UNREACHABLE: [], gaps.DEAD_END: []}
    assert (
        gaps.decisions_without_labelled_branches(graph["nodes"], graph["edges"]) == []
    )


# ---------------------------------------------------------------------------
# Open problems flagged
# ---------------------------------------------------------------------------


def test_each_open_flag_is_a_gap_quoting_the_problem():
    when = timezone.make_aware(timezone.datetime(2025, 6, 1, 9))
    nodes = [
        node(
            "call",
            open_flags=[
                {"text": "Nobody calls back", "by": "Bob Baker", "created_at": when},
                {"text": "No script", "by": None, "created_at": when},
            ],
        ),
        node("proposal", open_flags=[]),
    ]

    found = gaps.open_flags(nodes)

    assert [(g.node, g.quote) for g in found] == [
        ("call", "Nobody calls back"),
        ("call", "No script"),
    ]
    assert "Bob Baker" in found[0].note
    assert "someone" in found[1].note
    assert not found[0].in_editor


# ---------------------------------------------------------------------------
# Critical steps without a metric (a hook for the metrics issue)
# ---------------------------------------------------------------------------


def test_metric_rule_finds_nothing_until_metrics_exist():
    nodes = [node("call", critical=True)]

    assert gaps.critical_without_metric(nodes) == []


def test_metric_rule_lists_critical_steps_nobody_measures():
    nodes = [node("call", critical=True), node("proposal", critical=True), node("x")]

    found = gaps.critical_without_metric(nodes, measured={"proposal"})

    assert rules_nodes(found) == [(gaps.CRITICAL_NO_METRIC, "call")]


def test_report_shows_the_metric_section_only_once_metrics_exist():
    nodes = [node("call", critical=True, owner=1, checklist_items=1)]

    without = gaps.report(nodes, [], today=TODAY)
    measured = gaps.report(nodes, [], today=TODAY, measured=set())

    assert gaps.CRITICAL_NO_METRIC not in [s.rule for s in without.sections]
    section = next(s for s in measured.sections if s.rule == gaps.CRITICAL_NO_METRIC)
    assert [g.node for g in section.gaps] == ["call"]


# ---------------------------------------------------------------------------
# Automation candidates
# ---------------------------------------------------------------------------


def test_manual_steps_are_ranked_by_annual_cost_dearest_first():
    nodes = [
        node("cheap", automation="manual", annual_cost=Decimal("120")),
        node("dear", automation="could", annual_cost=Decimal("9000")),
        node("done", automation="automated", annual_cost=Decimal("50000")),
        node("unknown", automation="manual", annual_cost=None),
        node("free", automation="manual", annual_cost=Decimal("0")),
        node("start", "terminus"),
    ]

    candidates, without_cost = gaps.automation_candidates(nodes)

    assert [(g.node, g.amount) for g in candidates] == [
        ("dear", Decimal("9000")),
        ("cheap", Decimal("120")),
    ]
    assert candidates[0].note == "could be automated"
    assert candidates[1].note == ""
    assert without_cost == 1


# ---------------------------------------------------------------------------
# The whole report of one map
# ---------------------------------------------------------------------------


def test_report_lists_every_rule_in_order_and_counts_gaps():
    graph = webinar_graph()
    for n in graph["nodes"]:
        n["owner"] = 1 if n["id"] != "call" else None

    result = gaps.report(graph["nodes"], graph["edges"], today=TODAY)

    assert [s.rule for s in result.sections] == [
        gaps.NO_OWNER,
        gaps.CRITICAL_NO_CHECKLIST,
        gaps.STALE_CHECKLIST,
        gaps.DECISION_UNLABELLED,
        gaps.UNREACHABLE,
        gaps.DEAD_END,
        gaps.OPEN_FLAG,
    ]
    assert result.gap_count == 1
    assert [(s.rule, n) for s, n in result.counts] == [(gaps.NO_OWNER, 1)]
    assert result.candidates_without_cost == 6


# ---------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------


def map_gaps_url(system_map):
    return reverse(
        "systemmaps:map-gaps",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )


def gaps_url(business):
    return reverse("systemmaps:gaps", kwargs={"slug": business.slug})


def simple_graph(name="Simple"):
    """start → one task → stop: no gaps once the task has an owner."""
    return {
        "schema_version": 1,
        "name": name,
        "nodes": [
            {"id": "s", "kind": "terminus", "label": "Start", "x": 0, "y": 0},
            {"id": "t", "kind": "task", "label": "Do it", "x": 200, "y": 0},
            {"id": "e", "kind": "terminus", "label": "Done", "x": 400, "y": 0},
        ],
        "edges": [
            {"id": "e1", "source": "s", "target": "t", "label": None},
            {"id": "e2", "source": "t", "target": "e", "label": None},
        ],
    }


def clean_map(business, user, name="Clean"):
    system_map = make_map(business, user, name, graph=simple_graph(name))
    owner = Membership.objects.get(business=business, user=user)
    Node.objects.filter(map=system_map, kind="task").update(owner=owner)
    return system_map


def test_map_gap_report_lists_unowned_steps_with_links_to_their_pages(
    alice_client, webinar_map
):
    response = alice_client.get(map_gaps_url(webinar_map))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Steps without an owner" in html
    assert "Nobody owns “Consultation call”." in html
    call_url = reverse(
        "systemmaps:step-detail",
        kwargs={"slug": "acme", "pk": webinar_map.pk, "node": "call"},
    )
    assert f'href="{call_url}"' in html
    assert 'data-testid="gap-summary"' in html


def test_map_gap_report_shows_flags_checklists_and_candidates(
    alice_client, webinar_map, alice, bob
):
    call = step(webinar_map, "call")
    services.step_update(
        node=call,
        critical=True,
        minutes_per_run=Decimal(60),
        runs_per_month=Decimal(10),
        hourly_cost=Decimal(50),
    )
    proposal = step(webinar_map, "proposal")
    ChecklistItem.objects.create(node=proposal, text="Price it", position=0)
    services.sop_update(node=proposal, why="", reviewed_on=date(2020, 1, 1))
    services.flag_add(node=proposal, acting_user=bob, text="The template is outdated")
    resolved = services.flag_add(node=call, acting_user=bob, text="Fixed already")
    services.flag_resolve(flag=resolved, acting_user=alice)

    html = alice_client.get(map_gaps_url(webinar_map)).content.decode()

    assert "“Consultation call” is critical but has no checklist." in html
    assert "The checklist of “Proposal sent” was last reviewed on" in html
    assert "The template is outdated" in html
    assert "Fixed already" not in html
    # 60 min × 10 runs × 50 × 12 = 6,000 a year.
    assert "€6,000" in html
    assert "5 more manual steps have no cost figures" in html


def test_flow_gaps_link_to_the_editor(alice_client, acme, alice):
    graph = webinar_graph("Broken")
    graph["edges"] = [e for e in graph["edges"] if e["id"] != "e9"]
    broken = make_map(acme, alice, "Broken", graph=graph)

    html = alice_client.get(map_gaps_url(broken)).content.decode()

    assert "Decisions without labelled branches" in html
    editor_url = reverse(
        "systemmaps:map-edit", kwargs={"slug": "acme", "pk": broken.pk}
    )
    assert f'href="{editor_url}"' in html
    assert "has 1 arrow out" in html


def test_clean_map_says_it_has_no_gaps(alice_client, acme, alice):
    system_map = clean_map(acme, alice)

    html = alice_client.get(map_gaps_url(system_map)).content.decode()

    assert "No gaps in this map." in html


@pytest.mark.parametrize("name", ["map-gaps", "gaps"])
def test_member_reads_the_gap_reports(client_for, bob, webinar_map, name):
    url = (
        map_gaps_url(webinar_map)
        if name == "map-gaps"
        else gaps_url(webinar_map.business)
    )

    response = client_for(bob).get(url)

    assert response.status_code == 200


@pytest.mark.parametrize("name", ["map-gaps", "gaps"])
def test_outsider_gets_404_on_the_gap_reports(
    client_for, charlie, other_co, webinar_map, name
):
    url = (
        map_gaps_url(webinar_map)
        if name == "map-gaps"
        else gaps_url(webinar_map.business)
    )

    response = client_for(charlie).get(url)

    assert response.status_code == 404


def test_gap_report_of_another_business_map_is_404(alice_client, other_map, acme):
    url = reverse("systemmaps:map-gaps", kwargs={"slug": "acme", "pk": other_map.pk})

    assert alice_client.get(url).status_code == 404


def test_gap_report_of_a_deleted_map_is_404(alice_client, webinar_map, alice):
    services.map_delete(system_map=webinar_map, acting_user=alice)

    assert alice_client.get(map_gaps_url(webinar_map)).status_code == 404


def test_gap_reports_refuse_posts(alice_client, webinar_map):
    assert alice_client.post(map_gaps_url(webinar_map)).status_code == 405
    assert alice_client.post(gaps_url(webinar_map.business)).status_code == 405


def test_business_report_groups_by_map_with_counts_and_clean_maps_say_so(
    alice_client, acme, alice, webinar_map
):
    clean_map(acme, alice, "Clean system")

    response = alice_client.get(gaps_url(acme))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="gap-map"') == 2
    assert "Steps without an owner: <strong>6</strong>" in html
    assert 'data-testid="map-clean"' in html
    assert html.index("Clean system") < html.index("Webinar to client")


def test_business_report_ranks_candidates_across_maps(alice_client, acme, alice):
    first = make_map(acme, alice, "First")
    second = make_map(acme, alice, "Second")
    services.step_update(
        node=step(first, "call"),
        minutes_per_run=Decimal(30),
        runs_per_month=Decimal(4),
        hourly_cost=Decimal(50),
    )
    services.step_update(
        node=step(second, "proposal"),
        minutes_per_run=Decimal(60),
        runs_per_month=Decimal(20),
        hourly_cost=Decimal(50),
    )

    html = alice_client.get(gaps_url(acme)).content.decode()

    candidates = html[html.index('data-testid="candidates"') :]
    assert candidates.index("€12,000") < candidates.index("€1,200")
    assert "in Second" in candidates


def test_business_report_without_maps_says_so(alice_client, acme):
    html = alice_client.get(gaps_url(acme)).content.decode()

    assert 'data-testid="no-maps"' in html


def _fill(business, user, count):
    for index in range(count):
        system_map = make_map(business, user, f"Map {index}")
        call = step(system_map, "call")
        ChecklistItem.objects.create(node=call, text="Dial", position=0)
        StepFlag.objects.create(node=call, text="Slow", created_by=user)


def test_business_report_queries_stay_flat_from_2_to_20_maps(
    client_for, alice, acme, django_assert_max_num_queries
):
    client = client_for(alice)
    _fill(acme, alice, 2)
    client.get(gaps_url(acme))  # the session settles

    with CaptureQueriesContext(connection) as small:
        client.get(gaps_url(acme))
    _fill(acme, alice, 18)

    with django_assert_max_num_queries(len(small)):
        response = client.get(gaps_url(acme))

    assert response.content.decode().count('data-testid="gap-map"') == 20


def test_messages_about_unnamed_steps_start_with_a_capital():
    critical = gaps.critical_without_checklist([node("x", label=" ", critical=True)])
    assert critical[0].message == "An unnamed task is critical but has no checklist."


def test_map_report_queries_stay_flat_from_5_to_200_steps(
    client_for, alice, acme, django_assert_max_num_queries
):
    client = client_for(alice)
    small_map = make_map(acme, alice, "Small", graph=chain_graph("Small", 5))
    large_map = make_map(acme, alice, "Large", graph=chain_graph("Large", 200))
    for system_map in (small_map, large_map):
        for node_row in Node.objects.filter(map=system_map, kind="task"):
            ChecklistItem.objects.create(node=node_row, text="Do", position=0)
            StepFlag.objects.create(node=node_row, text="Slow", created_by=alice)
    client.get(map_gaps_url(small_map))  # the session settles
    with CaptureQueriesContext(connection) as small:
        client.get(map_gaps_url(small_map))

    with django_assert_max_num_queries(len(small)):
        response = client.get(map_gaps_url(large_map))

    assert response.content.decode().count("The checklist of “Task") == 200
