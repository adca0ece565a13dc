"""A real Celery worker on the configured broker (filesystem on a laptop, Redis in CI)
runs our beat task end to end."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from hourglass.celery import app
from hourglass.models import Invitation
from hourglass.tasks import invitations_purge_expired
from hourglass.tests.factories import InvitationFactory


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    if app.conf.broker_url.startswith("filesystem://"):
        # A folder of its own, so a developer's running `make run` worker is untouched.
        folder = str(tmp_path / "broker")
        app.conf.broker_transport_options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "processed_folder": str(tmp_path / "processed"),
            "control_folder": str(tmp_path / "control"),
        }
        for name in ("broker", "processed", "control"):
            (tmp_path / name).mkdir()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def _wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_worker_purges_expired_invitations(celery_worker, settings):
    old = InvitationFactory(email="old@example.com")
    Invitation.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.INVITATION_MAX_AGE_DAYS + 1)
    )
    fresh = InvitationFactory(email="fresh@example.com")

    invitations_purge_expired.delay()

    assert _wait_for(lambda: not Invitation.objects.filter(pk=old.pk).exists())
    assert Invitation.objects.filter(pk=fresh.pk).exists()


def test_purge_task_is_in_the_beat_schedule():
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert invitations_purge_expired.name in scheduled
