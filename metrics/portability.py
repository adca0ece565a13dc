"""The metrics' part of a business archive (see hourglass.archive).

Files: `metrics.csv` (each metric, with the step it measures named by the map's
key and the step's id in systemmaps/maps.json), `entries.csv` (every weekly
number), `revisions.csv` (the audit trail of edited numbers), `meetings.csv`
(notes per review week), `issues.csv` and `todos.csv`. People are named by
email and resolved only among members of the new business. The rollup tables
are not exported: the import marks every week with numbers stale, and the
rollup recomputes them.
"""

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from hourglass.archive import (
    ImportContext,
    csv_bytes,
    csv_rows,
    email_cell,
    iso_cell,
    parse_datetime_cell,
    parse_decimal_cell,
    row_error,
)
from hourglass.models import Business, Stage
from hourglass.validators import is_one_line

from .models import (
    Direction,
    Entry,
    EntryRevision,
    Meeting,
    MeetingIssue,
    Metric,
    Todo,
    Unit,
)
from .numbers import MAX_VALUE

METRICS_FILE = "metrics.csv"
ENTRIES_FILE = "entries.csv"
REVISIONS_FILE = "revisions.csv"
MEETINGS_FILE = "meetings.csv"
ISSUES_FILE = "issues.csv"
TODOS_FILE = "todos.csv"
METRIC_COLUMNS = [
    "metric",
    "name",
    "description",
    "unit",
    "direction",
    "goal",
    "owner",
    "map",
    "step",
    "stage",
    "in_funnel",
    "position",
    "first_week",
    "archived_on",
]
ENTRY_COLUMNS = ["metric", "week", "value", "entered_by", "entered_at"]
REVISION_COLUMNS = [
    "metric",
    "week",
    "value",
    "entered_by",
    "entered_at",
    "replaced_by",
    "replaced_at",
]
MEETING_COLUMNS = ["week", "notes"]
ISSUE_COLUMNS = [
    "issue",
    "title",
    "detail",
    "metric",
    "map",
    "step",
    "raised_week",
    "raised_by",
    "resolved_week",
    "resolved_at",
    "resolution",
]
TODO_COLUMNS = [
    "text",
    "owner",
    "due",
    "issue",
    "created_week",
    "created_by",
    "done_week",
    "done_at",
]


