"""Helpers shared by the core app's tests."""

from html.parser import HTMLParser

from hourglass.models import Business, Invitation, Membership, StagePlan, Tactic


def business_snapshot(business: Business) -> dict:
    """Everything a request could change about a business, to compare."""
    return {
        "business": list(
            Business.objects.filter(pk=business.pk).values_list(
                "name", "slug", "currency", "timezone"
            )
        ),
        "memberships": sorted(
            Membership.objects.filter(business=business).values_list(
                "user__email", "role"
            )
        ),
        "stage_plans": sorted(
            StagePlan.objects.filter(business=business).values_list(
                "stage", "goal", "notes"
            )
        ),
        "tactics": sorted(
            Tactic.objects.filter(business=business).values_list(
                "pk", "stage", "name", "pep", "note"
            )
        ),
        "invitations": sorted(
            Invitation.objects.filter(business=business).values_list(
                "pk", "email", "role", "nonce", "accepted_at"
            )
        ),
    }


class _Elements(HTMLParser):
    """Records, for every element with an `id`, the ids and data-* of its ancestors."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.elements: list[tuple[dict, list[dict]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.elements.append((attrs, [a for _t, a in self.stack]))
        if tag not in self.VOID:
            self.stack.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.elements.append((attrs, [a for _t, a in self.stack]))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break


def elements(html: str) -> list[tuple[dict, list[dict]]]:
    """Each element's attributes with its ancestors' attributes, outermost first."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def ancestor_attr(ancestors: list[dict], name: str) -> str | None:
    """The value of `name` on the nearest ancestor that has it."""
    for attrs in reversed(ancestors):
        if name in attrs:
            return attrs[name]
    return None
