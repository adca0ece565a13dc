"""A whole business out as one archive and into a new business (issue 7, point 6)."""

import csv
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from hourglass import portability
from hourglass.demo import DEMO_SLUG
from hourglass.models import Business, Invitation, Membership, StagePlan, Tactic
from hourglass.portability import csv_safe, csv_unsafe
from systemmaps import services as map_services
from systemmaps.models import ChecklistRun, RunTick, StepFlag, SystemMap
from tests.test_isolation_matrix import populate


@pytest.fixture
def client_for(db):
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def world(acme, alice, bob, erin):
    return populate(acme, owner=alice, member=bob, step_owner=erin)


def export(client, business) -> bytes:
    response = client.get(reverse("hourglass:export", args=[business.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return (
        b"".join(response.streaming_content)
        if response.streaming
        else (response.content)
    )


def upload(client, raw: bytes, name: str = ""):
    return client.post(
        reverse("business-import"),
        {"file": SimpleUploadedFile("acme.zip", raw), "name": name},
    )


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


# ---------------------------------------------------------------------------
# The round trip
# ---------------------------------------------------------------------------


def test_round_trip_rebuilds_the_business_for_another_user(
    world, client_for, alice, charlie, mailoutbox, django_capture_on_commit_callbacks
):
    acme = world.business
    raw = export(client_for(alice), acme)
    before = set(Business.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(charlie), raw)

    copy = only_new_business(before)
    assert response.status_code == 302
    assert response.url == copy.get_absolute_url()
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
        assert map_services.graph_of(new) == map_services.graph_of(old)
        assert (new.half, new.stages, new.status, new.product) == (
            old.half,
            old.stages,
            old.status,
            old.product,
        )
        old_steps = map_services.steps_of(old)
        new_steps = map_services.steps_of(new)
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


def test_demo_business_round_trips(db, client_for, charlie):
    call_command("seed_demo", stdout=io.StringIO())
    demo = Business.objects.get(slug=DEMO_SLUG)
    owner = demo.memberships.get(role="owner").user
    before = set(Business.objects.values_list("pk", flat=True))

    response = upload(client_for(charlie), export(client_for(owner), demo))

    copy = only_new_business(before)
    assert response.status_code == 302
    old_maps = SystemMap.objects.filter(business=demo).alive().order_by("name")
    new_maps = SystemMap.objects.filter(business=copy).order_by("name")
    assert [map_services.graph_of(m) for m in new_maps] == [
        map_services.graph_of(m) for m in old_maps
    ]
    assert runs_of(copy) == runs_of(demo)
    assert flags_of(copy) == flags_of(demo)
    assert Invitation.objects.filter(business=copy).count() == (
        demo.memberships.count()
    )


def test_importing_user_keeps_their_own_profile_runs_and_steps(
    world, client_for, alice, erin
):
    acme = world.business
    raw = export(client_for(alice), acme)
    before = set(Business.objects.values_list("pk", flat=True))

    response = upload(client_for(erin), raw, name="Acme again")

    copy = only_new_business(before)
    assert response.status_code == 302
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

    shown = [str(m) for m in response.wsgi_request._messages]
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
    }
    assert [part["name"] for part in manifest["parts"]][:2] == [
        "hourglass",
        "systemmaps",
    ]
    names = set(archive.namelist())
    for part in manifest["parts"]:
        assert {f"{part['name']}/{name}" for name in part["files"]} <= names
    assert "systemmaps/runs.csv" in names
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
    assert response.status_code == 422
    problems = " ".join(response.context["problems"])
    for fragment in fragments:
        assert fragment in problems, problems


def bomb() -> bytes:
    out = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", "{}")
        with archive.open("hourglass/members.csv", "w") as handle:
            for _ in range(portability.MAX_UNCOMPRESSED_BYTES // len(chunk) + 1):
                handle.write(chunk)
    return out.getvalue()


def many_files() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(portability.MAX_FILES + 1):
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
    ],
)
def test_bad_archive_is_refused_and_nothing_is_created(
    world, client_for, alice, charlie, case, fragments
):
    good = export(client_for(alice), world.business)
    map_pk = world.ids["map"]
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
    }[case]()
    counts = (
        Business.objects.count(),
        SystemMap.objects.count(),
        ChecklistRun.objects.count(),
        RunTick.objects.count(),
        Invitation.objects.count(),
        Tactic.objects.count(),
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
    ) == counts


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
