"""The system maps' part of a business archive (see hourglass.archive).

Files: `maps.json` (each live map's settings and the name of its file),
`maps/<key>.json` (the graph document with step details and checklists, as
the map's own JSON export writes it), `runs.csv`, `ticks.csv` and `flags.csv`.
People are named by email; on import, only members of the new business are
resolved, so an archive can never attribute work to a stranger's account.
Revisions and trashed maps are not exported: a map starts again at version 1.
"""

import json
from collections import Counter
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hourglass.archive import (
    ImportContext,
    ImportInvalid,
    csv_bytes,
    csv_rows,
    iso_cell,
    parse_datetime_cell,
    row_error,
)
from hourglass.models import Business, Half, Stage
from hourglass.validators import is_one_line

from . import selectors, services
from .models import (
    ChecklistItem,
    ChecklistRun,
    MapStatus,
    Node,
    RunTick,
    StepFlag,
    SystemMap,
)
from .transfer import MAX_IMPORT_BYTES, export_json, import_document

MAPS_FILE = "maps.json"
RUNS_FILE = "runs.csv"
TICKS_FILE = "ticks.csv"
FLAGS_FILE = "flags.csv"
RUN_COLUMNS = [
    "run",
    "map",
    "step",
    "subject",
    "started_by",
    "started_at",
    "finished_at",
    "item_count",
    "ticked_count",
    "notes",
]
# `item` is the item's place in the step's checklist (1 is the first), empty
# when the item was deleted after the tick.
TICK_COLUMNS = ["run", "item", "item_text", "ticked_by", "ticked_at"]
FLAG_COLUMNS = [
    "map",
    "step",
    "text",
    "created_by",
    "created_at",
    "resolved_by",
    "resolved_at",
]
MAP_TEXT_LIMITS = {"name": 200, "description": 5000, "product": 200}
ONE_LINE_FIELDS = frozenset({"name", "product"})
# The work one archive may ask for: each map at most schema.MAX_NODES steps and
# MAX_EDGES arrows (the graph API's own limits, checked by import_document),
# and at most this many maps.
MAX_MAPS = 200
# What each file may unpack to (hourglass.archive caps the others): a map file
# as much as a map's own JSON import takes, the listing its maps' settings.
FILE_LIMITS = {
    MAPS_FILE: 4 * 1024 * 1024,
    "maps/*.json": MAX_IMPORT_BYTES,
}


