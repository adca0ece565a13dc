import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass import services
from hourglass.models import Membership, Role
from hourglass.services import LastOwnerError
from hourglass.tests.factories import InvitationFactory, MembershipFactory


def membership_of(user, business) -> Membership:
    return Membership.objects.get(user=user, business=business)


def role_url(business, membership) -> str:
    return reverse(
        "hourglass:member-role", kwargs={"slug": business.slug, "pk": membership.pk}
    )


def remove_url(business, membership) -> str:
    return reverse(
        "hourglass:member-remove", kwargs={"slug": business.slug, "pk": membership.pk}
    )


def leave_url(business) -> str:
    return reverse("hourglass:leave", kwargs={"slug": business.slug})


def team_url(business) -> str:
    return reverse("hourglass:team", kwargs={"slug": business.slug})


@pytest.fixture
def two_owners(acme, bob):
    Membership.objects.filter(business=acme, user=bob).update(role=Role.OWNER)


# ---------------------------------------------------------------------------
# Changing roles
# ---------------------------------------------------------------------------


def test_owner_changes_a_members_role(alice_client, acme, bob):
    response = alice_client.post(
        role_url(acme, membership_of(bob, acme)), {"role": "editor"}
    )

    assert response.status_code == 302
    assert response["Location"] == team_url(acme)
    assert membership_of(bob, acme).role == Role.EDITOR


def test_role_change_says_what_changed(alice_client, acme, bob):
    response = alice_client.post(
        role_url(acme, membership_of(bob, acme)), {"role": "editor"}, follow=True
    )

    assert "Bob Baker is now editor." in response.content.decode()


def test_role_change_to_an_unknown_role_changes_nothing(alice_client, acme, bob):
    response = alice_client.post(
        role_url(acme, membership_of(bob, acme)), {"role": "king"}, follow=True
    )

    assert "Choose a role" in response.content.decode()
    assert membership_of(bob, acme).role == Role.MEMBER


def test_last_owner_cannot_demote_themself(alice_client, acme, alice):
    response = alice_client.post(
        role_url(acme, membership_of(alice, acme)), {"role": "member"}, follow=True
    )

    assert membership_of(alice, acme).role == Role.OWNER
    assert response.redirect_chain[-1][0] == team_url(acme)
    assert "is the last owner of Acme" in response.content.decode()


def test_one_of_two_owners_can_demote_the_other(alice_client, acme, bob, two_owners):
    alice_client.post(role_url(acme, membership_of(bob, acme)), {"role": "member"})

    assert membership_of(bob, acme).role == Role.MEMBER


def test_one_of_two_owners_can_demote_themself_and_lands_on_the_overview(
    alice_client, acme, alice, bob, two_owners
):
    response = alice_client.post(
        role_url(acme, membership_of(alice, acme)), {"role": "editor"}
    )

    assert membership_of(alice, acme).role == Role.EDITOR
    assert response.status_code == 302
    assert response["Location"] == f"/b/{acme.slug}/"


# ---------------------------------------------------------------------------
# Removing members and leaving
# ---------------------------------------------------------------------------


def test_owner_removes_a_member(alice_client, acme, bob):
    response = alice_client.post(remove_url(acme, membership_of(bob, acme)))

    assert response.status_code == 302
    assert response["Location"] == team_url(acme)
    assert not Membership.objects.filter(business=acme, user=bob).exists()


def test_last_owner_cannot_be_removed(alice_client, acme, alice):
    response = alice_client.post(
        remove_url(acme, membership_of(alice, acme)), follow=True
    )

    assert Membership.objects.filter(
        business=acme, user=alice, role=Role.OWNER
    ).exists()
    assert "is the last owner of Acme" in response.content.decode()


def test_one_of_two_owners_can_remove_the_other(alice_client, acme, bob, two_owners):
    alice_client.post(remove_url(acme, membership_of(bob, acme)))

    assert not Membership.objects.filter(business=acme, user=bob).exists()


def test_one_of_two_owners_removing_themself_is_sent_home(
    alice_client, acme, alice, bob, two_owners
):
    response = alice_client.post(remove_url(acme, membership_of(alice, acme)))

    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(business=acme, user=alice).exists()


def test_member_leaves_a_business(bob_client, acme, bob):
    response = bob_client.post(leave_url(acme))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(business=acme, user=bob).exists()


def test_leave_needs_a_post(bob_client, acme, bob):
    response = bob_client.get(leave_url(acme))

    assert response.status_code == 405
    assert Membership.objects.filter(business=acme, user=bob).exists()


def test_last_owner_cannot_leave(alice_client, acme, alice):
    response = alice_client.post(leave_url(acme), follow=True)

    assert Membership.objects.filter(
        business=acme, user=alice, role=Role.OWNER
    ).exists()
    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "cannot leave it" in response.content.decode()


