"""Annual cost totals per map, per stage and per business, and where they show."""

from decimal import Decimal

import pytest
from django.urls import reverse

from hourglass.models import Membership
from systemmaps import selectors, services
from systemmaps.models import Node
from systemmaps.tests.factories import make_map
from systemmaps.tests.utils import step


def cost(system_map, client_id, minutes, runs, hourly=None, **details):
    """Set a step's figures; `hourly` None leaves the owner's rate to count."""
    services.step_update(
        node=step(system_map, client_id),
        minutes_per_run=None if minutes is None else Decimal(minutes),
        runs_per_month=None if runs is None else Decimal(runs),
        hourly_cost=None if hourly is None else Decimal(hourly),
        **details,
    )


@pytest.fixture
def costed_map(webinar_map):
    """The webinar map with three of its six work steps costed.

    nurture (like): 60 min × 10 × 30 € × 12 = 3,600
    call    (buy):  30 min × 4 × 50 € × 12 = 1,200
    proposal (buy): 0 min (a figure: zero)  = 0
    """
    cost(webinar_map, "nurture", 60, 10, 30)
    cost(webinar_map, "call", 30, 4, 50)
    cost(webinar_map, "proposal", 0, 4, 50)
    return webinar_map


def test_business_totals_add_up_known_costs_and_count_the_unknown(acme, costed_map):
    totals = selectors.cost_totals(acme)

    assert totals.business.amount == Decimal("4800.00")
    assert (totals.business.steps, totals.business.unknown) == (6, 3)
    assert totals.business.known == 3
    assert totals.by_map[costed_map.pk].amount == Decimal("4800.00")


def test_stage_totals_use_the_steps_stage_else_the_maps_first(acme, costed_map):
    nurture = step(costed_map, "nurture")
    nurture.stage = ""
    nurture.save()
    cost(costed_map, "downsell", 60, 1, 100)  # try: 1,200

    totals = selectors.cost_totals(acme)

    # The map spans like and try: the unstaged nurture counts under like.
    assert totals.by_stage["like"].amount == Decimal("3600.00")
    assert totals.by_stage["try"].amount == Decimal("1200.00")
    assert totals.by_stage["try"].unknown == 1  # booked
    assert totals.by_stage["buy"].amount == Decimal("1200.00")
    assert totals.by_stage["buy"].unknown == 1  # signed
    assert "know" not in totals.by_stage


def test_owner_rate_is_the_hourly_cost_when_the_step_has_none(acme, alice, webinar_map):
    owner = Membership.objects.get(business=acme, user=alice)
    owner.hourly_rate = Decimal(60)
    owner.save()
    cost(webinar_map, "call", 30, 10, None, owner=owner)

    totals = selectors.cost_totals(acme)

    assert totals.business.amount == Decimal("3600.00")
    assert totals.business.unknown == 5


def test_totals_agree_with_each_steps_own_annual_cost(acme, alice, costed_map):
    owner = Membership.objects.get(business=acme, user=alice)
    owner.hourly_rate = Decimal("47.5")
    owner.save()
    cost(costed_map, "signed", "7.5", "33.3", None, owner=owner)
    nodes = Node.objects.filter(map=costed_map, kind__in=("task", "decision"))

    expected = sum(n.annual_cost or 0 for n in nodes.select_related("owner"))

    assert selectors.cost_totals(acme).business.amount == expected
    assert selectors.map_cost_total(costed_map).amount == expected


def test_totals_leave_out_termini_deleted_maps_and_other_businesses(
    acme, alice, costed_map, other_map
):
    gone = make_map(acme, alice, "Gone")
    cost(gone, "call", 60, 100, 100)
    services.map_delete(system_map=gone, acting_user=alice)
    cost(other_map, "call", 60, 100, 100)

    totals = selectors.cost_totals(acme)

    assert totals.business.amount == Decimal("4800.00")
    assert totals.business.steps == 6
    assert set(totals.by_map) == {costed_map.pk}


def test_business_totals_take_one_query_whatever_the_number_of_maps(
    acme, alice, costed_map, django_assert_num_queries
):
    for index in range(5):
        make_map(acme, alice, f"Map {index}")

    with django_assert_num_queries(1):
        totals = selectors.cost_totals(acme)

    assert len(totals.by_map) == 6


def test_map_total_takes_one_query(costed_map, django_assert_num_queries):
    with django_assert_num_queries(1):
        total = selectors.map_cost_total(costed_map)

    assert (total.amount, total.unknown) == (Decimal("4800.00"), 3)


def test_map_without_figures_totals_zero_known_and_all_unknown(webinar_map):
    total = selectors.map_cost_total(webinar_map)

    assert (total.amount, total.known, total.unknown) == (Decimal(0), 0, 6)


# ---------------------------------------------------------------------------
# Where the totals show
# ---------------------------------------------------------------------------


def test_map_page_shows_its_total_the_steps_without_figures_and_the_gap_link(
    alice_client, costed_map
):
    url = reverse("systemmaps:map-detail", kwargs={"slug": "acme", "pk": costed_map.pk})

    html = alice_client.get(url).content.decode()

    total = html[html.index('data-testid="map-cost"') :]
    assert "€4,800" in total[:400]
    assert "3 steps without figures" in total[:400]
    gaps_url = reverse(
        "systemmaps:map-gaps", kwargs={"slug": "acme", "pk": costed_map.pk}
    )
    assert f'href="{gaps_url}"' in html


def test_map_page_says_the_cost_is_not_known_without_figures(alice_client, webinar_map):
    url = reverse(
        "systemmaps:map-detail", kwargs={"slug": "acme", "pk": webinar_map.pk}
    )

    html = alice_client.get(url).content.decode()

    assert "not known yet" in html
    assert "6 steps without figures" in html


def test_overview_shows_each_stages_cost(alice_client, acme, costed_map):
    html = alice_client.get(
        reverse("hourglass:overview", kwargs={"slug": "acme"})
    ).content.decode()

    def card(stage):
        start = html.index(f'id="stage-{stage}"')
        return html[start : html.index("</article>", start)]

    assert "€3,600" in card("like")
    assert "€1,200" in card("buy")
    assert "1 step without figures" in card("buy")
    assert 'data-testid="stage-cost"' not in card("know")


def test_overview_cost_totals_add_one_query(
    alice_client, acme, costed_map, django_assert_max_num_queries
):
    url = reverse("hourglass:overview", kwargs={"slug": "acme"})
    alice_client.get(url)

    # Session, user, membership, plans, tactics, maps, costs, switcher.
    with django_assert_max_num_queries(8):
        alice_client.get(url)


def test_business_gap_report_shows_the_business_total(alice_client, acme, costed_map):
    html = alice_client.get(
        reverse("systemmaps:gaps", kwargs={"slug": "acme"})
    ).content.decode()

    total = html[html.index('data-testid="business-cost"') :]
    assert "€4,800" in total[:400]
    assert "3 steps without figures" in total[:400]
