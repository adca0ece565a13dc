"""Fixtures shared by every app's tests.

The standing cast, in the style of healthchecks: alice owns "Acme", bob is a
plain member of Acme, erin an editor of it, and charlie owns "Other Co" and is
an outsider to Acme.
"""

import os
import time

import pytest

from hourglass import services
from hourglass.models import Role
from hourglass.tests.factories import MembershipFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# refuses to run under one unless told it is safe (it is: one thread per test).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery"
# Log users in with `client.force_login(user)` or by posting the login form. The
# test client's `client.login()` calls authenticate() without a request, which the
# login throttle (django-axes, first in AUTHENTICATION_BACKENDS) refuses.


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


def wait_for_js(page, expression: str, arg=None, *, timeout: float = 5000) -> None:
    """`page.wait_for_function` that works under the app's Content Security Policy.

    Playwright compiles a wait_for_function predicate with eval inside the page,
    which `script-src 'self'` refuses; page.evaluate goes through the DevTools
    protocol, which the policy does not govern, so poll with it instead."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} ms: {expression}")
        page.wait_for_timeout(50)