def test_removed_member_no_longer_sees_the_business(
    alice_client, client_for, acme, bob
):
    bob_client = client_for(bob)
    assert bob_client.get(acme.get_absolute_url()).status_code == 200

    alice_client.post(remove_url(acme, membership_of(bob, acme)))

    assert bob_client.get(acme.get_absolute_url()).status_code == 404


def _team_queries(client, business) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(team_url(business))
    assert response.status_code == 200
    return len(queries)


def test_team_page_query_count_does_not_grow_with_members_and_invitations(
    alice_client, acme, alice
):
    alice_client.get(team_url(acme))  # the first visit also records the business
    MembershipFactory(business=acme)
    InvitationFactory(business=acme, invited_by=alice)
    small = _team_queries(alice_client, acme)

    MembershipFactory.create_batch(20, business=acme, role=Role.EDITOR)
    InvitationFactory.create_batch(20, business=acme, invited_by=alice)
    large = _team_queries(alice_client, acme)

    assert Membership.objects.filter(business=acme).count() == 22
    assert large == small


# ---------------------------------------------------------------------------
# Who may do it
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("url_for", [role_url, remove_url], ids=["role", "remove"])
@pytest.mark.parametrize("actor", ["bob", "erin"])
def test_non_owners_cannot_change_or_remove_members(
    request, client_for, acme, alice, bob, erin, url_for, actor
):
    target = membership_of(alice, acme)
    client = client_for(request.getfixturevalue(actor))

    response = client.post(url_for(acme, target), {"role": "member"})

    assert response.status_code == 403
    assert membership_of(alice, acme).role == Role.OWNER


def test_member_cannot_promote_themself(bob_client, acme, bob):
    response = bob_client.post(
        role_url(acme, membership_of(bob, acme)), {"role": "owner"}
    )

    assert response.status_code == 403
    assert membership_of(bob, acme).role == Role.MEMBER


@pytest.mark.parametrize("url_for", [role_url, remove_url], ids=["role", "remove"])
def test_outsider_cannot_change_or_remove_members(charlie_client, acme, bob, url_for):
    response = charlie_client.post(
        url_for(acme, membership_of(bob, acme)), {"role": "owner"}
    )

    assert response.status_code == 404
    assert membership_of(bob, acme).role == Role.MEMBER


@pytest.mark.parametrize("url_for", [role_url, remove_url], ids=["role", "remove"])
def test_owner_cannot_reach_a_membership_of_another_business(
    alice_client, acme, other_co, charlie, url_for
):
    theirs = membership_of(charlie, other_co)

    response = alice_client.post(url_for(acme, theirs), {"role": "member"})

    assert response.status_code == 404
    assert membership_of(charlie, other_co).role == Role.OWNER


def test_outsider_cannot_leave_a_business_they_are_not_in(charlie_client, acme):
    response = charlie_client.post(leave_url(acme))

    assert response.status_code == 404


# ---------------------------------------------------------------------------
# The services themselves
# ---------------------------------------------------------------------------


def test_change_role_service_refuses_to_demote_the_last_owner(acme, alice):
    with pytest.raises(LastOwnerError):
        services.membership_change_role(
            membership=membership_of(alice, acme), role=Role.EDITOR
        )

    assert membership_of(alice, acme).role == Role.OWNER


def test_remove_service_refuses_to_remove_the_last_owner(acme, alice):
    with pytest.raises(LastOwnerError):
        services.membership_remove(membership=membership_of(alice, acme))

    assert Membership.objects.filter(business=acme, user=alice).exists()


def test_change_role_service_demotes_an_owner_when_another_remains(
    acme, alice, bob, two_owners
):
    services.membership_change_role(
        membership=membership_of(alice, acme), role=Role.MEMBER
    )

    assert membership_of(alice, acme).role == Role.MEMBER
    assert membership_of(bob, acme).role == Role.OWNER


def test_remove_service_removes_an_owner_when_another_remains(
    acme, alice, bob, two_owners
):
    services.membership_remove(membership=membership_of(alice, acme))

    assert list(
        Membership.objects.filter(business=acme).values_list("user", "role")
    ) == [(bob.pk, Role.OWNER)]


def test_change_role_service_keeps_an_owner_an_owner(acme, alice):
    services.membership_change_role(
        membership=membership_of(alice, acme), role=Role.OWNER
    )

    assert membership_of(alice, acme).role == Role.OWNER


def test_last_owner_rule_counts_owners_of_the_same_business_only(acme, alice, other_co):
    # charlie owns Other Co; that does not make him a second owner of Acme.
    with pytest.raises(LastOwnerError):
        services.membership_remove(membership=membership_of(alice, acme))
