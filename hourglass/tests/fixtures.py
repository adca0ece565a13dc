"""Fixtures shared by every app's tests (a plugin of the root conftest).

The standing cast, in the style of healthchecks: alice owns "Acme", bob is a
plain member of Acme, erin an editor of it, and charlie owns "Other Co" and is
an outsider to Acme; dave has an account but no business yet.
"""

import os
from collections.abc import Callable

import pytest
from django.test import Client

from hourglass import services
from hourglass.models import Role, User
from hourglass.tests.factories import (
    InvitationFactory,
    MembershipFactory,
    TacticFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---------------------------------------------------------------------------
# The standing cast
# ---------------------------------------------------------------------------


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", name="Alice Archer")


@pytest.fixture
def acme(alice):
    return services.business_create(
        name="Acme", owner=alice, timezone_name="Europe/Paris"
    )


@pytest.fixture
def bob(acme):
    user = UserFactory(email="bob@example.com", name="Bob Baker")
    MembershipFactory(business=acme, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def erin(acme):
    user = UserFactory(email="erin@example.com", name="Erin Edwards")
    MembershipFactory(business=acme, user=user, role=Role.EDITOR)
    return user


@pytest.fixture
def charlie(db):
    return UserFactory(email="charlie@example.com", name="Charlie Chen")


@pytest.fixture
def other_co(charlie):
    return services.business_create(name="Other Co", owner=charlie)


@pytest.fixture
def dave(db) -> User:
    """Someone with an account but no business yet: the usual invitee."""
    return UserFactory(email="dave@example.com", name="Dave Dunn")


# ---------------------------------------------------------------------------
# Logged-in clients
# ---------------------------------------------------------------------------


@pytest.fixture
def alice_client(client, alice, acme):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def charlie_client(client, charlie, other_co):
    client.force_login(charlie)
    return client


@pytest.fixture
def client_for(db) -> Callable[[User], Client]:
    """A fresh client logged in as `user`: for tests that need two people at once.

    The `alice_client`, `bob_client` and `charlie_client` above share
    pytest-django's one `client`, so a test can use only one of them.
    """

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def erin_client(client_for, erin) -> Client:
    return client_for(erin)


# ---------------------------------------------------------------------------
# Acme's tactic and pending invitation
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Browser tests: Debian's Chromium, never a downloaded browser
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
