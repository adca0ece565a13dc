"""The hourglass funnel's shares (README, "The rollup"): each stage's total is a
share of the nearest stage above with a total that week; a stage above with 0
gives no share; stages in between without numbers are named as skipped."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from metrics import rollup, selectors
from metrics.tests.factories import EntryFactory, MetricFactory

STAGES = ["know", "like", "trust", "try", "buy", "repeat", "refer"]


def share_by_rule(totals: dict[str, Decimal | None]) -> dict[str, tuple]:
    """(stage measured against, share) per stage with a total, from the rule."""
    result, above = {}, None
    for stage in STAGES:
        total = totals.get(stage)
        if total is None:
            continue
        if above is None:
            result[stage] = ("", None)
        else:
            share = None
            if totals[above]:
                share = (total / totals[above]).quantize(
                    Decimal("0.0001"), rounding=ROUND_HALF_UP
                )
            result[stage] = (above, share)
        above = stage
    return result


@pytest.mark.parametrize(
    "totals",
    [
        {"like": Decimal(100), "trust": Decimal(0), "try": Decimal(39)},
        {"like": Decimal(100), "try": Decimal(39), "buy": Decimal(13)},
        {"know": Decimal(0), "like": Decimal(5)},
    ],
)
def test_each_stage_is_a_share_of_the_nearest_stage_above_with_a_total(
    acme, alice_client, last_week, totals
):
    for stage, total in totals.items():
        metric = MetricFactory(business=acme, stage=stage, first_week=last_week)
        EntryFactory(metric=metric, week=last_week, value=total)
    rollup.rollup_business_week(acme.id, last_week)

    funnel = {s.stage: s for s in selectors.review(acme, last_week).funnel}
    for stage, (above, share) in share_by_rule(totals).items():
        assert (funnel[stage].row.from_stage, funnel[stage].row.conversion) == (
            above,
            share,
        ), stage
    html = alice_client.get(
        reverse("metrics:review-week", args=[acme.slug, last_week])
    ).content.decode()
    if totals.get("trust") == 0:
        # Try is not a share of Like, which Trust stands between.
        assert "Trust had 0: no share" in html
        assert "39 % of Like" not in html.replace("\xa0", " ")
    if "trust" not in totals and "try" in totals:
        assert "39 % of Like" in html.replace("\xa0", " ")
        assert "(Trust not measured)" in html
