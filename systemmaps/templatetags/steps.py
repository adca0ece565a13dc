from django import template

from systemmaps.costs import format_money

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """`{{ step.annual_cost|money:business.currency }}`"""
    return format_money(amount, currency)
