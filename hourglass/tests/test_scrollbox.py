"""`{% scrollbox %}` (hourglass/templatetags/layout.py): the one box that
scrolls sideways, reachable by Tab and named for screen readers."""

import pytest
from django.template import Context, Template, TemplateSyntaxError


def render(source: str, **context) -> str:
    return Template("{% load layout %}" + source).render(Context(context))


def test_a_box_named_by_a_heading_is_a_focusable_region():
    html = render(
        '{% scrollbox labelledby="owners-title" %}<table></table>{% endscrollbox %}'
    )

    assert html == (
        '<div class="scroll-box" role="region" tabindex="0" '
        'aria-labelledby="owners-title"><table></table></div>'
    )


def test_a_box_named_by_a_text_escapes_it_and_keeps_its_class_and_testid():
    html = render(
        '{% scrollbox label=name class="svg-wrap" testid="map-svg" %}<svg></svg>'
        "{% endscrollbox %}",
        name='Leads "A" & <B>',
    )

    assert html == (
        '<div class="scroll-box svg-wrap" role="region" tabindex="0" '
        'aria-label="Leads &quot;A&quot; &amp; &lt;B&gt;" data-testid="map-svg">'
        "<svg></svg></div>"
    )


@pytest.mark.parametrize(
    "tag",
    [
        "{% scrollbox %}",
        '{% scrollbox label="a" labelledby="b" %}',
        '{% scrollbox title="a" %}',
        '{% scrollbox "a" %}',
    ],
)
def test_a_box_without_one_name_or_with_an_unknown_option_is_refused(tag):
    with pytest.raises(TemplateSyntaxError):
        render(tag + "{% endscrollbox %}")
