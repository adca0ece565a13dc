"""Reads of maps: lists, one map's graph and step details, its versions (their
drawings are systemmaps/rendering.py's), shaped for pages (and for other apps'
pages, through the package)."""

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hourglass.models import STAGE_ORDER, Business, Membership, Stage

from .. import graph as map_graph
from ..document import SCHEMA_VERSION, WORK_KINDS
from ..imports import name_key
from ..models import (
    STEP_COPY_COLUMNS,
    Automation,
    ChecklistItem,
    Edge,
    Node,
    Revision,
    SystemMap,
)
from ..transfer import MAP_KEYS


def maps_by_stage(business: Business) -> dict[str, list[SystemMap]]:
    """The business's maps under each stage they span, in one query."""
    by_stage: dict[str, list[SystemMap]] = {stage: [] for stage in STAGE_ORDER}
    maps = (
        SystemMap.objects.filter(business=business)
        .alive()
        .select_related("business")
        .only("name", "stages", "status", "lint_errors", "lint_warnings", "business")
    )
    for system_map in maps:
        for stage in system_map.stages:
            if stage in by_stage:
                by_stage[stage].append(system_map)
    return by_stage


def step_stage(stage: str | None, map_stages: list[str] | None) -> str:
    """The stage a step counts under: its own, else its map's first ("" if none)."""
    if stage:
        return stage
    return map_stages[0] if map_stages else ""


def is_stage_entry(step: Node) -> bool:
    """Whether customers enter the step's stage at this step: no arrow comes in
    from a step of the same stage (one query; the step's map preloaded)."""
    stage = step_stage(step.stage, step.map.stages)
    sources = Edge.objects.filter(target=step).values_list("source__stage", flat=True)
    return all(step_stage(s, step.map.stages) != stage for s in sources)


def stage_label(stage: str) -> str:
    return Stage(stage).label if stage in Stage.values else ""


def work_steps(business: Business) -> QuerySet[Node]:
    """The tasks and decisions of the business's live maps."""
    return Node.objects.filter(
        map__business=business, map__deleted_at__isnull=True, kind__in=WORK_KINDS
    )


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------


def map_list(business: Business, filters: dict[str, Any]) -> list[SystemMap]:
    """The live maps of the business that pass the list's filters (half, stage,
    status, lint state: "errors", "warnings" or "clean"), in one query."""
    maps = SystemMap.objects.filter(business=business).alive()
    if filters.get("half"):
        maps = maps.filter(half=filters["half"])
    if filters.get("status"):
        maps = maps.filter(status=filters["status"])
    lint_state = filters.get("lint")
    if lint_state == "errors":
        maps = maps.filter(lint_errors__gt=0)
    elif lint_state == "warnings":
        maps = maps.filter(lint_errors=0, lint_warnings__gt=0)
    elif lint_state == "clean":
        maps = maps.filter(lint_errors=0, lint_warnings=0)
    found = list(maps.select_related("business", "updated_by"))
    if filters.get("stage"):
        # The stages are a short JSON list; filtering it here works the same on
        # SQLite and PostgreSQL, and a business has tens of maps, not thousands.
        found = [m for m in found if filters["stage"] in m.stages]
    return found


def trash(business: Business) -> QuerySet[SystemMap]:
    """The maps in the trash that can still be brought back, newest first."""
    return (
        SystemMap.objects.filter(business=business)
        .in_trash()
        .select_related("deleted_by")
        .order_by("-deleted_at")
    )


def trash_count(business: Business) -> int:
    return SystemMap.objects.filter(business=business).in_trash().count()


def revisions(system_map: SystemMap, *, limit: int | None = None) -> list[Revision]:
    """The map's saved versions, newest first, with who saved each."""
    rows = system_map.revisions.select_related("created_by")
    return list(rows[:limit] if limit is not None else rows)


# ---------------------------------------------------------------------------
# One map's graph and the details of its steps
# ---------------------------------------------------------------------------


