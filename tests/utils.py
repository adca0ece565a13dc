"""Helpers of the project-wide tests: sending and rewriting whole-business
archives, and the table of every URL under /b/<slug>/ (`ROUTES`)."""

import io
import zipfile
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse

from hourglass.archive import archive_import_run


def upload(client, raw: bytes, name: str = ""):
    """Post a whole-business archive to the import page, as `name` if given.
    An archive refused in the request gets that answer (422); a queued one is
    imported as the worker does it (the same service, in this thread) and the
    answer is the job's page once done (`context["job"]`, `["problems"]`)."""
    response = client.post(
        reverse("business-import"),
        {"file": SimpleUploadedFile("acme.zip", raw), "name": name},
    )
    if response.status_code != 302:
        return response
    match = resolve(response.url)
    assert match.url_name == "business-import-job", response.url
    archive_import_run(job_id=match.kwargs["job_id"])
    return client.get(response.url)


def imported(response):
    """The business a job page (from `upload`) shows as imported."""
    assert response.status_code == 200, response.status_code
    job = response.context["job"]
    assert job.status == "done", job.problems
    return job.business


def rewrite(raw: bytes, replace: dict[str, bytes]) -> bytes:
    """The archive with some files' contents replaced, by path."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(
                info.filename, replace.get(info.filename, source.read(info))
            )
    return out.getvalue()


# ---------------------------------------------------------------------------
# The route table: how each URL under /b/<slug>/ is filled from a World's ids
# (tests/factories.py), and who may read and write through it. The isolation
# matrix sends every method to each; the accessibility test opens the pages.
# ---------------------------------------------------------------------------

MEMBER = "member"  # anyone in the business
WORKER = "worker"  # the step's owner, editors and owners (a member: own steps)
EDITOR = "editor"  # editors and owners
OWNER = "owner"


@dataclass(frozen=True)
class Route:
    # URL argument → key of World.ids (the slug is the business's own).
    kwargs: dict[str, str] = field(default_factory=dict)
    # Who may GET it; None: the URL has no page (a POST endpoint).
    read: str | None = MEMBER
    # Who may send it a write; None: it writes nothing (a page).
    write: str | None = None
    # Reads a JSON body (the graph API) instead of a form.
    json: bool = False
    # Why a plain member may write through it (write=MEMBER only).
    why: str = ""
    # Fields of `hostile_form` this URL's form reads differently (the metric
    # form's direction is higher or lower, a checklist move's up or down).
    form: tuple[tuple[str, str], ...] = ()


MAP = {"pk": "map"}
STEP = {"pk": "map", "node": "step"}
METRIC = {"pk": "metric"}
WEEK = {"week": "week"}

ROUTES: dict[str, Route] = {
    # The hourglass: stages and tactics
    "hourglass:overview": Route(),
    "hourglass:stage-plan": Route({"stage": "stage"}),
    "hourglass:stage-edit": Route({"stage": "stage"}, read=EDITOR, write=EDITOR),
    "hourglass:tactic-create": Route(read=EDITOR, write=EDITOR),
    "hourglass:tactic-edit": Route({"pk": "tactic"}, read=EDITOR, write=EDITOR),
    "hourglass:tactic-delete": Route({"pk": "tactic"}, read=None, write=EDITOR),
    # Team and settings
    "hourglass:team": Route(),
    "hourglass:invite": Route(read=None, write=OWNER),
    "hourglass:invitation-resend": Route({"pk": "invitation"}, read=None, write=OWNER),
    "hourglass:invitation-revoke": Route({"pk": "invitation"}, read=None, write=OWNER),
    "hourglass:member-role": Route({"pk": "member"}, read=None, write=OWNER),
    "hourglass:member-profile": Route({"pk": "member"}, read=None, write=OWNER),
    "hourglass:marketing-owner": Route(read=None, write=OWNER),
    "hourglass:member-remove": Route({"pk": "member"}, read=None, write=OWNER),
    "hourglass:leave": Route(
        read=None,
        write=MEMBER,
        why="anyone may leave a business: it removes their own membership only",
    ),
    "hourglass:settings": Route(read=OWNER, write=OWNER),
    "hourglass:delete": Route(read=None, write=OWNER),
    "hourglass:export": Route(read=OWNER),
    # Maps
    "systemmaps:map-list": Route(),
    "systemmaps:map-new": Route(read=EDITOR, write=EDITOR),
    "systemmaps:template-list": Route(),
    "systemmaps:template-use": Route({"key": "template"}, read=None, write=EDITOR),
    "systemmaps:map-import": Route(read=EDITOR, write=EDITOR),
    # The owner's own upload (World.owner's): nobody else's draft is reachable.
    "systemmaps:map-import-draft": Route({"pk": "draft"}, read=EDITOR, write=EDITOR),
    "systemmaps:map-trash": Route(),
    "systemmaps:map-detail": Route(MAP),
    "systemmaps:map-edit": Route(MAP),
    "systemmaps:map-settings": Route(MAP, read=EDITOR, write=EDITOR),
    "systemmaps:map-tidy": Route(MAP, read=None, write=EDITOR),
    "systemmaps:map-duplicate": Route(MAP, read=None, write=EDITOR),
    "systemmaps:map-delete": Route(MAP, read=None, write=EDITOR),
    "systemmaps:map-restore": Route({"pk": "trashed_map"}, read=None, write=OWNER),
    "systemmaps:map-export": Route({"pk": "map", "fmt": "fmt"}),
    "systemmaps:map-drawing": Route(MAP),
    "systemmaps:map-graph": Route(MAP, write=EDITOR, json=True),
    # Writes nothing, but only editors lay out a drawing they are editing.
    "systemmaps:map-layout": Route(MAP, read=None, write=EDITOR, json=True),
    "systemmaps:map-analysis": Route(MAP),
    "systemmaps:revision-list": Route(MAP),
    "systemmaps:revision-detail": Route({"pk": "map", "version": "version"}),
    "systemmaps:revision-drawing": Route({"pk": "map", "version": "version"}),
    "systemmaps:revision-restore": Route(
        {"pk": "map", "version": "version"}, read=None, write=EDITOR
    ),
    # Outline and the editor's side panel
    "systemmaps:map-outline": Route(MAP),
    "systemmaps:outline-rename": Route(STEP, read=None, write=EDITOR),
    "systemmaps:outline-details": Route(STEP, read=None, write=EDITOR),
    "systemmaps:outline-add-next": Route(STEP, read=None, write=EDITOR),
    "systemmaps:outline-add-branch": Route(
        {"pk": "map", "node": "decision"}, read=None, write=EDITOR
    ),
    "systemmaps:outline-delete": Route(STEP, read=None, write=EDITOR),
    "systemmaps:step-panel": Route(STEP, write=EDITOR),
    "systemmaps:step-panel-owner": Route(STEP, write=EDITOR),
    # The step page
    "systemmaps:step-detail": Route(STEP),
    "systemmaps:step-details": Route(STEP, read=None, write=EDITOR),
    "systemmaps:step-flag-add": Route(
        STEP,
        read=None,
        write=MEMBER,
        why="a flagged problem is a note any member may leave; it edits nothing",
    ),
    "systemmaps:step-flag-resolve": Route(
        {**STEP, "flag": "flag"}, read=None, write=WORKER
    ),
    "systemmaps:step-sop": Route(STEP, read=None, write=WORKER),
    "systemmaps:step-sop-reviewed": Route(STEP, read=None, write=WORKER),
    "systemmaps:step-checklist": Route(STEP, write=WORKER),
    "systemmaps:step-checklist-order": Route(STEP, read=None, write=WORKER),
    "systemmaps:step-checklist-item": Route(
        {**STEP, "item": "item"}, read=None, write=WORKER
    ),
    "systemmaps:step-checklist-item-delete": Route(
        {**STEP, "item": "item"}, read=None, write=WORKER
    ),
    "systemmaps:step-checklist-item-move": Route(
        {**STEP, "item": "item"}, read=None, write=WORKER
    ),
    "systemmaps:step-run-start": Route(STEP, read=None, write=WORKER),
    # Gap report and walkthrough
    "systemmaps:map-gaps": Route(MAP),
    "systemmaps:map-walk": Route(MAP),
    "systemmaps:walk-flag": Route(
        STEP,
        read=None,
        write=MEMBER,
        why="flagging a problem while walking is a note, as on the step page",
    ),
    # Checklist runs
    "systemmaps:run-detail": Route({"run": "run"}),
    "systemmaps:run-update": Route({"run": "run"}, read=None, write=WORKER),
    "systemmaps:run-tick": Route(
        {"run": "run", "item": "item"}, read=None, write=WORKER
    ),
    "systemmaps:run-finish": Route({"run": "run"}, read=None, write=WORKER),
    # Across maps
    "systemmaps:my-steps": Route(),
    "systemmaps:gaps": Route(),
    # Metrics and their weekly numbers (a member: the metrics he owns)
    "metrics:metric-list": Route(),
    "metrics:metric-create": Route(
        read=EDITOR, write=EDITOR, form=(("direction", "lower"),)
    ),
    "metrics:entries-import": Route(read=EDITOR, write=EDITOR),
    "metrics:entries-export": Route(),
    "metrics:metric-detail": Route(METRIC, write=WORKER),
    "metrics:metric-edit": Route(
        METRIC, read=EDITOR, write=EDITOR, form=(("direction", "lower"),)
    ),
    "metrics:metric-archive": Route(METRIC, read=None, write=EDITOR),
    "metrics:entry-save": Route({**METRIC, "week": "week"}, read=None, write=WORKER),
    "metrics:this-week": Route(write=WORKER),
    # The weekly review and meeting mode
    "metrics:review": Route(),
    "metrics:review-week": Route(WEEK),
    "metrics:review-status": Route(WEEK),
    "metrics:review-recompute": Route(
        WEEK,
        read=None,
        write=MEMBER,
        why="recomputing rewrites only numbers derived from the entries, which "
        "anyone reviewing the week may ask to refresh",
    ),
    "metrics:meeting": Route(WEEK),
    "metrics:meeting-print": Route(WEEK),
    "metrics:meeting-notes": Route(WEEK, read=None, write=EDITOR),
    "metrics:issue-add": Route(
        WEEK,
        read=None,
        write=MEMBER,
        why="anyone in the review may raise an issue; it edits nothing else",
    ),
    "metrics:issue-resolve": Route({"pk": "issue"}, read=None, write=EDITOR),
    "metrics:todo-add": Route(WEEK, read=None, write=EDITOR),
    "metrics:todo-done": Route({"pk": "todo"}, read=None, write=WORKER),
}
