"""Weeks: every number is for a week that starts on Monday in the business's
time zone. Pure helpers on dates; `current_week` needs the business's zone."""

import zoneinfo
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

WEEK = timedelta(days=7)
# How far back numbers go: no week before the first Monday of FIRST_YEAR, and a
# metric's numbers at most HISTORY_WEEKS (ten years) before the week it was
# created, so history can be typed in or imported, not dates from nowhere.
FIRST_YEAR = 1970
FIRST_WEEK = date(1970, 1, 5)
HISTORY_WEEKS = 522


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
    if week < FIRST_WEEK:
        raise BadWeek(
            _("The week of %(week)s is too far back: weeks start in %(year)s.")
            % {"week": week.isoformat(), "year": FIRST_YEAR}
        )
    if not allow_future and week > current_week(tz_name):
        raise BadWeek(
            _("The week of %(week)s has not started yet.") % {"week": week.isoformat()}
        )
    return week


def earliest_week(created_at: datetime, tz_name: str) -> date:
    """The first week a metric created at `created_at` takes a number for."""
    return max(week_at(created_at, tz_name) - WEEK * HISTORY_WEEKS, FIRST_WEEK)


def check_history(week: date, *, created_at: datetime, tz_name: str) -> None:
    """BadWeek when `week` is further back than a metric created at
    `created_at` takes numbers for (`earliest_week`)."""
    earliest = earliest_week(created_at, tz_name)
    if week < earliest:
        raise BadWeek(
            _(
                "The week of %(week)s is too far back: this metric takes numbers "
                "from the week of %(earliest)s on (ten years before it was created)."
            )
            % {"week": week.isoformat(), "earliest": earliest.isoformat()}
        )
