from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import selectors

# The business navigation: (URL name, label).
NAV_ITEMS = [
    ("hourglass:overview", _("Hourglass")),
    ("systemmaps:map-list", _("Maps")),
    ("systemmaps:my-steps", _("My steps")),
    ("metrics:this-week", _("Numbers")),
    ("metrics:review", _("Review")),
    ("hourglass:team", _("Team")),
]

# Pages that belong to a navigation item besides the one it links to.
NAV_ALSO = {
    "metrics:this-week": {
        "metrics:metric-list",
        "metrics:metric-detail",
        "metrics:metric-create",
        "metrics:metric-edit",
        "metrics:entries-import",
    },
    "metrics:review": {"metrics:review-week", "metrics:meeting"},
}


def navigation(request: HttpRequest) -> dict:
    business = getattr(request, "business", None)
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}

    # Lazy: a page that does not draw the switcher pays no query for it.
    def switcher():
        known = getattr(request, "memberships", None)
        return known if known is not None else selectors.user_memberships(request.user)

    items = []
    if business is not None:
        current = request.resolver_match.view_name if request.resolver_match else ""
        for name, label in NAV_ITEMS:
            active = name == current or current in NAV_ALSO.get(name, ())
            items.append(
                {
                    "label": label,
                    "url": reverse(name, kwargs={"slug": business.slug}),
                    "active": active,
                }
            )
    return {
        "business": business,
        "membership": getattr(request, "membership", None),
        "nav_items": items,
        "switcher_memberships": switcher,
    }
