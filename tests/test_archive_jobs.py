"""The business-archive import as a background job: each file's inflated size
and the work inside capped, the upload checked in the request, the import run
by the worker (all or nothing), and its progress page."""

import io
import json
import struct
import time
import zipfile
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hourglass import archive
from hourglass.archive import (
    MAX_CSV_BYTES,
    READ_CHUNK,
    ImportInvalid,
    archive_export,
    archive_import_enqueue,
    archive_import_run,
    archive_imports_purge,
    read_capped,
)
from hourglass.celery import app
from hourglass.models import ArchiveImport, Business, ImportStatus, Membership
from hourglass.tasks import archive_imports_purge as purge_task
from systemmaps import portability as maps_part
from systemmaps.models import SystemMap
from systemmaps.schema import MAX_NODES
from tests.factories import populate
from tests.utils import imported, rewrite, upload


@pytest.fixture
def good_archive(acme, alice, bob, erin) -> bytes:
    populate(acme, owner=alice, member=bob, step_owner=erin)
    return archive_export(acme)


def map_file(raw: bytes) -> str:
    names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
    (name,) = [n for n in names if n.startswith("systemmaps/maps/")]
    return name


def lying(raw: bytes, name: str, declared: int) -> bytes:
    """The archive with `name`'s size in the central directory (what zipfile
    trusts) replaced by `declared`."""
    data = bytearray(raw)
    encoded = name.encode()
    start = 0
    while True:
        at = data.index(b"PK\x01\x02", start)
        (length,) = struct.unpack_from("<H", data, at + 28)
        if bytes(data[at + 46 : at + 46 + length]) == encoded:
            struct.pack_into("<I", data, at + 24, declared)
            return bytes(data)
        start = at + 4


def post(client, raw: bytes, name: str = ""):
    return client.post(
        reverse("business-import"),
        {"file": SimpleUploadedFile("acme.zip", raw), "name": name},
    )


def job_of(response) -> ArchiveImport:
    assert response.status_code == 302, response.status_code
    return ArchiveImport.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])


def problems_of(response) -> str:
    return " ".join(response.context["problems"])


def business_counts() -> tuple[int, int]:
    return Business.objects.count(), SystemMap.objects.count()


# ---------------------------------------------------------------------------
# Reading: each file stops at its cap
# ---------------------------------------------------------------------------


class CountingStream(io.BytesIO):
    """A stream that says how many bytes were read from it."""

    taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_reader_stops_at_the_cap_and_names_the_file():
    stream = CountingStream(b" " * (10 * 1024 * 1024))

    with pytest.raises(ImportInvalid) as refused:
        read_capped(stream, name="systemmaps/maps.json", cap=1024 * 1024)

    assert stream.taken <= 1024 * 1024 + 1
    assert refused.value.problems == [
        "systemmaps/maps.json unpacks to more than 1 MB; at most 1 MB allowed."
    ]


def test_reader_returns_a_file_within_its_cap_whole():
    content = b"x" * (3 * READ_CHUNK + 5)
    stream = CountingStream(content)

    assert read_capped(stream, name="f", cap=len(content)) == content


def test_member_lying_about_its_size_is_refused_by_name_reading_no_more_than_declared(
    good_archive, client_for, charlie
):
    # maps.json inflating to 30 MB (past its 4 MB cap), declaring 200 bytes.
    huge = b"[" + b" " * (30 * 1024 * 1024) + b"]"
    raw = lying(
        rewrite(good_archive, {"systemmaps/maps.json": huge}),
        "systemmaps/maps.json",
        200,
    )
    assert len(raw) < 1024 * 1024  # highly compressible: a small upload
    before = business_counts()

    response = upload(client_for(charlie), raw)

    assert response.context["failed"]
    assert "systemmaps/maps.json cannot be unpacked" in problems_of(response)
    assert business_counts() == before
    # zipfile inflates no more than the declared 200 bytes, then refuses.
    with zipfile.ZipFile(io.BytesIO(raw)).open("systemmaps/maps.json") as handle:
        with pytest.raises(zipfile.BadZipFile):
            handle.read(READ_CHUNK)


