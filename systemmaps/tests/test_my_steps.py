"""My steps: every step the logged-in member owns, with checklists and open runs."""

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from systemmaps import services
from systemmaps.models import ChecklistItem, ChecklistRun, Node
from systemmaps.tests.factories import chain_graph, make_map
from systemmaps.tests.utils import membership, step


def my_steps_url(business):
    return reverse("systemmaps:my-steps", kwargs={"slug": business.slug})


def give(system_map, owner, *client_ids):
    Node.objects.filter(map=system_map, client_id__in=client_ids).update(owner=owner)


# ---------------------------------------------------------------------------
# What the page shows
# ---------------------------------------------------------------------------


def test_my_steps_lists_only_the_work_steps_i_own_by_map_and_stage(
    client_for, acme, alice, bob, webinar_map
):
    give(webinar_map, membership(bob, acme), "nurture", "call", "start")
    give(webinar_map, membership(alice, acme), "proposal")

    response = client_for(bob).get(my_steps_url(acme))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="my-step"') == 2
    assert "Email nurture campaign" in html
    assert "Consultation call" in html
    assert "Proposal sent" not in html
    # Stages in hourglass order: like (nurture) before buy (the call).
    assert html.index(">Like</h3>") < html.index(">Buy</h3>")
    assert html.index("Email nurture campaign") < html.index("Consultation call")


def test_step_without_stage_is_grouped_under_its_maps_first_stage(
    client_for, acme, alice, bob, webinar_map
):
    call = step(webinar_map, "call")
    call.stage = ""
    call.save()
    give(webinar_map, membership(bob, acme), "call")

    html = client_for(bob).get(my_steps_url(acme)).content.decode()

    # The webinar map spans like and try: the call counts under Like.
    assert ">Like</h3>" in html
    assert ">Buy</h3>" not in html


def test_my_steps_shows_critical_marker_automation_cost_and_checklist(
    client_for, acme, bob, webinar_map
):
    bob_member = membership(bob, acme)
    call = step(webinar_map, "call")
    services.step_update(
        node=call,
        owner=bob_member,
        critical=True,
        automation="could",
        automation_tool="Calendly",
        minutes_per_run=Decimal(30),
        runs_per_month=Decimal(8),
    )
    bob_member.hourly_rate = Decimal(40)
    bob_member.save()
    ChecklistItem.objects.create(node=call, text="Read the lead's notes", position=1)
    ChecklistItem.objects.create(node=call, text="Open the calendar", position=0)

    html = client_for(bob).get(my_steps_url(acme)).content.decode()

    assert "Critical" in html
    assert "Could be automated (Calendly)" in html
    # 0.5 h × 8 × 40 × 12 = 1,920 a year, at the owner's rate.
    assert "€1,920" in html
    assert "Checklist: 2 items" in html
    assert html.index("Open the calendar") < html.index("Read the lead&#x27;s notes")


def test_my_steps_shows_open_runs_on_my_steps_but_not_finished_ones(
    client_for, acme, alice, bob, webinar_map
):
    give(webinar_map, membership(bob, acme), "call")
    call = step(webinar_map, "call")
    ChecklistItem.objects.create(node=call, text="Dial", position=0)
    mine = services.run_start(node=call, acting_user=bob, subject="Client Ada")
    theirs = services.run_start(node=call, acting_user=alice, subject="Client Grace")
    done = services.run_start(node=call, acting_user=bob, subject="Client Finished")
    done.finished_at = timezone.now()
    done.save()

    html = client_for(bob).get(my_steps_url(acme)).content.decode()

    for run in (mine, theirs):
        url = reverse("systemmaps:run-detail", kwargs={"slug": "acme", "run": run.pk})
        assert f'href="{url}"' in html
    assert "by Alice Archer" in html
    assert "0 of 1 ticked" in html
    assert "Client Finished" not in html


def test_runs_i_started_on_steps_of_others_are_listed_apart(
    client_for, acme, alice, erin, webinar_map
):
    give(webinar_map, membership(alice, acme), "proposal")
    run = services.run_start(node=step(webinar_map, "proposal"), acting_user=erin)

    html = client_for(erin).get(my_steps_url(acme)).content.decode()

    assert 'data-testid="other-runs"' in html
    url = reverse("systemmaps:run-detail", kwargs={"slug": "acme", "run": run.pk})
    assert f'href="{url}"' in html
    assert "at Proposal sent in Webinar to client" in html


