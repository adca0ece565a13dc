"""A whole business out as one archive and into a new business."""

import csv
import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from hourglass.archive import (
    MAX_FILES,
    MAX_UNCOMPRESSED_BYTES,
    archive_export,
    business_import,
    csv_safe,
    csv_unsafe,
)
from hourglass.demo import DEMO_SLUG
from hourglass.models import Business, Invitation, Membership, StagePlan, Tactic
from metrics import portability as metrics_part
from metrics import rollup, weeks
from metrics import services as metric_services
from metrics.models import (
    Entry,
    EntryRevision,
    Meeting,
    MeetingIssue,
    Metric,
    MetricWeek,
    RollupWeek,
    Todo,
)
from systemmaps import selectors as map_selectors
from systemmaps import services as map_services
from systemmaps.models import ChecklistRun, RunTick, StepFlag, SystemMap
from tests.factories import populate
from tests.utils import imported, rewrite, upload


def add_metrics(business, *, owner, member, editor) -> None:
    """The review of the last weeks: a metric on a work step (the editor's), one
    on the map's start (the owner's), one on no step (the plain member's), an
    archived one owned by nobody; four weeks of numbers with an edit and a
    clearing; a meeting with notes, an open and a resolved issue, to-dos."""
    people = {m.user_id: m for m in Membership.objects.filter(business=business)}
    nodes = {
        n.client_id: n
        for n in SystemMap.objects.get(business=business, deleted_at__isnull=True)
        .nodes.all()
        .select_related("map")
    }
    this = weeks.current_week(business.timezone)
    ago = {n: this - weeks.WEEK * n for n in range(1, 5)}

    def create(name: str, **changes) -> Metric:
        fields = {
            "unit": "count",
            "direction": "higher",
            "goal": None,
            "owner": None,
            "step": None,
            "stage": "",
            "in_funnel": True,
        }
        return metric_services.metric_create(
            business=business, acting_user=owner, name=name, **{**fields, **changes}
        )

    sent = create(
        "Nurture emails sent",
        goal=Decimal(40),
        owner=people[editor.pk],
        step=nodes["nurture"],
        description="=2+2 is not how we count",
    )
    attendees = create(
        "Webinar attendees",
        goal=Decimal(25),
        owner=people[owner.pk],
        step=nodes["start"],
    )
    refunds = create(
        "Refund rate",
        unit="percent",
        direction="lower",
        goal=Decimal("2.50"),
        owner=people[member.pk],
        stage="repeat",
        in_funnel=False,
    )
    flyers = create("Flyer replies", stage="know")
    for back, value in ((4, 30), (3, 41), (2, 38), (1, 45)):
        record = metric_services.entry_record
        record(metric=sent, week=ago[back], value=Decimal(value), acting_user=editor)
        record(
            metric=attendees,
            week=ago[back],
            value=Decimal(value - 9),
            acting_user=owner,
        )
        record(
            metric=refunds,
            week=ago[back],
            value=Decimal("1.25") * back,
            acting_user=member,
        )
    metric_services.entry_record(
        metric=flyers, week=ago[4], value=Decimal(3), acting_user=owner
    )
    # Edited (45 → 47) and cleared (2.50 → nothing): both keep an audit trail.
    metric_services.entry_record(
        metric=sent, week=ago[1], value=Decimal(47), acting_user=owner
    )
    metric_services.entry_record(
        metric=refunds, week=ago[2], value=None, acting_user=owner
    )
    metric_services.metric_archive(metric=flyers, acting_user=owner)
    metric_services.meeting_notes_save(
        business=business,
        week=ago[2],
        notes="Refunds are up.\n=SUM(A1)",
        acting_user=owner,
    )
    open_issue = metric_services.issue_raise(
        business=business,
        week=ago[2],
        title="Too few nurture emails",
        detail="Two a week at least.",
        metric=sent,
        step=nodes["nurture"],
        acting_user=member,
    )
    solved = metric_services.issue_raise(
        business=business,
        week=ago[3],
        title="Refunds after the call",
        metric=refunds,
        step=nodes["call"],
        acting_user=owner,
    )
    metric_services.issue_resolve(issue=solved, week=ago[2], resolution="New terms")
    metric_services.todo_add(
        business=business,
        week=ago[2],
        text="Write two more emails",
        owner=people[editor.pk],
        due=this + timedelta(days=3),
        issue=open_issue,
        acting_user=owner,
    )
    done = metric_services.todo_add(
        business=business,
        week=ago[3],
        text="Call the refunded clients",
        owner=people[member.pk],
        due=ago[3] + timedelta(days=4),
        issue=solved,
        acting_user=owner,
    )
    metric_services.todo_done(todo=done, week=ago[2])
    metric_services.todo_add(
        business=business,
        week=ago[2],
        text="Print flyers",
        owner=None,
        acting_user=editor,
    )