def export_part(business: Business) -> dict[str, bytes]:
    emails = selectors.member_emails(business.pk)
    maps = list(SystemMap.objects.filter(business=business).alive().order_by("id"))
    files: dict[str, bytes] = {}
    listing = []
    for system_map in maps:
        steps = selectors.export_steps(system_map, emails)
        file_name = f"maps/{system_map.pk}.json"
        files[file_name] = export_json(selectors.graph_of(system_map), steps)
        listing.append(
            {
                "key": str(system_map.pk),
                "file": file_name,
                "name": system_map.name,
                "description": system_map.description,
                "half": system_map.half,
                "stages": system_map.stages,
                "product": system_map.product,
                "status": system_map.status,
            }
        )
    files[MAPS_FILE] = (
        json.dumps(listing, ensure_ascii=False, indent=2) + "\n"
    ).encode("utf-8")

    map_ids = [m.pk for m in maps]
    # What hangs on the maps' steps, of the steps in them now (deleted ones stay
    # behind: a save brings them back, an export does not carry them).
    live_steps = Q(node__map_id__in=map_ids, node__deleted_at__isnull=True)
    # The place of each item in its checklist, as the map file lists them.
    places: dict[int, int] = {}
    counts: Counter = Counter()
    for pk, node_id in (
        ChecklistItem.objects.filter(live_steps)
        .order_by("node_id", "position", "id")
        .values_list("pk", "node_id")
    ):
        counts[node_id] += 1
        places[pk] = counts[node_id]

    runs = (
        ChecklistRun.objects.filter(live_steps)
        .select_related("node", "started_by")
        .order_by("id")
    )
    files[RUNS_FILE] = csv_bytes(
        RUN_COLUMNS,
        (
            [
                run.pk,
                run.node.map_id,
                run.node.client_id,
                run.subject,
                run.started_by.email if run.started_by else "",
                iso_cell(run.started_at),
                iso_cell(run.finished_at),
                "" if run.item_count is None else run.item_count,
                "" if run.ticked_count is None else run.ticked_count,
                run.notes,
            ]
            for run in runs
        ),
    )
    ticks = (
        RunTick.objects.filter(
            run__node__map_id__in=map_ids, run__node__deleted_at__isnull=True
        )
        .select_related("ticked_by")
        .order_by("run_id", "ticked_at", "id")
    )
    files[TICKS_FILE] = csv_bytes(
        TICK_COLUMNS,
        (
            [
                tick.run_id,
                places.get(tick.item_id, ""),
                tick.item_text,
                tick.ticked_by.email if tick.ticked_by else "",
                iso_cell(tick.ticked_at),
            ]
            for tick in ticks
        ),
    )
    flags = (
        StepFlag.objects.filter(live_steps)
        .select_related("node", "created_by", "resolved_by")
        .order_by("id")
    )
    files[FLAGS_FILE] = csv_bytes(
        FLAG_COLUMNS,
        (
            [
                flag.node.map_id,
                flag.node.client_id,
                flag.text,
                flag.created_by.email if flag.created_by else "",
                iso_cell(flag.created_at),
                flag.resolved_by.email if flag.resolved_by else "",
                iso_cell(flag.resolved_at),
            ]
            for flag in flags
        ),
    )
    return files


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def import_part(
    business: Business, files: dict[str, bytes], context: ImportContext
) -> list[str]:
    warnings: list[str] = []
    unowned: Counter = Counter()
    # Every node (a metric may measure a start or a stop) and the work steps.
    nodes: dict[tuple[str, str], Node] = {}
    steps = _import_maps(business, files, context, unowned, warnings, nodes)
    context.refs["systemmaps.steps"] = steps
    context.refs["systemmaps.nodes"] = nodes
    strangers: set[str] = set()
    _import_runs(files, context, steps, strangers)
    _import_flags(files, context, steps, strangers)
    if unowned:
        warnings.append(
            _(
                "%(count)d steps have no owner: %(emails)s are not members of "
                "this business yet."
            )
            % {"count": sum(unowned.values()), "emails": ", ".join(sorted(unowned))}
        )
    if strangers:
        warnings.append(
            _(
                "Runs, ticks and flags by %(emails)s keep their dates and texts "
                "but name nobody: they are not members of this business yet."
            )
            % {"emails": ", ".join(sorted(strangers))}
        )
    return warnings


