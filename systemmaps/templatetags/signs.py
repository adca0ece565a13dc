"""The sign of a step's state, from the one vocabulary (`document.SIGNS`).

`{% sign "critical" %}` is the sign alone, hidden from screen readers, for a
page that writes its own words beside it; `{% signed "critical" %}` is the sign
and its usual words (the critical sign, then "Critical").
"""

from django import template
from django.utils.html import format_html

from systemmaps.document import SIGN_WORDS, SIGNS

register = template.Library()


@register.simple_tag
def sign(state: str) -> str:
    """The sign, or nothing for a state without one (the words still say it)."""
    if state not in SIGNS:
        return ""
    return format_html(
        '<span class="sign sign-{}" aria-hidden="true">{}</span>', state, SIGNS[state]
    )


@register.simple_tag
def signed(state: str) -> str:
    return format_html("{} {}", sign(state), SIGN_WORDS[state])