def test_member_declared_past_its_cap_is_refused_in_the_request(
    good_archive, client_for, charlie
):
    big = b"[" + b" " * (5 * 1024 * 1024) + b"]"  # maps.json may be 4 MB

    response = post(
        client_for(charlie), rewrite(good_archive, {"systemmaps/maps.json": big})
    )

    assert response.status_code == 422
    assert response.context["problems"] == [
        "systemmaps/maps.json unpacks to more than 4 MB; at most 4 MB allowed."
    ]
    assert not ArchiveImport.objects.exists()


def test_map_file_is_capped_like_a_maps_own_json_import(
    good_archive, client_for, charlie
):
    name = map_file(good_archive)
    big = b" " * (maps_part.MAX_IMPORT_BYTES + 1)

    response = post(client_for(charlie), rewrite(good_archive, {name: big}))

    assert response.status_code == 422
    assert f"{name} unpacks to more than 1 MB" in problems_of(response)


def test_csv_past_its_cap_is_refused_by_name(
    good_archive, client_for, charlie, monkeypatch
):
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", 1024 * 1024)
    big = b"x" * (1024 * 1024 + 1)

    response = post(
        client_for(charlie), rewrite(good_archive, {"systemmaps/runs.csv": big})
    )

    assert response.status_code == 422
    assert problems_of(response) == (
        "systemmaps/runs.csv unpacks to more than 1 MB; at most 1 MB allowed."
    )
    assert MAX_CSV_BYTES == 50 * 1024 * 1024


# ---------------------------------------------------------------------------
# The work inside: maps, steps, rows
# ---------------------------------------------------------------------------


def test_too_many_maps_are_refused_naming_the_file(good_archive, client_for, charlie):
    listing = json.loads(
        zipfile.ZipFile(io.BytesIO(good_archive)).read("systemmaps/maps.json")
    )
    many = [{**listing[0], "key": str(n)} for n in range(maps_part.MAX_MAPS + 1)]
    before = business_counts()

    response = upload(
        client_for(charlie),
        rewrite(good_archive, {"systemmaps/maps.json": json.dumps(many).encode()}),
    )

    assert response.context["failed"]
    assert problems_of(response) == (
        f"systemmaps/maps.json lists {maps_part.MAX_MAPS + 1} maps; at most "
        f"{maps_part.MAX_MAPS} can be imported."
    )
    assert business_counts() == before


def test_map_with_too_many_steps_is_refused_naming_its_file(
    good_archive, client_for, charlie
):
    name = map_file(good_archive)
    document = json.loads(zipfile.ZipFile(io.BytesIO(good_archive)).read(name))
    document["nodes"] = [
        {"id": f"n{i}", "kind": "task", "label": "Step", "x": 0, "y": 0}
        for i in range(MAX_NODES + 1)
    ]
    document["edges"] = []
    before = business_counts()

    response = upload(
        client_for(charlie),
        rewrite(good_archive, {name: json.dumps(document).encode()}),
    )

    assert response.context["failed"]
    assert f"{name}: " in problems_of(response)
    assert f"at most {MAX_NODES} steps" in problems_of(response)
    assert business_counts() == before


def test_csv_with_too_many_rows_is_refused_naming_the_file(
    good_archive, client_for, charlie, monkeypatch
):
    monkeypatch.setattr(archive, "MAX_CSV_ROWS", 20)
    key = map_file(good_archive).rsplit("/", 1)[1].removesuffix(".json")
    runs = ",".join(maps_part.RUN_COLUMNS) + "\n"
    for run in range(21):
        runs += f"{run},{key},nurture,Fine,,2024-01-01T10:00:00+00:00,,,,\n"

    response = upload(
        client_for(charlie),
        rewrite(good_archive, {"systemmaps/runs.csv": runs.encode()}),
    )

    assert response.context["failed"]
    assert problems_of(response) == (
        "systemmaps/runs.csv: more than 20 rows; at most 20 rows can be imported."
    )


# ---------------------------------------------------------------------------
# The job: checked in the request, run once, its page
# ---------------------------------------------------------------------------


def test_not_a_zip_is_refused_in_the_request_and_no_job_is_kept(client_for, charlie):
    response = post(client_for(charlie), b"PK not really")

    assert response.status_code == 422
    assert "not a zip archive" in problems_of(response)
    assert not ArchiveImport.objects.exists()