@pytest.fixture
def world(acme, alice, bob, erin):
    world = populate(acme, owner=alice, member=bob, step_owner=erin)
    add_metrics(acme, owner=alice, member=bob, editor=erin)
    return world


def export(client, business) -> bytes:
    response = client.get(reverse("hourglass:export", args=[business.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return (
        b"".join(response.streaming_content)
        if response.streaming
        else (response.content)
    )


def only_new_business(before: set[int]) -> Business:
    (pk,) = set(Business.objects.values_list("pk", flat=True)) - before
    return Business.objects.get(pk=pk)


def runs_of(business):
    return sorted(
        (
            run.node.client_id,
            run.subject,
            run.notes,
            run.started_at,
            run.finished_at,
            run.item_count,
            run.ticked_count,
            tuple(
                sorted(
                    (t.item_text, t.item.text if t.item else None)
                    for t in run.ticks.all()
                )
            ),
        )
        for run in ChecklistRun.objects.filter(node__map__business=business)
    )


def flags_of(business):
    return sorted(
        (f.node.client_id, f.text, f.created_at, f.resolved_at)
        for f in StepFlag.objects.filter(node__map__business=business)
    )


def metrics_of(business):
    return sorted(
        (
            m.name,
            m.description,
            m.unit,
            m.direction,
            m.goal,
            m.stage,
            m.in_funnel,
            m.position,
            m.first_week,
            m.archived_on,
            m.step.map.name if m.step else None,
            m.step.client_id if m.step else None,
        )
        for m in Metric.objects.filter(business=business).select_related("step__map")
    )


def entries_of(business):
    return sorted(
        (e.metric.name, e.week, e.value, e.entered_at)
        for e in Entry.objects.filter(business=business).select_related("metric")
    )


def revisions_of(business):
    return sorted(
        (r.entry.metric.name, r.entry.week, r.value, r.entered_at, r.replaced_at)
        for r in EntryRevision.objects.filter(entry__business=business).select_related(
            "entry__metric"
        )
    )


def review_of(business):
    """The meetings, issues and to-dos, without the people."""
    return (
        sorted(Meeting.objects.filter(business=business).values_list("week", "notes")),
        sorted(
            (
                i.title,
                i.detail,
                i.metric.name if i.metric else None,
                i.step.client_id if i.step else None,
                i.raised_week,
                i.resolved_week,
                i.resolved_at,
                i.resolution,
            )
            for i in MeetingIssue.objects.filter(business=business).select_related(
                "metric", "step"
            )
        ),
        sorted(
            (
                t.text,
                t.due,
                t.issue.title if t.issue else None,
                t.created_week,
                t.done_week,
                t.done_at,
            )
            for t in Todo.objects.filter(business=business).select_related("issue")
        ),
    )


def metric_weeks_of(business, week):
    return sorted(
        (
            row.metric.name,
            row.stage,
            row.value,
            row.goal,
            row.status,
            row.avg_4,
            row.avg_13,
            row.avg_prev_4,
            row.trend,
        )
        for row in MetricWeek.objects.filter(
            business=business, week=week
        ).select_related("metric")
    )


# ---------------------------------------------------------------------------
# The round trip
# ---------------------------------------------------------------------------


def test_round_trip_rebuilds_the_business_for_another_user(
    world,
    client_for,
    alice,
    charlie,
    mailoutbox,
    django_capture_on_commit_callbacks,
    filesystem_broker,  # noqa: F811 - the import queues rollups: not to a real queue
):
    acme = world.business
    raw = export(client_for(alice), acme)
    before = set(Business.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(charlie), raw)

    copy = only_new_business(before)
    assert imported(response) == copy
    assert copy.get_absolute_url() in response.content.decode()
    assert mailoutbox == []
    assert copy.slug != acme.slug
    assert (copy.name, copy.currency, copy.timezone) == (
        acme.name,
        acme.currency,
        acme.timezone,
    )
    assert list(copy.memberships.values_list("user__email", "role")) == [
        ("charlie@example.com", "owner")
    ]
    # Everyone else is invited with their role, and nobody is emailed yet.
    assert sorted(
        Invitation.objects.filter(business=copy).values_list("email", "role")
    ) == [
        ("alice@example.com", "owner"),
        ("bob@example.com", "member"),
        ("erin@example.com", "editor"),
    ]
    old_maps = SystemMap.objects.filter(business=acme).alive().order_by("name")
    new_maps = SystemMap.objects.filter(business=copy).order_by("name")
    assert [m.name for m in new_maps] == [m.name for m in old_maps]
    for old, new in zip(old_maps, new_maps, strict=True):
        assert map_selectors.graph_of(new) == map_selectors.graph_of(old)
        assert (new.half, new.stages, new.status, new.product) == (
            old.half,
            old.stages,
            old.status,
            old.product,
        )
        old_steps = map_selectors.steps_of(old)
        new_steps = map_selectors.steps_of(new)
        for steps in (old_steps, new_steps):
            for step in steps.values():
                step.pop("owner_id")
        assert new_steps == old_steps
        # The step owners were people of the old business, not members here.
        assert not new.nodes.filter(owner__isnull=False).exists()
    assert runs_of(copy) == runs_of(acme)
    assert flags_of(copy) == flags_of(acme)
    assert not ChecklistRun.objects.filter(
        node__map__business=copy, started_by__isnull=False
    ).exists()
    assert list(
        StagePlan.objects.filter(business=copy)
        .order_by("stage")
        .values_list("stage", "goal", "notes")
    ) == list(
        StagePlan.objects.filter(business=acme)
        .order_by("stage")
        .values_list("stage", "goal", "notes")
    )
    fields = ("stage", "name", "pep", "note")
    assert list(Tactic.objects.filter(business=copy).values_list(*fields)) == list(
        Tactic.objects.filter(business=acme).values_list(*fields)
    )
    assert metrics_of(copy) == metrics_of(acme)
    assert entries_of(copy) == entries_of(acme)
    assert revisions_of(copy) == revisions_of(acme)
    assert review_of(copy) == review_of(acme)
    # Nobody of Acme is a member of the copy: every person is left blank.
    assert not Metric.objects.filter(business=copy, owner__isnull=False).exists()
    assert not Todo.objects.filter(business=copy, owner__isnull=False).exists()
    assert not Entry.objects.filter(business=copy, entered_by__isnull=False).exists()


def test_round_trip_carries_metrics_entries_and_the_review(
    world, client_for, alice, bob, erin
):
    acme = world.business
    raw = export(client_for(alice), acme)
    before = set(Business.objects.values_list("pk", flat=True))

    response = upload(client_for(erin), raw)

    copy = only_new_business(before)
    assert imported(response) == copy
    assert metrics_of(copy) == metrics_of(acme)
    new_map = SystemMap.objects.get(business=copy)
    linked = Metric.objects.filter(business=copy, step__isnull=False)
    # The step links point into the new map, at the nodes with the same ids;
    # the start (a terminus) as well as the work steps.
    assert {(m.name, m.step.map_id, m.step.client_id) for m in linked} >= {
        ("Nurture emails sent", new_map.pk, "nurture"),
        ("Webinar attendees", new_map.pk, "start"),
    }
    assert Metric.objects.get(business=copy, name="Refund rate").step is None
    assert Metric.objects.get(business=copy, name="Flyer replies").archived_on
    assert entries_of(copy) == entries_of(acme)
    cleared = weeks.current_week(copy.timezone) - weeks.WEEK * 2
    assert ("Refund rate", cleared, None) in [e[:3] for e in entries_of(copy)]
    assert revisions_of(copy) == revisions_of(acme)
    assert len(revisions_of(copy)) >= 2
    assert review_of(copy) == review_of(acme)
    for issue in MeetingIssue.objects.filter(business=copy, step__isnull=False):
        assert issue.step.map_id == new_map.pk
    # People: erin is a member (the owner) of the copy; alice and bob are only
    # invited, so what they own or entered names nobody, and the import says so.
    erin_here = Membership.objects.get(business=copy, user=erin)
    owners = dict(Metric.objects.filter(business=copy).values_list("name", "owner"))
    assert owners["Nurture emails sent"] == erin_here.pk
    assert owners["Webinar attendees"] is None
    assert owners["Refund rate"] is None
    todo_owners = dict(Todo.objects.filter(business=copy).values_list("text", "owner"))
    assert todo_owners["Write two more emails"] == erin_here.pk
    assert todo_owners["Call the refunded clients"] is None
    entered = set(
        Entry.objects.filter(business=copy).values_list("metric__name", "entered_by")
    )
    assert ("Refund rate", bob.pk) not in entered
    assert ("Refund rate", None) in entered
    assert ("Webinar attendees", None) in entered
    edited = EntryRevision.objects.get(
        entry__business=copy, entry__metric__name="Nurture emails sent"
    )
    assert (edited.value, edited.entered_by, edited.replaced_by) == (
        Decimal(45),
        erin,
        None,
    )
    shown = response.context["warnings"]
    assert any(
        "alice@example.com" in m
        and "bob@example.com" in m
        and "name nobody until those people join this business" in m
        for m in shown
    ), shown


def test_imported_weeks_are_stale_until_the_rollup_recomputes_them(
    world,
    client_for,
    alice,
    erin,
    django_capture_on_commit_callbacks,
    filesystem_broker,  # noqa: F811
):
    acme = world.business
    raw = export(client_for(alice), acme)
    before = set(Business.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        upload(client_for(erin), raw)

    copy = only_new_business(before)
    with_numbers = set(
        Entry.objects.filter(business=copy).values_list("week", flat=True)
    )
    assert len(with_numbers) >= 4
    stale = set(
        RollupWeek.objects.filter(business=copy, stale_since__isnull=False).values_list(
            "week", flat=True
        )
    )
    assert with_numbers <= stale
    assert not MetricWeek.objects.filter(business=copy).exists()
    # The import job itself, then the newest two weeks are queued at once; the
    # catch-up does the others.
    assert filesystem_broker() == 3
    week = weeks.current_week(acme.timezone) - weeks.WEEK * 2

    rollup.rollup_business_week(acme.pk, week)
    rollup.rollup_business_week(copy.pk, week)

    assert rollup.is_fresh(copy.pk, week)
    figures = metric_weeks_of(copy, week)
    assert ("Nurture emails sent", "like", Decimal(38)) in [f[:3] for f in figures]
    assert figures == metric_weeks_of(acme, week)


def test_demo_business_round_trips(db, client_for, charlie):
    call_command("seed_demo", stdout=io.StringIO())
    demo = Business.objects.get(slug=DEMO_SLUG)
    owner = demo.memberships.get(role="owner").user
    before = set(Business.objects.values_list("pk", flat=True))

    response = upload(client_for(charlie), export(client_for(owner), demo))

    copy = only_new_business(before)
    assert imported(response) == copy
    old_maps = SystemMap.objects.filter(business=demo).alive().order_by("name")
    new_maps = SystemMap.objects.filter(business=copy).order_by("name")
    assert [map_selectors.graph_of(m) for m in new_maps] == [
        map_selectors.graph_of(m) for m in old_maps
    ]
    assert runs_of(copy) == runs_of(demo)
    assert flags_of(copy) == flags_of(demo)
    assert Invitation.objects.filter(business=copy).count() == (
        demo.memberships.count()
    )
    assert Metric.objects.filter(business=copy).count() == (
        Metric.objects.filter(business=demo).count()
    )
    assert Entry.objects.filter(business=copy).count() == (
        Entry.objects.filter(business=demo).count()
    )
    assert Metric.objects.filter(business=copy).exists()
    assert metrics_of(copy) == metrics_of(demo)
    assert entries_of(copy) == entries_of(demo)
    assert revisions_of(copy) == revisions_of(demo)
    assert review_of(copy) == review_of(demo)


def test_importing_user_keeps_their_own_profile_runs_and_steps(
    world, client_for, alice, erin
):
    acme = world.business
    raw = export(client_for(alice), acme)
    before = set(Business.objects.values_list("pk", flat=True))

    response = upload(client_for(erin), raw, name="Acme again")

    copy = only_new_business(before)
    assert imported(response) == copy
    assert copy.name == "Acme again"
    own = Membership.objects.get(business=copy, user=erin)
    assert own.role == "owner"
    # erin owned "nurture" in Acme; here she is a member, so it is hers again.
    assert (
        SystemMap.objects.get(business=copy).nodes.get(client_id="nurture").owner == own
    )
    assert not Invitation.objects.filter(business=copy, email=erin.email).exists()


def test_import_lists_its_warnings(world, client_for, alice, charlie):
    raw = export(client_for(alice), world.business)

    response = upload(client_for(charlie), raw)

    shown = response.context["warnings"]
    assert any("bob@example.com" in m and "invited" in m for m in shown)
    assert any("have no owner" in m for m in shown)


def test_archive_holds_a_manifest_and_each_parts_files(world, client_for, alice):
    raw = export(client_for(alice), world.business)

    archive = zipfile.ZipFile(io.BytesIO(raw))
    manifest = json.loads(archive.read("manifest.json"))

    assert manifest["format"] == "hourglass-business"
    assert manifest["version"] == 1
    assert manifest["business"] == {
        "name": "Acme",
        "currency": "EUR",
        "timezone": "Europe/Paris",
        "country": "",
    }
    assert [part["name"] for part in manifest["parts"]][:2] == [
        "hourglass",
        "systemmaps",
    ]
    names = set(archive.namelist())
    for part in manifest["parts"]:
        assert {f"{part['name']}/{name}" for name in part["files"]} <= names
    assert "systemmaps/runs.csv" in names
    listed = {part["name"]: part["files"] for part in manifest["parts"]}
    assert listed["metrics"] == [
        "entries.csv",
        "issues.csv",
        "meetings.csv",
        "metrics.csv",
        "revisions.csv",
        "todos.csv",
    ]
    metrics = list(
        csv.DictReader(io.StringIO(archive.read("metrics/metrics.csv").decode()))
    )
    assert list(metrics[0]) == metrics_part.METRIC_COLUMNS
    assert {row["name"] for row in metrics} >= {
        "Nurture emails sent",
        "Webinar attendees",
        "Refund rate",
        "Flyer replies",
    }
    # The trashed map stays behind.
    maps = json.loads(archive.read("systemmaps/maps.json"))
    assert [m["name"] for m in maps] == ["Acme webinar"]


def test_export_is_a_download_named_for_the_business_and_day(world, client_for, alice):
    response = client_for(alice).get(reverse("hourglass:export", args=["acme"]))

    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="acme-')
    assert disposition.endswith('.zip"')


# ---------------------------------------------------------------------------
# CSV cells
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["=1+1", "+SUM(A1)", "-2", "@cmd", "'=quoted", "''-x", "\tx"]
)
def test_csv_safe_neutralises_formulas_and_reads_back(value):
    safe = csv_safe(value)

    assert safe.startswith("'")
    assert csv_unsafe(safe) == value


@pytest.mark.parametrize("value", ["plain", "", "it's", "'quoted", "1-2"])
def test_csv_safe_leaves_other_cells_alone(value):
    assert csv_safe(value) == value
    assert csv_unsafe(value) == value


def test_exported_csv_neutralises_formulas_and_import_restores_them(
    world, client_for, alice, charlie
):
    run = ChecklistRun.objects.get(pk=world.ids["run"])
    map_services.run_update(run=run, subject='=HYPERLINK("http://x")', notes="-5")
    before = set(Business.objects.values_list("pk", flat=True))
    raw = export(client_for(alice), world.business)

    rows = list(
        csv.DictReader(
            io.StringIO(
                zipfile.ZipFile(io.BytesIO(raw))
                .read("systemmaps/runs.csv")
                .decode("utf-8")
            )
        )
    )
    upload(client_for(charlie), raw)

    cells = [(row["subject"], row["notes"]) for row in rows]
    assert ('\'=HYPERLINK("http://x")', "'-5") in cells
    copy = only_new_business(before)
    assert ChecklistRun.objects.filter(
        node__map__business=copy, subject='=HYPERLINK("http://x")', notes="-5"
    ).exists()


# ---------------------------------------------------------------------------
# Bad archives: 422, the file and row named, nothing created
# ---------------------------------------------------------------------------


def assert_refused(response, *fragments: str) -> None:
    """Refused in the request (422), or by the job (its page lists why)."""
    assert response.status_code == 422 or response.context["failed"]
    problems = " ".join(response.context["problems"])
    for fragment in fragments:
        assert fragment in problems, problems


def bomb() -> bytes:
    out = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", "{}")
        with archive.open("hourglass/members.csv", "w") as handle:
            for _ in range(MAX_UNCOMPRESSED_BYTES // len(chunk) + 1):
                handle.write(chunk)
    return out.getvalue()


def many_files() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(MAX_FILES + 1):
            archive.writestr(f"f{number}", b"")
    return out.getvalue()


def manifest_with(raw: bytes, **changes) -> bytes:
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(raw)).read("manifest.json"))
    manifest.update(changes)
    return rewrite(raw, {"manifest.json": json.dumps(manifest).encode()})


def without(raw: bytes, name: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info.filename, source.read(info))
    return out.getvalue()


def with_lone_surrogate_id(raw: bytes, map_pk: int) -> bytes:
    """The archive with a step id in a map file that is half a surrogate pair: the
    message naming it must still reach the browser (as an escape), not a 500."""
    name = f"systemmaps/maps/{map_pk}.json"
    document = json.loads(zipfile.ZipFile(io.BytesIO(raw)).read(name))
    document["nodes"][0]["id"] = "\ud800"
    return rewrite(raw, {name: json.dumps(document).encode()})


BAD_RUN = (
    "run,map,step,subject,started_by,started_at,finished_at,item_count,"
    "ticked_count,notes\n"
    "1,{map},nurture,Fine,,2024-01-01T10:00:00+00:00,,,,\n"
    "2,{map},nurture,Bad,,yesterday,,,,\n"
)


def metrics_csv(name: str, *rows: str, columns: list[str] | None = None) -> bytes:
    """A metrics part file: its header (or `columns`), then `rows`."""
    header = (
        columns
        or {
            "metrics.csv": metrics_part.METRIC_COLUMNS,
            "entries.csv": metrics_part.ENTRY_COLUMNS,
            "issues.csv": metrics_part.ISSUE_COLUMNS,
            "todos.csv": metrics_part.TODO_COLUMNS,
        }[name]
    )
    return "\n".join([",".join(header), *rows, ""]).encode()


GOOD_METRIC = "1,Leads,,count,higher,40,,,,like,yes,0,2024-01-01,"
AT = "2024-01-01T10:00:00+00:00"
# Metrics part cases: (file, its rows with "{metric}" for a metric's key in
# the archive and "{map}" for the map's); line 2 is the first row.
BAD_METRICS = {
    "metric_unknown_unit": (
        "metrics.csv",
        [GOOD_METRIC, "2,Other,,furlongs,higher,,,,,like,,1,2024-01-01,"],
    ),
    "metric_duplicate_key": (
        "metrics.csv",
        [GOOD_METRIC, "1,Other,,count,higher,,,,,like,,1,2024-01-01,"],
    ),
    "metric_odd_position": (
        "metrics.csv",
        ["1,Leads,,count,higher,,,,,like,,\u00b2,2024-01-01,"],
    ),
    "metric_nul_in_name": (
        "metrics.csv",
        ["1,Le\0ads,,count,higher,,,,,like,,0,2024-01-01,"],
    ),
    "metric_wrong_columns": ("metrics.csv", [GOOD_METRIC]),
    "entry_no_metric": ("entries.csv", [f"424242,2024-01-01,5,,{AT}"]),
    "entry_not_monday": ("entries.csv", [f"{{metric}},2024-01-02,5,,{AT}"]),
    "entry_not_a_number": (
        "entries.csv",
        [f"{{metric}},2024-01-01,5,,{AT}", f"{{metric}},2024-01-08,abc,,{AT}"],
    ),
    "entry_negative": ("entries.csv", [f"{{metric}},2024-01-01,-5,,{AT}"]),
    "entry_extra_cell": ("entries.csv", [f"{{metric}},2024-01-01,5,,{AT},x"]),
    "entry_no_utc_moment": (
        "entries.csv",
        ["{metric},2024-01-01,5,,0001-01-01T00:00:00+01:00"],
    ),
    "issue_unknown_step": (
        "issues.csv",
        ["1,Slow,,{metric},{map},nowhere,2024-01-01,,,,"],
    ),
    "todo_unknown_issue": ("todos.csv", ["Do it,,,424242,2024-01-01,,,"]),
}


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("not_zip", ["not a zip archive"]),
        ("no_manifest", ["no manifest.json"]),
        ("wrong_version", ["manifest.json", "format version 99"]),
        ("bad_run_row", ["systemmaps/runs.csv, line 3"]),
        ("foreign_step", ["systemmaps/flags.csv, line 2", "no step"]),
        ("bad_map_file", ["systemmaps/maps/"]),
        ("missing_file", ["systemmaps/ticks.csv", "not in the archive"]),
        ("bomb", ["unpacks to"]),
        ("many_files", ["at most 5000"]),
        ("lone_surrogate", ["systemmaps/maps/", "\\ud800"]),
        ("metric_unknown_unit", ["metrics/metrics.csv, line 3", "unknown unit"]),
        ("metric_duplicate_key", ["metrics/metrics.csv, line 3", "“metric”"]),
        ("metric_odd_position", ["metrics/metrics.csv, line 2", "“position”"]),
        ("metric_nul_in_name", ["metrics/metrics.csv, line 2", "“name”"]),
        ("metric_wrong_columns", ["metrics/metrics.csv", "stage are missing"]),
        ("entry_no_metric", ["metrics/entries.csv, line 2", "no metric 424242"]),
        ("entry_not_monday", ["metrics/entries.csv, line 2", "Monday"]),
        ("entry_not_a_number", ["metrics/entries.csv, line 3", "“value”"]),
        ("entry_negative", ["metrics/entries.csv, line 2", "0 or more"]),
        ("entry_extra_cell", ["metrics/entries.csv, line 2", "number of cells"]),
        ("entry_no_utc_moment", ["metrics/entries.csv, line 2", "“entered_at”"]),
        ("issue_unknown_step", ["metrics/issues.csv, line 2", "no step nowhere"]),
        ("todo_unknown_issue", ["metrics/todos.csv, line 2", "no issue 424242"]),
    ],
)
def test_bad_archive_is_refused_and_nothing_is_created(
    world, client_for, alice, charlie, case, fragments
):
    good = export(client_for(alice), world.business)
    map_pk = world.ids["map"]
    if case in BAD_METRICS:
        name, rows = BAD_METRICS[case]
        key = Metric.objects.filter(business=world.business).first().pk
        columns = None
        if case == "metric_wrong_columns":
            columns = [c for c in metrics_part.METRIC_COLUMNS if c != "stage"]
        content = metrics_csv(
            name, *(r.format(metric=key, map=map_pk) for r in rows), columns=columns
        )
        good = rewrite(good, {f"metrics/{name}": content})
    raw = {
        "not_zip": lambda: b"PK not really",
        "no_manifest": lambda: without(good, "manifest.json"),
        "wrong_version": lambda: manifest_with(good, version=99),
        "bad_run_row": lambda: rewrite(
            good, {"systemmaps/runs.csv": BAD_RUN.format(map=map_pk).encode()}
        ),
        "foreign_step": lambda: rewrite(
            good,
            {
                "systemmaps/flags.csv": (
                    "map,step,text,created_by,created_at,resolved_by,resolved_at\n"
                    f"{map_pk},nowhere,Broken,,,,\n"
                ).encode()
            },
        ),
        "bad_map_file": lambda: rewrite(
            good, {f"systemmaps/maps/{map_pk}.json": b'{"nodes": 5}'}
        ),
        "missing_file": lambda: without(good, "systemmaps/ticks.csv"),
        "bomb": bomb,
        "many_files": many_files,
        "lone_surrogate": lambda: with_lone_surrogate_id(good, map_pk),
    }.get(case, lambda: good)()
    counts = (
        Business.objects.count(),
        SystemMap.objects.count(),
        ChecklistRun.objects.count(),
        RunTick.objects.count(),
        Invitation.objects.count(),
        Tactic.objects.count(),
        *metrics_counts(),
    )

    response = upload(client_for(charlie), raw)

    assert_refused(response, *fragments)
    assert (
        Business.objects.count(),
        SystemMap.objects.count(),
        ChecklistRun.objects.count(),
        RunTick.objects.count(),
        Invitation.objects.count(),
        Tactic.objects.count(),
        *metrics_counts(),
    ) == counts


