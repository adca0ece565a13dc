"""Accounts and headers: the Content Security Policy on every page, no inline
script or style in any template, login throttling per account and per address,
the session key rotating at login and dying at logout, password rules at sign-up.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from hourglass.models import User
from hourglass.tests.utils import PASSWORD, reset_link, signup_data
from hourglass.throttling import client_ip

BASE_DIR = Path(__file__).resolve().parent.parent
LOGIN_URL = reverse("login")
LOGOUT_URL = reverse("logout")
SIGNUP_URL = reverse("signup")
WRONG = "not-the-password"
NEW_PASSWORD = "a-brand-new-passphrase"

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def parse_policy(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    return directives


# ---------------------------------------------------------------------------
# Content Security Policy
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", [reverse("home"), LOGIN_URL, SIGNUP_URL, reverse("password_reset")]
)
def test_public_pages_send_the_policy(client, url):
    response = client.get(url)

    assert response.status_code == 200
    directives = parse_policy(response["Content-Security-Policy"])
    for name, value in POLICY.items():
        assert directives[name] == value, name
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_member_pages_send_the_policy(alice_client, acme):
    for url in (
        acme.get_absolute_url(),
        reverse("systemmaps:map-list", kwargs={"slug": acme.slug}),
        reverse("hourglass:team", kwargs={"slug": acme.slug}),
    ):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        directives = parse_policy(response["Content-Security-Policy"])
        assert {name: directives.get(name) for name in POLICY} == POLICY, url


# What a strict policy refuses in markup: inline <script> (a JSON data block is
# not run, so it is allowed), <style> elements, style="" attributes, inline event
# handlers (onclick=, hx-on), and javascript: URLs.
INLINE_PATTERNS = {
    "inline <script>": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>",
        re.I,
    ),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "hx-on attribute": re.compile(r"\shx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def template_files() -> list[Path]:
    roots = [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
    return sorted(p for root in roots for p in root.rglob("*.html") if p.is_file())


def test_templates_are_found():
    names = {p.relative_to(BASE_DIR).as_posix() for p in template_files()}
    assert "templates/base.html" in names
    assert "templates/systemmaps/map_edit.html" in names


@pytest.mark.parametrize("what", INLINE_PATTERNS)
def test_the_checker_catches_inline_code(what):
    samples = {
        "inline <script>": "<script>alert(1)</script>",
        "<style> element": "<style>p{}</style>",
        "style attribute": '<p style="color:red">',
        "event handler attribute": '<button onclick="go()">',
        "hx-on attribute": '<a hx-on:click="go()">',
        "javascript: URL": '<a href="javascript:go()">',
    }
    assert INLINE_PATTERNS[what].search(samples[what])
    assert not INLINE_PATTERNS[what].search(
        '<script src="/static/a.js" defer></script>'
        '<script id="x" type="application/json">{}</script>'
    )


def test_no_template_has_inline_script_or_style():
    found = []
    for path in template_files():
        text = path.read_text()
        # Template comments are not sent to the browser.
        text = re.sub(r"\{#.*?#\}", "", text)
        text = re.sub(r"\{% comment %\}.*?\{% endcomment %\}", "", text, flags=re.S)
        for what, pattern in INLINE_PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(BASE_DIR)}:{line}: {what}")
    assert found == []


# ---------------------------------------------------------------------------
# Login throttling (django-axes)
# ---------------------------------------------------------------------------


def attempt(client, email, password, address="192.0.2.1"):
    return client.post(
        LOGIN_URL,
        {"username": email, "password": password},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(email, times, *, address="192.0.2.1", vary_address=False) -> list[int]:
    """Failed logins; the status of each (the fifth already shows the lockout)."""
    return [
        attempt(
            Client(), email, WRONG, f"198.51.100.{i + 1}" if vary_address else address
        ).status_code
        for i in range(times)
    ]


def test_settings_lock_the_pair_after_five_and_the_address_after_twenty():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 20
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert (
        settings.AUTHENTICATION_BACKENDS[0]
        == "hourglass.throttling.LoginThrottleBackend"
    )


def test_the_account_is_locked_from_the_address_after_five_failures_there(alice):
    assert fail(alice.email, 5) == [200, 200, 200, 200, 429]
    client = Client()

    response = attempt(client, alice.email, PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)
    text = response.content.decode()
    assert "Too many failed logins for this account or from this address" in text
    assert "Wait 15 minutes, then try again." in text
    # The login page, not a bare error: the form is there with the address filled in.
    assert response.context["form"]["username"].value() == alice.email
    assert 'data-testid="login-submit"' in text


def test_failures_from_other_addresses_never_lock_the_owner_out(alice):
    # An attacker rotating addresses: four at the pair limit, twenty in all.
    for i in range(4):
        assert fail(alice.email, 5, address=f"198.51.100.{i + 1}")[-1] == 429
    client = Client()

    response = attempt(client, alice.email, PASSWORD, address="203.0.113.7")

    assert response.status_code == 302
    assert logged_in(client)


def test_admin_login_failures_lock_only_their_own_address(alice):
    for _ in range(6):
        Client().post(
            reverse("admin:login"),
            {"username": alice.email, "password": WRONG},
            REMOTE_ADDR="198.51.100.66",
        )

    assert attempt(Client(), alice.email, PASSWORD, "198.51.100.66").status_code == 429
    assert attempt(Client(), alice.email, PASSWORD, "203.0.113.7").status_code == 302


def test_four_failures_do_not_lock_and_a_success_resets_the_count(alice):
    assert fail(alice.email, 4) == [200] * 4
    first = Client()
    assert attempt(first, alice.email, PASSWORD).status_code == 302
    assert fail(alice.email, 4) == [200] * 4

    client = Client()
    assert attempt(client, alice.email, PASSWORD).status_code == 302
    assert logged_in(client)


def test_an_address_is_locked_after_twenty_failures_on_any_accounts(alice, bob):
    statuses = [
        attempt(Client(), f"nobody{i}@example.com", WRONG, "192.0.2.50").status_code
        for i in range(20)
    ]
    # No pair reached five: each failure was answered as a wrong password.
    assert statuses == [200] * 20
    client = Client()

    # bob never failed, but this address did.
    response = attempt(client, bob.email, PASSWORD, address="192.0.2.50")

    assert response.status_code == 429
    assert not logged_in(client)
    assert "Too many failed logins" in response.content.decode()
    # From another address bob logs in.
    other = Client()
    assert attempt(other, bob.email, PASSWORD, address="192.0.2.51").status_code == 302
    assert logged_in(other)


def test_nineteen_failures_from_an_address_still_let_a_right_password_in(bob):
    for i in range(19):
        attempt(Client(), f"nobody{i}@example.com", WRONG, address="192.0.2.50")
    client = Client()

    assert attempt(client, bob.email, PASSWORD, address="192.0.2.50").status_code == 302
    assert logged_in(client)


def test_the_same_account_in_another_case_counts_as_one(alice):
    for email in ["ALICE@example.com", "Alice@Example.com", "alice@EXAMPLE.com"]:
        attempt(Client(), email, WRONG, address="198.51.100.9")
    fail(alice.email, 2, address="198.51.100.9")

    response = attempt(Client(), alice.email, PASSWORD, address="198.51.100.9")

    assert response.status_code == 429


def test_a_password_reset_lifts_the_lockout_from_every_address(alice, mailoutbox):
    fail(alice.email, 5, address="198.51.100.9")
    fail(alice.email, 5, address="203.0.113.7")
    assert attempt(Client(), alice.email, PASSWORD, "203.0.113.7").status_code == 429
    client = Client()
    client.post(reverse("password_reset"), {"email": alice.email})
    set_password = client.get(reset_link(mailoutbox[0]))["Location"]

    done = client.post(
        set_password,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done.status_code == 302
    assert not AccessAttempt.objects.filter(username=alice.email).exists()
    for address in ("198.51.100.9", "203.0.113.7"):
        other = Client()
        assert attempt(other, alice.email, NEW_PASSWORD, address).status_code == 302
        assert logged_in(other)


def test_login_works_again_after_the_cool_off(alice):
    fail(alice.email, 5)
    assert attempt(Client(), alice.email, PASSWORD).status_code == 429

    # Fifteen minutes pass (the failures are that old).
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=15, seconds=1)
    )
    client = Client()
    response = attempt(client, alice.email, PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_a_shorter_cool_off_can_be_configured(settings, alice):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    fail(alice.email, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=2))

    assert attempt(Client(), alice.email, PASSWORD).status_code == 302


def test_an_admin_can_lift_a_lockout(alice):
    fail(alice.email, 5)

    axes_reset(username=alice.email)
    axes_reset(ip="192.0.2.1")

    assert attempt(Client(), alice.email, PASSWORD).status_code == 302


def test_a_failure_during_the_lockout_does_not_let_anyone_in(alice):
    fail(alice.email, 6)

    for _ in range(3):
        response = attempt(Client(), alice.email, PASSWORD)
        assert response.status_code == 429


def test_a_lockout_over_htmx_or_javascript_is_still_the_page(alice):
    fail(alice.email, 5)

    response = Client().post(
        LOGIN_URL,
        {"username": alice.email, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.1",
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


def test_signup_still_logs_in_with_the_throttle_on(db, client):
    response = client.post(
        SIGNUP_URL,
        signup_data(),
    )

    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        (None, 0, "10.0.0.2"),
        ("203.0.113.5", 0, "10.0.0.2"),  # no proxy trusted: the header is ignored
        ("203.0.113.5", 1, "203.0.113.5"),
        ("6.6.6.6, 203.0.113.5", 1, "203.0.113.5"),  # the forged entry is ignored
        ("6.6.6.6, 203.0.113.5, 10.0.0.9", 2, "203.0.113.5"),
        (None, 1, "10.0.0.2"),  # header missing: the peer
    ],
)
def test_client_address_trusts_only_the_configured_proxies(
    settings, forwarded, proxies, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().post(LOGIN_URL, REMOTE_ADDR="10.0.0.2", **headers)

    assert client_ip(request) == expected


def test_behind_a_proxy_lockouts_count_the_forwarded_address(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(5):
        Client().post(
            LOGIN_URL,
            {"username": f"x{i}@example.com", "password": WRONG},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )

    # Another client behind the same proxy is not locked out.
    other = Client()
    response = other.post(
        LOGIN_URL,
        {"username": alice.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.67",
    )
    assert response.status_code == 302


# ---------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------


def test_the_session_key_changes_at_login(client, alice):
    client.get(LOGIN_URL)
    session = client.session
    session["before_login"] = "x"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=before).exists()

    response = attempt(client, alice.email, PASSWORD)

    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert logged_in(client)


def test_logout_kills_the_session_for_a_copy_of_the_cookie(alice, acme):
    client = Client()
    attempt(client, alice.email, PASSWORD)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    copy = Client()
    copy.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert copy.get(acme.get_absolute_url()).status_code == 200

    client.post(LOGOUT_URL)

    assert not Session.objects.filter(session_key=stolen).exists()
    response = copy.get(acme.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    maps = copy.get(reverse("systemmaps:map-list", kwargs={"slug": acme.slug}))
    assert maps.status_code == 302


def test_logout_needs_a_post(alice_client, acme):
    assert alice_client.get(LOGOUT_URL).status_code == 405
    assert alice_client.get(acme.get_absolute_url()).status_code == 200


# ---------------------------------------------------------------------------
# Passwords
# ---------------------------------------------------------------------------


def test_all_four_password_validators_are_on():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "This password is too common."),
        ("84736251094", "This password is entirely numeric."),
        ("x7!q", "This password is too short."),
        ("nora.north.bakery", "too similar to the"),
    ],
)
def test_a_weak_password_is_refused_at_signup_with_a_message(client, password, message):
    response = client.post(
        SIGNUP_URL,
        signup_data(
            email="nora.north.bakery@example.com",
            password1=password,
            password2=password,
        ),
    )

    assert response.status_code == 422
    errors = " ".join(response.context["form"].errors["password1"])
    assert message in errors
    assert message.split(" the")[0] in response.content.decode()
    assert not User.objects.exists()
