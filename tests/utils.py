"""Helpers of the project-wide tests: sending and rewriting whole-business
archives."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse


def upload(client, raw: bytes, name: str = ""):
    """Post a whole-business archive to the import page, as `name` if given."""
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
