import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from hourglass import services
from hourglass.models import Business, Invitation, Membership, Role, User
from hourglass.tests.factories import InvitationFactory


def invite_url(business) -> str:
    return reverse("hourglass:invite", kwargs={"slug": business.slug})


def link_in(mail) -> str:
    match = re.search(r"http://testserver(/invitations/[^/\s]+/)", mail.body)
    assert match, mail.body
    return match.group(1)


def token_signed_days_ago(invitation: Invitation, days: float) -> str:
    """A genuine token for `invitation`, as if signed `days` ago."""

    class SignerInThePast(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time() - days * 24 * 3600))

    return SignerInThePast(salt=services.INVITATION_SALT).sign_object(
        {"i": invitation.pk, "n": invitation.nonce}
    )


def acme_membership_count(acme) -> int:
    return Membership.objects.filter(business=acme).count()


# ---------------------------------------------------------------------------
# Inviting
# ---------------------------------------------------------------------------


def test_owner_invite_creates_an_invitation(alice_client, acme, alice):
    response = alice_client.post(
        invite_url(acme), {"email": "dave@example.com", "role": "editor"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("hourglass:team", kwargs={"slug": acme.slug})
    invitation = Invitation.objects.get(business=acme)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "dave@example.com",
        Role.EDITOR,
        alice,
    )
    assert invitation.accepted_at is None


def test_owner_invite_emails_the_accept_link(
    alice_client, acme, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            invite_url(acme), {"email": "dave@example.com", "role": "member"}
        )

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["dave@example.com"]
    assert "Acme" in mail.subject
    token = link_in(mail).split("/")[2]
    assert services.invitation_from_token(token) == Invitation.objects.get(
        business=acme
    )


def test_invitation_email_is_sent_only_after_the_transaction_commits(
    alice_client, acme, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alice_client.post(
            invite_url(acme), {"email": "dave@example.com", "role": "member"}
        )

    assert mailoutbox == []
    assert len(callbacks) == 1


def test_invitation_email_is_stored_in_lower_case(
    alice_client, acme, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            invite_url(acme), {"email": "Dave@Example.COM", "role": "member"}
        )

    assert Invitation.objects.get(business=acme).email == "dave@example.com"
    assert mailoutbox[0].to == ["dave@example.com"]


def test_invitation_in_other_case_is_accepted_by_the_lower_case_account(
    alice_client, client_for, acme, dave, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            invite_url(acme), {"email": "DAVE@example.com", "role": "member"}
        )

    response = client_for(dave).post(link_in(mailoutbox[0]))

    assert response.status_code == 302
    assert Membership.objects.filter(business=acme, user=dave).exists()


def test_invite_with_a_bad_email_is_refused(alice_client, acme, mailoutbox):
    response = alice_client.post(
        invite_url(acme), {"email": "not-an-email", "role": "member"}
    )

    assert response.status_code == 422
    assert "Enter a valid email address." in response.content.decode()
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("email", ["bob@example.com", "BOB@Example.com"])
def test_invite_of_an_existing_member_is_refused(alice_client, acme, bob, email):
    response = alice_client.post(invite_url(acme), {"email": email, "role": "member"})

    assert response.status_code == 422
    assert (
        "bob@example.com is a member of this business already."
        in response.content.decode()
    )
    assert not Invitation.objects.exists()


def test_invite_with_an_unknown_role_is_refused(alice_client, acme):
    response = alice_client.post(
        invite_url(acme), {"email": "dave@example.com", "role": "king"}
    )

    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.exists()


def test_member_cannot_invite(bob_client, acme, mailoutbox):
    response = bob_client.post(
        invite_url(acme), {"email": "dave@example.com", "role": "member"}
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_editor_cannot_invite(erin_client, acme):
    response = erin_client.post(
        invite_url(acme), {"email": "dave@example.com", "role": "owner"}
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_team_page_shows_pending_invitations_to_owners(
    alice_client, acme, acme_invitation
):
    response = alice_client.get(reverse("hourglass:team", kwargs={"slug": acme.slug}))

    assert response.status_code == 200
    assert "dave@example.com" in response.content.decode()
    assert (
        services.invitation_url(acme_invitation).split(":")[0]
        in response.content.decode()
    )


def test_team_page_hides_invitations_from_members(bob_client, acme, acme_invitation):
    response = bob_client.get(reverse("hourglass:team", kwargs={"slug": acme.slug}))

    assert response.status_code == 200
    assert "dave@example.com" not in response.content.decode()


# ---------------------------------------------------------------------------
# Accepting
# ---------------------------------------------------------------------------


def test_invitation_page_for_the_invited_user_offers_to_accept(
    client_for, dave, acme, invite_link
):
    response = client_for(dave).get(invite_link)

    assert response.status_code == 200
    assert 'data-testid="accept-invitation"' in response.content.decode()
    assert not Membership.objects.filter(user=dave).exists()


def test_accepting_as_the_invited_user_grants_the_invited_role(
    client_for, dave, acme, acme_invitation, invite_link
):
    response = client_for(dave).post(invite_link)

    assert response.status_code == 302
    assert response["Location"] == f"/b/{acme.slug}/"
    membership = Membership.objects.get(business=acme, user=dave)
    assert membership.role == Role.EDITOR


def test_accepting_marks_the_invitation_accepted(
    client_for, dave, acme, acme_invitation, invite_link
):
    client_for(dave).post(invite_link)

    acme_invitation.refresh_from_db()
    assert acme_invitation.accepted_at is not None
    assert acme_invitation.accepted_by == dave


def test_anonymous_invitation_page_shows_the_signup_form(client, invite_link):
    response = client.get(invite_link)

    html = response.content.decode()
    assert response.status_code == 200
    assert "dave@example.com" in html
    assert 'name="password1"' in html
    assert 'name="email"' not in html


def test_anonymous_signup_from_an_invitation_creates_user_and_membership(
    client, acme, acme_invitation, invite_link
):
    businesses = Business.objects.count()

    response = client.post(
        invite_link,
        {
            "name": "Dave Dunn",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/b/{acme.slug}/"
    user = User.objects.get(email="dave@example.com")
    assert user.check_password("a-long-passphrase")
    assert Membership.objects.get(user=user).business == acme
    assert Membership.objects.get(user=user).role == Role.EDITOR
    assert client.session["_auth_user_id"] == str(user.pk)
    assert Business.objects.count() == businesses
    acme_invitation.refresh_from_db()
    assert acme_invitation.accepted_by == user


def test_anonymous_signup_from_an_invitation_with_bad_passwords_creates_nobody(
    client, acme, acme_invitation, invite_link
):
    response = client.post(
        invite_link,
        {"name": "Dave", "password1": "a-long-passphrase", "password2": "other"},
    )

    assert response.status_code == 422
    assert "do not match" in response.content.decode()
    assert not User.objects.filter(email="dave@example.com").exists()
    acme_invitation.refresh_from_db()
    assert acme_invitation.accepted_at is None


def test_anonymous_signup_from_an_invitation_for_an_existing_account_is_refused(
    client, dave, acme, acme_invitation, invite_link
):
    response = client.post(
        invite_link,
        {
            "name": "Dave",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
        },
    )

    assert response.status_code == 422
    assert "exists already" in response.content.decode()
    assert not Membership.objects.filter(user=dave).exists()
    assert User.objects.filter(email="dave@example.com").count() == 1


def test_used_invitation_link_is_gone_for_good(client_for, dave, acme, invite_link):
    client_for(dave).post(invite_link)
    count = acme_membership_count(acme)

    response = client_for(dave).post(invite_link)

    assert response.status_code == 410
    assert "has been used" in response.content.decode()
    assert acme_membership_count(acme) == count
    assert Membership.objects.filter(business=acme, user=dave).count() == 1


def test_used_invitation_link_cannot_sign_up_a_second_person(
    client_for, client, dave, acme, invite_link
):
    client_for(dave).post(invite_link)
    count = User.objects.count()

    response = client.post(
        invite_link,
        {
            "name": "Eve",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
        },
    )

    assert response.status_code == 410
    assert User.objects.count() == count


def test_invitation_older_than_the_max_age_is_expired(
    client_for, dave, acme, acme_invitation, settings
):
    days = settings.INVITATION_MAX_AGE_DAYS
    Invitation.objects.filter(pk=acme_invitation.pk).update(
        created_at=timezone.now() - timedelta(days=days, minutes=1)
    )
    link = services.invitation_url(acme_invitation)

    response = client_for(dave).post(link)

    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    assert not Membership.objects.filter(user=dave).exists()
    acme_invitation.refresh_from_db()
    assert acme_invitation.accepted_at is None


def test_link_signed_longer_ago_than_the_max_age_is_expired(
    client_for, dave, acme, acme_invitation, settings
):
    link = reverse(
        "invitation-accept",
        kwargs={
            "token": token_signed_days_ago(
                acme_invitation, settings.INVITATION_MAX_AGE_DAYS + 1
            )
        },
    )

    response = client_for(dave).post(link)

    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    assert not Membership.objects.filter(user=dave).exists()


def test_link_signed_within_the_max_age_still_works(
    client_for, dave, acme, acme_invitation, settings
):
    # The control for the test above: the hand-made token is otherwise genuine.
    link = reverse(
        "invitation-accept",
        kwargs={
            "token": token_signed_days_ago(
                acme_invitation, settings.INVITATION_MAX_AGE_DAYS - 1
            )
        },
    )

    response = client_for(dave).post(link)

    assert response.status_code == 302
    assert Membership.objects.filter(user=dave, business=acme).exists()


def test_shorter_max_age_setting_expires_links_sooner(
    client_for, dave, acme, acme_invitation, settings
):
    Invitation.objects.filter(pk=acme_invitation.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    settings.INVITATION_MAX_AGE_DAYS = 1

    response = client_for(dave).get(services.invitation_url(acme_invitation))

    assert response.status_code == 410


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: "x" + token,
        lambda token: "not-a-token",
    ],
    ids=["last-char", "prefix", "garbage"],
)
def test_tampered_link_is_not_found(client_for, dave, acme, acme_invitation, mangle):
    token = mangle(services.invitation_token(acme_invitation))

    response = client_for(dave).post(
        reverse("invitation-accept", kwargs={"token": token})
    )

    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert not Membership.objects.filter(user=dave).exists()


def test_token_of_another_purpose_is_not_an_invitation(
    client_for, dave, acme, acme_invitation
):
    token = signing.dumps(
        {"i": acme_invitation.pk, "n": acme_invitation.nonce}, salt="other"
    )

    response = client_for(dave).post(
        reverse("invitation-accept", kwargs={"token": token})
    )

    assert response.status_code == 404


def test_genuinely_signed_token_with_a_wrong_nonce_is_not_found(
    client_for, dave, acme, acme_invitation
):
    # The nonce is what a leaked invitation id lacks, even with a valid signature.
    token = signing.dumps(
        {"i": acme_invitation.pk, "n": "guessed"}, salt=services.INVITATION_SALT
    )

    response = client_for(dave).post(
        reverse("invitation-accept", kwargs={"token": token})
    )

    assert response.status_code == 404
    assert not Membership.objects.filter(user=dave).exists()


def test_invitation_service_stores_the_email_in_lower_case(acme, alice):
    invitation = services.invitation_create(
        business=acme,
        email=" Dave@Example.COM ",
        role=Role.MEMBER,
        acting_user=alice,
        base_url="http://testserver/",
    )

    assert invitation.email == "dave@example.com"


def test_invitation_for_someone_else_is_forbidden(
    charlie_client, acme, acme_invitation, invite_link
):
    response = charlie_client.post(invite_link)

    assert response.status_code == 403
    assert "for someone else" in response.content.decode()
    assert not Membership.objects.filter(
        business=acme, user__email="charlie@example.com"
    ).exists()
    acme_invitation.refresh_from_db()
    assert acme_invitation.accepted_at is None


def test_member_already_in_the_business_keeps_their_role_on_accepting(
    client_for, bob, acme, alice
):
    invitation = InvitationFactory(
        business=acme, email="bob@example.com", role=Role.OWNER
    )

    client_for(bob).post(services.invitation_url(invitation))

    assert Membership.objects.get(business=acme, user=bob).role == Role.MEMBER


# ---------------------------------------------------------------------------
# Revoking and resending
# ---------------------------------------------------------------------------


def invitation_action_url(acme, invitation, action: str) -> str:
    return reverse(
        f"hourglass:invitation-{action}",
        kwargs={"slug": acme.slug, "pk": invitation.pk},
    )


def test_revoked_invitation_link_is_not_found(
    alice_client, client_for, dave, acme, acme_invitation, invite_link
):
    response = alice_client.post(invitation_action_url(acme, acme_invitation, "revoke"))

    assert response.status_code == 302
    assert not Invitation.objects.filter(pk=acme_invitation.pk).exists()
    assert client_for(dave).post(invite_link).status_code == 404
    assert not Membership.objects.filter(user=dave).exists()


def test_resend_replaces_the_invitation(
    alice_client, acme, acme_invitation, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            invitation_action_url(acme, acme_invitation, "resend")
        )

    assert response.status_code == 302
    new = Invitation.objects.get(business=acme)
    assert new.pk != acme_invitation.pk
    assert (new.email, new.role) == ("dave@example.com", Role.EDITOR)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["dave@example.com"]


def test_resend_invalidates_the_old_link_and_the_new_one_works(
    alice_client,
    client_for,
    dave,
    acme,
    acme_invitation,
    invite_link,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(invitation_action_url(acme, acme_invitation, "resend"))
    dave_client = client_for(dave)

    assert dave_client.post(invite_link).status_code == 404
    assert not Membership.objects.filter(user=dave).exists()
    assert dave_client.post(link_in(mailoutbox[0])).status_code == 302
    assert Membership.objects.get(user=dave, business=acme).role == Role.EDITOR


def test_inviting_the_same_address_again_replaces_the_pending_invitation(
    alice_client, acme
):
    alice_client.post(invite_url(acme), {"email": "dave@example.com", "role": "member"})
    alice_client.post(invite_url(acme), {"email": "dave@example.com", "role": "editor"})

    invitations = Invitation.objects.filter(business=acme)
    assert [(i.email, i.role) for i in invitations] == [
        ("dave@example.com", Role.EDITOR)
    ]


def test_accepted_invitation_cannot_be_revoked(
    alice_client, client_for, dave, acme, acme_invitation, invite_link
):
    client_for(dave).post(invite_link)

    response = alice_client.post(invitation_action_url(acme, acme_invitation, "revoke"))

    assert response.status_code == 404
    assert Invitation.objects.filter(pk=acme_invitation.pk).exists()


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_member_cannot_resend_or_revoke(
    bob_client, acme, acme_invitation, action, mailoutbox
):
    response = bob_client.post(invitation_action_url(acme, acme_invitation, action))

    assert response.status_code == 403
    assert list(Invitation.objects.values_list("pk", flat=True)) == [acme_invitation.pk]
    assert mailoutbox == []


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_owner_cannot_touch_invitations_of_another_business_through_their_own(
    alice_client, acme, other_co, action
):
    theirs = InvitationFactory(business=other_co, email="zed@example.com")

    response = alice_client.post(invitation_action_url(acme, theirs, action))

    assert response.status_code == 404
    assert list(Invitation.objects.filter(business=other_co)) == [theirs]


def test_sign_up_from_an_invitation_used_meanwhile_creates_no_account(acme, alice):
    from hourglass import services
    from hourglass.models import Invitation, User
    from hourglass.services import InvitationError

    invitation = services.invitation_create(
        business=acme,
        email="late@example.com",
        role="member",
        acting_user=alice,
        base_url="http://testserver/",
    )
    stale = Invitation.objects.get(pk=invitation.pk)
    # Someone else accepts it between the page load and this sign-up.
    services.invitation_accept(invitation=invitation, user=alice)

    with pytest.raises(InvitationError):
        services.invitation_sign_up(
            invitation=stale, name="Late Larry", password="x-pass-123"
        )

    assert not User.objects.filter(email="late@example.com").exists()
