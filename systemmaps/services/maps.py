"""Writes of system maps: create, save the graph, tidy up, versions, copy,
import, delete and restore.

A save replaces the whole graph in one transaction with the map row locked, so two
saves of one version cannot both win, and a failure leaves nothing half-written.
Every write here is a `hourglass.locks.business_write`: the business's lock comes
first, before the map row's (the one lock order of every writer of a business:
a save deletes steps whose rollup rows the weekly rollup writes).
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hourglass.locks import business_write, lock_businesses, retrying
from hourglass.models import STAGE_ORDER, Business, User

from .. import rendering
from ..document import WORK_KINDS, empty_graph
from ..graph import has_errors, lint
from ..imports import name_key
from ..models import (
    STEP_COPY_COLUMNS,
    TRASH_DAYS,
    ChecklistItem,
    Edge,
    ImportDraft,
    MapStatus,
    Node,
    Revision,
    SystemMap,
    TrashSpan,
)
from ..selectors.maps import graph_of, map_names, steps_of
from ..signals import map_changed


class VersionConflict(Exception):
    """The map was saved by someone else since the version the caller has."""

    def __init__(self, system_map: SystemMap):
        super().__init__("version conflict")
        self.system_map = system_map


class MapNotReady(Exception):
    """The map cannot become active while its lint has errors."""


@dataclass
class SaveResult:
    system_map: SystemMap
    findings: list
    demoted: bool = False


def _ordered_stages(stages: list[str]) -> list[str]:
    return [s for s in STAGE_ORDER if s in set(stages)]


_NODE_FIELDS = ["kind", "label", "x", "y", "stage", "notes"]
_EDGE_FIELDS = ["source_id", "target_id", "label"]
_TYPE_MODIFIER = re.compile(r"\(.*\)")


def _update_rows(
    model: type[models.Model], fields: list[str], rows: list[list]
) -> None:
    """Set `fields` of many rows of `model` in one statement; each row is the
    fields' database values, then the row's pk.

    Django's bulk_update builds a CASE expression per field and row; for a
    500-step map that alone took over a second. PostgreSQL takes the rows as one
    array per column (`UPDATE … FROM unnest(…)`), a single round trip; SQLite,
    in the process, takes them with executemany.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    meta_fields = [model._meta.get_field(f) for f in fields]
    columns = [quote(f.column) for f in meta_fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Arrays of the columns' base types: an explicit cast to varchar(60)
            # would cut a longer text short, where the assignment to the column
            # refuses it, as an INSERT does.
            types = [
                _TYPE_MODIFIER.sub("", f.db_type(connection))
                for f in [*meta_fields, model._meta.pk]
            ]
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            sets = ", ".join(f"{c} = v.{c}" for c in columns)
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS"
                f" v({', '.join(columns)}, row_pk) WHERE {table}.{pk} = v.row_pk",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            sets = ", ".join(f"{c} = %s" for c in columns)
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)


def _update_changed(
    model: type[models.Model], fields: list[str], rows: list[tuple[int, tuple, tuple]]
) -> None:
    """Write the rows, (pk, old values, new values) of `fields`, whose values
    changed: in one statement, setting the columns that changed in any of them
    (a column a row kept is written with the value it had)."""
    changed, written = set(), []
    for pk, old, new in rows:
        differ = {f for f, a, b in zip(fields, old, new, strict=True) if a != b}
        if differ:
            changed |= differ
            written.append((pk, new))
    names = [f for f in fields if f in changed]
    at = [fields.index(f) for f in names]
    _update_rows(model, names, [[new[i] for i in at] + [pk] for pk, new in written])


@dataclass
class StepChanges:
    """What a save did to a map's steps besides the drawing: the pks of the steps
    it left out (now deleted) and of those it brought back, by client id."""

    deleted: list[int]
    returned: dict[str, int]


