"""Reads of the core app, shaped for pages (and for other apps' pages)."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .models import (
    MARKETING_STAGES,
    STAGE_DESCRIPTIONS,
    STAGE_ORDER,
    Business,
    Half,
    Membership,
    PepBucket,
    Stage,
    StagePlan,
    Tactic,
    stage_half,
)


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
    # Filled by the overview from the system maps app (see its selectors).
    maps: list = field(default_factory=list)

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


def business_members(business: Business) -> list[Membership]:
    return list(
        Membership.objects.filter(business=business)
        .select_related("user")
        .order_by("user__name", "user__email")
    )