def maps_as_of(map_ids: set[int], at: datetime) -> dict[int, dict[str, Any]]:
    """The maps as they were at the moment `at`, by pk: each one's graph as last
    saved before it (its first version when it was made later; its rows when it
    has no version), leaving out the maps that were in the trash at `at` or are
    gone. At most four queries, whatever the number of maps."""
    trashed = set(
        SystemMap.objects.filter(pk__in=map_ids)
        .filter(
            Q(deleted_at__lt=at)
            | Q(
                trash_spans__trashed_at__lt=at,
                trash_spans__restored_at__gte=at,
            )
        )
        .values_list("pk", flat=True)
    )
    wanted = map_ids - trashed
    before: dict[int, int] = {}
    first: dict[int, int] = {}
    for map_id, version, saved_at in Revision.objects.filter(
        map_id__in=wanted
    ).values_list("map_id", "version", "created_at"):
        first[map_id] = min(version, first.get(map_id, version))
        if saved_at < at:
            before[map_id] = max(version, before.get(map_id, version))
    chosen = {**first, **before}
    graphs = {}
    if chosen:
        lookup = Q()
        for map_id, version in chosen.items():
            lookup |= Q(map_id=map_id, version=version)
        graphs = dict(Revision.objects.filter(lookup).values_list("map_id", "graph"))
    for system_map in SystemMap.objects.filter(pk__in=wanted - set(graphs)):
        graphs[system_map.pk] = graph_of(system_map)
    return graphs


def graph_of(system_map: SystemMap) -> dict[str, Any]:
    """The map's graph as the JSON API gives it (two queries)."""
    nodes = list(
        system_map.nodes.order_by("id").values(
            "pk", "client_id", "kind", "label", "x", "y", "stage", "notes"
        )
    )
    client_ids = {n["pk"]: n["client_id"] for n in nodes}
    edges = system_map.edges.order_by("id").values(
        "client_id", "source_id", "target_id", "label"
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "name": system_map.name,
        "nodes": [
            {
                "id": n["client_id"],
                "kind": n["kind"],
                "label": n["label"],
                "x": n["x"],
                "y": n["y"],
                "stage": n["stage"] or None,
                "notes": n["notes"] or None,
            }
            for n in nodes
        ],
        "edges": [
            {
                "id": e["client_id"],
                "source": client_ids[e["source_id"]],
                "target": client_ids[e["target_id"]],
                "label": e["label"] or None,
            }
            for e in edges
        ],
    }


def steps_of(system_map: SystemMap) -> dict[str, dict[str, Any]]:
    """Each task's and decision's STEP_COPY_COLUMNS and `checklist` (its items'
    texts in order), by client id (two queries)."""
    steps = {
        row.pop("client_id"): {**row, "checklist": []}
        for row in system_map.nodes.filter(kind__in=WORK_KINDS).values(
            "client_id", *STEP_COPY_COLUMNS
        )
    }
    items = (
        ChecklistItem.objects.filter(
            node__map=system_map, node__deleted_at__isnull=True
        )
        .order_by("node_id", "position", "id")
        .values_list("node__client_id", "text")
    )
    for client_id, text in items:
        if client_id in steps:
            steps[client_id]["checklist"].append(text)
    return steps


def step_badges(system_map: SystemMap) -> dict[str, dict]:
    """The owner, critical flag and automation of each step that has any, by
    client id (one query): the canvas's badges and the drawings' label lines.

    Termini are included (a shape can become a task again in the editor); the
    canvas and the drawings show nothing on them.
    """
    steps = system_map.nodes.filter(
        Q(owner__isnull=False) | Q(critical=True) | ~Q(automation=Automation.MANUAL)
    ).select_related("owner__user")
    return {
        step.client_id: {
            "owner": step.owner.user.name or step.owner.user.email
            if step.owner
            else "",
            "initials": step.owner.user.initials if step.owner else "",
            "critical": step.critical,
            "automation": step.automation,
        }
        for step in steps
    }


def editor_badges(system_map: SystemMap) -> dict[str, dict]:
    """`step_badges` as the editor's config names them."""
    return {
        client_id: {
            "ownerInitials": step["initials"],
            "ownerName": step["owner"],
            "critical": step["critical"],
            "automation": step["automation"],
        }
        for client_id, step in step_badges(system_map).items()
    }