def _write_graph(system_map: SystemMap, graph: dict[str, Any]) -> StepChanges:
    """Make the map's rows equal the graph, writing only what differs.

    Steps are matched by client id and updated in place (what hangs on a step —
    owner, checklist, runs, metrics — survives a save); only the steps that
    changed are written, and only the columns that changed among them. A step
    left out is only marked deleted, and a later save with its id again brings
    the same row back, with all of that. Arrows are matched by client id too:
    the changed ones updated, the new ones inserted, the missing ones deleted.
    The number of queries does not depend on the size of the map."""
    existing = {
        row[0]: row
        for row in Node.all_objects.filter(map=system_map).values_list(
            "client_id", "pk", "deleted_at", *_NODE_FIELDS
        )
    }
    wanted = {n["id"]: n for n in graph["nodes"]}
    changes = StepChanges(
        deleted=[
            row[1]
            for client_id, row in existing.items()
            if client_id not in wanted and row[2] is None
        ],
        returned={
            client_id: row[1]
            for client_id, row in existing.items()
            if client_id in wanted and row[2] is not None
        },
    )

    to_update, to_create = [], []
    for client_id, data in wanted.items():
        values = (
            data["kind"],
            data["label"],
            data["x"],
            data["y"],
            data.get("stage") or "",
            data.get("notes") or "",
        )
        row = existing.get(client_id)
        if row is None:
            fields = dict(zip(_NODE_FIELDS, values, strict=True))
            to_create.append(Node(map=system_map, client_id=client_id, **fields))
        else:
            to_update.append((row[1], row[3:], values))

    edges = {
        row[0]: row
        for row in Edge.objects.filter(map=system_map).values_list(
            "client_id", "pk", *_EDGE_FIELDS
        )
    }
    kept_edges = {e["id"] for e in graph["edges"]}
    gone_edges = [
        row[1] for client_id, row in edges.items() if client_id not in kept_edges
    ]
    if gone_edges:
        Edge.objects.filter(pk__in=gone_edges).delete()
    if changes.deleted:
        Node.all_objects.filter(pk__in=changes.deleted).update(
            deleted_at=timezone.now()
        )
    if changes.returned:
        Node.all_objects.filter(pk__in=changes.returned.values()).update(
            deleted_at=None
        )
    _update_changed(Node, _NODE_FIELDS, to_update)
    Node.objects.bulk_create(to_create)

    pks = {client_id: row[1] for client_id, row in existing.items()}
    pks.update((node.client_id, node.pk) for node in to_create)
    if any(node.pk is None for node in to_create):
        # A database that gives no ids back from a bulk insert.
        pks = dict(Node.objects.filter(map=system_map).values_list("client_id", "pk"))

    edge_updates, edge_creates = [], []
    for data in graph["edges"]:
        values = (pks[data["source"]], pks[data["target"]], data.get("label") or "")
        # Popped: a second arrow with the same id is an insert, which the
        # database refuses (the service trusts its input; the API checks it).
        row = edges.pop(data["id"], None)
        if row is None:
            fields = dict(zip(_EDGE_FIELDS, values, strict=True))
            edge_creates.append(Edge(map=system_map, client_id=data["id"], **fields))
        else:
            edge_updates.append((row[1], row[2:], values))
    _update_changed(Edge, _EDGE_FIELDS, edge_updates)
    Edge.objects.bulk_create(edge_creates)
    return changes


def _record(
    system_map: SystemMap,
    graph: dict[str, Any],
    acting_user: User | None,
    note: str,
    findings: list | None = None,
) -> list:
    """Save the map row with its lint counts and store the revision; the lint of
    `graph` is run here unless the caller ran it already (`findings`)."""
    if findings is None:
        findings = lint(graph["nodes"], graph["edges"])
    system_map.lint_errors = sum(f.severity == "error" for f in findings)
    system_map.lint_warnings = sum(f.severity == "warning" for f in findings)
    system_map.updated_by = acting_user
    system_map.updated_at = timezone.now()
    system_map.save()
    Revision.objects.create(
        map=system_map,
        version=system_map.version,
        graph={**graph, "name": system_map.name},
        note=note,
        created_by=acting_user,
        created_at=system_map.updated_at,
    )
    return findings