def export_part(business: Business) -> dict[str, bytes]:
    metrics = list(
        Metric.objects.filter(business=business)
        .select_related("owner__user", "step__map")
        .order_by("id")
    )

    def step_ref(node) -> tuple[str, str]:
        # Only live steps of live maps travel (trashed maps and deleted steps
        # are not exported).
        if node is None or node.is_deleted or node.map.deleted_at is not None:
            return "", ""
        return str(node.map_id), node.client_id

    files = {
        METRICS_FILE: csv_bytes(
            METRIC_COLUMNS,
            (
                [
                    m.pk,
                    m.name,
                    m.description,
                    m.unit,
                    m.direction,
                    "" if m.goal is None else m.goal,
                    m.owner.user.email if m.owner else "",
                    *step_ref(m.step),
                    m.stage,
                    "yes" if m.in_funnel else "",
                    m.position,
                    iso_cell(m.first_week),
                    iso_cell(m.archived_on),
                ]
                for m in metrics
            ),
        ),
        ENTRIES_FILE: csv_bytes(
            ENTRY_COLUMNS,
            (
                [
                    e.metric_id,
                    iso_cell(e.week),
                    "" if e.value is None else e.value,
                    email_cell(e.entered_by),
                    iso_cell(e.entered_at),
                ]
                for e in Entry.objects.filter(business=business)
                .select_related("entered_by")
                .order_by("metric_id", "week")
            ),
        ),
        REVISIONS_FILE: csv_bytes(
            REVISION_COLUMNS,
            (
                [
                    r.entry.metric_id,
                    iso_cell(r.entry.week),
                    "" if r.value is None else r.value,
                    email_cell(r.entered_by),
                    iso_cell(r.entered_at),
                    email_cell(r.replaced_by),
                    iso_cell(r.replaced_at),
                ]
                for r in EntryRevision.objects.filter(entry__business=business)
                .select_related("entry", "entered_by", "replaced_by")
                .order_by("entry__metric_id", "entry__week", "replaced_at", "id")
            ),
        ),
        MEETINGS_FILE: csv_bytes(
            MEETING_COLUMNS,
            (
                [iso_cell(m.week), m.notes]
                for m in Meeting.objects.filter(business=business).order_by("week")
            ),
        ),
        ISSUES_FILE: csv_bytes(
            ISSUE_COLUMNS,
            (
                [
                    i.pk,
                    i.title,
                    i.detail,
                    i.metric_id or "",
                    *step_ref(i.step),
                    iso_cell(i.raised_week),
                    email_cell(i.raised_by),
                    iso_cell(i.resolved_week),
                    iso_cell(i.resolved_at),
                    i.resolution,
                ]
                for i in MeetingIssue.objects.filter(business=business)
                .select_related("step__map", "raised_by")
                .order_by("id")
            ),
        ),
        TODOS_FILE: csv_bytes(
            TODO_COLUMNS,
            (
                [
                    t.text,
                    t.owner.user.email if t.owner else "",
                    iso_cell(t.due),
                    t.issue_id or "",
                    iso_cell(t.created_week),
                    email_cell(t.created_by),
                    iso_cell(t.done_week),
                    iso_cell(t.done_at),
                ]
                for t in Todo.objects.filter(business=business)
                .select_related("owner__user", "created_by")
                .order_by("id")
            ),
        ),
    }
    return files


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


class _Rows:
    """Reads one file's rows, naming the file and line in every error."""

    def __init__(self, files: dict[str, bytes], name: str, columns: list[str]):
        self.label = f"metrics/{name}"
        self.rows = csv_rows(files, name, columns, label=self.label)
        self.line = 0

    def __iter__(self):
        for line, row in self.rows:
            self.line = line
            yield row

    def error(self, message: str):
        return row_error(self.label, self.line, message)

    def text(self, row: dict, column: str, limit: int, *, required=False) -> str:
        value = row[column]
        # PostgreSQL refuses NUL in text: a message here, not a 500 at the insert.
        if len(value) > limit or (required and not value.strip()) or "\0" in value:
            raise self.error(
                _("“%(column)s” must be text of %(min)d to %(max)d characters.")
                % {"column": column, "min": 1 if required else 0, "max": limit}
            )
        return value.strip() if required else value

    def day(
        self, row: dict, column: str, *, required=True, monday=False
    ) -> date | None:
        value = row[column]
        if not value and not required:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise self.error(
                _("“%(column)s” must be a date written YYYY-MM-DD.")
                % {"column": column}
            ) from None
        if monday and day.weekday() != 0:
            raise self.error(
                _("“%(column)s” must be a Monday (weeks start on Monday).")
                % {"column": column}
            )
        return day

    def week(self, row: dict, column: str, *, required=True) -> date | None:
        """A Monday: the first day of a week."""
        return self.day(row, column, required=required, monday=True)

    def moment(self, row: dict, column: str) -> datetime | None:
        try:
            moment = parse_datetime_cell(row[column])
            # Stored in UTC: "0001-01-01T00:00+01:00" has no UTC moment.
            if moment is not None:
                moment.astimezone(UTC)
            return moment
        except (ValueError, OverflowError):
            raise self.error(
                _("“%(column)s” must be ISO 8601 with an offset.") % {"column": column}
            ) from None

    def value(self, row: dict, column: str) -> Decimal | None:
        try:
            return parse_decimal_cell(row[column], limit=MAX_VALUE)
        except ValueError:
            raise self.error(
                _(
                    "“%(column)s” must be a number of 0 or more with at most two "
                    "decimals."
                )
                % {"column": column}
            ) from None


