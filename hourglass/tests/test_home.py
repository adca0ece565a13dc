import pytest
from django.urls import reverse

from hourglass import services
from hourglass.models import Membership
from hourglass.tests.factories import UserFactory

HOME_URL = reverse("home")


@pytest.fixture
def beta(alice, acme):
    """A second business of alice's, created after Acme."""
    return services.business_create(name="Beta", owner=alice)


@pytest.mark.django_db
def test_anonymous_home_is_the_landing_page_with_login_and_signup_links(client):
    response = client.get(HOME_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "hourglass/landing.html"
    assert f'href="{reverse("login")}" data-testid="landing-login"' in html
    assert f'href="{reverse("signup")}" data-testid="landing-signup"' in html


@pytest.mark.parametrize(("first", "last"), [("acme", "beta"), ("beta", "acme")])
def test_home_redirects_to_the_business_used_last(
    client, alice, acme, beta, first, last
):
    businesses = {"acme": acme, "beta": beta}
    Membership.objects.filter(user=alice).update(last_used_at=None)
    client.force_login(alice)
    client.get(businesses[first].get_absolute_url())
    client.get(businesses[last].get_absolute_url())

    response = client.get(HOME_URL)

    assert response.status_code == 302
    assert response["Location"] == f"/b/{businesses[last].slug}/"


def test_home_remembers_the_last_business_in_a_new_session(
    client_for, alice, acme, beta
):
    browser = client_for(alice)
    browser.get(beta.get_absolute_url())
    browser.get(acme.get_absolute_url())

    response = client_for(alice).get(HOME_URL)

    assert response["Location"] == f"/b/{acme.slug}/"
    used = dict(
        Membership.objects.filter(user=alice).values_list(
            "business__slug", "last_used_at"
        )
    )
    assert used["acme"] > used["beta"]


def test_home_prefers_a_business_used_once_over_one_never_opened(client, bob):
    # bob joined Acme but never opened it; the business he created is the one he uses.
    own = services.business_create(name="Bob's Bikes", owner=bob)
    assert Membership.objects.get(user=bob, business__slug="acme").last_used_at is None
    client.force_login(bob)

    response = client.get(HOME_URL)

    assert response["Location"] == f"/b/{own.slug}/"


@pytest.mark.django_db
def test_home_sends_a_user_without_business_to_create_one(client):
    client.force_login(UserFactory())

    response = client.get(HOME_URL, follow=True)

    assert response.redirect_chain == [(reverse("business-create"), 302)]
    assert "not part of any business yet" in response.content.decode()


@pytest.mark.django_db
def test_business_create_page_makes_the_user_owner_of_a_new_business(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("business-create"),
        {"name": "Gamma", "currency": "USD", "timezone": "UTC"},
    )

    membership = Membership.objects.get(user=user)
    assert membership.business.name == "Gamma"
    assert membership.is_owner
    assert response["Location"] == f"/b/{membership.business.slug}/"


def test_switching_business_writes_last_used_only_once_per_switch(
    client_for, alice, acme
):
    browser = client_for(alice)
    browser.get(acme.get_absolute_url())
    first = Membership.objects.get(user=alice, business=acme).last_used_at

    browser.get(acme.get_absolute_url())

    assert Membership.objects.get(user=alice, business=acme).last_used_at == first