def _changed(system_map: SystemMap, steps: StepChanges | None = None) -> None:
    map_changed.send(
        sender=SystemMap,
        business_id=system_map.business_id,
        map_id=system_map.pk,
        deleted_steps=steps.deleted if steps else [],
        returned_steps=steps.returned if steps else {},
    )


@business_write(lambda *, business, **_: business.pk)
def map_create(
    *,
    business: Business,
    acting_user: User | None,
    name: str,
    half: str,
    stages: list[str],
    product: str = "",
    description: str = "",
    graph: dict[str, Any] | None = None,
    note: str = "",
) -> SystemMap:
    graph = graph or empty_graph(name)
    system_map = SystemMap.objects.create(
        business=business,
        name=name.strip(),
        half=half,
        stages=_ordered_stages(stages),
        product=product.strip(),
        description=description.strip(),
        created_by=acting_user,
        updated_by=acting_user,
        version=1,
    )
    _write_graph(system_map, graph)
    _record(system_map, graph, acting_user, note or _("Created"))
    return system_map


@business_write(lambda *, system_map, **_: system_map.business_id)
def map_save_graph(
    *,
    system_map: SystemMap,
    graph: dict[str, Any],
    acting_user: User | None,
    expected_version: int | None,
    note: str = "",
) -> SaveResult:
    """Replace the graph; VersionConflict when `expected_version` is stale."""
    locked = SystemMap.objects.select_for_update().get(pk=system_map.pk)
    if expected_version is not None and locked.version != expected_version:
        raise VersionConflict(locked)
    steps = _write_graph(locked, graph)
    if graph.get("name", "").strip():
        locked.name = graph["name"].strip()
    locked.version += 1
    findings = lint(graph["nodes"], graph["edges"])
    # An active map is one the team runs by; one with errors goes back to draft.
    demoted = locked.status == MapStatus.ACTIVE and has_errors(findings)
    if demoted:
        locked.status = MapStatus.DRAFT
    _record(locked, graph, acting_user, note, findings)
    _changed(locked, steps)
    return SaveResult(system_map=locked, findings=findings, demoted=demoted)


@business_write(lambda *, system_map, **_: system_map.business_id)
def map_update(
    *,
    system_map: SystemMap,
    acting_user: User | None,
    name: str,
    description: str,
    half: str,
    stages: list[str],
    product: str,
    status: str,
) -> SystemMap:
    locked = SystemMap.objects.select_for_update().get(pk=system_map.pk)
    if status == MapStatus.ACTIVE and locked.lint_errors:
        raise MapNotReady(
            _(
                "“%(name)s” has %(count)d lint error(s); fix them before making "
                "it active. Drafts may have errors."
            )
            % {"name": locked.name, "count": locked.lint_errors}
        )
    renamed = name.strip() != locked.name
    locked.name = name.strip()
    locked.description = description.strip()
    locked.half = half
    locked.stages = _ordered_stages(stages)
    locked.product = product.strip()
    locked.status = status
    locked.updated_by = acting_user
    locked.updated_at = timezone.now()
    if renamed:
        # The name is part of the graph document, so a rename is a new version.
        locked.version += 1
        graph = graph_of(locked)
        _record(locked, graph, acting_user, _("Renamed"))
    else:
        locked.save()
    return locked


def map_tidy(*, system_map: SystemMap, acting_user: User | None) -> SaveResult:
    """Lay the saved map out left to right with Graphviz, as a new version.
    LayoutError (nothing saved) when Graphviz cannot, or the map is too big to
    tidy up in a request (`rendering.tidy_positions`)."""
    graph = graph_of(system_map)
    positions = rendering.tidy_positions(graph["nodes"], graph["edges"])
    for node in graph["nodes"]:
        node["x"], node["y"] = positions[node["id"]]["x"], positions[node["id"]]["y"]
    return map_save_graph(
        system_map=system_map,
        graph=graph,
        acting_user=acting_user,
        expected_version=system_map.version,
        note=_("Tidied up"),
    )


