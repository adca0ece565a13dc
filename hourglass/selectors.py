"""Reads of the core app, shaped for pages (and for other apps' pages)."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from .models import (
    MARKETING_STAGES,
    STAGE_DESCRIPTIONS,
    STAGE_ORDER,
    Business,
    Half,
    Invitation,
    Membership,
    PepBucket,
    Stage,
    StagePlan,
    Tactic,
    User,
    stage_half,
)
from .services import invitation_url


def pep_warning(stage: str, pep_buckets: list[str]) -> str:
    """The warning for the Know stage when its tactics use fewer than two PEP buckets.

    Relying on one kind of media is fragile: paid stops when the money does, earned
    takes months, person needs someone's time. The method asks for two at least.
    """
    if stage != Stage.KNOW:
        return ""
    used = sorted(set(pep_buckets), key=[b.value for b in PepBucket].index)
    if len(used) >= 2:
        return ""
    if not used:
        return _(
            "No tactics yet. Add tactics from at least two PEP buckets: "
            "paid, earned and person."
        )
    return _(
        "All your Know tactics are %(bucket)s. Use at least two PEP buckets "
        "(paid, earned, person) so one channel drying up does not stop new prospects."
    ) % {"bucket": PepBucket(used[0]).label.lower()}


@dataclass
class StageCard:
    stage: Stage
    plan: StagePlan
    tactics: list[Tactic] = field(default_factory=list)
    number: int = 0
    # Filled by the overview from the system maps app (see its selectors): the
    # stage's maps and the annual cost of its steps (None when none has a cost).
    maps: list = field(default_factory=list)
    cost: Any = None

    @property
    def half(self) -> str:
        return stage_half(self.stage)

    @property
    def description(self) -> str:
        return STAGE_DESCRIPTIONS[self.stage]

    @property
    def pep_warning(self) -> str:
        return pep_warning(self.stage, [t.pep for t in self.tactics])


def _stage_cards(business: Business, stages: list[str]) -> list[StageCard]:
    plans = {
        p.stage: p
        for p in StagePlan.objects.filter(business=business, stage__in=stages)
    }
    tactics: dict[str, list[Tactic]] = {stage: [] for stage in stages}
    for tactic in Tactic.objects.filter(business=business, stage__in=stages):
        tactics[tactic.stage].append(tactic)
    return [
        StageCard(
            stage=Stage(stage),
            plan=plans.get(stage) or StagePlan(business=business, stage=stage),
            tactics=tactics[stage],
            number=STAGE_ORDER.index(stage) + 1,
        )
        for stage in stages
    ]


def stage_card(business: Business, stage: str) -> StageCard:
    return _stage_cards(business, [stage])[0]


def hourglass_stages(business: Business) -> dict[str, list[StageCard]]:
    """The seven stage cards of a business in its two halves, in two queries."""
    cards = _stage_cards(business, STAGE_ORDER)
    split = len(MARKETING_STAGES)
    return {Half.MARKETING: cards[:split], Half.OPERATIONS: cards[split:]}


def last_used_membership(user: User) -> Membership | None:
    """The membership of the business `user` opened last (the oldest one if
    they never switched), with its business."""
    return (
        Membership.objects.filter(user=user)
        .select_related("business")
        .order_by(F("last_used_at").desc(nulls_last=True), "created_at")
        .first()
    )


def user_memberships(user: User) -> list[Membership]:
    """Every business `user` belongs to, by name, each with its business."""
    return list(
        Membership.objects.filter(user=user)
        .select_related("business", "user")
        .order_by("business__name", "business_id")
    )


def pending_invitations(business: Business, base_url: str) -> list[Invitation]:
    """The invitations nobody has accepted yet, each with its `link` to copy
    (`base_url` is the site's root, as the email has it)."""
    invitations = list(
        Invitation.objects.filter(
            business=business, accepted_at__isnull=True
        ).select_related("invited_by")
    )
    for invitation in invitations:
        invitation.link = base_url.rstrip("/") + invitation_url(invitation)
    return invitations


def business_members(business: Business) -> list[Membership]:
    return list(
        Membership.objects.filter(business=business)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


# ---------------------------------------------------------------------------
# The accountability chart
# ---------------------------------------------------------------------------


@dataclass
class MapStepRows:
    """Steps of one map (plain rows from the system maps app's selectors)."""

    map_id: int
    name: str
    steps: list[dict] = field(default_factory=list)


def _by_map(rows: list[dict]) -> list[MapStepRows]:
    groups: dict[int, MapStepRows] = {}
    for row in rows:
        group = groups.get(row["map_id"])
        if group is None:
            group = groups[row["map_id"]] = MapStepRows(row["map_id"], row["map_name"])
        group.steps.append(row)
    return list(groups.values())


@dataclass
class ChartMember:
    membership: Membership
    maps: list[MapStepRows]
    # The metrics this member owns, as plain rows (metrics.selectors).
    metrics: list[dict] = field(default_factory=list)
    is_marketing_owner: bool = False
    # The inline form of roles and rate, set by the team view for owners.
    form: Any = None

    @property
    def step_count(self) -> int:
        return sum(len(group.steps) for group in self.maps)

    @property
    def owns_nothing(self) -> bool:
        return not self.maps and not self.metrics


@dataclass
class AccountabilityChart:
    members: list[ChartMember]
    # Work steps nobody (of this business) owns, by map.
    unowned: list[MapStepRows]
    marketing_owner: Membership | None
    # Active metrics nobody (of this business) owns.
    unowned_metrics: list[dict] = field(default_factory=list)

    @property
    def unowned_count(self) -> int:
        return sum(len(group.steps) for group in self.unowned)


def accountability_chart(
    business: Business, steps: list[dict], metrics: list[dict] | None = None
) -> AccountabilityChart:
    """Who owns which steps and metrics, from plain rows (`owner_id`, …: the
    steps from systemmaps.selectors.steps_for_chart, the metrics from
    metrics.selectors.metrics_for_chart). One query, for the members, whatever
    the number of steps, metrics and members."""
    members = business_members(business)
    by_pk = {m.pk: m for m in members}
    owned: dict[int, list[dict]] = {m.pk: [] for m in members}
    unowned = []
    for row in steps:
        if row["owner_id"] in owned:
            owned[row["owner_id"]].append(row)
        else:
            unowned.append(row)
    owned_metrics: dict[int, list[dict]] = {m.pk: [] for m in members}
    unowned_metrics = []
    for row in metrics or []:
        if row["owner_id"] in owned_metrics:
            owned_metrics[row["owner_id"]].append(row)
        else:
            unowned_metrics.append(row)
    return AccountabilityChart(
        members=[
            ChartMember(
                membership=m,
                maps=_by_map(owned[m.pk]),
                metrics=owned_metrics[m.pk],
                is_marketing_owner=m.pk == business.marketing_owner_id,
            )
            for m in members
        ],
        unowned=_by_map(unowned),
        marketing_owner=by_pk.get(business.marketing_owner_id),
        unowned_metrics=unowned_metrics,
    )
