"""A whole business as one archive, and back into a new business.

The archive is a zip: `manifest.json` (format, version, when, the business's
name, currency and time zone, and its parts with their files), then each part's
files under `<part>/`. A part is an installed app with a module
`<app>/portability.py` that has

    export_part(business) -> dict[str, bytes]            # file name → content
    import_part(business, files, context) -> list[str]   # warnings

Parts run in INSTALLED_APPS order (an app's models point only at apps listed
before it), so `context` carries what earlier parts made: the new memberships
by email and any id maps a part leaves for the next. A part raises
ImportInvalid naming the file and row; the import is one transaction, so a bad
row anywhere writes nothing at all.
"""

import csv
import fnmatch
import importlib
import importlib.util
import io
import json
import zipfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import ModuleType
from typing import IO, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import places, services
from .http import printable
from .models import (
    CURRENCIES,
    ArchiveImport,
    Business,
    ImportStatus,
    Membership,
    User,
)
from .validators import is_one_line

FORMAT = "hourglass-business"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# An upload, and what it may unpack to: a zip bomb is refused from the sizes
# the zip declares before any file in it is read, and each file is read in
# chunks that stop at its cap (a zip can lie about its sizes).
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_FILES = 5000
# Each file's own cap once inflated: the manifest, every CSV file, and any other
# file unless its part declares a cap of its own (a module-level FILE_LIMITS,
# {file name pattern: bytes}, in the part's portability module).
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CSV_ROWS = 200_000
READ_CHUNK = 64 * 1024
# Each part of the business declares the parts it needs before it.
PART_MODULE = "portability"

_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class ImportInvalid(Exception):
    """What every importer raises — a business archive, a map's JSON file, a
    numbers CSV: the problems, each naming the file, row, node or field, for the
    person who uploaded it. Nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# What an import reports while it works: (part, done, total), the counts
# 0 where the part does not count (systemmaps counts its maps).
Progress = Callable[[str, int, int], None]


def _no_progress(part: str, done: int, total: int) -> None:
    pass


@dataclass
class ImportContext:
    """What the parts imported so far made, for the parts after them."""

    user: User
    # Members of the new business by (lower-case) email: the importing user,
    # and whoever else an earlier part made a member.
    members: dict[str, Membership] = field(default_factory=dict)
    # People of the old business invited to the new one, by email (their role).
    invited: dict[str, str] = field(default_factory=dict)
    # Id maps a part leaves for the parts after it, by a key it names
    # (for example "systemmaps.steps": {(map key, step id): Node}).
    refs: dict[str, Any] = field(default_factory=dict)
    progress: Progress = _no_progress

    def user_for(self, email: str) -> User | None:
        """The user behind an email, if that person is a member here."""
        membership = self.members.get((email or "").strip().lower())
        return membership.user if membership else None


@dataclass
class Manifest:
    name: str
    currency: str
    timezone: str
    # {part name: [its file names, without the part prefix]}
    parts: dict[str, list[str]]
    exported_at: str = ""
    # Optional: archives made before businesses had one carry none.
    country: str = ""


# ---------------------------------------------------------------------------
# CSV cells
# ---------------------------------------------------------------------------


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (after any
    quotes) gets a leading single quote, so it is never run as a formula."""
    text = "" if value is None else str(value)
    if text.lstrip("'").startswith(_CSV_TRIGGERS):
        return "'" + text
    return text


def csv_unsafe(text: str) -> str:
    """The value `csv_safe` was given (it only ever adds one quote)."""
    if text.startswith("'") and text.lstrip("'").startswith(_CSV_TRIGGERS):
        return text[1:]
    return text