@business_write(lambda *, system_map, **_: system_map.business_id)
def map_duplicate(*, system_map: SystemMap, acting_user: User | None) -> SystemMap:
    """A copy of the map with its steps' owners, costs, SOP texts and checklists
    (not their runs or flagged problems, which happened in the original)."""
    graph = graph_of(system_map)
    name = _("Copy of %(name)s") % {"name": system_map.name}
    copy = map_create(
        business=system_map.business,
        acting_user=acting_user,
        name=name[:200],
        half=system_map.half,
        stages=system_map.stages,
        product=system_map.product,
        description=system_map.description,
        graph={**graph, "name": name[:200]},
        note=_("Duplicated from “%(name)s” version %(version)d")
        % {"name": system_map.name, "version": system_map.version},
    )
    steps_restore(system_map=copy, steps=steps_of(system_map))
    return copy


@business_write(lambda *, system_map, **_: system_map.business_id)
def steps_restore(*, system_map: SystemMap, steps: dict[str, dict[str, Any]]) -> None:
    """Give the steps of a newly written map their details and checklists.

    `steps` is by client id, as `steps_of` gives it (the owner as `owner_id`, a
    membership of the map's business). Termini and unknown ids are skipped; a
    step whose details are all defaults costs no write.
    """
    pks = dict(
        system_map.nodes.filter(kind__in=WORK_KINDS).values_list("client_id", "pk")
    )
    fields = [Node._meta.get_field(name) for name in STEP_COPY_COLUMNS]
    defaults = list(STEP_COPY_COLUMNS.values())
    rows, items = [], []
    for client_id, step in steps.items():
        pk = pks.get(client_id)
        if pk is None:
            continue
        values = [
            step.get(name, default) for name, default in STEP_COPY_COLUMNS.items()
        ]
        if values != defaults:
            rows.append(
                [
                    field.get_db_prep_value(value, connection)
                    for field, value in zip(fields, values, strict=True)
                ]
                + [pk]
            )
        items.extend(
            ChecklistItem(node_id=pk, position=position, text=text)
            for position, text in enumerate(step.get("checklist") or [])
        )
    _update_rows(Node, list(STEP_COPY_COLUMNS), rows)
    ChecklistItem.objects.bulk_create(items)


@business_write(lambda *, business, **_: business.pk)
def map_import(
    *,
    business: Business,
    acting_user: User | None,
    name: str,
    half: str,
    stages: list[str],
    graph: dict[str, Any],
    steps: dict[str, dict[str, Any]],
    product: str = "",
    description: str = "",
    note: str = "",
) -> SystemMap:
    """A new map from an imported file: the drawing, then its steps' details."""
    return _imported_map(
        business=business,
        acting_user=acting_user,
        name=name,
        half=half,
        stages=stages,
        graph=graph,
        steps=steps,
        product=product,
        description=description,
        note=note,
    )


def _imported_map(*, steps: dict[str, dict[str, Any]], **fields: Any) -> SystemMap:
    """map_import's work, for callers that hold the business's lock already."""
    system_map = map_create(**fields)
    steps_restore(system_map=system_map, steps=steps)
    return system_map


