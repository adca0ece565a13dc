"""Demo metrics for `manage.py seed_demo`: 26 weeks of believable numbers for the
webinar system (attendees → consultations booked → clients onboarded) and a total
for every stage, so the weekly review shows trends, a drop-off and some
off-track metrics on first run; a meeting with an open issue and to-dos.

Idempotent: a metric the business has by name (in the language being seeded)
is left alone with its numbers, and only weeks not rolled up yet (or stale) are
rolled up. Texts are English here, marked with `gettext_noop`, and written with
`gettext` in the active language; the English names stay the keys in here.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from hourglass.models import Business, Membership, Stage
from systemmaps.models import Node

from . import rollup
from .models import (
    Direction,
    Entry,
    Meeting,
    MeetingIssue,
    Metric,
    RollupWeek,
    Todo,
    Unit,
)
from .weeks import WEEK, current_week, weeks_back

WEEKS = 26
DANA, SAM, PRIYA, LEO = (
    "demo@example.com",
    "sam@example.com",
    "priya@example.com",
    "leo@example.com",
)
# The demo maps' names (systemmaps.demo), English like every key in here.
WEBINAR, REFERRALS = (
    gettext_noop("Webinar to client"),
    gettext_noop("Referral programme"),
)

# name, unit, direction, weekly goal, owner, (map, step id) or None, stage,
# counts toward the stage total, how it is counted
METRICS = [
    (gettext_noop("Website visitors"),
     Unit.COUNT, Direction.HIGHER, 120, SAM, None, Stage.KNOW, True,
     gettext_noop("Unique visitors in the analytics report, Monday to Sunday.")),
    (gettext_noop("Newsletter sign-ups"),
     Unit.COUNT, Direction.HIGHER, 20, PRIYA, None, Stage.LIKE, True,
     gettext_noop("New subscribers to Cash-flow Corner.")),
    (gettext_noop("Nurture email open rate"),
     Unit.PERCENT, Direction.HIGHER, 40, PRIYA, (WEBINAR, "nurture"), Stage.LIKE,
     False, gettext_noop("Opens ÷ delivered, from the mailer.")),
    (gettext_noop("Webinar attendees"),
     Unit.COUNT, Direction.HIGHER, 8, SAM, (WEBINAR, "webinar"), Stage.TRUST, True,
     gettext_noop("People who stayed at least 10 minutes.")),
    (gettext_noop("Consultations booked"),
     Unit.COUNT, Direction.HIGHER, 4, DANA, (WEBINAR, "consultation"), Stage.TRY,
     True, gettext_noop("Calls booked in the calendar.")),
    (gettext_noop("Proposals sent"),
     Unit.COUNT, Direction.HIGHER, 3, DANA, (WEBINAR, "proposal"), Stage.TRY, False,
     gettext_noop("Proposals sent after a consultation.")),
    (gettext_noop("Proposal turnaround"),
     Unit.DURATION, Direction.LOWER, 24, DANA, (WEBINAR, "proposal"), Stage.TRY,
     False, gettext_noop("Average hours from the consultation to the proposal.")),
    (gettext_noop("Clients onboarded"),
     Unit.COUNT, Direction.HIGHER, 2, LEO, (WEBINAR, "onboard"), Stage.BUY, True,
     gettext_noop("New clients whose first month has started.")),
    (gettext_noop("New monthly revenue"),
     Unit.MONEY, Direction.HIGHER, 2500, DANA, None, Stage.BUY, False,
     gettext_noop("Monthly fees of the clients signed this week.")),
    (gettext_noop("Add-on services sold"),
     Unit.COUNT, Direction.HIGHER, 2, LEO, None, Stage.REPEAT, True,
     gettext_noop("Payroll, tax returns and other add-ons to clients.")),
    (gettext_noop("Referrals received"),
     Unit.COUNT, Direction.HIGHER, 1, LEO, (REFERRALS, "received"), Stage.REFER,
     True, gettext_noop("Introductions from clients.")),
]  # fmt: skip


def _series(rng: random.Random, weeks: int) -> dict[str, list[Decimal | None]]:
    """The numbers of each metric, oldest week first: the webinar grows, but
    fewer attendees book a call in the last two months (the drop-off)."""
    out: dict[str, list[Decimal | None]] = {name: [] for name, *_rest in METRICS}
    for i in range(weeks):
        growth = i / (weeks - 1)
        visitors = round(95 + 40 * growth + rng.uniform(-12, 12))
        attendees = max(2, round(5 + 5 * growth + rng.uniform(-1.5, 1.5)))
        booking_rate = 0.5 if i < weeks - 8 else 0.28
        consultations = max(0, round(attendees * booking_rate + rng.uniform(-0.6, 0.6)))
        proposals = max(0, round(consultations * 0.8 + rng.uniform(-0.5, 0.5)))
        onboarded = max(0, round(proposals * 0.6 + rng.uniform(-0.5, 0.5)))
        addons = max(0, round(1.8 + rng.uniform(-1.4, 1.4)))
        values = {
            "Website visitors": visitors,
            "Newsletter sign-ups": max(0, round(14 + 8 * growth + rng.uniform(-4, 3))),
            "Nurture email open rate": round(36 + rng.uniform(-5, 9), 1),
            "Webinar attendees": attendees,
            "Consultations booked": consultations,
            "Proposals sent": proposals,
            "Proposal turnaround": round(18 + 22 * growth + rng.uniform(-5, 5), 1),
            "Clients onboarded": onboarded,
            "New monthly revenue": onboarded * 1250 + addons * 150,
            "Add-on services sold": addons,
            "Referrals received": max(0, round(0.8 + rng.uniform(-0.9, 1.4))),
        }
        for name, value in values.items():
            out[name].append(Decimal(str(value)))
    # Leo has not entered last week's add-ons yet: the review shows it missing.
    out["Add-on services sold"][-1] = None
    return out


def seed(business: Business) -> list[Metric]:
    members = {
        m.user.email: m
        for m in Membership.objects.filter(business=business).select_related("user")
    }
    # (English map name, step id) → step, whatever language the maps are in.
    english = {gettext(name): name for name in (WEBINAR, REFERRALS)}
    steps = {
        (english.get(n.map.name), n.client_id): n
        for n in Node.objects.filter(
            map__business=business, map__deleted_at__isnull=True
        ).select_related("map")
    }
    this_week = current_week(business.timezone)
    weeks = weeks_back(this_week - WEEK, WEEKS)
    series = _series(random.Random(7), WEEKS)
    existing = {m.name: m for m in Metric.objects.filter(business=business)}
    by_name: dict[str, Metric] = {}  # English name → metric
    now = timezone.now()
    entries = []
    for position, row in enumerate(METRICS, start=1):
        name, unit, direction, goal, owner, step, stage, funnel, how = row
        if gettext(name) in existing:
            by_name[name] = existing[gettext(name)]
            continue
        owner_membership = members.get(owner)
        metric = Metric.objects.create(
            business=business,
            name=gettext(name),
            description=gettext(how),
            unit=unit,
            direction=direction,
            goal=Decimal(goal),
            owner=owner_membership,
            step=steps.get(step) if step else None,
            stage=stage,
            in_funnel=funnel,
            position=position,
            first_week=weeks[0],
            created_by=members[DANA].user if DANA in members else None,
        )
        by_name[name] = metric
        for week, value in zip(weeks, series[name], strict=True):
            if value is None:
                continue
            entries.append(
                Entry(
                    business=business,
                    metric=metric,
                    week=week,
                    value=value,
                    entered_by=owner_membership.user if owner_membership else None,
                    # Friday afternoon of that week.
                    entered_at=timezone.make_aware(
                        datetime.combine(week + timedelta(days=4), time(16))
                    ),
                )
            )
        # This week so far: the visitors are in, the rest comes by Friday.
        if name == "Website visitors":
            entries.append(
                Entry(
                    business=business,
                    metric=metric,
                    week=this_week,
                    value=Decimal(58),
                    entered_by=owner_membership.user if owner_membership else None,
                    entered_at=now,
                )
            )
    Entry.objects.bulk_create(entries)
    _seed_meeting(business, members, by_name, weeks[-1], steps)
    _roll_up(business, weeks + [this_week])
    return list(by_name.values())


def _seed_meeting(business, members, metrics, last_week, steps) -> None:
    if Meeting.objects.filter(business=business).exists():
        return
    dana = members.get(DANA)
    sam = members.get(SAM)
    previous = last_week - WEEK
    Meeting.objects.create(
        business=business,
        week=previous,
        notes=gettext(
            "Webinar attendance keeps growing. Fewer attendees book a call since "
            "the new webinar ending; Sam to test the old call-to-action again.\n"
            "Proposal turnaround is creeping up: Dana is too busy to write them."
        ),
        updated_by=dana.user if dana else None,
    )
    issue = MeetingIssue.objects.create(
        business=business,
        title=gettext("Fewer webinar attendees book a consultation"),
        detail=gettext(
            "About half used to book; for two months it has been about a quarter."
        ),
        metric=metrics.get("Consultations booked"),
        step=steps.get((WEBINAR, "booked")),
        raised_week=previous,
        raised_by=dana.user if dana else None,
    )
    MeetingIssue.objects.create(
        business=business,
        title=gettext("Proposals take more than a day"),
        metric=metrics.get("Proposal turnaround"),
        step=steps.get((WEBINAR, "proposal")),
        raised_week=previous,
        raised_by=dana.user if dana else None,
    )
    Todo.objects.create(
        business=business,
        text=gettext("Put the old call-to-action back on the last webinar slide"),
        owner=sam,
        due=last_week + timedelta(days=4),
        issue=issue,
        created_week=previous,
        created_by=dana.user if dana else None,
    )
    Todo.objects.create(
        business=business,
        text=gettext("Draft a proposal template Priya can fill in"),
        owner=dana,
        due=last_week + WEEK + timedelta(days=2),
        created_week=previous,
        created_by=dana.user if dana else None,
    )
    Todo.objects.create(
        business=business,
        text=gettext("Send the webinar recording to everyone who registered"),
        owner=sam,
        due=previous + timedelta(days=3),
        created_week=previous,
        created_by=dana.user if dana else None,
        done_week=previous,
        done_at=timezone.now() - timedelta(days=8),
    )


def _roll_up(business: Business, weeks: list) -> None:
    """Roll up the weeks that have no fresh rollup yet, oldest first."""
    fresh = set(
        RollupWeek.objects.filter(
            business=business,
            week__in=weeks,
            computed_at__isnull=False,
            stale_since__isnull=True,
        ).values_list("week", flat=True)
    )
    for week in weeks:
        if week not in fresh:
            rollup.rollup_business_week(business.pk, week)
