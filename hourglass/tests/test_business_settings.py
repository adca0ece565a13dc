import pytest
from django.urls import reverse

from hourglass.models import Business, Invitation, Membership, StagePlan, Tactic
from hourglass.tests.utils import business_snapshot


def settings_url(business) -> str:
    return reverse("hourglass:settings", kwargs={"slug": business.slug})


def delete_url(business) -> str:
    return reverse("hourglass:delete", kwargs={"slug": business.slug})


def settings_data(**overrides) -> dict:
    data = {"name": "Acme Rockets", "currency": "USD", "timezone": "America/New_York"}
    data.update(overrides)
    return data


def test_owner_sees_the_settings_filled_in(alice_client, acme):
    response = alice_client.get(settings_url(acme))

    assert response.status_code == 200
    form = response.context["form"]
    assert (
        form["name"].value(),
        form["currency"].value(),
        form["timezone"].value(),
    ) == (
        "Acme",
        "EUR",
        "Europe/Paris",
    )


def test_owner_edits_name_currency_and_timezone(alice_client, acme):
    response = alice_client.post(settings_url(acme), settings_data())

    assert response.status_code == 302
    assert response["Location"] == settings_url(acme)
    acme.refresh_from_db()
    assert (acme.name, acme.currency, acme.timezone) == (
        "Acme Rockets",
        "USD",
        "America/New_York",
    )


def test_renaming_keeps_the_address(alice_client, acme):
    alice_client.post(settings_url(acme), settings_data())

    acme.refresh_from_db()
    assert acme.slug == "acme"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("currency", "XYZ"),
        ("name", ""),
        ("name", "n" * 121),
    ],
)
def test_invalid_settings_are_refused(alice_client, acme, field, value):
    response = alice_client.post(settings_url(acme), settings_data(**{field: value}))

    assert response.status_code == 422
    assert field in response.context["form"].errors
    acme.refresh_from_db()
    assert (acme.name, acme.currency, acme.timezone) == ("Acme", "EUR", "Europe/Paris")


def test_invalid_timezone_names_the_problem(alice_client, acme):
    response = alice_client.post(
        settings_url(acme), settings_data(timezone="Mars/Olympus_Mons")
    )

    assert response.status_code == 422
    assert (
        "Select a valid choice. Mars/Olympus_Mons is not one of the available choices."
        in (response.content.decode())
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_editor_cannot_use_settings(erin_client, acme, method):
    response = getattr(erin_client, method)(settings_url(acme), settings_data())

    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_member_cannot_change_settings(bob_client, acme):
    response = bob_client.post(settings_url(acme), settings_data())

    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme"


# ---------------------------------------------------------------------------
# Deleting
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Acm", "acme", "ACME", "Other Co", ""])
def test_delete_needs_the_exact_name(alice_client, acme, acme_tactic, typed):
    snapshot = business_snapshot(acme)

    response = alice_client.post(delete_url(acme), {"confirm": typed})

    assert response.status_code == 422
    assert "confirm" in response.context["delete_form"].errors
    assert business_snapshot(acme) == snapshot


def test_delete_with_a_wrong_name_says_nothing_was_deleted(alice_client, acme):
    response = alice_client.post(delete_url(acme), {"confirm": "Acne"})

    assert "nothing was deleted" in response.content.decode()


def test_delete_with_the_exact_name_deletes_the_business_and_its_rows(
    alice_client, acme, bob, acme_tactic, acme_invitation
):
    response = alice_client.post(delete_url(acme), {"confirm": "Acme"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not Business.objects.filter(pk=acme.pk).exists()
    assert not Membership.objects.filter(business_id=acme.pk).exists()
    assert not StagePlan.objects.filter(business_id=acme.pk).exists()
    assert not Tactic.objects.filter(business_id=acme.pk).exists()
    assert not Invitation.objects.filter(business_id=acme.pk).exists()


def test_delete_keeps_the_people(alice_client, acme, alice, bob):
    alice_client.post(delete_url(acme), {"confirm": "Acme"})

    assert alice.__class__.objects.filter(pk__in=[alice.pk, bob.pk]).count() == 2


def test_delete_leaves_other_businesses_untouched(alice_client, acme, other_co):
    snapshot = business_snapshot(other_co)

    alice_client.post(delete_url(acme), {"confirm": "Acme"})

    assert business_snapshot(other_co) == snapshot
    assert len(snapshot["stage_plans"]) == 7


def test_delete_with_htmx_redirects_the_browser_home(alice_client, acme):
    response = alice_client.post(
        delete_url(acme), {"confirm": "Acme"}, headers={"HX-Request": "true"}
    )

    assert response["HX-Redirect"] == reverse("home")
    assert not Business.objects.filter(pk=acme.pk).exists()


@pytest.mark.parametrize("actor", ["bob", "erin"])
def test_non_owners_cannot_delete_the_business(
    request, client_for, acme, bob, erin, actor
):
    client = client_for(request.getfixturevalue(actor))

    response = client.post(delete_url(acme), {"confirm": "Acme"})

    assert response.status_code == 403
    assert Business.objects.filter(pk=acme.pk).exists()


def test_delete_needs_a_post(alice_client, acme):
    response = alice_client.get(delete_url(acme))

    assert response.status_code == 405
    assert Business.objects.filter(pk=acme.pk).exists()
