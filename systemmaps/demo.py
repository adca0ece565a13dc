"""Demo maps for `manage.py seed_demo`: the webinar system and two more, from the
built-in templates, with owners, costs, checklists and a few runs.

Idempotent: a map the demo business has by name (in the language being seeded)
is left alone, and a step that already has an owner, a checklist or runs keeps
them. Texts are English here, marked with `gettext_noop`, and written with
`gettext` in the active language; the steps come translated from the templates.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from hourglass.models import Business, Membership, User

from . import services
from .builtin import get_template
from .models import Automation, ChecklistRun, MapStatus, Node, RunTick, SystemMap

DEMO_MAPS = [
    # template key, map name, product, status
    (
        "webinar",
        gettext_noop("Webinar to client"),
        gettext_noop("Monthly bookkeeping package"),
        MapStatus.ACTIVE,
    ),
    (
        "client-onboarding",
        gettext_noop("Client onboarding"),
        gettext_noop("Monthly bookkeeping package"),
        MapStatus.DRAFT,
    ),
    ("referral-programme", gettext_noop("Referral programme"), "", MapStatus.DRAFT),
]


def seed(business: Business, owner: User) -> list[SystemMap]:
    maps = []
    for key, name_en, product, status in DEMO_MAPS:
        name = gettext(name_en)
        existing = SystemMap.objects.filter(business=business, name=name).first()
        if existing:
            maps.append(existing)
            continue
        template = get_template(key)
        system_map = services.map_create(
            business=business,
            acting_user=owner,
            name=name,
            half=template.half,
            stages=template.stages,
            product=gettext(product) or template.product,
            description=template.description,
            graph={**template.copy_graph(), "name": name},
            note=gettext("Demo data"),
        )
        if status == MapStatus.ACTIVE and not system_map.lint_errors:
            system_map.status = status
            system_map.save(update_fields=["status"])
        maps.append(system_map)
    seed_steps(business)
    return maps


DANA, SAM, PRIYA, LEO = (
    "demo@example.com",
    "sam@example.com",
    "priya@example.com",
    "leo@example.com",
)
M, COULD, AUTO = Automation.MANUAL, Automation.COULD, Automation.AUTOMATED

# map name → step id → (owner email or None, critical, automation, tool,
#                        minutes per run, runs per month)
# Some steps are left without an owner, and one critical step without a
# checklist, so the gap report has something to say on first run.
STEP_DETAILS = {
    "Webinar to client": {
        "nurture": (SAM, False, AUTO, "Mailchimp", 10, 4),
        "booked": (SAM, False, AUTO, "Calendly", 5, 30),
        "consultation": (DANA, True, M, "", 45, 12),
        "proposal": (DANA, True, COULD, "PandaDoc", 60, 6),
        "signed": (DANA, False, M, "", 5, 6),
        "downsell": (SAM, False, COULD, "ActiveCampaign", 30, 4),
    },
    "Client onboarding": {
        "welcome": (PRIYA, True, COULD, "Zapier", 40, 4),
        "intake": (PRIYA, False, M, "", 10, 4),
        "chase": (PRIYA, False, COULD, "Zapier", 20, 2),
        "account": (PRIYA, True, M, "", 60, 4),
        "kickoff": (DANA, True, M, "", 60, 4),
        "quick_win": (LEO, False, M, "", 120, 4),
        "check_in": (DANA, False, M, "", 30, 4),
        "happy": (DANA, False, M, "", 5, 4),
        "fix": (None, False, M, "", 90, 1),
    },
    "Referral programme": {
        "survey": (LEO, False, COULD, "Typeform", 15, 4),
        "promoter": (LEO, False, M, "", 2, 4),
        "call": (DANA, False, M, "", 30, 1),
        "ask": (LEO, True, M, "", 15, 3),
        "received": (LEO, False, M, "", 5, 3),
        "reward": (None, False, COULD, "", 20, 1),
        "contact": (None, False, M, "", 20, 1),
    },
}

# map name → step id → (why it matters, days since last review or None, items)
CHECKLISTS = {
    "Webinar to client": {
        "consultation": (
            gettext_noop(
                "The consultation is where a webinar attendee becomes a client: a call "
                "that follows the same path converts twice as often."
            ),
            30,
            [
                gettext_noop(
                    "Read the intake answers and last year's accounts before the call"
                ),
                gettext_noop("Ask about their three biggest money worries"),
                gettext_noop("Show the monthly package and what it replaces"),
                gettext_noop("Agree on the next step and a date for the proposal"),
                gettext_noop("Log the call and the next step in the CRM"),
            ],
        ),
        "proposal": (
            gettext_noop(
                "A proposal sent within 24 hours while the call is fresh is signed far "
                "more often."
            ),
            120,
            [
                gettext_noop(
                    "Use the package template and fill in the client's numbers"
                ),
                gettext_noop("Quote the fixed monthly fee and what is not included"),
                gettext_noop("Send it within 24 hours of the consultation"),
                gettext_noop("Set a reminder to follow up after three days"),
            ],
        ),
    },
    "Client onboarding": {
        "welcome": (
            gettext_noop(
                "The welcome pack sets expectations; missing documents later cost "
                "hours."
            ),
            10,
            [
                gettext_noop("Send the welcome email with the intake form link"),
                gettext_noop(
                    "Share the document checklist and the secure upload folder"
                ),
                gettext_noop("Book the kickoff call"),
            ],
        ),
        "kickoff": (
            gettext_noop(
                "The kickoff agrees what success looks like, so the 30-day check-in "
                "has something to measure."
            ),
            None,
            [
                gettext_noop("Walk through the intake answers"),
                gettext_noop("Agree on two goals for the first quarter"),
                gettext_noop("Explain the monthly close calendar"),
                gettext_noop("Confirm who on their side sends receipts"),
            ],
        ),
    },
}

# map name → step id → runs: (subject, days ago, how many items ticked, finished)
RUNS = {
    "Webinar to client": {
        "consultation": [
            (gettext_noop("Hoffmann Bakery"), 21, 5, True),
            (gettext_noop("Keller Plumbing"), 14, 4, True),
            (gettext_noop("Atelier Nord"), 6, 5, True),
            (gettext_noop("Greenway Florists"), 0, 2, False),
        ],
    },
    "Client onboarding": {
        "welcome": [
            (gettext_noop("Hoffmann Bakery"), 12, 3, True),
            (gettext_noop("Atelier Nord"), 3, 2, True),
        ],
        "kickoff": [(gettext_noop("Atelier Nord"), 1, 1, False)],
    },
}


def seed_steps(business: Business) -> None:
    """Owners, costs, checklists and runs on the demo maps (once per step)."""
    members = {
        m.user.email: m
        for m in Membership.objects.filter(business=business).select_related("user")
    }
    today = timezone.localdate()
    now = timezone.now()
    for map_name, steps in STEP_DETAILS.items():
        nodes = {
            n.client_id: n
            for n in Node.objects.filter(
                map__business=business, map__name=gettext(map_name)
            )
        }
        for client_id, details in steps.items():
            node = nodes.get(client_id)
            if node is None or node.owner_id or node.minutes_per_run is not None:
                continue
            email, critical, automation, tool, minutes, runs = details
            services.step_update(
                node=node,
                owner=members.get(email) if email else None,
                critical=critical,
                automation=automation,
                automation_tool=tool,
                minutes_per_run=Decimal(minutes),
                runs_per_month=Decimal(runs),
            )
        for client_id, (why, days, items) in CHECKLISTS.get(map_name, {}).items():
            node = nodes.get(client_id)
            if node is None or node.checklist_items.exists():
                continue
            reviewed = today - timedelta(days=days) if days is not None else None
            services.sop_update(node=node, why=gettext(why), reviewed_on=reviewed)
            for text in items:
                services.checklist_item_add(node=node, text=gettext(text))
        for client_id, runs in RUNS.get(map_name, {}).items():
            node = nodes.get(client_id)
            if node is None or node.runs.exists():
                continue
            items = list(node.checklist_items.all())
            user = node.owner.user if node.owner_id else None
            for subject, days_ago, ticked, finished in runs:
                started = now - timedelta(days=days_ago, hours=2)
                run = ChecklistRun.objects.create(
                    node=node,
                    subject=gettext(subject),
                    started_by=user,
                    started_at=started,
                )
                RunTick.objects.bulk_create(
                    RunTick(
                        run=run,
                        item=item,
                        item_text=item.text,
                        ticked_by=user,
                        ticked_at=started + timedelta(minutes=5 * (i + 1)),
                    )
                    for i, item in enumerate(items[:ticked])
                )
                if finished:
                    run.finished_at = started + timedelta(hours=1)
                    run.item_count = len(items)
                    run.ticked_count = min(ticked, len(items))
                    run.save(
                        update_fields=["finished_at", "item_count", "ticked_count"]
                    )
