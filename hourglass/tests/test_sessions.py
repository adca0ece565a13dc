"""A signed-in person's session and answers: signed out after a while without
activity, never kept by a cache, HEAD answered like GET, and an email change
that needs the password and tells the old address."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from hourglass.middleware import LAST_SEEN, LAST_SEEN_EVERY_SECONDS
from hourglass.models import User
from hourglass.tests.utils import HTMX, PASSWORD

PROFILE_URL = reverse("profile")


def age_session(client, seconds: int) -> None:
    """The session's last request was `seconds` ago."""
    session = SessionStore(client.cookies["sessionid"].value)
    session[LAST_SEEN] -= seconds
    session.save()


def last_seen(client) -> int:
    return SessionStore(client.cookies["sessionid"].value)[LAST_SEEN]


# ---------------------------------------------------------------------------
# Idle timeout
# ---------------------------------------------------------------------------


def test_login_starts_the_idle_clock(alice_client):
    assert isinstance(last_seen(alice_client), int)


def test_a_session_idle_past_the_timeout_is_signed_out_with_a_message(
    alice_client, acme, settings
):
    age_session(alice_client, settings.SESSION_IDLE_TIMEOUT + 1)

    response = alice_client.get(acme.get_absolute_url(), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "_auth_user_id" not in alice_client.session
    assert (
        "You were signed out after 8 hours without activity. Sign in again to go on."
        in response.content.decode()
    )


def test_a_session_used_within_the_timeout_stays_and_its_clock_moves(
    alice_client, acme, settings
):
    age_session(alice_client, settings.SESSION_IDLE_TIMEOUT - 5)
    before = last_seen(alice_client)

    response = alice_client.get(acme.get_absolute_url())

    assert response.status_code == 200
    assert last_seen(alice_client) > before
    assert "_auth_user_id" in alice_client.session


def test_the_clock_is_written_at_most_once_a_minute(alice_client, acme):
    alice_client.get(acme.get_absolute_url())
    before = last_seen(alice_client)

    alice_client.get(acme.get_absolute_url())
    assert last_seen(alice_client) == before

    age_session(alice_client, LAST_SEEN_EVERY_SECONDS)
    aged = last_seen(alice_client)
    alice_client.get(acme.get_absolute_url())
    assert last_seen(alice_client) >= aged + LAST_SEEN_EVERY_SECONDS


def test_a_shorter_timeout_can_be_configured(alice_client, acme, settings):
    settings.SESSION_IDLE_TIMEOUT = 15 * 60
    age_session(alice_client, 15 * 60 + 1)

    response = alice_client.get(acme.get_absolute_url(), headers=HTMX, follow=True)

    assert "_auth_user_id" not in alice_client.session
    assert "signed out after 15 minutes without activity" in response.content.decode()


# ---------------------------------------------------------------------------
# No cache keeps a signed-in answer
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["hourglass:overview", "hourglass:team", "hourglass:export"]
)
def test_signed_in_answers_are_no_store(alice_client, acme, name):
    response = alice_client.get(reverse(name, args=[acme.slug]))

    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_public_pages_are_not_marked_private(client, db):
    response = client.get(reverse("home"))

    assert "no-store" not in response.get("Cache-Control", "")


# ---------------------------------------------------------------------------
# HEAD
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "hourglass:overview",
        "hourglass:team",
        "hourglass:settings",
        "systemmaps:map-list",
        "metrics:metric-list",
        "metrics:review",
    ],
)
def test_head_is_answered_like_get(alice_client, acme, name):
    url = reverse(name, args=[acme.slug])
    got = alice_client.get(url)

    head = alice_client.head(url)

    assert got.status_code in (200, 302)
    assert head.status_code == got.status_code
    assert head.get("Location") == got.get("Location")
    assert head["Content-Type"] == got["Content-Type"]
    assert head.content == b""


def test_head_of_a_page_for_htmx_and_for_an_outsider(charlie_client, acme, other_co):
    assert charlie_client.head(acme.get_absolute_url()).status_code == 404
    own = charlie_client.head(other_co.get_absolute_url(), headers=HTMX)
    assert own.status_code == 200


# ---------------------------------------------------------------------------
# Changing the email address
# ---------------------------------------------------------------------------


def profile(client, **data):
    return client.post(PROFILE_URL, {"name": "Alice Archer", **data})


def test_changing_the_email_needs_the_current_password(alice_client, alice, mailoutbox):
    response = profile(alice_client, email="new@example.com")

    assert response.status_code == 422
    assert response.context["form"].errors["current_password"] == [
        "Enter your current password to change your email address."
    ]
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert mailoutbox == []


def test_a_wrong_current_password_changes_nothing(alice_client, alice, mailoutbox):
    response = profile(alice_client, email="new@example.com", current_password="not-it")

    assert response.status_code == 422
    assert response.context["form"].errors["current_password"] == [
        "This is not your current password."
    ]
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_an_email_change_is_told_to_the_old_address(
    alice_client, alice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = profile(
            alice_client, email="New@Example.com", current_password=PASSWORD
        )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "new@example.com"
    [notice] = mailoutbox
    assert notice.to == ["alice@example.com"]
    assert "\n" not in notice.subject
    assert "alice@example.com" in notice.body
    assert "new@example.com" in notice.body


def test_a_name_change_needs_no_password_and_sends_nothing(
    alice_client, alice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            PROFILE_URL, {"name": "Alice A.", "email": "ALICE@example.com"}
        )

    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).name == "Alice A."
    assert mailoutbox == []
