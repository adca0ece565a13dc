from django import template
from django.utils.html import json_script

from hourglass import places

register = template.Library()


@register.simple_tag
def place_suggestions() -> str:
    """`{% place_suggestions %}`: each country's currency and zone, for the
    business form's script (static/hourglass/app.js)."""
    return json_script(places.suggestions(), "place-suggestions")
