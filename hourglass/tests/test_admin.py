import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from hourglass.models import ArchiveImport, User

HOURGLASS_MODELS = list(apps.get_app_config("hourglass").get_models())
MODEL_IDS = [model._meta.model_name for model in HOURGLASS_MODELS]


@pytest.fixture
def admin_browser(client, acme, bob, acme_tactic, acme_invitation):
    """A superuser's client, with one row of every model to list."""
    superuser = User.objects.create_superuser(
        email="root@example.com", name="Root", password="x"
    )
    ArchiveImport.objects.create(
        started_by=superuser, name="Acme again", file_name="acme.zip"
    )
    client.force_login(superuser)
    return client


def admin_url(model, page: str, *args) -> str:
    return reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args
    )


def test_every_hourglass_model_is_known():
    # Guards the parametrisation below against an empty list.
    assert {
        "user",
        "business",
        "membership",
        "invitation",
        "stageplan",
        "tactic",
    } <= set(MODEL_IDS)


@pytest.mark.parametrize("model", HOURGLASS_MODELS, ids=MODEL_IDS)
def test_model_is_registered_in_admin(model):
    assert admin.site.is_registered(model)


@pytest.mark.parametrize("model", HOURGLASS_MODELS, ids=MODEL_IDS)
def test_admin_changelist_loads(admin_browser, model):
    response = admin_browser.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", HOURGLASS_MODELS, ids=MODEL_IDS)
def test_admin_add_page_loads(admin_browser, model):
    response = admin_browser.get(admin_url(model, "add"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", HOURGLASS_MODELS, ids=MODEL_IDS)
def test_admin_change_page_loads(admin_browser, model):
    obj = model._default_manager.order_by("pk").first()

    response = admin_browser.get(admin_url(model, "change", obj.pk))

    assert response.status_code == 200


@pytest.mark.parametrize("model", HOURGLASS_MODELS, ids=MODEL_IDS)
def test_admin_search_loads(admin_browser, model):
    response = admin_browser.get(admin_url(model, "changelist"), {"q": "acme"})

    assert response.status_code == 200


def _add_user_in_admin(client, email: str):
    return client.post(
        admin_url(User, "add"),
        {
            "email": email,
            "name": "Fay",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
            "usable_password": "true",
        },
    )


def test_admin_adds_a_user(admin_browser):
    response = _add_user_in_admin(admin_browser, "fay@example.com")

    assert response.status_code == 302
    assert User.objects.get(email="fay@example.com").check_password("a-long-passphrase")


def test_admin_stores_a_new_users_email_in_lower_case(admin_browser):
    _add_user_in_admin(admin_browser, "Fay@Example.com")

    assert list(User.objects.filter(name="Fay").values_list("email", flat=True)) == [
        "fay@example.com"
    ]


def test_user_added_in_admin_with_capitals_can_log_in(admin_browser):
    _add_user_in_admin(admin_browser, "Fay@Example.com")
    admin_browser.logout()

    response = admin_browser.post(
        reverse("login"),
        {"username": "Fay@Example.com", "password": "a-long-passphrase"},
    )

    assert response.status_code == 302
    assert admin_browser.session.get("_auth_user_id") is not None


def test_admin_refuses_a_second_account_for_an_email_in_other_case(admin_browser):
    response = _add_user_in_admin(admin_browser, "ALICE@example.com")

    assert response.status_code == 200
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_admin_is_closed_to_non_staff(alice_client):
    response = alice_client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
