"""The weekly reminders: on Monday morning in each business's own time zone,
one email per owner whose numbers of the week that just closed are missing,
once per business and week."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hourglass import languages, mail

from . import recompute, selectors, weeks
from .models import Metric, RollupWeek

# Reminders go out on Monday from this hour, in each business's time zone.
REMINDER_HOUR = 8


def reminders_send(*, now: datetime | None = None) -> int:
    """The hourly job: in each time zone where it is Monday REMINDER_HOUR or
    later, one email per owner whose metrics lack a number for last week, for
    every business not reminded of that week yet (once per business and week,
    `RollupWeek.reminded_at`). Returns the number of emails sent (one that
    could not be sent is logged, and the others still go)."""
    now = now or timezone.now()
    weeks_by_business: dict[int, date] = {}
    for zone, ids in recompute.businesses_by_zone().items():
        local = now.astimezone(ZoneInfo(zone))
        if local.weekday() != 0 or local.hour < REMINDER_HOUR:
            continue
        last = weeks.week_at(now, zone) - weeks.WEEK
        weeks_by_business.update(dict.fromkeys(ids, last))
    if not weeks_by_business:
        return 0
    with transaction.atomic():
        RollupWeek.objects.bulk_create(
            [RollupWeek(business_id=b, week=w) for b, w in weeks_by_business.items()],
            ignore_conflicts=True,
        )
        rows = [
            (pk, business_id, week)
            for pk, business_id, week in RollupWeek.objects.select_for_update()
            .filter(business_id__in=list(weeks_by_business), reminded_at__isnull=True)
            .values_list("pk", "business_id", "week")
            if weeks_by_business[business_id] == week
        ]
        due = selectors.reminders_due({b: w for _, b, w in rows})
        # An email that cannot be sent is logged (hourglass.mail) and never
        # stops the others; it is not tried again, so nobody else of its
        # business gets the reminder twice.
        sent = sum(_send_reminder(metrics, week) for week, metrics in due)
        RollupWeek.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            reminded_at=now
        )
    return sent


def _send_reminder(metrics: list[Metric], week: date) -> bool:
    owner = metrics[0].owner
    business = metrics[0].business
    link = (
        settings.SITE_URL.rstrip("/")
        + reverse("metrics:this-week", kwargs={"slug": business.slug})
        + f"?week={week.isoformat()}"
    )
    context = {
        "user": owner.user,
        "business": business,
        "week": week,
        "metrics": metrics,
        "link": link,
    }
    return mail.send_in(
        languages.of_user(owner.user),
        subject_template="metrics/email/reminder_subject.txt",
        body_template="metrics/email/reminder_body.txt",
        context=context,
        to=owner.user.email,
    )