def test_steps_of_deleted_maps_and_other_businesses_are_left_out(
    client_for, acme, alice, bob, webinar_map
):
    give(webinar_map, membership(bob, acme), "call")
    services.map_delete(system_map=webinar_map, acting_user=alice)

    html = client_for(bob).get(my_steps_url(acme)).content.decode()

    assert 'data-testid="my-step"' not in html
    assert 'data-testid="no-steps"' in html


def test_each_step_with_a_checklist_offers_to_start_a_run(
    client_for, acme, bob, webinar_map
):
    give(webinar_map, membership(bob, acme), "call", "proposal")
    services.checklist_item_add(node=step(webinar_map, "call"), text="Agenda")
    start_url = reverse(
        "systemmaps:step-run-start",
        kwargs={"slug": "acme", "pk": webinar_map.pk, "node": "call"},
    )
    step_url = reverse(
        "systemmaps:step-detail",
        kwargs={"slug": "acme", "pk": webinar_map.pk, "node": "call"},
    )
    client = client_for(bob)

    html = client.get(my_steps_url(acme)).content.decode()
    response = client.post(start_url, {"subject": "Client Ada"})

    assert f'action="{start_url}"' in html
    assert f'href="{step_url}"' in html
    # Only where there is a checklist to run.
    assert html.count('class="run-start"') == 1
    run = ChecklistRun.objects.get(node__client_id="call")
    assert (run.subject, run.started_by) == ("Client Ada", bob)
    assert response.status_code == 302


def test_empty_state_explains_how_steps_get_an_owner(client_for, acme, bob):
    html = client_for(bob).get(my_steps_url(acme)).content.decode()

    assert "You own no steps yet" in html
    assert "names the owner of each step" in html


def test_empty_state_for_editors_points_to_the_maps(client_for, acme, erin):
    html = client_for(erin).get(my_steps_url(acme)).content.decode()

    assert "choose an owner" in html
    assert reverse("systemmaps:map-list", kwargs={"slug": "acme"}) in html


def test_navigation_links_to_my_steps(client_for, acme, bob):
    html = client_for(bob).get(my_steps_url(acme)).content.decode()

    assert f'<a href="{my_steps_url(acme)}" aria-current="page">My steps</a>' in html


# ---------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------


def test_outsider_gets_404_on_my_steps(client_for, charlie, other_co, acme):
    assert client_for(charlie).get(my_steps_url(acme)).status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client, acme):
    response = client.get(my_steps_url(acme))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_my_steps_refuses_posts(client_for, acme, bob):
    assert client_for(bob).post(my_steps_url(acme)).status_code == 405


def test_htmx_request_gets_the_same_page(client_for, acme, bob, webinar_map):
    give(webinar_map, membership(bob, acme), "call")

    response = client_for(bob).get(my_steps_url(acme), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'data-testid="my-step"' in response.content.decode()


# ---------------------------------------------------------------------------
# Queries: the same for 5 and for 200 steps
# ---------------------------------------------------------------------------


def _own_steps(business, user, count, name):
    system_map = make_map(business, user, name, graph=chain_graph(name, count))
    owner = membership(user, business)
    Node.objects.filter(map=system_map, kind="task").update(owner=owner, critical=True)
    tasks = list(Node.objects.filter(map=system_map, kind="task"))
    ChecklistItem.objects.bulk_create(
        ChecklistItem(node=n, text=f"Item {i}", position=i)
        for n in tasks
        for i in range(2)
    )
    ChecklistRun.objects.bulk_create(
        ChecklistRun(node=n, started_by=user) for n in tasks
    )
    return system_map


def test_my_steps_queries_are_the_same_for_5_and_200_steps(
    client_for, acme, bob, django_assert_max_num_queries
):
    client = client_for(bob)
    _own_steps(acme, bob, 5, "Small")
    client.get(my_steps_url(acme))  # the session settles
    with CaptureQueriesContext(connection) as small:
        client.get(my_steps_url(acme))
    _own_steps(acme, bob, 195, "Large")

    with django_assert_max_num_queries(len(small)):
        response = client.get(my_steps_url(acme))

    assert response.content.decode().count('data-testid="my-step"') == 200
