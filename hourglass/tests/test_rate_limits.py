"""Limits on what mails an address someone typed or costs work: invitations,
password resets, sign-ups, imports, exports and recomputes (hourglass/ratelimit.py).
Each limit is asserted by count: the allowed number goes through, the next one
is refused with a message and does nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hourglass import ratelimit
from hourglass.models import ArchiveImport, Business, Invitation, Role
from hourglass.tests.factories import MembershipFactory, UserFactory
from hourglass.tests.utils import HTMX, signup_data
from systemmaps import selectors as map_selectors
from systemmaps.models import SystemMap
from systemmaps.tests.factories import make_map
from systemmaps.tests.utils import import_file
from systemmaps.transfer import export_json

RULES = ratelimit.RULES


def invite(client, business, email):
    return client.post(
        reverse("hourglass:invite", args=[business.slug]),
        {"email": email, "role": Role.MEMBER},
    )


def owner_client(client_for, business):
    user = UserFactory()
    MembershipFactory(business=business, user=user, role=Role.OWNER)
    return client_for(user)


# ---------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------


def test_one_address_gets_three_invitations_a_day_then_a_message(
    alice_client, acme, mailoutbox, django_capture_on_commit_callbacks
):
    allowed = RULES["invitation"]["recipient"].count
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            invite(alice_client, acme, "dave@example.com").status_code
            for _ in range(allowed)
        ]
    pending = Invitation.objects.get(business=acme)

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(alice_client, acme, "Dave@Example.com")

    assert statuses == [302] * allowed
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    errors = response.context["invite_form"].errors["email"]
    assert errors == [
        "Too many invitations have been sent for now. Try again in 24 hours."
    ]
    assert len(mailoutbox) == allowed
    # The pending invitation (and its link) is the one of before.
    assert list(Invitation.objects.filter(business=acme)) == [pending]


def test_the_address_limit_holds_across_businesses(
    alice_client, acme, charlie, other_co, client_for, mailoutbox
):
    for _ in range(RULES["invitation"]["recipient"].count):
        invite(alice_client, acme, "dave@example.com")

    response = invite(client_for(charlie), other_co, "dave@example.com")

    assert response.status_code == 429
    assert not Invitation.objects.filter(business=other_co).exists()


def test_an_inviter_sends_twenty_a_day(
    alice_client, acme, mailoutbox, django_capture_on_commit_callbacks
):
    allowed = RULES["invitation"]["user"].count
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(allowed):
            assert invite(alice_client, acme, f"p{i}@example.net").status_code == 302
        refused = invite(alice_client, acme, "one-more@example.net")

    assert refused.status_code == 429
    assert len(mailoutbox) == allowed
    assert Invitation.objects.filter(business=acme).count() == allowed


def test_a_business_sends_forty_a_day_whoever_invites(client_for, acme):
    first, second, third = (owner_client(client_for, acme) for _ in range(3))
    per_user = RULES["invitation"]["user"].count
    assert RULES["invitation"]["business"].count == 2 * per_user
    for i in range(per_user):
        invite(first, acme, f"a{i}@example.net")
        invite(second, acme, f"b{i}@example.net")

    response = invite(third, acme, "c@example.net")

    assert response.status_code == 429
    assert Invitation.objects.filter(business=acme).count() == 2 * per_user


def test_a_resend_counts_and_is_refused_with_a_message(alice_client, acme, mailoutbox):
    for _ in range(RULES["invitation"]["recipient"].count):
        invite(alice_client, acme, "dave@example.com")
    pending = Invitation.objects.get(business=acme)
    mails = len(mailoutbox)

    response = alice_client.post(
        reverse("hourglass:invitation-resend", args=[acme.slug, pending.pk]),
        follow=True,
    )

    assert "Too many invitations have been sent for now." in response.content.decode()
    assert len(mailoutbox) == mails
    assert list(Invitation.objects.filter(business=acme)) == [pending]


# ---------------------------------------------------------------------------
# Password resets and sign-ups (no account needed: counted per address typed
# and per client address)
# ---------------------------------------------------------------------------


def reset(email, address="192.0.2.10"):
    return Client().post(
        reverse("password_reset"), {"email": email}, REMOTE_ADDR=address
    )


@pytest.mark.parametrize(
    "email", ["alice@example.com", "nobody@example.com"], ids=["account", "unknown"]
)
def test_one_address_gets_three_reset_mails_an_hour(alice, email, mailoutbox):
    allowed = RULES["password_reset"]["recipient"].count
    statuses = [reset(email, f"198.51.100.{i}").status_code for i in range(allowed)]

    response = reset(email.upper(), "203.0.113.9")

    assert statuses == [302] * allowed
    # Refused the same way whether an account has the address or not.
    assert response.status_code == 429
    assert response.context["form"].errors["email"] == [
        "Too many password reset emails have been asked for. Try again in 60 minutes."
    ]
    assert len(mailoutbox) == (allowed if email.startswith("alice") else 0)


def test_one_client_address_asks_for_ten_resets_an_hour(alice, mailoutbox):
    allowed = RULES["password_reset"]["address"].count
    for i in range(allowed):
        assert reset(f"n{i}@example.com").status_code == 302

    assert reset("alice@example.com").status_code == 429
    assert mailoutbox == []
    assert reset("alice@example.com", address="192.0.2.11").status_code == 302
    assert len(mailoutbox) == 1


def signup(i, address="192.0.2.20"):
    data = signup_data(email=f"new{i}@example.com", business_name=f"Shop {i}")
    return Client().post(reverse("signup"), data, REMOTE_ADDR=address)


def test_one_client_address_creates_five_accounts_an_hour(db):
    allowed = RULES["signup"]["address"].count
    assert [signup(i).status_code for i in range(allowed)] == [302] * allowed

    response = signup(99)

    assert response.status_code == 429
    assert "Too many accounts have been created from this address." in (
        response.content.decode()
    )
    users = get_user_model().objects
    assert not users.filter(email="new99@example.com").exists()
    assert Business.objects.count() == allowed
    assert signup(100, address="192.0.2.21").status_code == 302


# ---------------------------------------------------------------------------
# Imports, exports and recomputes (per user and per business)
# ---------------------------------------------------------------------------


def import_map(client, business, raw, name="map.json"):
    """Upload and confirm: the confirmation is what counts as an import."""
    return import_file(client, raw, slug=business.slug, name=name, stages=["know"])


def test_a_user_imports_twenty_maps_an_hour(alice_client, acme, alice):
    raw = export_json(map_selectors.graph_of(make_map(acme, alice, name="Source")))
    allowed = RULES["import"]["user"].count
    for _ in range(allowed):
        assert import_map(alice_client, acme, raw).status_code == 302

    response = import_map(alice_client, acme, raw)

    assert response.status_code == 429
    assert "Too many imports for now." in response.content.decode()
    assert SystemMap.objects.filter(business=acme).count() == allowed + 1


def test_business_archives_count_with_map_imports(alice_client, acme, alice):
    """A business archive is an import too: after a user's map imports have
    used the hour's count, their next archive is refused before any job is
    queued, with the message on the import page."""
    raw = export_json(map_selectors.graph_of(make_map(acme, alice, name="Source")))
    for _ in range(RULES["import"]["user"].count):
        assert import_map(alice_client, acme, raw).status_code == 302
    jobs = ArchiveImport.objects.count()

    response = alice_client.post(
        reverse("business-import"),
        {"file": SimpleUploadedFile("acme.zip", b"PK\x05\x06" + b"\0" * 18)},
    )

    assert response.status_code == 429
    assert "Too many imports for now." in response.content.decode()
    assert ArchiveImport.objects.count() == jobs


def test_exports_share_one_count_per_user(alice_client, acme):
    csv_url = reverse("metrics:entries-export", args=[acme.slug])
    allowed = RULES["export"]["user"].count
    for _ in range(allowed):
        assert alice_client.get(csv_url).status_code == 200

    refused_csv = alice_client.get(csv_url)
    refused_archive = alice_client.get(reverse("hourglass:export", args=[acme.slug]))

    for response in (refused_csv, refused_archive):
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert "Too many downloads for now." in response.content.decode()
        assert not response.has_header("Content-Disposition")


def test_another_user_still_exports_after_one_reached_the_limit(
    alice_client, acme, bob, client_for
):
    csv_url = reverse("metrics:entries-export", args=[acme.slug])
    for _ in range(RULES["export"]["user"].count):
        alice_client.get(csv_url)

    assert client_for(bob).get(csv_url).status_code == 200


def test_recompute_twelve_times_an_hour(
    alice_client, acme, metric, last_week, filesystem_broker
):
    url = reverse("metrics:review-recompute", args=[acme.slug, last_week.isoformat()])
    allowed = RULES["recompute"]["user"].count
    for _ in range(allowed):
        alice_client.post(url, headers=HTMX)
    queued = filesystem_broker()

    response = alice_client.post(url, headers=HTMX)

    assert filesystem_broker() == queued
    assert response["HX-Refresh"] == "true"
    page = alice_client.get(
        reverse("metrics:review-week", args=[acme.slug, last_week.isoformat()])
    )
    assert "Too many recomputes for now." in page.content.decode()


# ---------------------------------------------------------------------------
# The counter itself
# ---------------------------------------------------------------------------


def test_a_refused_attempt_is_not_counted_in_the_other_scopes(db):
    recipient = RULES["invitation"]["recipient"].count
    for _ in range(recipient):
        assert ratelimit.hit("invitation", user=1, recipient="x@example.com") is None

    refusal = ratelimit.hit("invitation", user=1, recipient="x@example.com")

    assert refusal is not None and refusal.scope == "recipient"
    # The refused one did not use up one of user 1's invitations.
    user_limit = RULES["invitation"]["user"].count
    for i in range(user_limit - recipient):
        assert ratelimit.hit("invitation", user=1, recipient=f"{i}@x.net") is None
    assert ratelimit.hit("invitation", user=1, recipient="last@x.net").scope == "user"


def test_a_scope_the_rules_do_not_name_is_a_programming_error(db):
    with pytest.raises(ValueError, match="no limit per"):
        ratelimit.hit("signup", user=1)


def test_limits_can_be_switched_off(settings, db):
    settings.RATE_LIMITS_ENABLED = False
    for _ in range(RULES["signup"]["address"].count + 1):
        assert ratelimit.hit("signup", address="192.0.2.1") is None


@pytest.mark.parametrize(
    ("seconds", "wait"),
    [
        (30, "Try again in 1 minute."),
        (61, "Try again in 2 minutes."),
        (7199, "Try again in 120 minutes."),
        (7200, "Try again in 2 hours."),
        (86400, "Try again in 24 hours."),
    ],
)
def test_the_wait_is_rounded_up(seconds, wait):
    assert ratelimit.refusal_message("export", seconds) == (
        f"Too many downloads for now. {wait}"
    )


def test_rules_are_positive_counts_and_windows():
    for action, scopes in RULES.items():
        assert scopes, action
        for limit in scopes.values():
            assert limit.count > 0 and limit.seconds > 0
        # Every action has its own words.
        assert ratelimit.refusal_message(action, 60)
