"""Weekly numbers in and out as CSV: the import's checks and preview, the export.

An import is read and checked as a whole before anything is written: every row
gets a status (new, changed, unchanged) or the problems that stop it, named by
line and column. Only a file without a single problem can be confirmed, and the
confirmation checks the same text again.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_decimal_symbol
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from hourglass.archive import ImportInvalid, csv_bytes, csv_rows, row_error
from hourglass.models import Business, Membership

from . import weeks
from .models import Entry, Metric, Unit
from .numbers import parse_value
from .selectors import week_definitions
from .services import ImportRow

COLUMNS = ["metric", "week", "value"]
# What separates the columns: a comma, or (spreadsheets in languages that write
# decimals with a comma: French, Polish, Romanian …) a semicolon, or a tab.
SEPARATORS = (",", ";", "\t")
# A number written with a decimal comma, grouped or not: 1250,5 · 1.250,5 ·
# 1 250,5. A file whose columns are not separated by commas and that has one
# such value writes its decimals with a comma.
DECIMAL_COMMA = re.compile(r"^\d{1,3}(?:[.\u00a0\u202f ]\d{3})+(?:,\d+)?$|^\d+,\d+$")
MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
EXPORT_COLUMNS = [
    "metric",
    "week",
    "value",
    # The week's definition (the rule of history), then today's.
    "unit",
    "stage",
    "owner",
    "stage_now",
    "owner_now",
    "entered_by",
    # In the business's time zone, with its offset.
    "entered_at",
]


class Status:
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class PreviewRow:
    line: int
    metric_name: str
    week_text: str
    value_text: str
    metric: Metric | None = None
    week: date | None = None
    value: Decimal | None = None
    old_value: Decimal | None = None
    status: str = Status.NEW
    problems: list[str] = field(default_factory=list)


@dataclass
class Preview:
    rows: list[PreviewRow] = field(default_factory=list)
    # Problems of the file as a whole (encoding, columns, size): no rows then.
    problems: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def row_problems(self) -> list[str]:
        return [p for row in self.rows for p in row.problems]

    @property
    def is_valid(self) -> bool:
        return not self.problems and not self.row_problems and bool(self.rows)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def new_count(self) -> int:
        return self.count(Status.NEW)

    @property
    def changed_count(self) -> int:
        return self.count(Status.CHANGED)

    @property
    def unchanged_count(self) -> int:
        return self.count(Status.UNCHANGED)

    @property
    def import_rows(self) -> list[ImportRow]:
        return [
            ImportRow(line=r.line, metric=r.metric, week=r.week, value=r.value)
            for r in self.rows
            if r.status != Status.ERROR
        ]


def separator(header: str, label: str) -> str:
    """What separates the columns of a file whose first line is `header`: the
    first of SEPARATORS that splits it into the columns; a comma when none
    does, unless the line names the columns otherwise separated (then the
    problem says so)."""
    for mark in SEPARATORS:
        if set(COLUMNS) <= {cell.strip().strip('"') for cell in header.split(mark)}:
            return mark
    if all(column in header for column in COLUMNS):
        raise ImportInvalid(
            [
                _(
                    "%(file)s: its columns are not separated by a comma, a semicolon "
                    "or a tab (its first line reads “%(header)s”). Save it from "
                    "your spreadsheet as CSV."
                )
                % {"file": label, "header": header[:80]}
            ]
        )
    return ","


def file_number(text: str, *, decimal_comma: bool) -> str:
    """A value cell as the number reader takes it: in a file that writes
    decimals with a comma, its groups dropped and its comma a point
    (`1.250,5` → `1250.5`); otherwise as written."""
    text = text.strip()
    if decimal_comma and DECIMAL_COMMA.match(text):
        for group in ".\u00a0\u202f ":
            text = text.replace(group, "")
        return text.replace(",", ".")
    return text


def _normalised(raw: bytes, label: str) -> tuple[str, bytes]:
    """The text of the upload with its header in lower case (Metric, WEEK …)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportInvalid(
            [
                _(
                    "%(file)s is not UTF-8 text. Save it from your spreadsheet as "
                    "“CSV UTF-8”."
                )
                % {"file": label}
            ]
        ) from None
    if "\x00" in text:
        raise ImportInvalid(
            [_("%(file)s is not a CSV file.") % {"file": label}]
        ) from None
    header, newline, rest = text.partition("\n")
    text = header.strip().lower() + newline + rest
    return text, text.encode("utf-8")


def too_large(label: str, size: int) -> str:
    """The problem of a file over MAX_BYTES."""
    return _("%(file)s is %(size)d bytes; at most 1 MB can be imported at once.") % {
        "file": label,
        "size": size,
    }