class NameTaken(Exception):
    """A map of the business already has this name (`imports.name_key`)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclass
class NewMap:
    """One map to create from an uploaded file (the import page's summary)."""

    name: str
    half: str
    stages: list[str]
    graph: dict[str, Any]
    steps: dict[str, dict[str, Any]]
    product: str = ""
    description: str = ""
    note: str = ""


@business_write(lambda *, business, **_: business.pk)
def maps_import(
    *,
    business: Business,
    acting_user: User,
    maps: list[NewMap],
    draft: ImportDraft | None = None,
) -> list[SystemMap]:
    """New maps from an uploaded file, all or none, and the draft it was
    uploaded as gone. NameTaken, before anything is written, when a map of
    the business (in the trash too) or an earlier one of `maps` has a name;
    checked here, under the business's lock, so two tabs cannot both win."""
    taken = map_names(business)
    for new in maps:
        key = name_key(new.name)
        if key in taken:
            raise NameTaken(new.name)
        taken.add(key)
    created = [
        _imported_map(
            business=business,
            acting_user=acting_user,
            name=new.name,
            half=new.half,
            stages=new.stages,
            product=new.product,
            description=new.description,
            graph={**new.graph, "name": new.name},
            steps=new.steps,
            note=new.note,
        )
        for new in maps
    ]
    if draft is not None:
        ImportDraft.objects.filter(pk=draft.pk).delete()
    return created


# How long an uploaded file waits for its summary to be confirmed.
DRAFT_LIFETIME = timedelta(days=1)


@transaction.atomic
def import_draft_create(
    *, business: Business, user: User, file_name: str, content: bytes, format: str
) -> ImportDraft:
    """Keep an uploaded file for the import page's second step. Drafts older
    than DRAFT_LIFETIME (anyone's: nobody will confirm them now) and the user's
    earlier drafts in this business (one file at a time, so uploads cannot
    pile up) are deleted first."""
    ImportDraft.objects.filter(created_at__lt=timezone.now() - DRAFT_LIFETIME).delete()
    ImportDraft.objects.filter(business=business, user=user).delete()
    return ImportDraft.objects.create(
        business=business,
        user=user,
        file_name=file_name[:255],
        content=content,
        format=format,
    )


@business_write(lambda *, system_map, **_: system_map.business_id)
def revision_restore(
    *, system_map: SystemMap, revision: Revision, acting_user: User | None
) -> SaveResult:
    """Bring back an old version as a new one; the versions in between stay."""
    graph = {**revision.graph, "name": revision.graph.get("name") or system_map.name}
    return map_save_graph(
        system_map=system_map,
        graph=graph,
        acting_user=acting_user,
        expected_version=None,
        note=_("Restored version %(version)d") % {"version": revision.version},
    )


@business_write(lambda *, system_map, **_: system_map.business_id)
def map_delete(*, system_map: SystemMap, acting_user: User | None) -> None:
    """Into the trash, for TRASH_DAYS; the span is kept for the weekly review."""
    system_map.deleted_at = timezone.now()
    system_map.deleted_by = acting_user
    system_map.save(update_fields=["deleted_at", "deleted_by"])
    TrashSpan.objects.create(map=system_map, trashed_at=system_map.deleted_at)
    _changed(system_map)


@business_write(lambda *, system_map, **_: system_map.business_id)
def map_restore(*, system_map: SystemMap) -> None:
    TrashSpan.objects.filter(map=system_map, restored_at__isnull=True).update(
        restored_at=timezone.now()
    )
    system_map.deleted_at = None
    system_map.deleted_by = None
    system_map.save(update_fields=["deleted_at", "deleted_by"])
    _changed(system_map)


@retrying
def maps_purge_deleted() -> int:
    """Delete for good the maps that have been in the trash longer than allowed,
    and the steps that saves left out as long ago (with their checklists, runs
    and flags; their metrics and issues lose the step, as when a map goes).
    The number of maps deleted."""
    cutoff = timezone.now() - timedelta(days=TRASH_DAYS)
    expired = SystemMap.objects.filter(deleted_at__lte=cutoff)
    expired_steps = Node.all_objects.filter(deleted_at__lte=cutoff)
    # Their steps' rollup rows go with them: the businesses' locks first (read
    # in one query, the maps' and the steps' together).
    lock_businesses(
        SystemMap.objects.filter(
            Q(deleted_at__lte=cutoff) | Q(pk__in=expired_steps.values("map_id"))
        )
        .order_by()
        .values_list("business_id", flat=True)
    )
    _total, per_model = expired.delete()
    expired_steps.delete()
    return per_model.get(SystemMap._meta.label, 0)
