"""Helpers of the project-wide tests: sending and rewriting whole-business
archives."""

import io
import zipfile

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