def csv_bytes(
    header: list[str],
    rows: Iterable[Iterable[Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    """A UTF-8 CSV file with every cell through csv_safe; with `bom`, marked
    as UTF-8 for spreadsheets (Excel on Windows reads it as ANSI otherwise)."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n", delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def csv_rows(
    files: dict[str, bytes],
    name: str,
    columns: list[str],
    *,
    label: str = "",
    max_rows: int | None = None,
    delimiter: str = ",",
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) of each row of a part's CSV file; an
    absent file has no rows. ImportInvalid when it cannot be read, lacks a
    column or has more than `max_rows` rows (MAX_CSV_ROWS unless given),
    refused on the row past it."""
    max_rows = MAX_CSV_ROWS if max_rows is None else max_rows
    raw = files.get(name)
    if raw is None:
        return
    shown = label or name
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportInvalid(
            [_("%(file)s: the file is not UTF-8 text.") % {"file": shown}]
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportInvalid(
            [
                _("%(file)s: the columns %(columns)s are missing.")
                % {"file": shown, "columns": ", ".join(missing)}
            ]
        )
    try:
        for count, row in enumerate(reader, start=1):
            if count > max_rows:
                raise ImportInvalid(
                    [
                        _(
                            "%(file)s: more than %(max)d rows; at most %(max)d "
                            "rows can be imported."
                        )
                        % {"file": shown, "max": max_rows}
                    ]
                )
            if None in row or any(value is None for value in row.values()):
                raise ImportInvalid(
                    [
                        _("%(file)s, line %(line)d: wrong number of cells.")
                        % {"file": shown, "line": reader.line_num}
                    ]
                )
            yield reader.line_num, {c: csv_unsafe(row[c]) for c in columns}
    except csv.Error as error:
        raise ImportInvalid(
            [
                _("%(file)s, line %(line)d: %(error)s")
                % {"file": shown, "line": reader.line_num, "error": error}
            ]
        ) from None


def row_error(file: str, line: int, message: str) -> ImportInvalid:
    return ImportInvalid(
        [
            _("%(file)s, line %(line)d: %(message)s")
            % {"file": file, "line": line, "message": message}
        ]
    )


def iso_cell(value: date | datetime | None) -> str:
    """A date or a moment as an archive cell: ISO 8601, empty for none."""
    return value.isoformat() if value else ""


def email_cell(user: Any) -> str:
    """A user as an archive cell: their email, empty for nobody."""
    return user.email if user else ""


def parse_datetime_cell(value: str) -> datetime | None:
    """An ISO 8601 moment with its offset, or None for an empty cell;
    ValueError otherwise."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        raise ValueError(value)
    return moment


def parse_decimal_cell(value: str, *, limit: Decimal) -> Decimal | None:
    """A figure of 0 to `limit` with at most two decimals, or None for empty."""
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite() or number < 0 or number > limit:
        raise ValueError(value)
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(value)
    return number


# ---------------------------------------------------------------------------
# The parts
# ---------------------------------------------------------------------------


def parts() -> list[tuple[str, ModuleType]]:
    """(part name, module) of each installed app with a portability module, in
    INSTALLED_APPS order: an app's models point only at apps before it."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{PART_MODULE}"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        if not (hasattr(module, "export_part") and hasattr(module, "import_part")):
            raise ImproperlyConfigured(f"{name} needs export_part and import_part.")
        found.append((config.label, module))
    return found


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def archive_export(business: Business) -> bytes:
    """The whole business as a zip of JSON and CSV files."""
    contents: dict[str, dict[str, bytes]] = {
        name: module.export_part(business) for name, module in parts()
    }
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "business": {
            "name": business.name,
            "currency": business.currency,
            "timezone": business.timezone,
            "country": business.country,
        },
        "parts": [
            {"name": name, "files": sorted(files)} for name, files in contents.items()
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        )
        for name, files in contents.items():
            for file_name in sorted(files):
                archive.writestr(f"{name}/{file_name}", files[file_name])
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def _mb(size: int) -> str:
    """A cap as people read it: whole MB (every cap is a multiple of one)."""
    return str(size // (1024 * 1024))


def part_file_limits() -> dict[str, dict[str, int]]:
    """Each part's own caps on its files (FILE_LIMITS), by part name."""
    return {label: getattr(module, "FILE_LIMITS", {}) for label, module in parts()}


def member_cap(name: str, limits: dict[str, dict[str, int]] | None = None) -> int:
    """How many bytes the archive member `name` may inflate to: the manifest's,
    its part's own cap for the file (FILE_LIMITS), a CSV file's, or any file's."""
    if name == MANIFEST:
        return MAX_MANIFEST_BYTES
    part, _slash, file_name = name.partition("/")
    limits = part_file_limits() if limits is None else limits
    for pattern, cap in limits.get(part, {}).items():
        if fnmatch.fnmatchcase(file_name, pattern):
            return cap
    return MAX_CSV_BYTES if name.endswith(".csv") else MAX_FILE_BYTES


def _too_big(name: str, cap: int) -> ImportInvalid:
    return ImportInvalid(
        [
            _("%(file)s unpacks to more than %(max)s MB; at most %(max)s MB allowed.")
            % {"file": name, "max": _mb(cap)}
            if cap >= 1024 * 1024
            else _(
                "%(file)s unpacks to more than %(max)d bytes; at most %(max)d "
                "bytes allowed."
            )
            % {"file": name, "max": cap}
        ]
    )


def read_capped(handle: IO[bytes], *, name: str, cap: int) -> bytes:
    """All of `handle`, read in chunks, refused (ImportInvalid naming `name`
    and the cap) as soon as it passes `cap` bytes: never more than one chunk
    past the cap is ever read, whatever the zip declared."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = handle.read(min(READ_CHUNK, cap + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise _too_big(name, cap)
        chunks.append(chunk)


@dataclass
class _Opened:
    archive: zipfile.ZipFile
    manifest: Manifest
    limits: dict[str, dict[str, int]]


def _open(raw: bytes) -> _Opened:
    """The zip opened and its manifest read, every declared size checked
    against its cap; no member but the manifest is inflated."""
    if len(raw) > MAX_ARCHIVE_BYTES:
        raise ImportInvalid(
            [
                _("The archive is %(size)d bytes; at most %(max)s MB can be imported.")
                % {"size": len(raw), "max": _mb(MAX_ARCHIVE_BYTES)}
            ]
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ImportInvalid(
            [_("The file is not a zip archive exported by Hourglass.")]
        ) from None
    if len(infos) > MAX_FILES:
        raise ImportInvalid(
            [
                _("The archive holds %(count)d files; at most %(max)d are allowed.")
                % {"count": len(infos), "max": MAX_FILES}
            ]
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNCOMPRESSED_BYTES:
        raise ImportInvalid(
            [
                _(
                    "The archive unpacks to %(size)d bytes; at most %(max)s MB "
                    "are allowed."
                )
                % {"size": unpacked, "max": _mb(MAX_UNCOMPRESSED_BYTES)}
            ]
        )
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ImportInvalid([_("The archive names a file twice.")])
    if MANIFEST not in names:
        raise ImportInvalid([_("The archive has no %(file)s.") % {"file": MANIFEST}])
    # Every declared size against its own cap, so the first problem is found
    # before anything is inflated.
    problems = []
    limits = part_file_limits()
    for info in infos:
        cap = member_cap(info.filename, limits)
        if info.file_size > cap:
            problems += _too_big(info.filename, cap).problems
    if problems:
        raise ImportInvalid(problems)
    manifest = _read_manifest(_read_member(archive, MANIFEST, limits))
    for part, part_files in manifest.parts.items():
        for file_name in part_files:
            path = f"{part}/{file_name}"
            if path not in names:
                raise ImportInvalid(
                    [
                        _("%(file)s is listed in %(manifest)s but not in the archive.")
                        % {"file": path, "manifest": MANIFEST}
                    ]
                )
    known = {part for part, _module in parts()}
    unknown = [part for part in manifest.parts if part not in known]
    if unknown:
        raise ImportInvalid(
            [
                _("The archive holds parts this installation does not have: %(parts)s.")
                % {"parts": ", ".join(sorted(unknown))}
            ]
        )
    return _Opened(archive=archive, manifest=manifest, limits=limits)


def archive_check(raw: bytes) -> Manifest:
    """The manifest of an uploaded archive, checked cheaply enough for a
    request (the upload's size, the zip's structure and declared sizes, the
    manifest); ImportInvalid naming what is wrong. The import itself checks
    the rest."""
    return _open(raw).manifest


def archive_read(raw: bytes) -> tuple[Manifest, dict[str, dict[str, bytes]]]:
    """The manifest and each part's files of an uploaded archive, each file
    read no further than its cap; ImportInvalid naming what is wrong."""
    opened = _open(raw)
    files: dict[str, dict[str, bytes]] = {}
    for part, part_files in opened.manifest.parts.items():
        files[part] = {
            file_name: _read_member(
                opened.archive, f"{part}/{file_name}", opened.limits
            )
            for file_name in part_files
        }
    return opened.manifest, files


def _read_member(
    archive: zipfile.ZipFile, name: str, limits: dict[str, dict[str, int]]
) -> bytes:
    info = archive.getinfo(name)
    try:
        with archive.open(info) as handle:
            data = read_capped(handle, name=name, cap=member_cap(name, limits))
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError):
        raise ImportInvalid(
            [_("%(file)s cannot be unpacked.") % {"file": name}]
        ) from None
    if len(data) != info.file_size:
        raise ImportInvalid([_("%(file)s cannot be unpacked.") % {"file": name}])
    return data


def _read_manifest(raw: bytes) -> Manifest:
    def invalid(message: str) -> ImportInvalid:
        return ImportInvalid(
            [_("%(file)s: %(message)s") % {"file": MANIFEST, "message": message}]
        )

    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid(_("not valid JSON.")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise invalid(_("not the manifest of a Hourglass business archive."))
    if data.get("version") != FORMAT_VERSION:
        raise invalid(
            _("format version %(found)s; this installation reads version %(ours)d.")
            % {"found": json.dumps(data.get("version"))[:20], "ours": FORMAT_VERSION}
        )
    business = data.get("business")
    if not isinstance(business, dict):
        raise invalid(_("“business” must be an object."))
    name = business.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise invalid(_("the business name must be text of 1 to 120 characters."))
    if not is_one_line(name):
        raise invalid(_("the business name must be one line (no line break or tab)."))
    currency = business.get("currency")
    if currency not in {code for code, _label in CURRENCIES}:
        raise invalid(_("unknown currency."))
    zone = business.get("timezone")
    if not isinstance(zone, str) or zone not in zoneinfo.available_timezones():
        raise invalid(_("unknown time zone."))
    country = business.get("country", "")
    if country != "" and country not in places.country_codes():
        raise invalid(_("unknown country."))
    raw_parts = data.get("parts")
    if not isinstance(raw_parts, list):
        raise invalid(_("“parts” must be a list."))
    listed: dict[str, list[str]] = {}
    for entry in raw_parts:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("files"), list)
            or not all(isinstance(f, str) for f in entry["files"])
            or entry["name"] in listed
        ):
            raise invalid(_("each part must have a unique name and a list of files."))
        listed[entry["name"]] = entry["files"]
    exported_at = data.get("exported_at")
    return Manifest(
        name=name.strip(),
        currency=currency,
        timezone=zone,
        parts=listed,
        exported_at=exported_at if isinstance(exported_at, str) else "",
        country=country,
    )


@transaction.atomic
def business_import(
    *,
    raw: bytes,
    acting_user: User,
    name: str = "",
    progress: Progress = _no_progress,
) -> tuple[Business, list[str]]:
    """A new business owned by `acting_user` (who uploads the archive) holding
    everything in it, and the warnings of its parts; ImportInvalid (and
    nothing written) otherwise. `progress` hears of each part as it starts
    (and the maps part of each map)."""
    manifest, files = archive_read(raw)
    business = services.business_create(
        name=(name or manifest.name)[:120],
        owner=acting_user,
        currency=manifest.currency,
        timezone_name=manifest.timezone,
        country=manifest.country,
    )
    owner = business.memberships.select_related("user").get(user=acting_user)
    context = ImportContext(
        user=acting_user, members={acting_user.email.lower(): owner}, progress=progress
    )
    warnings: list[str] = []
    for part, module in parts():
        if part in manifest.parts:
            progress(part, 0, 0)
            warnings += module.import_part(business, files[part], context)
    return business, warnings


# ---------------------------------------------------------------------------
# The import as a background job
# ---------------------------------------------------------------------------

PROGRESS_CACHE = "archive-progress"


def _progress_key(job_id: Any) -> str:
    return f"archive-import:{job_id}"


def job_progress(job: ArchiveImport) -> dict[str, Any]:
    """What a running job has reported so far: {"part", "done", "total"}, or
    {} before its first report (or where the worker shares no cache)."""
    if job.status != ImportStatus.RUNNING:
        return {}
    return caches[PROGRESS_CACHE].get(_progress_key(job.pk)) or {}


def job_timed_out(job: ArchiveImport) -> bool:
    """A job still running past the hard time limit: its worker was killed."""
    if job.status != ImportStatus.RUNNING or job.started_at is None:
        return False
    limit = settings.ARCHIVE_IMPORT_TIME_LIMIT + 60
    return (timezone.now() - job.started_at).total_seconds() > limit


def timed_out_problem() -> str:
    return _(
        "The import took longer than %(minutes)d minutes and was stopped; "
        "nothing was imported."
    ) % {"minutes": max(1, settings.ARCHIVE_IMPORT_SOFT_TIME_LIMIT // 60)}


def archive_import_enqueue(
    *, raw: bytes, file_name: str, acting_user: User, name: str = ""
) -> ArchiveImport:
    """A queued job for an upload that passed archive_check (ImportInvalid
    otherwise, nothing saved); the worker is told once the job is saved."""
    archive_check(raw)
    job = ArchiveImport.objects.create(
        started_by=acting_user,
        name=name,
        file_name=file_name[:255],
        size=len(raw),
        upload=raw,
    )
    from .tasks import archive_import_run as task

    transaction.on_commit(lambda: task.delay(str(job.pk)))
    return job


def archive_import_run(*, job_id: Any) -> ArchiveImport | None:
    """Import a queued job's archive (all or nothing) and record how it went.
    A job already claimed (running, done or failed) is left alone, so a message
    delivered twice imports once."""
    now = timezone.now()
    claimed = ArchiveImport.objects.filter(
        pk=job_id, status=ImportStatus.QUEUED
    ).update(status=ImportStatus.RUNNING, started_at=now)
    if not claimed:
        return None
    job = ArchiveImport.objects.select_related("started_by").get(pk=job_id)
    cache = caches[PROGRESS_CACHE]
    key = _progress_key(job.pk)
    counts = {"done": 0, "total": 0}

    def progress(part: str, done: int, total: int) -> None:
        if part == "systemmaps":
            counts.update(done=done, total=total)
        cache.set(
            key,
            {"part": part, "done": done, "total": total},
            settings.ARCHIVE_IMPORT_TIME_LIMIT + 60,
        )

    changes: dict[str, Any] = {}
    try:
        business, warnings = business_import(
            raw=bytes(job.upload),
            acting_user=job.started_by,
            name=job.name,
            progress=progress,
        )
    except ImportInvalid as invalid:
        changes.update(
            status=ImportStatus.FAILED,
            problems=[printable(problem) for problem in invalid.problems],
        )
    except SoftTimeLimitExceeded:
        changes.update(status=ImportStatus.FAILED, problems=[timed_out_problem()])
    else:
        changes.update(
            status=ImportStatus.DONE,
            business=business,
            warnings=[printable(warning) for warning in warnings],
        )
    finally:
        cache.delete(key)
    ArchiveImport.objects.filter(pk=job.pk).update(
        **changes,
        maps_done=counts["done"],
        maps_total=counts["total"],
        upload=b"",
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def archive_imports_purge() -> int:
    """Fail the jobs whose worker was killed (still "running" past the hard
    time limit), delete finished jobs older than ARCHIVE_IMPORT_KEEP_DAYS with
    what is left of their uploads; returns how many were deleted."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.ARCHIVE_IMPORT_TIME_LIMIT + 60)
    ArchiveImport.objects.filter(
        status=ImportStatus.RUNNING, started_at__lt=stale
    ).update(
        status=ImportStatus.FAILED,
        problems=[timed_out_problem()],
        upload=b"",
        finished_at=now,
    )
    cutoff = now - timedelta(days=settings.ARCHIVE_IMPORT_KEEP_DAYS)
    deleted, _rows = ArchiveImport.objects.filter(created_at__lt=cutoff).delete()
    return deleted