def _import_maps(
    business: Business,
    files: dict[str, bytes],
    context: ImportContext,
    unowned: Counter,
    warnings: list[str],
    nodes: dict[tuple[str, str], Node],
) -> dict[tuple[str, str], Node]:
    """Each map of the archive; its work steps by (map key, step id), and every
    node in `nodes`."""
    label = f"systemmaps/{MAPS_FILE}"
    try:
        listing = json.loads(files.get(MAPS_FILE, b"[]").decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImportInvalid(
            [_("%(file)s: not valid JSON.") % {"file": label}]
        ) from None
    if not isinstance(listing, list):
        raise ImportInvalid([_("%(file)s: must be a list.") % {"file": label}])
    if len(listing) > MAX_MAPS:
        raise ImportInvalid(
            [
                _("%(file)s lists %(count)d maps; at most %(max)d can be imported.")
                % {"file": label, "count": len(listing), "max": MAX_MAPS}
            ]
        )
    steps: dict[tuple[str, str], Node] = {}
    keys: set[str] = set()
    for number, entry in enumerate(listing, start=1):
        context.progress("systemmaps", number - 1, len(listing))
        where = _("%(file)s, map %(number)d") % {"file": label, "number": number}
        meta = _map_settings(entry, where, keys)
        keys.add(meta["key"])
        path = f"systemmaps/{meta['file']}"
        raw = files.get(meta["file"])
        if raw is None:
            raise ImportInvalid(
                [_("%(where)s: %(file)s is missing.") % {"where": where, "file": path}]
            )
        try:
            imported = import_document(raw)
        except ImportInvalid as invalid:
            raise ImportInvalid(
                [f"{path}: {problem}" for problem in invalid.problems]
            ) from None
        # The file's own step ids come back, so the runs and flags naming them
        # (and the drawing) stay as they were; they were valid where exported.
        original = json.loads(raw.decode("utf-8-sig"))
        ids = {
            f"n{index}": str(node["id"])
            for index, node in enumerate(original["nodes"], start=1)
        }
        edge_ids = {
            f"e{index}": str(edge.get("id") or f"e{index}")
            for index, edge in enumerate(original["edges"], start=1)
        }
        graph = imported.graph
        graph = {
            **graph,
            "nodes": [{**n, "id": ids[n["id"]]} for n in graph["nodes"]],
            "edges": [
                {
                    **e,
                    "id": edge_ids[e["id"]],
                    "source": ids[e["source"]],
                    "target": ids[e["target"]],
                }
                for e in graph["edges"]
            ],
        }
        member_ids = {email: m.pk for email, m in context.members.items()}
        owned, unknown = selectors.with_owner_ids(imported.steps, member_ids)
        unowned.update({email.lower(): n for email, n in unknown.items()})
        step_details = {ids[new_id]: step for new_id, step in owned.items()}
        system_map = services.map_import(
            business=business,
            acting_user=context.user,
            name=meta["name"],
            half=meta["half"],
            stages=meta["stages"],
            graph={**graph, "name": meta["name"]},
            steps=step_details,
            note=_("Imported with the whole business"),
        )
        changes = {"description": meta["description"], "product": meta["product"]}
        if meta["status"] == MapStatus.ACTIVE:
            system_map.refresh_from_db(fields=["lint_errors"])
            if system_map.lint_errors:
                warnings.append(
                    _("“%(name)s” is a draft again: its drawing has lint errors.")
                    % {"name": system_map.name}
                )
            else:
                changes["status"] = MapStatus.ACTIVE
        SystemMap.objects.filter(pk=system_map.pk).update(**changes)
        for node in system_map.nodes.all():
            nodes[(meta["key"], node.client_id)] = node
            if node.is_work:
                steps[(meta["key"], node.client_id)] = node
    context.progress("systemmaps", len(listing), len(listing))
    return steps


def _map_settings(entry: Any, where: str, keys: set[str]) -> dict[str, Any]:
    def invalid(message: str) -> ImportInvalid:
        return ImportInvalid(
            [_("%(where)s: %(message)s") % {"where": where, "message": message}]
        )

    if not isinstance(entry, dict):
        raise invalid(_("must be an object."))
    key = entry.get("key")
    if not isinstance(key, str) or not key or key in keys:
        raise invalid(_("“key” must be text, unique in the file."))
    file_name = entry.get("file")
    if not isinstance(file_name, str):
        raise invalid(_("“file” must name the map's file."))
    meta: dict[str, Any] = {"key": key, "file": file_name}
    for name, limit in MAP_TEXT_LIMITS.items():
        value = entry.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            raise invalid(
                _("“%(field)s” must be text of at most %(max)d characters.")
                % {"field": name, "max": limit}
            )
        if name in ONE_LINE_FIELDS and not is_one_line(value):
            raise invalid(
                _("“%(field)s” must be one line (no line break or tab).")
                % {"field": name}
            )
        meta[name] = value.strip()
    if not meta["name"]:
        raise invalid(_("a map needs a name."))
    if entry.get("half") not in Half.values:
        raise invalid(_("unknown half of the hourglass."))
    stages = entry.get("stages")
    if (
        not isinstance(stages, list)
        or not stages
        or any(stage not in Stage.values for stage in stages)
    ):
        raise invalid(_("“stages” must list one or more stages."))
    if entry.get("status", MapStatus.DRAFT) not in MapStatus.values:
        raise invalid(_("unknown status."))
    meta.update(
        half=entry["half"],
        stages=stages,
        status=entry.get("status", MapStatus.DRAFT),
    )
    return meta


def _count(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValueError(value)
    return int(value)


def _person(context: ImportContext, email: str, strangers: set[str]) -> Any:
    user = context.user_for(email)
    if email and user is None:
        strangers.add(email.strip().lower())
    return user


def _import_runs(
    files: dict[str, bytes],
    context: ImportContext,
    steps: dict[tuple[str, str], Node],
    strangers: set[str],
) -> None:
    label = f"systemmaps/{RUNS_FILE}"
    runs: dict[str, ChecklistRun] = {}
    for line, row in csv_rows(files, RUNS_FILE, RUN_COLUMNS, label=label):
        node = steps.get((row["map"], row["step"]))
        if node is None:
            raise row_error(label, line, _("no step %(step)s in map %(map)s.") % row)
        if not row["run"] or row["run"] in runs:
            raise row_error(label, line, _("“run” must be unique."))
        if len(row["subject"]) > 200 or len(row["notes"]) > 5000:
            raise row_error(label, line, _("a text is too long."))
        try:
            started_at = parse_datetime_cell(row["started_at"])
            finished_at = parse_datetime_cell(row["finished_at"])
            item_count = _count(row["item_count"])
            ticked_count = _count(row["ticked_count"])
        except ValueError:
            raise row_error(
                label,
                line,
                _(
                    "dates must be ISO 8601 with an offset, counts whole "
                    "numbers of 0 or more."
                ),
            ) from None
        if started_at is None:
            raise row_error(label, line, _("“started_at” is required."))
        runs[row["run"]] = ChecklistRun(
            node=node,
            subject=row["subject"],
            notes=row["notes"],
            started_by=_person(context, row["started_by"], strangers),
            started_at=started_at,
            finished_at=finished_at,
            item_count=item_count,
            ticked_count=ticked_count,
        )
    ChecklistRun.objects.bulk_create(runs.values())

    items: dict[int, list[ChecklistItem]] = {}
    for item in ChecklistItem.objects.filter(
        node_id__in={run.node_id for run in runs.values()}
    ).order_by("node_id", "position", "id"):
        items.setdefault(item.node_id, []).append(item)
    label = f"systemmaps/{TICKS_FILE}"
    ticks, seen = [], set()
    for line, row in csv_rows(files, TICKS_FILE, TICK_COLUMNS, label=label):
        run = runs.get(row["run"])
        if run is None:
            raise row_error(label, line, _("no run %(run)s in runs.csv.") % row)
        item = None
        if row["item"]:
            checklist = items.get(run.node_id, [])
            try:
                place = _count(row["item"])
            except ValueError:
                place = None
            if place is None or not 1 <= place <= len(checklist):
                raise row_error(label, line, _("no such checklist item."))
            item = checklist[place - 1]
            if (run.pk, item.pk) in seen:
                raise row_error(label, line, _("this item is ticked twice."))
            seen.add((run.pk, item.pk))
        text = row["item_text"]
        if not text or len(text) > 500:
            raise row_error(label, line, _("“item_text” must be 1 to 500 characters."))
        try:
            ticked_at = parse_datetime_cell(row["ticked_at"]) or timezone.now()
        except ValueError:
            raise row_error(
                label, line, _("“ticked_at” must be ISO 8601 with an offset.")
            ) from None
        ticks.append(
            RunTick(
                run=run,
                item=item,
                item_text=text,
                ticked_by=_person(context, row["ticked_by"], strangers),
                ticked_at=ticked_at,
            )
        )
    RunTick.objects.bulk_create(ticks)


def _import_flags(
    files: dict[str, bytes],
    context: ImportContext,
    steps: dict[tuple[str, str], Node],
    strangers: set[str],
) -> None:
    label = f"systemmaps/{FLAGS_FILE}"
    flags = []
    for line, row in csv_rows(files, FLAGS_FILE, FLAG_COLUMNS, label=label):
        node = steps.get((row["map"], row["step"]))
        if node is None:
            raise row_error(label, line, _("no step %(step)s in map %(map)s.") % row)
        if not row["text"].strip() or len(row["text"]) > 2000:
            raise row_error(label, line, _("“text” must be 1 to 2000 characters."))
        try:
            created_at = parse_datetime_cell(row["created_at"]) or timezone.now()
            resolved_at = parse_datetime_cell(row["resolved_at"])
        except ValueError:
            raise row_error(
                label, line, _("dates must be ISO 8601 with an offset.")
            ) from None
        flags.append(
            StepFlag(
                node=node,
                text=row["text"],
                created_by=_person(context, row["created_by"], strangers),
                created_at=created_at,
                resolved_at=resolved_at,
                resolved_by=_person(context, row["resolved_by"], strangers),
            )
        )
    StepFlag.objects.bulk_create(flags)
