from django import template
from django.utils.html import format_html

register = template.Library()


class ScrollBoxNode(template.Node):
    def __init__(self, nodelist, options: dict[str, template.base.FilterExpression]):
        self.nodelist = nodelist
        self.options = options

    def render(self, context) -> str:
        values = {k: v.resolve(context) for k, v in self.options.items()}
        name = (
            format_html('aria-labelledby="{}"', values["labelledby"])
            if "labelledby" in values
            else format_html('aria-label="{}"', values["label"])
        )
        return format_html(
            '<div class="scroll-box{}" role="region" tabindex="0" {}{}>{}</div>',
            f" {values['class']}" if values.get("class") else "",
            name,
            format_html(' data-testid="{}"', values["testid"])
            if values.get("testid")
            else "",
            self.nodelist.render(context),
        )


@register.tag
def scrollbox(parser, token):
    """`{% scrollbox labelledby="heading-id" %}…{% endscrollbox %}` (or
    `label="…"`, and optionally `class=` and `testid=`): a box that scrolls
    sideways when its content (a wide table, a drawing) is wider than the
    screen. A keyboard user reaches it with Tab and scrolls it with the arrow
    keys, and a screen reader names it (WCAG 2.1.1; axe's
    scrollable-region-focusable). Every such box on every page is this one."""
    bits = token.split_contents()[1:]
    options = {}
    for bit in bits:
        key, sep, value = bit.partition("=")
        if not sep or key not in ("labelledby", "label", "class", "testid"):
            raise template.TemplateSyntaxError(f"scrollbox: unknown option {bit!r}")
        options[key] = parser.compile_filter(value)
    if ("labelledby" in options) == ("label" in options):
        raise template.TemplateSyntaxError("scrollbox: give labelledby= or label=")
    nodelist = parser.parse(("endscrollbox",))
    parser.delete_first_token()
    return ScrollBoxNode(nodelist, options)