def import_part(
    business: Business, files: dict[str, bytes], context: ImportContext
) -> list[str]:
    # Every node of the imported maps: a metric may measure a start or a stop
    # (a step redrawn as a terminus keeps its metrics; the demo counts webinar
    # attendees at the map's start).
    steps = context.refs.get("systemmaps.nodes", {})
    strangers: Counter = Counter()

    def person(email: str):
        user = context.user_for(email)
        if email and user is None:
            strangers[email.strip().lower()] += 1
        return user

    def member(email: str):
        membership = context.members.get((email or "").strip().lower())
        if email and membership is None:
            strangers[email.strip().lower()] += 1
        return membership

    def step_for(reader: _Rows, row: dict):
        if not row["map"] and not row["step"]:
            return None
        node = steps.get((row["map"], row["step"]))
        if node is None:
            raise reader.error(
                _("no step %(step)s in map %(map)s.")
                % {"step": row["step"], "map": row["map"]}
            )
        return node

    metrics: dict[str, Metric] = {}
    names: set[str] = set()
    reader = _Rows(files, METRICS_FILE, METRIC_COLUMNS)
    for row in reader:
        key = row["metric"]
        if not key or key in metrics:
            raise reader.error(_("“metric” must be unique."))
        name = reader.text(row, "name", 120, required=True)
        if not is_one_line(name):
            raise reader.error(_("“name” must be one line (no line break or tab)."))
        if name.lower() in names:
            raise reader.error(
                _("a metric named “%(name)s” appears twice.") % {"name": name}
            )
        names.add(name.lower())
        if row["unit"] not in Unit.values:
            raise reader.error(_("unknown unit."))
        if row["direction"] not in Direction.values:
            raise reader.error(_("unknown direction."))
        if row["stage"] not in Stage.values:
            raise reader.error(_("unknown stage."))
        # isdigit() alone admits "²", which int() refuses.
        position = row["position"]
        if not (position.isascii() and position.isdigit()) or len(position) > 9:
            raise reader.error(_("“position” must be a whole number."))
        step = step_for(reader, row)
        metrics[key] = Metric(
            business=business,
            name=name,
            description=reader.text(row, "description", 2000),
            unit=row["unit"],
            direction=row["direction"],
            goal=reader.value(row, "goal"),
            owner=member(row["owner"]),
            step=step,
            # What Metric.save() sets, which bulk_create skips: the weeks are
            # judged, and a deleted step linked again, by these.
            step_map_id=step.map_id if step else None,
            step_key=step.client_id if step else "",
            stage=row["stage"],
            in_funnel=row["in_funnel"] == "yes",
            position=int(row["position"]),
            first_week=reader.week(row, "first_week"),
            archived_on=reader.day(row, "archived_on", required=False),
            created_by=context.user,
        )
    Metric.objects.bulk_create(metrics.values())

    def metric_for(reader: _Rows, key: str, *, required=True) -> Metric | None:
        if not key and not required:
            return None
        metric = metrics.get(key)
        if metric is None:
            raise reader.error(_("no metric %(key)s in metrics.csv.") % {"key": key})
        return metric

    entries: dict[tuple[int, date], Entry] = {}
    reader = _Rows(files, ENTRIES_FILE, ENTRY_COLUMNS)
    for row in reader:
        metric = metric_for(reader, row["metric"])
        week = reader.week(row, "week")
        if (metric.pk, week) in entries:
            raise reader.error(_("this metric has two numbers for that week."))
        entered_at = reader.moment(row, "entered_at")
        if entered_at is None:
            raise reader.error(_("“entered_at” is required."))
        entries[(metric.pk, week)] = Entry(
            business=business,
            metric=metric,
            week=week,
            value=reader.value(row, "value"),
            entered_by=person(row["entered_by"]),
            entered_at=entered_at,
        )
    Entry.objects.bulk_create(entries.values())

    revisions = []
    reader = _Rows(files, REVISIONS_FILE, REVISION_COLUMNS)
    for row in reader:
        metric = metric_for(reader, row["metric"])
        entry = entries.get((metric.pk, reader.week(row, "week")))
        if entry is None:
            raise reader.error(_("no entry for that metric and week in entries.csv."))
        entered_at = reader.moment(row, "entered_at")
        replaced_at = reader.moment(row, "replaced_at")
        if entered_at is None or replaced_at is None:
            raise reader.error(_("“entered_at” and “replaced_at” are required."))
        revisions.append(
            EntryRevision(
                entry=entry,
                value=reader.value(row, "value"),
                entered_by=person(row["entered_by"]),
                entered_at=entered_at,
                replaced_by=person(row["replaced_by"]),
                replaced_at=replaced_at,
            )
        )
    EntryRevision.objects.bulk_create(revisions)

    meetings, weeks = [], set()
    reader = _Rows(files, MEETINGS_FILE, MEETING_COLUMNS)
    for row in reader:
        week = reader.week(row, "week")
        if week in weeks:
            raise reader.error(_("two meetings for the same week."))
        weeks.add(week)
        meetings.append(
            Meeting(
                business=business,
                week=week,
                notes=reader.text(row, "notes", 20000),
                updated_by=context.user,
            )
        )
    Meeting.objects.bulk_create(meetings)

    issues: dict[str, MeetingIssue] = {}
    reader = _Rows(files, ISSUES_FILE, ISSUE_COLUMNS)
    for row in reader:
        if not row["issue"] or row["issue"] in issues:
            raise reader.error(_("“issue” must be unique."))
        issues[row["issue"]] = MeetingIssue(
            business=business,
            title=reader.text(row, "title", 200, required=True),
            detail=reader.text(row, "detail", 5000),
            metric=metric_for(reader, row["metric"], required=False),
            step=step_for(reader, row),
            raised_week=reader.week(row, "raised_week"),
            raised_by=person(row["raised_by"]),
            resolved_week=reader.week(row, "resolved_week", required=False),
            resolved_at=reader.moment(row, "resolved_at"),
            resolution=reader.text(row, "resolution", 500),
        )
    MeetingIssue.objects.bulk_create(issues.values())

    todos = []
    reader = _Rows(files, TODOS_FILE, TODO_COLUMNS)
    for row in reader:
        issue = None
        if row["issue"]:
            issue = issues.get(row["issue"])
            if issue is None:
                raise reader.error(
                    _("no issue %(key)s in issues.csv.") % {"key": row["issue"]}
                )
        todos.append(
            Todo(
                business=business,
                text=reader.text(row, "text", 300, required=True),
                owner=member(row["owner"]),
                due=reader.day(row, "due", required=False),
                issue=issue,
                created_week=reader.week(row, "created_week"),
                created_by=person(row["created_by"]),
                done_week=reader.week(row, "done_week", required=False),
                done_at=reader.moment(row, "done_at"),
            )
        )
    Todo.objects.bulk_create(todos)

    _recompute_later(business, {week for _metric, week in entries})
    if strangers:
        return [
            _(
                "Metrics, numbers and to-dos by %(emails)s keep their values but "
                "name nobody until those people join this business."
            )
            % {"emails": ", ".join(sorted(strangers))}
        ]
    return []


def _recompute_later(business: Business, weeks: set[date]) -> None:
    """Every week with numbers is stale until the rollup has run: the nightly
    catch-up recomputes it, and the newest weeks are queued at once."""
    from . import rollup, tasks

    for week in sorted(weeks):
        rollup.mark_stale(business_id=business.pk, week=week)
    for week in sorted(weeks)[-2:]:
        transaction.on_commit(lambda week=week: tasks.rollup_enqueue(business.pk, week))
