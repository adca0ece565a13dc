import pytest
from django.urls import reverse

from hourglass.tests.utils import PASSWORD, reset_link

LOGIN_URL = reverse("login")
LOGOUT_URL = reverse("logout")
RESET_URL = reverse("password_reset")
NEW_PASSWORD = "a-brand-new-passphrase"


def logged_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize(
    "email", ["alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"]
)
def test_login_accepts_the_email_in_any_case(client, alice, email):
    response = client.post(LOGIN_URL, {"username": email, "password": PASSWORD})

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(alice.pk)


def test_login_with_a_wrong_password_shows_an_error_and_stays_anonymous(client, alice):
    response = client.post(
        LOGIN_URL, {"username": "alice@example.com", "password": "wrong-one"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "correct email address and password" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_logout_ends_the_session(alice_client, acme):
    response = alice_client.post(LOGOUT_URL)

    assert response.status_code == 302
    assert logged_in_user_id(alice_client) is None
    page = alice_client.get(acme.get_absolute_url())
    assert page.status_code == 302
    assert page["Location"].startswith(LOGIN_URL)


def test_password_reset_emails_a_link(client, alice, mailoutbox):
    response = client.post(RESET_URL, {"email": "alice@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]
    assert reset_link(mailoutbox[0])


def test_password_reset_link_sets_a_new_password_that_logs_in(
    client, alice, mailoutbox
):
    client.post(RESET_URL, {"email": "alice@example.com"})
    link = reset_link(mailoutbox[0])

    # Django swaps the token for a session value and redirects to .../set-password/.
    redirect = client.get(link)
    assert redirect.status_code == 302
    assert redirect["Location"].endswith("/set-password/")
    form_page = client.get(redirect["Location"])
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    done = client.post(
        redirect["Location"],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")

    login = client.post(
        LOGIN_URL, {"username": "alice@example.com", "password": NEW_PASSWORD}
    )
    assert login.status_code == 302
    assert logged_in_user_id(client) == str(alice.pk)
    alice.refresh_from_db()
    assert not alice.check_password(PASSWORD)


def test_password_reset_link_works_only_once(client, alice, mailoutbox):
    client.post(RESET_URL, {"email": "alice@example.com"})
    link = reset_link(mailoutbox[0])
    set_password_url = client.get(link)["Location"]
    client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    again = client.get(link, follow=True)

    assert again.context["validlink"] is False


def test_password_reset_for_an_unknown_email_sends_nothing_but_looks_the_same(
    client, alice, mailoutbox
):
    response = client.post(RESET_URL, {"email": "nobody@example.com"}, follow=True)

    assert mailoutbox == []
    assert response.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert "Check your email" in response.content.decode()