def map_names(business: Business) -> set[str]:
    """The names of the business's maps, those in the trash too, as
    `imports.name_key` compares them (one query)."""
    names = SystemMap.objects.filter(business=business).values_list("name", flat=True)
    return {name_key(name) for name in names}


def export_fields(system_map: SystemMap) -> dict[str, Any]:
    """The map's own fields its JSON file carries (`transfer.MAP_KEYS`)."""
    return {key: getattr(system_map, key) for key in MAP_KEYS}


def member_emails(business_id: int) -> dict[int, str]:
    """{membership pk: email} of the business's members (one query)."""
    return dict(
        Membership.objects.filter(business_id=business_id).values_list(
            "pk", "user__email"
        )
    )


def export_steps(
    system_map: SystemMap, emails: dict[int, str] | None = None
) -> dict[str, dict]:
    """Each task's and decision's details and checklist for the JSON file, the
    owner as the member's email (`member_emails`, read when not given)."""
    if emails is None:
        emails = member_emails(system_map.business_id)
    steps = {}
    for client_id, step in steps_of(system_map).items():
        owner_id = step.pop("owner_id")
        steps[client_id] = {**step, "owner": emails.get(owner_id)}
    return steps


def with_owner_ids(
    steps: dict[str, dict[str, Any]], member_ids: dict[str, int]
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Imported step details with each owner email (any case) turned into
    `owner_id`, the pk in `member_ids` (by lower-case email), and how many steps
    named each email that no member has (those steps get no owner)."""
    unknown: dict[str, int] = {}
    restored = {}
    for node_id, step in steps.items():
        details = {k: v for k, v in step.items() if k != "owner"}
        email = step.get("owner") or ""
        details["owner_id"] = member_ids.get(email.lower()) if email else None
        if email and details["owner_id"] is None:
            unknown[email] = unknown.get(email, 0) + 1
        restored[node_id] = details
    return restored, unknown


def owners_by_email(
    business: Business, steps: dict[str, dict]
) -> tuple[dict[str, dict], dict[str, int]]:
    """Imported step details with each owner email turned into the member of
    `business` who has it (one query), and how many steps named each email that
    no member has (`with_owner_ids`)."""
    members = {
        email.lower(): pk
        for pk, email in Membership.objects.filter(business=business).values_list(
            "pk", "user__email"
        )
    }
    return with_owner_ids(steps, members)


# ---------------------------------------------------------------------------
# A version and its analysis
# ---------------------------------------------------------------------------


def version_graph(
    system_map: SystemMap, version: int, *, with_details: bool
) -> tuple[dict[str, Any], dict | None] | None:
    """(graph, details) of a version of the map, nothing drawn: the current
    version from its rows, an older one from its revision (None when the map
    has no such version); `details` are the steps' badges (`step_badges`) when
    `with_details`, else None. What the map page and its drawing show."""
    if version == system_map.version:
        graph = graph_of(system_map)
    else:
        graph = (
            Revision.objects.filter(map=system_map, version=version)
            .values_list("graph", flat=True)
            .first()
        )
        if graph is None:
            return None
    return graph, step_badges(system_map) if with_details else None


def labelled_analysis(graph: dict) -> dict:
    """The analysis (`graph.analyse`) with step labels instead of ids and stage
    names instead of codes, ready for the map page."""
    result = map_graph.analyse(graph["nodes"], graph["edges"])
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    stage_names = dict(Stage.choices)
    return {
        "paths": [
            {**p, "start": labels[p["start"]], "end": labels[p["end"]]}
            for p in result["paths"]
        ],
        "steps_per_stage": [
            (stage_names.get(stage, _("No stage")), count)
            for stage, count in result["steps_per_stage"].items()
        ],
        "branches": [
            {
                "decision": labels[b["decision"]],
                "branches": [
                    {"label": br["label"], "target": labels[br["target"]]}
                    for br in b["branches"]
                ],
            }
            for b in result["branches"]
        ],
    }
