"""The accountability chart on the team page: who owns what, roles and rates, and
the member accountable for marketing."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from hourglass.models import Business, Membership, Role
from hourglass.tests.factories import MembershipFactory
from hourglass.tests.utils import PASSWORD
from systemmaps.models import Node
from systemmaps.tests.factories import make_map


def team_url(business):
    return reverse("hourglass:team", kwargs={"slug": business.slug})


def profile_url(business, membership):
    return reverse(
        "hourglass:member-profile", kwargs={"slug": business.slug, "pk": membership.pk}
    )


def marketing_url(business):
    return reverse("hourglass:marketing-owner", kwargs={"slug": business.slug})


def member(user, business):
    return Membership.objects.get(user=user, business=business)


def profiles(business):
    return sorted(
        Membership.objects.filter(business=business).values_list(
            "pk", "roles", "hourly_rate"
        )
    )


def marketing_owner_id(business):
    return Business.objects.get(pk=business.pk).marketing_owner_id


def give(system_map, owner, *client_ids):
    Node.objects.filter(map=system_map, client_id__in=client_ids).update(owner=owner)


def card(html, membership):
    start = html.index(f'id="member-{membership.pk}"')
    ends = [
        html.find('<li class="card member-card', start),
        html.find("</ul>\n  </section>", start),
    ]
    return html[start : min(e for e in ends if e > 0)]


# ---------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------


def test_chart_shows_each_members_roles_rate_steps_and_maps(
    client_for, acme, alice, bob
):
    bob_member = member(bob, acme)
    bob_member.roles = "sales, customer service"
    bob_member.hourly_rate = Decimal("42.50")
    bob_member.save()
    webinar = make_map(acme, alice, "Webinar to client")
    referral = make_map(acme, alice, "Referral programme")
    give(webinar, bob_member, "call", "proposal")
    give(referral, bob_member, "nurture")

    html = client_for(bob).get(team_url(acme)).content.decode()

    bob_card = card(html, bob_member)
    assert "sales, customer service" in bob_card
    assert "€42.50" in bob_card
    assert "Owns <strong>3</strong> steps in" in bob_card
    assert "Referral programme</a>, <a" in bob_card
    assert "Consultation call" in bob_card
    step_url = reverse(
        "systemmaps:step-detail",
        kwargs={"slug": "acme", "pk": webinar.pk, "node": "call"},
    )
    assert f'href="{step_url}"' in bob_card


def test_member_who_owns_nothing_stands_out_in_words(client_for, acme, alice, bob):
    webinar = make_map(acme, alice, "Webinar to client")
    give(webinar, member(alice, acme), "call")

    html = client_for(bob).get(team_url(acme)).content.decode()

    assert 'data-testid="owns-nothing"' in card(html, member(bob, acme))
    assert "Owns nothing yet." in card(html, member(bob, acme))
    assert 'data-testid="owns-nothing"' not in card(html, member(alice, acme))


def test_chart_lists_the_metrics_each_member_reports(client_for, acme, alice, bob):
    from metrics.tests.factories import MetricFactory

    MetricFactory(business=acme, name="Webinar attendees", owner=member(bob, acme))
    MetricFactory(business=acme, name="Old metric", owner=member(bob, acme))
    archived = MetricFactory(
        business=acme, name="Archived one", owner=member(bob, acme)
    )
    archived.archived_on = archived.first_week
    archived.save()
    MetricFactory(business=acme, name="Referrals received", owner=None)

    html = client_for(bob).get(team_url(acme)).content.decode()

    bob_card = card(html, member(bob, acme))
    assert "Reports <strong>2</strong> metrics:" in bob_card
    assert "Webinar attendees</a>" in bob_card
    assert "Archived one" not in html
    # Owning only metrics is owning something.
    assert 'data-testid="owns-nothing"' not in bob_card
    assert 'data-testid="owns-nothing"' in card(html, member(alice, acme))
    assert "1 metric with nobody to report it" in html
    assert "Referrals received</a>" in html


def test_steps_with_nobody_are_listed_by_map(client_for, acme, alice, bob):
    webinar = make_map(acme, alice, "Webinar to client")
    give(webinar, member(alice, acme), "nurture", "booked", "downsell", "call")

    html = client_for(bob).get(team_url(acme)).content.decode()

    unowned = html[html.index('data-testid="unowned"') :]
    assert "Proposal sent" in unowned
    assert "Signed?" in unowned
    assert "Consultation call" not in unowned
    # Termini are nobody's work.
    assert "Onboard new client" not in unowned


def test_chart_says_when_every_step_has_an_owner(client_for, acme, alice, bob):
    webinar = make_map(acme, alice, "Webinar to client")
    Node.objects.filter(map=webinar).update(owner=member(bob, acme))

    html = client_for(bob).get(team_url(acme)).content.decode()

    assert "Every step has an owner." in html


def test_chart_warns_when_nobody_is_accountable_for_marketing(client_for, acme, bob):
    html = client_for(bob).get(team_url(acme)).content.decode()

    assert 'data-testid="no-marketing-owner"' in html
    assert "Nobody is accountable for marketing." in html


def test_chart_names_the_marketing_owner_at_the_top(client_for, acme, alice, bob):
    acme.marketing_owner = member(bob, acme)
    acme.save()

    html = client_for(alice).get(team_url(acme)).content.decode()

    top = html[html.index('data-testid="marketing-owner"') :]
    assert "Bob Baker" in top[: top.index("</section>")]
    assert 'data-testid="no-marketing-owner"' not in html
    assert "Owns marketing" in card(html, member(bob, acme))


def test_members_read_the_chart_without_forms(client_for, acme, bob):
    html = client_for(bob).get(team_url(acme)).content.decode()

    assert profile_url(acme, member(bob, acme)) not in html
    assert marketing_url(acme) not in html


def test_owners_get_the_forms(client_for, acme, alice, bob):
    html = client_for(alice).get(team_url(acme)).content.decode()

    assert f'hx-post="{profile_url(acme, member(bob, acme))}"' in html
    assert f'action="{profile_url(acme, member(bob, acme))}"' in html
    assert f'hx-post="{marketing_url(acme)}"' in html


# ---------------------------------------------------------------------------
# Roles and rate
# ---------------------------------------------------------------------------


def test_owner_sets_a_members_roles_and_rate(client_for, acme, alice, bob):
    target = member(bob, acme)

    response = client_for(alice).post(
        profile_url(acme, target), {"roles": " sales ", "hourly_rate": "35.5"}
    )

    assert response.status_code == 302
    assert response["Location"] == team_url(acme) + f"#member-{target.pk}"
    target.refresh_from_db()
    assert (target.roles, target.hourly_rate) == ("sales", Decimal("35.50"))


def test_owner_sets_roles_and_rate_with_htmx_and_gets_the_fragment(
    client_for, acme, alice, bob
):
    target = member(bob, acme)

    response = client_for(alice).post(
        profile_url(acme, target),
        {"roles": "marketing", "hourly_rate": "80"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(
        f'<div class="member-profile" id="member-profile-{target.pk}"'
    )
    assert "marketing" in html
    assert "€80" in html
    assert "Saved." in html
    target.refresh_from_db()
    assert target.hourly_rate == Decimal(80)


def test_owner_clears_a_rate(client_for, acme, alice, bob):
    target = member(bob, acme)
    target.hourly_rate = Decimal(10)
    target.save()

    client_for(alice).post(profile_url(acme, target), {"roles": "", "hourly_rate": ""})

    target.refresh_from_db()
    assert target.hourly_rate is None


@pytest.mark.parametrize("htmx", [False, True])
def test_negative_rate_is_refused_naming_the_field(client_for, acme, alice, bob, htmx):
    before = profiles(acme)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = client_for(alice).post(
        profile_url(acme, member(bob, acme)),
        {"roles": "sales", "hourly_rate": "-5"},
        **headers,
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "The hourly rate cannot be negative." in html
    assert "Hourly rate" in html
    assert profiles(acme) == before


def test_rate_that_is_not_a_number_is_refused(client_for, acme, alice, bob):
    before = profiles(acme)

    response = client_for(alice).post(
        profile_url(acme, member(bob, acme)),
        {"roles": "sales", "hourly_rate": "lots"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "Hourly rate: “lots” is not a number." in response.content.decode()
    assert profiles(acme) == before


def test_too_long_roles_are_refused(client_for, acme, alice, bob):
    before = profiles(acme)

    response = client_for(alice).post(
        profile_url(acme, member(bob, acme)), {"roles": "x" * 201, "hourly_rate": ""}
    )

    assert response.status_code == 422
    assert "at most 200 characters" in response.content.decode()
    assert profiles(acme) == before


@pytest.mark.parametrize("who", ["bob", "erin"])
def test_only_owners_edit_roles_and_rates(client_for, acme, alice, bob, erin, who):
    before = profiles(acme)
    user = {"bob": bob, "erin": erin}[who]

    response = client_for(user).post(
        profile_url(acme, member(user, acme)), {"roles": "boss", "hourly_rate": "999"}
    )

    assert response.status_code == 403
    assert profiles(acme) == before


def test_outsider_gets_404_on_profile_edit(client_for, acme, bob, charlie, other_co):
    before = profiles(acme)

    response = client_for(charlie).post(
        profile_url(acme, member(bob, acme)), {"roles": "spy", "hourly_rate": "1"}
    )

    assert response.status_code == 404
    assert profiles(acme) == before


def test_member_of_another_business_is_404_for_an_owner(
    client_for, acme, alice, charlie, other_co
):
    url = profile_url(acme, member(charlie, other_co))

    response = client_for(alice).post(url, {"roles": "x", "hourly_rate": "1"})

    assert response.status_code == 404
    assert member(charlie, other_co).roles == ""


# ---------------------------------------------------------------------------
# The marketing owner
# ---------------------------------------------------------------------------


def test_owner_names_the_marketing_owner(client_for, acme, alice, bob):
    response = client_for(alice).post(
        marketing_url(acme), {"marketing_owner": member(bob, acme).pk}
    )

    assert response.status_code == 302
    assert response["Location"] == team_url(acme)
    assert marketing_owner_id(acme) == member(bob, acme).pk


def test_owner_names_the_marketing_owner_with_htmx_and_gets_the_chart(
    client_for, acme, alice, bob
):
    response = client_for(alice).post(
        marketing_url(acme),
        {"marketing_owner": member(bob, acme).pk},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="chart"')
    assert "Owns marketing" in card(html, member(bob, acme))
    assert "Nobody is accountable" not in html
    assert marketing_owner_id(acme) == member(bob, acme).pk


def test_owner_clears_the_marketing_owner(client_for, acme, alice, bob):
    acme.marketing_owner = member(bob, acme)
    acme.save()

    client_for(alice).post(marketing_url(acme), {"marketing_owner": ""})

    assert marketing_owner_id(acme) is None


@pytest.mark.parametrize("htmx", [False, True])
def test_marketing_owner_from_another_business_is_refused(
    client_for, acme, alice, charlie, other_co, htmx
):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = client_for(alice).post(
        marketing_url(acme),
        {"marketing_owner": member(charlie, other_co).pk},
        **headers,
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "Pick a member of this business." in html
    assert "Accountable for marketing" in html
    assert marketing_owner_id(acme) is None


@pytest.mark.parametrize("who", ["bob", "erin"])
def test_only_owners_name_the_marketing_owner(client_for, acme, bob, erin, who):
    user = {"bob": bob, "erin": erin}[who]

    response = client_for(user).post(
        marketing_url(acme), {"marketing_owner": member(user, acme).pk}
    )

    assert response.status_code == 403
    assert marketing_owner_id(acme) is None


def test_outsider_gets_404_on_marketing_owner(client_for, acme, charlie, other_co):
    response = client_for(charlie).post(
        marketing_url(acme), {"marketing_owner": member(charlie, other_co).pk}
    )

    assert response.status_code == 404
    assert marketing_owner_id(acme) is None


def test_chart_writes_refuse_get(client_for, acme, alice, bob):
    client = client_for(alice)

    assert client.get(marketing_url(acme)).status_code == 405
    assert client.get(profile_url(acme, member(bob, acme))).status_code == 405


# ---------------------------------------------------------------------------
# Queries: flat in steps and in members
# ---------------------------------------------------------------------------


def _steps(business, user, count, name):
    """A map of `count` owned steps, shared out among the members."""
    tasks = [
        {"id": f"t{i}", "kind": "task", "label": f"Task {i}", "x": 100.0 * i, "y": 0.0}
        for i in range(count)
    ]
    ids = ["start", *(t["id"] for t in tasks), "stop"]
    graph = {
        "schema_version": 1,
        "name": name,
        "nodes": [
            {"id": "start", "kind": "terminus", "label": "Start", "x": 0.0, "y": 0.0},
            *tasks,
            {"id": "stop", "kind": "terminus", "label": "Stop", "x": 0.0, "y": 0.0},
        ],
        "edges": [
            {"id": f"e{i}", "source": a, "target": b, "label": None}
            for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
        ],
    }
    system_map = make_map(business, user, name, graph=graph)
    members = list(Membership.objects.filter(business=business))
    for index, node in enumerate(Node.objects.filter(map=system_map, kind="task")):
        node.owner = members[index % len(members)] if index % 5 else None
        node.save(update_fields=["owner"])
    return system_map


def _metrics(business, count: int) -> None:
    from metrics.tests.factories import MetricFactory

    members = list(Membership.objects.filter(business=business))
    for index in range(count):
        MetricFactory(business=business, owner=members[index % len(members)])


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


@pytest.mark.parametrize("user_name", ["alice", "bob"])
def test_team_page_queries_are_the_same_for_5_and_200_steps(
    client_for, acme, alice, bob, erin, user_name, django_assert_max_num_queries
):
    client = client_for({"alice": alice, "bob": bob}[user_name])
    _steps(acme, alice, 5, "Small")
    client.get(team_url(acme))  # the session settles
    small = _queries(client, team_url(acme))
    _steps(acme, alice, 195, "Large")
    _metrics(acme, 50)

    with django_assert_max_num_queries(small):
        response = client.get(team_url(acme))

    assert response.content.decode().count("Task 1") >= 2


def test_team_page_queries_are_the_same_for_2_and_20_members(
    client_for, acme, alice, bob, django_assert_max_num_queries
):
    client = client_for(alice)
    _steps(acme, alice, 10, "Steps")
    client.get(team_url(acme))
    small = _queries(client, team_url(acme))
    for _ in range(18):
        MembershipFactory(business=acme, role=Role.MEMBER)
    _steps(acme, alice, 40, "More steps")

    with django_assert_max_num_queries(small):
        response = client.get(team_url(acme))

    assert response.content.decode().count('data-testid="member"') == 20


# ---------------------------------------------------------------------------
# In a browser: the inline edits swap in place through htmx
# ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_owner_edits_the_chart_in_place_in_a_browser(page, live_server, acme, bob):
    target = member(bob, acme)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + team_url(acme))
    profile = page.locator(f"#member-profile-{target.pk}")

    profile.locator("summary").click()
    profile.get_by_label("Hourly rate").fill("-3")
    profile.get_by_role("button", name="Save").click()
    expect(profile.locator(".errorlist")).to_contain_text("cannot be negative")
    profile.get_by_label("Hourly rate").fill("35")
    profile.get_by_label("Roles in the business").fill("sales")
    profile.get_by_role("button", name="Save").click()
    expect(profile.get_by_test_id("member-rate")).to_have_text("€35")
    expect(profile.get_by_test_id("member-roles")).to_have_text("sales")

    chart = page.get_by_test_id("marketing-owner")
    chart.get_by_label("Member accountable for marketing").select_option("Bob Baker")
    chart.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("no-marketing-owner")).to_have_count(0)
    expect(page.locator(f"#member-{target.pk}")).to_contain_text("Owns marketing")
    assert page.url == live_server.url + team_url(acme)
    assert marketing_owner_id(acme) == target.pk
