"""Weeks: every number is for a week that starts on Monday in the business's
time zone. Pure helpers on dates; `current_week` needs the business's zone."""

import zoneinfo
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

WEEK = timedelta(days=7)


class BadWeek(ValueError):
    """A week that cannot be used; the message says why, for the user."""


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def today_in(tz_name: str) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(tz_name)).date()


def week_at(moment: datetime, tz_name: str) -> date:
    """The Monday of the week running at `moment` in the zone `tz_name`."""
    return monday_of(moment.astimezone(zoneinfo.ZoneInfo(tz_name)).date())


def current_week(tz_name: str) -> date:
    """The Monday of the week running now in the zone `tz_name`."""
    return monday_of(today_in(tz_name))


def close_of(week: date, tz_name: str) -> datetime:
    """The moment the week closes: the next Monday, 00:00 in the zone `tz_name`.
    Its figures are judged by the definitions in force then."""
    next_monday = week + WEEK
    return datetime(
        next_monday.year,
        next_monday.month,
        next_monday.day,
        tzinfo=zoneinfo.ZoneInfo(tz_name),
    )


def last_week(tz_name: str) -> date:
    return current_week(tz_name) - WEEK


def weeks_back(week: date, count: int) -> list[date]:
    """`count` Mondays ending with `week`, oldest first."""
    return [week - WEEK * i for i in range(count - 1, -1, -1)]


def parse_week(text: str, *, tz_name: str, allow_future: bool = False) -> date:
    """The Monday of the ISO date `text` (any day of the week is accepted and
    moved to its Monday). BadWeek when the text is not a date or the week has
    not started yet in the business's zone."""
    try:
        day = datetime.strptime((text or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        raise BadWeek(
            _("“%(text)s” is not a date; write it as YYYY-MM-DD.")
            % {"text": (text or "")[:40]}
        ) from None
    week = monday_of(day)
    if not allow_future and week > current_week(tz_name):
        raise BadWeek(
            _("The week of %(week)s has not started yet.") % {"week": week.isoformat()}
        )
    return week