def test_upload_is_queued_and_the_page_waits_for_the_worker(
    good_archive, client_for, charlie, django_capture_on_commit_callbacks
):
    client = client_for(charlie)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, good_archive, name="Acme copy")

    job = job_of(response)
    assert len(callbacks) == 1  # the task, sent once the job is saved
    assert (job.status, job.started_by, job.name, job.size) == (
        ImportStatus.QUEUED,
        charlie,
        "Acme copy",
        len(good_archive),
    )
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Waiting for a worker" in page.content.decode()


def test_job_runs_once_and_its_upload_is_dropped(good_archive, charlie):
    job = archive_import_enqueue(
        raw=good_archive, file_name="a.zip", acting_user=charlie
    )
    before = Business.objects.count()

    first = archive_import_run(job_id=job.pk)
    again = archive_import_run(job_id=job.pk)

    assert first.status == ImportStatus.DONE
    assert again is None
    assert Business.objects.count() == before + 1
    assert (first.maps_done, first.maps_total) == (1, 1)
    assert bytes(first.upload) == b""
    assert first.finished_at is not None


def test_running_job_page_shows_the_maps_counted_so_far(
    good_archive, client_for, charlie
):
    job = archive_import_enqueue(
        raw=good_archive, file_name="a.zip", acting_user=charlie
    )
    ArchiveImport.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    caches[archive.PROGRESS_CACHE].set(
        f"archive-import:{job.pk}", {"part": "systemmaps", "done": 12, "total": 80}
    )

    page = client_for(charlie).get(job.get_absolute_url())

    text = page.content.decode()
    assert "Importing the maps: 12 of 80." in text
    assert '<progress max="80" value="12"' in text


def test_page_polls_until_done_with_and_without_htmx(good_archive, client_for, charlie):
    job = archive_import_enqueue(
        raw=good_archive, file_name="a.zip", acting_user=charlie
    )
    client = client_for(charlie)
    url = job.get_absolute_url()

    page = client.get(url)
    fragment = client.get(url, HTTP_HX_REQUEST="true")

    assert 'role="status"' in page.content.decode()
    assert 'aria-live="polite"' in page.content.decode()
    assert "<html" in page.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body and 'role="status"' not in body
    assert f'hx-get="{url}"' in body and 'hx-trigger="every 2s"' in body
    assert f'href="{url}"' in body  # the same check without JavaScript
    assert "HX-Request" in fragment["Vary"]

    archive_import_run(job_id=job.pk)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    new = Business.objects.get(memberships__user=charlie, name="Acme")
    assert "hx-get" not in done and "hx-trigger" not in done
    assert f'href="{new.get_absolute_url()}"' in done
    assert "The import is done." in done


def test_failed_job_lists_every_problem_and_creates_nothing(
    good_archive, client_for, charlie
):
    name = map_file(good_archive)
    before = business_counts()

    response = upload(
        client_for(charlie), rewrite(good_archive, {name: b'{"nodes": 5}'})
    )

    assert response.context["failed"]
    job = response.context["job"]
    assert job.status == ImportStatus.FAILED and job.problems
    assert all(p.startswith(f"{name}: ") for p in job.problems)
    assert business_counts() == before
    text = response.content.decode()
    assert "The import failed." in text
    assert response.context["problems"] == job.problems
    assert text.count("<li>") >= len(job.problems)
    assert "hx-get" not in text


def test_outsider_gets_404_and_a_member_of_the_new_business_sees_the_job(
    good_archive, client_for, charlie, dave
):
    response = upload(client_for(charlie), good_archive)
    job = response.context["job"]

    assert client_for(dave).get(job.get_absolute_url()).status_code == 404
    Membership.objects.create(business=imported(response), user=dave, role="member")
    assert client_for(dave).get(job.get_absolute_url()).status_code == 200


def test_outsider_gets_404_on_a_queued_job(good_archive, client_for, charlie, dave):
    job = archive_import_enqueue(
        raw=good_archive, file_name="a.zip", acting_user=charlie
    )

    response = client_for(dave).get(job.get_absolute_url(), HTTP_HX_REQUEST="true")

    assert response.status_code == 404


