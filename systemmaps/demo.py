"""Demo maps for `manage.py seed_demo`: the webinar system and two more, from the
built-in templates. Idempotent: a map the demo business has by name is left alone."""

from hourglass.models import Business, User

from . import services
from .builtin import get_template
from .models import MapStatus, SystemMap

DEMO_MAPS = [
    # template key, map name, product, status
    ("webinar", "Webinar to client", "Monthly bookkeeping package", MapStatus.ACTIVE),
    (
        "client-onboarding",
        "Client onboarding",
        "Monthly bookkeeping package",
        MapStatus.DRAFT,
    ),
    ("referral-programme", "Referral programme", "", MapStatus.DRAFT),
]


def seed(business: Business, owner: User) -> list[SystemMap]:
    maps = []
    for key, name, product, status in DEMO_MAPS:
        existing = SystemMap.objects.filter(business=business, name=name).first()
        if existing:
            maps.append(existing)
            continue
        template = get_template(key)
        system_map = services.map_create(
            business=business,
            user=owner,
            name=name,
            half=template.half,
            stages=template.stages,
            product=product or template.product,
            description=template.description,
            graph={**template.graph, "name": name},
            note="Demo data",
        )
        if status == MapStatus.ACTIVE and not system_map.lint_errors:
            system_map.status = status
            system_map.save(update_fields=["status"])
        maps.append(system_map)
    return maps
