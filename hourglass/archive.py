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
import importlib
import importlib.util
import io
import json
import zipfile
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services
from .models import CURRENCIES, Business, Membership, User

FORMAT = "hourglass-business"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# An upload, and what it may unpack to: a zip bomb is refused before any file
# in it is read.
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_FILES = 5000
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


def csv_bytes(header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """A UTF-8 CSV file with every cell through csv_safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def csv_rows(
    files: dict[str, bytes], name: str, columns: list[str], *, label: str = ""
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) of each row of a part's CSV file; an
    absent file has no rows. ImportInvalid when it cannot be read or lacks a
    column."""
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
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportInvalid(
            [
                _("%(file)s: the columns %(columns)s are missing.")
                % {"file": shown, "columns": ", ".join(missing)}
            ]
        )
    try:
        for row in reader:
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


def archive_read(raw: bytes) -> tuple[Manifest, dict[str, dict[str, bytes]]]:
    """The manifest and each part's files of an uploaded archive, checked for
    size before anything is unpacked; ImportInvalid naming what is wrong."""
    if len(raw) > MAX_ARCHIVE_BYTES:
        raise ImportInvalid(
            [
                _("The archive is %(size)d bytes; at most %(max)d MB can be imported.")
                % {"size": len(raw), "max": MAX_ARCHIVE_BYTES // (1024 * 1024)}
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
                    "The archive unpacks to %(size)d bytes; at most %(max)d MB "
                    "are allowed."
                )
                % {"size": unpacked, "max": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}
            ]
        )
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ImportInvalid([_("The archive names a file twice.")])
    if MANIFEST not in names:
        raise ImportInvalid([_("The archive has no %(file)s.") % {"file": MANIFEST}])
    manifest = _read_manifest(_read_member(archive, MANIFEST))
    files: dict[str, dict[str, bytes]] = {}
    for part, part_files in manifest.parts.items():
        files[part] = {}
        for file_name in part_files:
            path = f"{part}/{file_name}"
            if path not in names:
                raise ImportInvalid(
                    [
                        _("%(file)s is listed in %(manifest)s but not in the archive.")
                        % {"file": path, "manifest": MANIFEST}
                    ]
                )
            files[part][file_name] = _read_member(archive, path)
    return manifest, files


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    try:
        with archive.open(info) as handle:
            # The declared size was checked; read no more than it says.
            data = handle.read(info.file_size + 1)
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
    currency = business.get("currency")
    if currency not in {code for code, _label in CURRENCIES}:
        raise invalid(_("unknown currency."))
    zone = business.get("timezone")
    if not isinstance(zone, str) or zone not in zoneinfo.available_timezones():
        raise invalid(_("unknown time zone."))
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
    )


@transaction.atomic
def business_import(
    *, raw: bytes, acting_user: User, name: str = ""
) -> tuple[Business, list[str]]:
    """A new business owned by `acting_user` (who uploads the archive) holding
    everything in it, and the warnings of its parts; ImportInvalid (and
    nothing written) otherwise."""
    manifest, files = archive_read(raw)
    installed = parts()
    known = {part for part, _module in installed}
    unknown = [part for part in manifest.parts if part not in known]
    if unknown:
        raise ImportInvalid(
            [
                _("The archive holds parts this installation does not have: %(parts)s.")
                % {"parts": ", ".join(sorted(unknown))}
            ]
        )
    business = services.business_create(
        name=(name or manifest.name)[:120],
        owner=acting_user,
        currency=manifest.currency,
        timezone_name=manifest.timezone,
    )
    owner = business.memberships.select_related("user").get(user=acting_user)
    context = ImportContext(
        user=acting_user, members={acting_user.email.lower(): owner}
    )
    warnings: list[str] = []
    for part, module in installed:
        if part in manifest.parts:
            warnings += module.import_part(business, files[part], context)
    return business, warnings