def preview(business: Business, raw: bytes, *, label: str = "") -> Preview:
    """Read and check an uploaded CSV of (metric, week, value): nothing is written.
    Three queries: the business's metrics, and the entries the rows would change."""
    label = label or _("the file")
    result = Preview()
    if len(raw) > MAX_BYTES:
        result.problems.append(too_large(label, len(raw)))
        return result
    try:
        result.text, data = _normalised(raw, label)
        mark = separator(result.text.partition("\n")[0], label)
        rows = []
        for line, row in csv_rows(
            {"upload": data}, "upload", COLUMNS, label=label, delimiter=mark
        ):
            if len(rows) == MAX_ROWS:
                raise ImportInvalid(
                    [
                        _(
                            "%(file)s has more than %(max)d rows; split it into "
                            "smaller files."
                        )
                        % {"file": label, "max": MAX_ROWS}
                    ]
                )
            rows.append((line, row))
    except ImportInvalid as error:
        result.problems.extend(error.problems)
        return result
    if not rows:
        result.problems.append(
            _("%(file)s has no rows under its header.") % {"file": label}
        )
        return result

    decimal_comma = mark != "," and any(
        DECIMAL_COMMA.match(row["value"].strip()) for _line, row in rows
    )
    metrics = {m.name.lower(): m for m in Metric.objects.filter(business=business)}
    tz_name = business.timezone
    seen: dict[tuple[int, date], int] = {}

    def problem(line: int, column: str, message: str) -> str:
        text = _("column “%(column)s”: %(message)s") % {
            "column": column,
            "message": message,
        }
        return row_error(label, line, text).problems[0]

    for line, row in rows:
        item = PreviewRow(
            line=line,
            metric_name=row["metric"].strip(),
            week_text=row["week"].strip(),
            value_text=row["value"].strip(),
        )
        result.rows.append(item)
        item.metric = metrics.get(item.metric_name.lower())
        if not item.metric_name:
            item.problems.append(problem(line, "metric", _("the metric is missing.")))
        elif item.metric is None:
            item.problems.append(
                problem(
                    line,
                    "metric",
                    _("there is no metric named “%(name)s”.")
                    % {"name": item.metric_name[:120]},
                )
            )
        elif item.metric.is_archived:
            item.problems.append(
                problem(
                    line,
                    "metric",
                    _("“%(name)s” is archived; restore it to enter numbers.")
                    % {"name": item.metric.name},
                )
            )
        try:
            item.week = weeks.parse_week(item.week_text, tz_name=tz_name)
            if item.metric is not None:
                weeks.check_history(
                    item.week, created_at=item.metric.created_at, tz_name=tz_name
                )
        except weeks.BadWeek as error:
            item.week = None
            item.problems.append(problem(line, "week", str(error)))
        # Without a known metric the value is still checked (as any figure).
        unit = item.metric.unit if item.metric is not None else Unit.MONEY
        try:
            item.value = parse_value(
                file_number(item.value_text, decimal_comma=decimal_comma),
                unit=unit,
                currency=business.currency,
                typed=False,
            )
        except ValidationError as error:
            item.problems.append(problem(line, "value", " ".join(error.messages)))
        if item.metric is not None and item.week is not None:
            key = (item.metric.pk, item.week)
            if key in seen:
                item.problems.append(
                    problem(
                        line,
                        "week",
                        _(
                            "line %(first)d already gives “%(name)s” a number for "
                            "the week of %(week)s."
                        )
                        % {
                            "first": seen[key],
                            "name": item.metric.name,
                            "week": item.week.isoformat(),
                        },
                    )
                )
            else:
                seen[key] = line
        if item.problems:
            item.status = Status.ERROR

    good = [r for r in result.rows if r.status != Status.ERROR]
    if good:
        existing = {
            (e.metric_id, e.week): e.value
            for e in Entry.objects.filter(
                business=business,
                metric_id__in={r.metric.pk for r in good},
                week__in={r.week for r in good},
            ).only("metric_id", "week", "value")
        }
        for item in good:
            key = (item.metric.pk, item.week)
            if key not in existing:
                item.status = Status.NEW if item.value is not None else Status.UNCHANGED
            else:
                item.old_value = existing[key]
                same = item.old_value == item.value
                item.status = Status.UNCHANGED if same else Status.CHANGED
    return result


def spreadsheet_format() -> tuple[str, str]:
    """(column separator, decimal mark) of a CSV for a spreadsheet in the
    active language: where decimals take a comma (fr, pl, ro), Excel expects
    `;` between columns."""
    decimal = get_decimal_symbol(translation.to_locale(translation.get_language()))
    return (";", ",") if decimal == "," else (",", ".")


def export(business: Business, start: date, end: date, *, excel: bool = False) -> bytes:
    """Every number of the weeks from `start` to `end` (both Mondays), each with
    the unit, stage and owner of its week's definition and today's, in three
    queries; each cell neutralised for spreadsheets. UTF-8 with a BOM; `excel`:
    the separator and decimal mark of a spreadsheet in the active language
    (`spreadsheet_format`), the file's own format otherwise (`,` and `.`)."""
    delimiter, decimal = spreadsheet_format() if excel else (",", ".")
    entries = list(
        Entry.objects.filter(
            business=business, week__gte=start, week__lte=end, value__isnull=False
        )
        .select_related("metric__owner__user", "entered_by")
        .order_by("week", "metric__position", "metric__name", "metric_id")
    )
    definitions = week_definitions({e.metric_id for e in entries})
    emails = dict(
        Membership.objects.filter(business=business).values_list("pk", "user__email")
    )
    zone = ZoneInfo(business.timezone)
    rows = []
    for entry in entries:
        metric = entry.metric
        then = definitions.of(metric, entry.week)
        rows.append(
            [
                metric.name,
                entry.week.isoformat(),
                str(entry.value).replace(".", decimal),
                then.unit,
                then.stage,
                emails.get(then.owner_id, ""),
                metric.stage,
                emails.get(metric.owner_id, ""),
                entry.entered_by.email if entry.entered_by else "",
                entry.entered_at.astimezone(zone).isoformat(),
            ]
        )
    return csv_bytes(EXPORT_COLUMNS, rows, delimiter=delimiter, bom=True)
