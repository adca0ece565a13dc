import pytest
from django.urls import reverse

from hourglass import services
from hourglass.models import STAGE_ORDER, Business, Membership, Role, StagePlan, User
from hourglass.tests.utils import signup_data

SIGNUP_URL = reverse("signup")


@pytest.mark.django_db
def test_signup_page_shows_the_form(client):
    response = client.get(SIGNUP_URL)

    assert response.status_code == 200
    assert 'name="business_name"' in response.content.decode()


@pytest.mark.django_db
def test_signup_creates_the_user(client):
    client.post(SIGNUP_URL, signup_data())

    user = User.objects.get(email="nora@example.com")
    assert user.name == "Nora North"
    assert user.check_password("a-long-unusual-passphrase")


@pytest.mark.django_db
def test_signup_stores_the_email_in_lower_case(client):
    client.post(SIGNUP_URL, signup_data(email="Nora@Example.COM"))

    assert User.objects.filter(email="nora@example.com").exists()


@pytest.mark.django_db
def test_signup_makes_the_user_owner_of_the_new_business(client):
    client.post(SIGNUP_URL, signup_data())

    membership = Membership.objects.get(user__email="nora@example.com")
    assert membership.business.name == "North Bakery"
    assert membership.role == Role.OWNER
    assert Business.objects.count() == 1


@pytest.mark.django_db
def test_signup_gives_the_business_a_plan_for_each_of_the_seven_stages(client):
    client.post(SIGNUP_URL, signup_data())

    business = Business.objects.get(name="North Bakery")
    stages = StagePlan.objects.filter(business=business).values_list("stage", flat=True)
    assert sorted(stages) == sorted(STAGE_ORDER)
    assert len(STAGE_ORDER) == 7


@pytest.mark.django_db
def test_signup_logs_the_new_user_in(client):
    client.post(SIGNUP_URL, signup_data())

    user = User.objects.get(email="nora@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_signup_redirects_to_the_new_business_overview(client):
    response = client.post(SIGNUP_URL, signup_data())

    business = Business.objects.get(name="North Bakery")
    assert response.status_code == 302
    assert response["Location"] == f"/b/{business.slug}/"
    assert client.get(response["Location"]).status_code == 200


def test_signup_with_an_existing_email_in_other_case_is_refused(client, alice):
    users, businesses = User.objects.count(), Business.objects.count()

    response = client.post(SIGNUP_URL, signup_data(email="ALICE@example.com"))

    assert response.status_code == 422
    assert "exists already" in response.context["form"].errors["email"][0]
    assert "exists already" in response.content.decode()
    assert User.objects.count() == users
    assert Business.objects.count() == businesses
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signup_with_mismatched_passwords_creates_nobody(client):
    response = client.post(SIGNUP_URL, signup_data(password2="another-long-passphrase"))

    assert response.status_code == 422
    assert "do not match" in response.context["form"].errors["password2"][0]
    assert not User.objects.exists()
    assert not Business.objects.exists()


@pytest.mark.django_db
def test_signup_with_a_too_short_password_creates_nobody(client):
    response = client.post(SIGNUP_URL, signup_data(password1="x7!q", password2="x7!q"))

    assert response.status_code == 422
    assert "too short" in " ".join(response.context["form"].errors["password1"])
    assert not User.objects.exists()
    assert not Business.objects.exists()


@pytest.mark.django_db
def test_signup_without_a_business_name_creates_nobody(client):
    response = client.post(SIGNUP_URL, signup_data(business_name=""))

    assert response.status_code == 422
    assert "business_name" in response.context["form"].errors
    assert not User.objects.exists()


def test_signup_gives_a_second_business_of_the_same_name_its_own_slug(client, acme):
    response = client.post(SIGNUP_URL, signup_data(business_name="Acme"))

    new = Business.objects.exclude(pk=acme.pk).get(name="Acme")
    assert acme.slug == "acme"
    assert new.slug == "acme-2"
    assert response["Location"] == "/b/acme-2/"


def test_business_create_numbers_slugs_of_businesses_sharing_a_name(alice):
    slugs = [services.business_create(name="Acme", owner=alice).slug for _ in range(3)]

    assert slugs == ["acme", "acme-2", "acme-3"]


def test_logged_in_user_visiting_signup_is_sent_home(alice_client):
    response = alice_client.get(SIGNUP_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