def test_job_pages_need_login(good_archive, charlie, client):
    job = archive_import_enqueue(
        raw=good_archive, file_name="a.zip", acting_user=charlie
    )

    assert client.get(job.get_absolute_url()).status_code == 302


@pytest.mark.parametrize("maps", [1, 30])
def test_poll_query_count_does_not_grow(
    good_archive, client_for, charlie, django_assert_max_num_queries, maps
):
    listing = json.loads(
        zipfile.ZipFile(io.BytesIO(good_archive)).read("systemmaps/maps.json")
    )
    many = [{**listing[0], "key": str(n)} for n in range(maps)]
    raw = rewrite(good_archive, {"systemmaps/maps.json": json.dumps(many).encode()})
    job = archive_import_enqueue(raw=raw, file_name="a.zip", acting_user=charlie)
    archive_import_run(job_id=job.pk)
    client = client_for(charlie)

    # Session, user, the job with its business.
    with django_assert_max_num_queries(3):
        response = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true")

    assert response.context["job"].maps_total == maps


# ---------------------------------------------------------------------------
# Jobs killed or old
# ---------------------------------------------------------------------------


def test_job_running_past_its_hard_limit_shows_failed_and_purge_records_it(
    good_archive, client_for, charlie, settings
):
    job = archive_import_enqueue(
        raw=good_archive, file_name="a.zip", acting_user=charlie
    )
    long_ago = timezone.now() - timedelta(
        seconds=settings.ARCHIVE_IMPORT_TIME_LIMIT + 61
    )
    ArchiveImport.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=long_ago
    )

    page = client_for(charlie).get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    archive_imports_purge()

    assert page.context["failed"]
    assert "took longer than 10 minutes" in problems_of(page)
    assert "hx-get" not in page.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "took longer than" in job.problems[0]
    assert bytes(job.upload) == b""


def test_purge_deletes_old_jobs_with_their_uploads(good_archive, charlie, settings):
    old = archive_import_enqueue(
        raw=good_archive, file_name="old.zip", acting_user=charlie
    )
    fresh = archive_import_enqueue(
        raw=good_archive, file_name="new.zip", acting_user=charlie
    )
    ArchiveImport.objects.filter(pk=old.pk).update(
        created_at=timezone.now()
        - timedelta(days=settings.ARCHIVE_IMPORT_KEEP_DAYS + 1)
    )

    assert archive_imports_purge() == 1

    assert list(ArchiveImport.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_purge_is_in_the_beat_schedule():
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert purge_task.name in scheduled


# ---------------------------------------------------------------------------
# A real worker
# ---------------------------------------------------------------------------


@pytest.fixture
def worker(transactional_db, celery_broker):
    with start_worker(
        celery_broker, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        yield


def poll_until_finished(client: Client, url: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(url, HTTP_HX_REQUEST="true")
        if "hx-get" not in response.content.decode():
            return response
        time.sleep(0.2)
    raise AssertionError("the worker did not finish the import")


def test_worker_imports_an_archive_and_the_page_links_to_the_business(
    worker, acme, alice, bob, erin, charlie
):
    populate(acme, owner=alice, member=bob, step_owner=erin)
    client = Client()
    client.force_login(charlie)

    response = post(client, archive_export(acme))
    done = poll_until_finished(client, response.url)

    job = done.context["job"]
    assert job.status == ImportStatus.DONE
    copy = job.business
    assert copy.memberships.get().user == charlie
    assert SystemMap.objects.filter(business=copy).count() == 1
    assert f'href="{copy.get_absolute_url()}"' in done.content.decode()


def test_worker_fails_a_bad_archive_leaving_no_business(
    worker, acme, alice, bob, erin, charlie
):
    populate(acme, owner=alice, member=bob, step_owner=erin)
    raw = archive_export(acme)
    raw = rewrite(raw, {map_file(raw): b'{"nodes": 5}'})
    client = Client()
    client.force_login(charlie)
    before = business_counts()

    response = post(client, raw)
    done = poll_until_finished(client, response.url)

    assert done.context["failed"]
    assert map_file(raw) in problems_of(done)
    assert business_counts() == before
