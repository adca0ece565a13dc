"""Annual cost totals for pages whose views belong to others (the hourglass
overview, the map page): `{% load cost_totals %}`."""

from django import template

from hourglass.models import Business

from ..models import SystemMap
from ..selectors import CostTotal, CostTotals, cost_totals, map_cost_total

register = template.Library()


@register.simple_tag
def business_cost_totals(business: Business) -> CostTotals:
    """`{% business_cost_totals business as totals %}`: one query."""
    return cost_totals(business)


@register.simple_tag
def map_cost(system_map: SystemMap) -> CostTotal:
    """`{% map_cost map as total %}`: one query."""
    return map_cost_total(system_map)


@register.filter
def stage_total(totals: CostTotals, stage: str) -> CostTotal | None:
    """`{{ totals|stage_total:card.stage.value }}`: None when no step counts there."""
    return totals.by_stage.get(stage) if totals else None