def metrics_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Metric,
            Entry,
            EntryRevision,
            Meeting,
            MeetingIssue,
            Todo,
            RollupWeek,
        )
    )


def test_import_page_renders_for_a_logged_in_user(client_for, charlie):
    response = client_for(charlie).get(reverse("business-import"))

    assert response.status_code == 200


def test_import_needs_login(client, db):
    response = client.get(reverse("business-import"))

    assert response.status_code == 302


# ---------------------------------------------------------------------------
# Who may export
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "erin"])
def test_member_and_editor_cannot_export(world, client_for, request, who):
    user = request.getfixturevalue(who)

    response = client_for(user).get(reverse("hourglass:export", args=["acme"]))

    assert response.status_code == 403


def test_outsider_cannot_export(world, client_for, charlie, other_co):
    response = client_for(charlie).get(reverse("hourglass:export", args=["acme"]))

    assert response.status_code == 404


def test_metric_on_the_start_of_a_map_without_work_steps_round_trips(
    acme,
    alice,
    charlie,
    filesystem_broker,  # noqa: F811
):
    from metrics.tests.factories import MetricFactory

    graph = {
        "name": "Just a start",
        "nodes": [
            {"id": "start", "kind": "terminus", "label": "Start", "x": 0, "y": 0},
            {"id": "stop", "kind": "terminus", "label": "Stop", "x": 0, "y": 100},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "stop", "label": None}],
    }
    system_map = map_services.map_create(
        business=acme,
        acting_user=alice,
        name="Just a start",
        half="marketing",
        stages=["know"],
        graph=graph,
    )
    MetricFactory(
        business=acme, name="Visitors", step=system_map.nodes.get(client_id="start")
    )

    copy, _warnings = business_import(raw=archive_export(acme), acting_user=charlie)

    metric = copy.metrics.get(name="Visitors")
    assert metric.step.client_id == "start"
    assert metric.step.map.business == copy
