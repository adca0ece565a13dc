"""The walkthrough: the pure walk logic on plain graphs, then the pages."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass.models import Membership
from systemmaps import document, services
from systemmaps.models import Node, StepFlag
from systemmaps.walk import (
    MAX_PATH,
    Choice,
    InvalidPath,
    Walk,
    format_path,
    parse_path,
    path_cost,
)

from .factories import make_map, webinar_graph

# Through the "yes" branches, and the "no" branch of the first decision.
TO_ONBOARD = ["start", "nurture", "booked", "call", "proposal", "signed", "onboard"]
TO_BUCKET = ["start", "nurture", "booked", "downsell", "bucket"]
# Round the nurture loop once: "Signed?" no leads back to the campaign.
ROUND_THE_LOOP = [
    "start",
    "nurture",
    "booked",
    "call",
    "proposal",
    "signed",
    "nurture",
    "booked",
]


def webinar_walk() -> Walk:
    graph = webinar_graph()
    return Walk(graph["nodes"], graph["edges"])


def node(node_id, kind="task", label=None):
    return {"id": node_id, "kind": kind, "label": label or node_id}


def edge(edge_id, source, target, label=None):
    return {"id": edge_id, "source": source, "target": target, "label": label}


# ---------------------------------------------------------------------------
# Pure logic
# ---------------------------------------------------------------------------


def test_the_webinar_system_starts_at_the_webinar_and_stops_at_two_ends():
    walk = webinar_walk()
    assert walk.starts == ["start"]
    assert walk.stops == {"bucket", "onboard"}
    assert walk.is_stop("onboard")
    assert not walk.is_stop("start")
    assert not walk.is_stop("nurture")


def test_a_decision_offers_each_labelled_arrow_in_arrow_order():
    walk = webinar_walk()
    assert walk.choices("booked") == [
        Choice(edge="e3", label="no", target="downsell"),
        Choice(edge="e5", label="yes", target="call"),
    ]
    assert walk.choices("nurture") == [Choice(edge="e2", label="", target="booked")]
    assert walk.choices("onboard") == []
    assert walk.choices("not-there") == []


def test_two_arrows_to_the_same_step_are_one_way_on():
    walk = Walk(
        [node("s", "terminus"), node("a"), node("end", "terminus")],
        [edge("e1", "s", "a"), edge("e2", "a", "end"), edge("e0", "a", "end")],
    )
    assert walk.choices("a") == [Choice(edge="e2", label="", target="end")]
    assert walk.arrow("a", "end") == "e2"
    assert walk.branch_points == []


def test_the_branch_points_are_steps_with_more_than_one_way_on():
    assert webinar_walk().branch_points == ["booked", "signed"]


def test_a_step_with_no_way_on_that_is_not_a_stop_is_a_dead_end():
    walk = Walk(
        [node("s", "terminus"), node("a"), node("b"), node("end", "terminus")],
        [edge("e1", "s", "a"), edge("e2", "a", "end"), edge("e3", "s", "b")],
    )
    assert walk.is_dead_end("b")
    assert not walk.is_dead_end("end")
    assert not walk.is_dead_end("a")


def test_a_terminus_with_arrows_in_and_out_is_neither_start_nor_stop():
    walk = Walk(
        [node("s", "terminus"), node("mid", "terminus"), node("end", "terminus")],
        [edge("e1", "s", "mid"), edge("e2", "mid", "end")],
    )
    assert walk.starts == ["s"]
    assert walk.stops == {"end"}


def test_an_isolated_terminus_is_no_start():
    walk = Walk([node("lonely", "terminus")], [])
    assert walk.starts == []
    assert walk.stops == set()


def test_a_path_is_parsed_from_comma_separated_ids():
    assert parse_path("start,nurture,booked") == ["start", "nurture", "booked"]
    assert parse_path(" start , nurture ") == ["start", "nurture"]
    assert parse_path("") == []
    assert parse_path(None) == []
    assert format_path(["a", "b"]) == "a,b"


def test_a_path_with_an_empty_step_is_refused():
    with pytest.raises(InvalidPath, match="empty step"):
        parse_path("start,,booked")


def test_a_path_longer_than_the_cap_is_refused_without_splitting_it_all():
    assert len(parse_path(",".join(["n"] * MAX_PATH))) == MAX_PATH
    with pytest.raises(InvalidPath, match=f"at most {MAX_PATH} steps"):
        parse_path(",".join(["n"] * (MAX_PATH + 1)))
    with pytest.raises(InvalidPath):
        parse_path("n," * 1_000_000)


def test_a_path_that_follows_the_arrows_from_the_start_is_valid():
    walk = webinar_walk()
    for path in (["start"], TO_ONBOARD, TO_BUCKET, ROUND_THE_LOOP):
        walk.check(path)


def test_a_path_naming_a_step_not_on_the_map_is_invalid():
    with pytest.raises(InvalidPath, match="not on this map") as error:
        webinar_walk().check(["start", "ghost"])
    assert "ghost" in error.value.message


def test_a_path_must_begin_at_a_start():
    with pytest.raises(InvalidPath, match="begins at a start") as error:
        webinar_walk().check(["nurture", "booked"])
    assert "Email nurture campaign" in error.value.message


def test_a_path_must_follow_the_arrows():
    with pytest.raises(InvalidPath, match="No arrow leads") as error:
        webinar_walk().check(["start", "nurture", "call"])
    assert "“Email nurture campaign” to “Consultation call”" in error.value.message


def test_a_path_against_an_arrow_is_invalid():
    with pytest.raises(InvalidPath):
        webinar_walk().check(["start", "nurture", "start"])


def test_an_empty_or_too_long_path_is_invalid():
    walk = webinar_walk()
    with pytest.raises(InvalidPath):
        walk.check([])
    with pytest.raises(InvalidPath, match="at most"):
        walk.check(["start"] * (MAX_PATH + 1))


def test_the_arrows_of_a_path_are_the_arrows_walked():
    assert webinar_walk().arrows_of(TO_BUCKET) == ["e1", "e2", "e3", "e4"]
    assert webinar_walk().arrows_of(["start"]) == []


def test_progress_counts_the_branches_walked_out_of_a_step():
    walk = webinar_walk()
    assert walk.progress("booked", set()) == (0, 2)
    assert walk.progress("booked", {"e3"}) == (1, 2)
    assert walk.progress("booked", {"e3", "e5"}) == (2, 2)
    assert walk.map_progress({"e3", "e5", "e9", "e1"}) == (3, 4)
    assert walk.map_progress(set()) == (0, 4)


def test_going_back_returns_to_the_last_decision_with_a_branch_not_walked():
    walk = webinar_walk()
    walked = set(walk.arrows_of(TO_BUCKET))
    assert walk.back_to_branch(TO_BUCKET, walked) == ["start", "nurture", "booked"]

    walked |= set(walk.arrows_of(TO_ONBOARD))
    # "Signed?" still has its "no" branch to walk; it comes after "Booked?".
    assert walk.back_to_branch(TO_ONBOARD, walked) == TO_ONBOARD[:6]
    # Along the bucket path every branch of "Booked?" is walked now.
    assert walk.back_to_branch(TO_BUCKET, walked) is None


def test_going_back_round_a_loop_takes_the_last_visit_of_the_decision():
    walk = webinar_walk()
    walked = {"e3"}  # only "no" at "Booked?"
    assert walk.back_to_branch(ROUND_THE_LOOP, walked) == ROUND_THE_LOOP


def test_every_branch_walked_leaves_nothing_to_go_back_to():
    walk = webinar_walk()
    walked = {"e3", "e5", "e8", "e9"}
    assert walk.back_to_branch(TO_ONBOARD, walked) is None


def test_the_cost_of_a_path_counts_each_step_once_and_skips_termini():
    costs = {
        "nurture": Decimal("100.00"),
        "booked": None,
        "call": Decimal("20.50"),
        "proposal": Decimal("0"),
        "signed": None,
    }
    assert path_cost(ROUND_THE_LOOP, costs) == (Decimal("120.50"), 2)
    assert path_cost(["start"], costs) == (None, 0)


def test_a_path_without_any_known_cost_has_no_total():
    assert path_cost(TO_BUCKET, {"nurture": None, "booked": None}) == (None, 2)


def test_a_zero_cost_is_a_cost():
    assert path_cost(["a"], {"a": Decimal("0")}) == (Decimal("0"), 0)


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


def walk_url(system_map, path=None) -> str:
    url = reverse(
        "systemmaps:map-walk",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )
    return f"{url}?path={','.join(path)}" if path else url


def flag_url(system_map, node_id: str) -> str:
    return reverse(
        "systemmaps:walk-flag",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk, "node": node_id},
    )


def htmx(client, url):
    return client.get(url, HTTP_HX_REQUEST="true")


def step_of(system_map, client_id: str) -> Node:
    return system_map.nodes.get(client_id=client_id)


@pytest.fixture
def staffed_map(webinar_map, acme, bob):
    """The webinar map with an owner, costs and a checklist at the campaign."""
    membership = Membership.objects.get(business=acme, user=bob)
    membership.hourly_rate = Decimal("60")
    membership.save()
    nurture = step_of(webinar_map, "nurture")
    services.step_update(
        node=nurture,
        owner=membership,
        critical=True,
        automation="could",
        automation_tool="Mailchimp",
        minutes_per_run=Decimal("30"),
        runs_per_month=Decimal("4"),
    )
    services.checklist_item_add(node=nurture, text="Write the weekly tip")
    services.checklist_item_add(node=nurture, text="Schedule the send")
    services.step_update(
        node=step_of(webinar_map, "call"),
        minutes_per_run=Decimal("60"),
        runs_per_month=Decimal("10"),
        hourly_cost=Decimal("100"),
    )
    return webinar_map


def test_the_walk_begins_at_the_start_terminus(alice_client, webinar_map):
    response = alice_client.get(walk_url(webinar_map))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-step-id="start"' in html
    assert "What happens next?" in html
    assert "Next: Email nurture campaign" in html
    assert f'href="{walk_url(webinar_map, ["start", "nurture"])}"' in html
    assert "<html" in html


def test_a_step_shows_owner_checklist_automation_and_cost(alice_client, staffed_map):
    response = alice_client.get(walk_url(staffed_map, ["start", "nurture"]))
    html = response.content.decode()
    assert 'data-step-id="nurture"' in html
    assert "Bob Baker" in html
    assert ">BB</span>" in html
    assert 'data-testid="critical"' in html
    assert "Critical" in html
    assert "Could be automated · Mailchimp" in html
    assert "30 min per run" in html
    assert "4 runs a month" in html
    # 0.5 h × 4 × €60 × 12
    assert "€1,440" in html
    assert html.index("Write the weekly tip") < html.index("Schedule the send")
    assert "Next: Booked a consultation?" in html
    assert 'data-testid="walk-back"' in html


def test_a_step_without_figures_shows_dashes(alice_client, webinar_map):
    html = alice_client.get(walk_url(webinar_map, ["start", "nurture"])).content
    html = html.decode()
    assert "Nobody yet" in html
    assert 'data-testid="walk-cost">—<' in html
    assert 'data-testid="walk-time">—<' in html
    assert "No checklist yet." in html


def test_a_step_links_to_its_step_page(alice_client, webinar_map):
    html = alice_client.get(walk_url(webinar_map, ["start", "nurture"])).content
    url = reverse(
        "systemmaps:step-detail",
        kwargs={"slug": "acme", "pk": webinar_map.pk, "node": "nurture"},
    )
    assert f'href="{url}"'.encode() in html


def test_a_decision_offers_its_branches_by_label_and_target(alice_client, webinar_map):
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET[:3])).content.decode()
    assert "Booked a consultation?" in html
    assert "0 of 2 branches walked" in html
    assert html.count('data-testid="walk-choice"') == 2
    assert f'href="{walk_url(webinar_map, [*TO_BUCKET[:3], "call"])}"' in html
    assert f'href="{walk_url(webinar_map, [*TO_BUCKET[:3], "downsell"])}"' in html
    assert ">Yes</strong>" in html
    assert ">No</strong>" in html
    assert "Consultation call" in html
    assert "Down-sell campaign" in html
    assert 'data-testid="walked"' not in html


def test_a_branch_taken_is_marked_walked(alice_client, webinar_map):
    alice_client.get(walk_url(webinar_map, TO_BUCKET[:4]))
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET[:3])).content.decode()
    assert "1 of 2 branches walked" in html
    assert html.count('data-testid="walked"') == 1
    no_button = html[html.index(">No</strong>") :]
    assert no_button.index('data-testid="walked"') < no_button.index("</a>")
    assert "Across the map: 1 of 4 decision branches walked." in html


def test_the_branches_walked_are_kept_per_user(client_for, alice, bob, webinar_map):
    client_for(alice).get(walk_url(webinar_map, TO_BUCKET))
    html = client_for(bob).get(walk_url(webinar_map, TO_BUCKET[:3])).content.decode()
    assert "0 of 2 branches walked" in html


def test_a_new_version_of_the_map_forgets_the_branches_walked(
    alice_client, alice, webinar_map
):
    alice_client.get(walk_url(webinar_map, TO_BUCKET))
    services.map_save_graph(
        system_map=webinar_map,
        graph=webinar_graph(),
        expected_version=webinar_map.version,
        acting_user=alice,
    )
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET[:3])).content.decode()
    assert "0 of 2 branches walked" in html


def test_the_walk_ends_at_a_stop_with_the_path_and_its_cost(alice_client, staffed_map):
    response = alice_client.get(walk_url(staffed_map, TO_ONBOARD))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="walk-end"' in html
    assert "End of the system: Onboard new client" in html
    assert "You walked 7 steps from “Webinar” to “Onboard new client”." in html
    trail = html[html.index('data-testid="walk-trail"') : html.index("</ol>")]
    names = ["Webinar", "Email nurture campaign", "Booked a consultation?"]
    assert [trail.index(name) for name in names] == sorted(
        trail.index(name) for name in names
    )
    # Campaign €1,440 + call 1 h × 10 × €100 × 12 = €12,000; three steps unknown.
    assert "€13,440" in html
    assert "3 steps have no cost yet" in html
    assert "What happens next?" not in html
    # "Signed?" still has its "no" branch to walk.
    assert f'href="{walk_url(staffed_map, TO_ONBOARD[:6])}"' in html
    assert "Go back to take another branch (at “Signed?”)" in html
    assert f'href="{walk_url(staffed_map)}"' in html


def test_going_back_from_the_end_offers_the_other_branch(alice_client, webinar_map):
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET)).content.decode()
    back = walk_url(webinar_map, TO_BUCKET[:3])
    assert f'href="{back}"' in html
    assert "(at “Booked a consultation?”)" in html

    html = alice_client.get(back).content.decode()
    assert "1 of 2 branches walked" in html


def test_both_branches_walked_show_two_of_two(alice_client, webinar_map):
    alice_client.get(walk_url(webinar_map, TO_BUCKET))
    alice_client.get(walk_url(webinar_map, TO_ONBOARD))
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET[:3])).content.decode()
    assert "2 of 2 branches walked" in html
    assert html.count('data-testid="walked"') == 2
    assert "Across the map: 3 of 4 decision branches walked." in html


def test_the_end_says_when_every_branch_along_the_path_is_walked(
    alice_client, webinar_map
):
    alice_client.get(walk_url(webinar_map, TO_ONBOARD))
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET)).content.decode()
    assert "Every branch along this path has been walked." in html
    assert 'data-testid="walk-other-branch"' not in html


def test_a_walk_may_go_round_a_loop(alice_client, webinar_map):
    response = alice_client.get(walk_url(webinar_map, ROUND_THE_LOOP))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-step-id="booked"' in html
    assert "Step 8 of this walk" in html


def test_a_walk_stops_at_the_cap_round_a_loop(alice_client, webinar_map):
    loop = ["nurture", "booked", "call", "proposal", "signed"]
    path = ["start"] + (loop * MAX_PATH)[: MAX_PATH - 1]
    response = alice_client.get(walk_url(webinar_map, path))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="walk-capped"' in html
    assert f"reached {MAX_PATH} steps" in html
    assert 'data-testid="walk-choice"' not in html
    assert 'data-testid="walk-next"' not in html


@pytest.mark.parametrize(
    "path",
    [
        "start,ghost",
        "nurture,booked",
        "start,nurture,call",
        "start,,nurture",
        ",".join(["start"] * (MAX_PATH + 1)),
        "start,nurture,booked,call,<script>",
    ],
)
def test_a_bad_path_starts_again_with_a_message(alice_client, webinar_map, path):
    url = f"{walk_url(webinar_map)}?path={path}"
    response = alice_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == walk_url(webinar_map)

    response = alice_client.get(response["Location"])
    html = response.content.decode()
    assert "Starting again from the start." in html
    assert 'data-step-id="start"' in html
    assert "<script>" not in html[html.index('id="main"') :]


def test_a_bad_path_over_htmx_shows_the_start_and_fixes_the_url(
    alice_client, webinar_map
):
    response = htmx(alice_client, f"{walk_url(webinar_map)}?path=start,nurture,call")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="walk-problem"' in html
    assert "No arrow leads from “Email nurture campaign” to “Consultation call”" in (
        html
    )
    assert 'data-step-id="start"' in html
    assert response["HX-Replace-Url"] == walk_url(webinar_map)


def test_htmx_gets_the_walk_body_only(alice_client, webinar_map):
    response = htmx(alice_client, walk_url(webinar_map, TO_BUCKET[:3]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="walk"')
    assert "<html" not in html
    assert 'data-step-id="booked"' in html
    assert 'hx-push-url="true"' in html
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_whole_page(alice_client, webinar_map):
    response = alice_client.get(
        walk_url(webinar_map, TO_BUCKET[:3]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_every_htmx_link_has_an_href(alice_client, webinar_map):
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET[:3])).content.decode()
    for chunk in html.split("hx-get=")[1:]:
        target = chunk.split('"')[1]
        before = html[: html.index(f'hx-get="{target}"')]
        assert f'href="{target}"' in before[before.rindex("<") :]


def test_a_map_with_several_starts_lets_the_walker_pick(alice_client, acme, alice):
    graph = webinar_graph()
    graph["nodes"].append(
        {"id": "ads", "kind": "terminus", "label": "Facebook ads", "x": 0, "y": 9}
    )
    graph["edges"].append(
        {"id": "e10", "source": "ads", "target": "nurture", "label": None}
    )
    system_map = make_map(acme, alice, graph=graph)
    html = alice_client.get(walk_url(system_map)).content.decode()
    assert "Where does the walk start?" in html
    assert "Start at “Webinar”" in html
    assert "Start at “Facebook ads”" in html
    assert f'href="{walk_url(system_map, ["ads"])}"' in html

    html = alice_client.get(walk_url(system_map, ["ads"])).content.decode()
    assert 'data-step-id="ads"' in html
    assert "Next: Email nurture campaign" in html


def test_a_map_without_a_start_says_so_and_links_to_the_editor(
    alice_client, acme, alice
):
    graph = webinar_graph()
    graph["edges"].append(
        {"id": "e10", "source": "nurture", "target": "start", "label": None}
    )
    system_map = make_map(acme, alice, graph=graph)
    response = alice_client.get(walk_url(system_map))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This map has no start" in html
    edit = reverse("systemmaps:map-edit", kwargs={"slug": "acme", "pk": system_map.pk})
    assert f'href="{edit}"' in html
    assert f'href="{system_map.get_absolute_url()}#lint-title"' in html


def test_an_empty_map_has_no_start(alice_client, acme, alice):
    system_map = make_map(acme, alice, graph=document.empty_graph("Empty"))
    response = alice_client.get(walk_url(system_map))
    assert response.status_code == 200
    assert b"This map has no start" in response.content


def test_a_dead_end_says_the_map_has_a_gap(alice_client, acme, alice):
    graph = webinar_graph()
    graph["edges"] = [e for e in graph["edges"] if e["id"] != "e4"]
    system_map = make_map(acme, alice, graph=graph)
    html = alice_client.get(walk_url(system_map, TO_BUCKET[:4])).content.decode()
    assert 'data-testid="walk-dead-end"' in html
    assert "the map has a gap here" in html
    assert "Go back to take another branch (at “Booked a consultation?”)" in html


def test_a_read_only_member_can_walk(bob_client, webinar_map):
    response = bob_client.get(walk_url(webinar_map, TO_BUCKET))
    assert response.status_code == 200
    assert b"End of the system" in response.content


def test_an_outsider_cannot_walk_a_map(charlie_client, webinar_map):
    assert charlie_client.get(walk_url(webinar_map)).status_code == 404
    assert htmx(charlie_client, walk_url(webinar_map, TO_BUCKET)).status_code == 404


def test_an_outsider_cannot_walk_into_another_business_by_its_map(
    alice_client, other_map
):
    url = reverse("systemmaps:map-walk", kwargs={"slug": "acme", "pk": other_map.pk})
    assert alice_client.get(url).status_code == 404


def test_a_deleted_map_cannot_be_walked(alice_client, alice, webinar_map):
    services.map_delete(system_map=webinar_map, acting_user=alice)
    assert alice_client.get(walk_url(webinar_map)).status_code == 404


def test_the_walk_page_answers_only_get(alice_client, webinar_map):
    assert alice_client.post(walk_url(webinar_map)).status_code == 405


def test_the_map_page_links_to_the_walk(alice_client, webinar_map):
    html = alice_client.get(webinar_map.get_absolute_url()).content.decode()
    assert f'href="{walk_url(webinar_map)}"' in html
    assert "Walk through" in html


def _chain_map(business, user, steps: int):
    """A start, `steps` tasks in a row with one decision halfway, and a stop."""
    ids = [f"t{i}" for i in range(steps)]
    nodes = [{"id": "s", "kind": "terminus", "label": "Start", "x": 0, "y": 0}]
    nodes += [
        {"id": i, "kind": "task", "label": f"Task {i}", "x": 0, "y": 0} for i in ids
    ]
    decision = ids[steps // 2]
    nodes[steps // 2 + 1]["kind"] = "decision"
    nodes.append({"id": "end", "kind": "terminus", "label": "Stop", "x": 0, "y": 0})
    chain = ["s", *ids, "end"]
    edges = [
        {"id": f"e{n}", "source": a, "target": b, "label": None}
        for n, (a, b) in enumerate(zip(chain, chain[1:], strict=False))
    ]
    edges.append({"id": "eno", "source": decision, "target": "end", "label": "no"})
    for e in edges:
        if e["source"] == decision and e["target"] != "end":
            e["label"] = "yes"
    graph = {"schema_version": 1, "name": "Chain", "nodes": nodes, "edges": edges}
    system_map = make_map(business, user, name=f"Chain {steps}", graph=graph)
    owner = Membership.objects.get(business=business, user=user)
    Node.objects.filter(map=system_map, kind__in=["task", "decision"]).update(
        owner=owner,
        minutes_per_run=Decimal("10"),
        runs_per_month=Decimal("5"),
        hourly_cost=Decimal("50"),
    )
    for node in system_map.nodes.filter(kind="task"):
        services.checklist_item_add(node=node, text=f"Do {node.label}")
        services.flag_add(node=node, acting_user=user, text="Unclear")
    # From the start to the step after the decision, and on to the stop.
    middle = chain[: steps // 2 + 3]
    ending = [*chain[: steps // 2 + 2], "end"]
    return system_map, {"middle": middle, "end": ending}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("where", ["middle", "end"])
def test_the_walk_costs_as_many_queries_for_200_steps_as_for_10(
    alice_client, acme, alice, django_assert_max_num_queries, where
):
    small, small_paths = _chain_map(acme, alice, 10)
    large, large_paths = _chain_map(acme, alice, 200)
    small_url = walk_url(small, small_paths[where])
    large_url = walk_url(large, large_paths[where])
    assert len(large_paths[where]) > 100

    # Walk each once first, so neither count includes writing the session.
    _queries(alice_client, small_url)
    _queries(alice_client, large_url)
    expected = _queries(alice_client, small_url)
    with django_assert_max_num_queries(expected):
        assert _queries(alice_client, large_url) == expected


# ---------------------------------------------------------------------------
# Flagging a problem
# ---------------------------------------------------------------------------


def test_flagging_a_problem_over_htmx_shows_it_on_the_card(alice_client, webinar_map):
    response = alice_client.post(
        flag_url(webinar_map, "booked"),
        {"text": "Nobody checks the calendar", "path": ",".join(TO_BUCKET[:3])},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-step-id="booked"' in html
    assert "Problem flagged at “Booked a consultation?”." in html
    assert "Nobody checks the calendar" in html
    assert "1 open problem" in html
    flag = StepFlag.objects.get()
    assert flag.node == step_of(webinar_map, "booked")
    assert flag.created_by.email == "alice@example.com"
    assert flag.resolved_at is None


def test_flagging_a_problem_without_htmx_redirects_back_to_the_step(
    alice_client, webinar_map
):
    path = ",".join(TO_BUCKET[:3])
    response = alice_client.post(
        flag_url(webinar_map, "booked"), {"text": "Too slow", "path": path}
    )
    assert response.status_code == 302
    assert response["Location"] == walk_url(webinar_map, TO_BUCKET[:3])
    html = alice_client.get(response["Location"]).content.decode()
    assert "Problem flagged at “Booked a consultation?”." in html
    assert "Too slow" in html
    assert StepFlag.objects.count() == 1


def test_a_read_only_member_can_flag_a_problem(bob_client, webinar_map):
    response = bob_client.post(
        flag_url(webinar_map, "nurture"),
        {"text": "Emails bounce", "path": "start,nurture"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert StepFlag.objects.get().created_by.email == "bob@example.com"


def test_resolved_problems_are_not_shown(alice_client, alice, webinar_map):
    booked = step_of(webinar_map, "booked")
    old = services.flag_add(node=booked, acting_user=alice, text="Fixed long ago")
    services.flag_resolve(flag=old, acting_user=alice)
    services.flag_add(node=booked, acting_user=alice, text="Still open")
    html = alice_client.get(walk_url(webinar_map, TO_BUCKET[:3])).content.decode()
    assert "Still open" in html
    assert "Fixed long ago" not in html


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_problem_is_refused_naming_the_field(alice_client, webinar_map, text):
    response = alice_client.post(
        flag_url(webinar_map, "booked"),
        {"text": text, "path": ",".join(TO_BUCKET[:3])},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html
    assert "Flag a problem" in html
    assert "Describe the problem." in html
    assert 'data-step-id="booked"' in html
    assert '<details class="walk-flag" open>' in html
    assert not StepFlag.objects.exists()


def test_an_empty_problem_without_htmx_gets_the_page_with_the_error(
    alice_client, webinar_map
):
    response = alice_client.post(
        flag_url(webinar_map, "booked"), {"text": "", "path": "start,nurture,booked"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html
    assert "Describe the problem." in html
    assert not StepFlag.objects.exists()


def test_a_too_long_problem_is_refused(alice_client, webinar_map):
    response = alice_client.post(
        flag_url(webinar_map, "booked"), {"text": "x" * 2001, "path": "start"}
    )
    assert response.status_code == 422
    assert not StepFlag.objects.exists()


def test_a_flag_with_a_stale_path_is_kept_and_the_walk_starts_again(
    alice_client, webinar_map
):
    response = alice_client.post(
        flag_url(webinar_map, "booked"),
        {"text": "Odd", "path": "start,ghost"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-step-id="start"' in response.content.decode()
    assert StepFlag.objects.count() == 1


def test_a_problem_cannot_be_flagged_at_a_start_or_stop(alice_client, webinar_map):
    response = alice_client.post(
        flag_url(webinar_map, "start"), {"text": "Hm", "path": "start"}
    )
    assert response.status_code == 404
    assert not StepFlag.objects.exists()


def test_an_outsider_cannot_flag_a_problem(charlie_client, webinar_map):
    response = charlie_client.post(
        flag_url(webinar_map, "booked"), {"text": "Hacked", "path": "start"}
    )
    assert response.status_code == 404
    response = charlie_client.post(
        flag_url(webinar_map, "booked"),
        {"text": "Hacked", "path": "start"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
    assert not StepFlag.objects.exists()


def test_a_problem_cannot_be_flagged_on_a_deleted_map(alice_client, alice, webinar_map):
    services.map_delete(system_map=webinar_map, acting_user=alice)
    response = alice_client.post(
        flag_url(webinar_map, "booked"), {"text": "Late", "path": "start"}
    )
    assert response.status_code == 404
    assert not StepFlag.objects.exists()


def test_flagging_answers_only_post(alice_client, webinar_map):
    assert alice_client.get(flag_url(webinar_map, "booked")).status_code == 405


def test_a_label_in_two_lines_is_walked_in_two_lines(alice_client, acme, alice):
    graph = webinar_graph()
    graph["nodes"][1]["label"] = "Bake and decorate\n(day before)"
    system_map = make_map(acme, alice, graph=graph)

    html = alice_client.get(walk_url(system_map, ["start", "nurture"])).content

    # Its own element, whose line break walk.css keeps (white-space: pre-line).
    assert b'<span class="lines">Bake and decorate\n(day before)</span>' in html
