"""Fixtures of the core app's tests, on top of the root conftest's standing cast."""

from collections.abc import Callable

import pytest
from django.test import Client

from hourglass import services
from hourglass.models import Role, User
from hourglass.tests.factories import InvitationFactory, TacticFactory, UserFactory


@pytest.fixture
def client_for(db) -> Callable[[User], Client]:
    """A fresh client logged in as `user`: for tests that need two people at once.

    The root `alice_client`, `bob_client` and `charlie_client` share pytest-django's
    one `client`, so a test can use only one of them.
    """

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def erin_client(client_for, erin) -> Client:
    return client_for(erin)


@pytest.fixture
def dave(db) -> User:
    """Someone with an account but no business yet: the usual invitee."""
    return UserFactory(email="dave@example.com", name="Dave Dunn")


@pytest.fixture
def acme_tactic(acme):
    return TacticFactory(business=acme, stage="know", name="Flyers", pep="paid")


@pytest.fixture
def acme_invitation(acme, alice):
    return InvitationFactory(
        business=acme, email="dave@example.com", role=Role.EDITOR, invited_by=alice
    )


@pytest.fixture
def invite_link(acme_invitation) -> str:
    return services.invitation_url(acme_invitation)
