from datetime import timedelta

import pytest
from django.utils import timezone

from hourglass import services, tasks
from hourglass.models import Invitation
from hourglass.tests.factories import InvitationFactory


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def invitations(acme, dave):
    """One invitation of each kind, by name."""
    max_age = 7
    return {
        "old": InvitationFactory(
            business=acme, email="old@example.com", created_at=days_ago(max_age + 1)
        ),
        "fresh": InvitationFactory(
            business=acme, email="fresh@example.com", created_at=days_ago(1)
        ),
        "almost": InvitationFactory(
            business=acme,
            email="almost@example.com",
            created_at=days_ago(max_age - 0.01),
        ),
        "old_accepted": InvitationFactory(
            business=acme,
            email="dave@example.com",
            created_at=days_ago(max_age + 30),
            accepted_at=days_ago(max_age + 29),
            accepted_by=dave,
        ),
    }


def remaining() -> set[str]:
    return set(Invitation.objects.values_list("email", flat=True))


def test_purge_deletes_only_unaccepted_invitations_older_than_the_max_age(
    invitations, settings
):
    settings.INVITATION_MAX_AGE_DAYS = 7

    deleted = services.invitations_purge_expired()

    assert deleted == 1
    assert remaining() == {
        "fresh@example.com",
        "almost@example.com",
        "dave@example.com",
    }


def test_purge_follows_the_max_age_setting(invitations, settings):
    settings.INVITATION_MAX_AGE_DAYS = 2

    services.invitations_purge_expired()

    assert remaining() == {"fresh@example.com", "dave@example.com"}


def test_purge_with_nothing_expired_deletes_nothing(acme, settings):
    settings.INVITATION_MAX_AGE_DAYS = 7
    InvitationFactory(business=acme, created_at=days_ago(3))

    assert services.invitations_purge_expired() == 0
    assert Invitation.objects.count() == 1


def test_purge_agrees_with_is_expired(invitations, settings):
    settings.INVITATION_MAX_AGE_DAYS = 7
    expired = {
        i.email for i in invitations.values() if i.accepted_at is None and i.is_expired
    }

    services.invitations_purge_expired()

    assert expired and not (expired & remaining())


def test_purge_task_calls_the_service(invitations, settings):
    settings.INVITATION_MAX_AGE_DAYS = 7

    result = tasks.invitations_purge_expired.apply()

    assert result.get() == 1
    assert "old@example.com" not in remaining()
