"""The graph JSON API of one map: GET with an ETag, PUT guarded by If-Match.

    GET  /b/<slug>/maps/<id>/graph.json   → 200 graph, ETag: "<version>"
    PUT  /b/<slug>/maps/<id>/graph.json   If-Match: "<version>", body: graph
         → 200 {"version", "lint", "status", …}
         → 400 bad JSON or schema, listing every problem with its id and field
         → 412 stale version, with the current graph and who saved it
         → 413 body over 1 MB · 428 no If-Match
    POST /b/<slug>/maps/<id>/layout.json  body: graph → 200 {"positions": {id: {x, y}}}

Nothing is written on any error.
"""

import json
import re

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from hourglass.access import BusinessRequest, business_view
from hourglass.models import Role

from .. import layout, rendering, selectors, services
from ..access import get_map_for_member
from ..graph import analyse
from ..models import SystemMap
from ..schema import MAX_BYTES, GraphInvalid, validate_graph

_IF_MATCH = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


def _error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def _etag(system_map: SystemMap) -> str:
    return f'"{system_map.version}"'


def _saved_by(system_map: SystemMap) -> dict:
    user = system_map.updated_by
    return {
        "version": system_map.version,
        "saved_by": user.name if user else None,
        "saved_by_email": user.email if user else None,
        "saved_at": system_map.updated_at.isoformat(),
    }


def _read_graph(request) -> tuple[dict | None, JsonResponse | None]:
    """The validated graph of the request body, or the error response to send."""
    length = request.headers.get("Content-Length")
    if (length and length.isdigit() and int(length) > MAX_BYTES) or len(
        request.body
    ) > MAX_BYTES:
        return None, _error(
            413,
            "too-large",
            _("The map is larger than %(mb)d MB; nothing was saved.")
            % {"mb": MAX_BYTES // (1024 * 1024)},
        )
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return None, _error(
            400,
            "invalid",
            _("The body is not valid JSON: %(error)s") % {"error": error},
            problems=[{"path": "$", "id": None, "field": None, "message": str(error)}],
        )
    except RecursionError:
        message = _("The body is nested too deeply to be a map.")
        return None, _error(
            400,
            "invalid",
            _("The body is not valid JSON: %(error)s") % {"error": message},
            problems=[{"path": "$", "id": None, "field": None, "message": message}],
        )
    try:
        return validate_graph(data), None
    except GraphInvalid as invalid:
        return None, _error(
            400,
            "invalid",
            _("The map has %(count)d problem(s); nothing was saved.")
            % {"count": len(invalid.problems)},
            problems=[p.as_dict() for p in invalid.problems],
        )


def _expected_version(request) -> tuple[int | None, JsonResponse | None]:
    """The version named by If-Match, or the error response to send."""
    if_match = request.headers.get("If-Match")
    if not if_match:
        return None, _error(
            428,
            "precondition-required",
            _('Send If-Match: "<version>" with the version you edited.'),
        )
    match = _IF_MATCH.match(if_match)
    if not match:
        return None, _error(
            400,
            "invalid",
            _('If-Match must be a quoted version number, such as "3".'),
            problems=[
                {
                    "path": "If-Match",
                    "id": None,
                    "field": "If-Match",
                    "message": _("Not a quoted version number."),
                }
            ],
        )
    return int(match.group(1)), None


def _conflict(current: SystemMap) -> JsonResponse:
    """412: someone saved a newer version; theirs comes back with who and when."""
    saved = _saved_by(current)
    response = _error(
        412,
        "conflict",
        _(
            "%(who)s saved version %(version)d of this map at %(when)s; "
            "your changes were made on an older version and were not saved."
        )
        % {
            "who": saved["saved_by"] or _("Someone"),
            "version": current.version,
            "when": saved["saved_at"],
        },
        graph=selectors.graph_of(current),
        **saved,
    )
    response["ETag"] = _etag(current)
    return response


def _saved(result: services.SaveResult) -> JsonResponse:
    saved_map = result.system_map
    response = JsonResponse(
        {
            "version": saved_map.version,
            "status": saved_map.status,
            "demoted": result.demoted,
            "lint": [f.as_dict() for f in result.findings],
            **{k: v for k, v in _saved_by(saved_map).items() if k != "version"},
        }
    )
    response["ETag"] = _etag(saved_map)
    return response


@business_view(write_role=Role.EDITOR)
@require_http_methods(["GET", "HEAD", "PUT"])
def graph(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    if request.method in ("GET", "HEAD"):
        response = JsonResponse(selectors.graph_of(system_map))
        response["ETag"] = _etag(system_map)
        response["Cache-Control"] = "no-cache"
        return response
    version, error = _expected_version(request)
    if error:
        return error
    document, error = _read_graph(request)
    if error:
        return error
    try:
        result = services.map_save_graph(
            system_map=system_map,
            graph=document,
            acting_user=request.user,
            expected_version=version,
        )
    except services.VersionConflict as conflict:
        return _conflict(conflict.system_map)
    return _saved(result)


@business_view(role=Role.EDITOR)
@require_http_methods(["POST"])
def layout_json(request: BusinessRequest, pk: int) -> HttpResponse:
    """Tidy-up positions for the posted graph (the editor's unsaved state)."""
    get_map_for_member(request, pk)
    document, error = _read_graph(request)
    if error:
        return error
    try:
        positions = rendering.tidy_positions(document["nodes"], document["edges"])
    except layout.LayoutError as failure:
        if failure.code == "too_big":
            return _error(422, "too-big", str(failure))
        return _error(503, "layout-failed", str(failure))
    return JsonResponse({"positions": positions})


@business_view()
@require_safe
def analysis_json(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    document = selectors.graph_of(system_map)
    return JsonResponse(analyse(document["nodes"], document["edges"]))
