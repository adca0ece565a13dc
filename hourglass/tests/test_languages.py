"""The languages the app speaks (hourglass/languages.py): a person's saved
choice, else the language menu's cookie, else the browser's Accept-Language,
else English; `<html lang>` says which; emails go out in the recipient's
language; every catalogue is complete and current."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hourglass.models import Invitation, Membership, User
from hourglass.tests.utils import extract_catalogues
from metrics import reminders, weeks
from metrics.tests.factories import MetricFactory
from metrics.weeks import WEEK

OTHER_LANGUAGES = ["fr", "ko", "pl", "ro"]
INVITATION_SUBJECT = "hourglass/email/invitation_subject.txt"


def in_language(code: str, text: str) -> str:
    with translation.override(code):
        return translation.gettext(text)


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


# ---------------------------------------------------------------------------
# Which language a page speaks
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_the_browser_language_is_spoken_before_signing_in(client, code):
    response = client.get(reverse("login"), headers={"accept-language": f"{code}-XX"})

    assert html_lang(response) == code
    assert response["Content-Language"] == code
    assert in_language(code, "Log in") != "Log in"
    assert in_language(code, "Log in") in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_browser_language_gets_english(client):
    response = client.get(reverse("login"), headers={"accept-language": "de-DE,de"})

    assert html_lang(response) == "en"
    assert "Log in" in response.content.decode()


def test_a_saved_choice_wins_over_the_browser(alice_client, alice, acme):
    User.objects.filter(pk=alice.pk).update(language="ko")

    response = alice_client.get(
        reverse("hourglass:overview", args=[acme.slug]),
        headers={"accept-language": "fr"},
    )

    assert html_lang(response) == "ko"
    assert in_language("ko", "Log out") in response.content.decode()


def test_without_a_saved_choice_the_browser_decides(alice_client, alice, acme):
    User.objects.filter(pk=alice.pk).update(language="")

    response = alice_client.get(
        reverse("hourglass:overview", args=[acme.slug]),
        headers={"accept-language": "pl"},
    )

    assert html_lang(response) == "pl"


# ---------------------------------------------------------------------------
# The language menu and the profile
# ---------------------------------------------------------------------------


def test_the_menu_saves_the_choice_and_goes_back(alice_client, alice, acme):
    page = reverse("hourglass:team", args=[acme.slug])

    response = alice_client.post(reverse("language"), {"language": "ro", "next": page})

    assert response.status_code == 302
    assert response.url == page
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ro"
    alice.refresh_from_db()
    assert alice.language == "ro"
    assert html_lang(alice_client.get(page)) == "ro"


def test_the_menu_offers_each_language_in_its_own_name(alice_client, acme):
    response = alice_client.get(reverse("hourglass:overview", args=[acme.slug]))

    page = response.content.decode()
    for code, own_name in [("fr", "français"), ("ko", "한국어"), ("pl", "polski")]:
        assert f'<option value="{code}" lang="{code}"' in page
        assert own_name in page.lower()
    assert "Română" in page


def test_as_my_browser_says_clears_the_choice(alice_client, alice, acme):
    User.objects.filter(pk=alice.pk).update(language="fr")

    response = alice_client.post(reverse("language"), {"language": "", "next": "/"})

    alice.refresh_from_db()
    assert alice.language == ""
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""


@pytest.mark.django_db
def test_a_visitor_chooses_in_the_footer_and_the_cookie_keeps_it(client):
    login = reverse("login")
    assert 'id="language-footer"' in client.get(login).content.decode()

    response = client.post(reverse("language"), {"language": "fr", "next": login})

    assert response.url == login
    assert html_lang(client.get(login)) == "fr"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_the_menu_never_sends_elsewhere(client, target):
    response = client.post(reverse("language"), {"language": "fr", "next": target})

    assert response.url == reverse("home")


@pytest.mark.django_db
def test_an_unknown_language_is_no_choice(client):
    response = client.post(reverse("language"), {"language": "xx", "next": "/"})

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""


def test_the_menu_needs_a_post(alice_client):
    assert alice_client.get(reverse("language")).status_code == 405


def test_the_profile_saves_the_language_and_answers_in_it(alice_client, alice):
    data = {"name": alice.name, "email": alice.email, "language": "pl"}

    response = alice_client.post(reverse("profile"), data, follow=True)

    alice.refresh_from_db()
    assert alice.language == "pl"
    assert html_lang(response) == "pl"
    assert in_language("pl", "Your profile is saved.") in response.content.decode()


@pytest.mark.django_db
def test_signing_up_in_a_language_keeps_it(client):
    from hourglass.tests.utils import signup_data

    response = client.post(
        reverse("signup"), signup_data(), headers={"accept-language": "ko"}
    )

    assert response.status_code == 302
    assert User.objects.get(email="nora@example.com").language == "ko"


# ---------------------------------------------------------------------------
# Emails in the recipient's language
# ---------------------------------------------------------------------------


def subject_in(code: str, template: str, **context) -> str:
    with translation.override(code):
        return " ".join(render_to_string(template, context).split())


def assert_in_language(code: str, subject: str, template: str, **context) -> None:
    expected = subject_in(code, template, **context)
    assert expected != subject_in("en", template, **context)
    assert subject == expected


def invite(client, business, email, capture):
    with capture(execute=True):
        client.post(
            reverse("hourglass:invite", args=[business.slug]),
            {"email": email, "role": "member"},
        )
    (message,) = mail.outbox
    return message


def test_an_invitation_to_an_account_is_in_its_language(
    alice_client, acme, dave, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=dave.pk).update(language="fr")

    message = invite(alice_client, acme, dave.email, django_capture_on_commit_callbacks)

    invitation = Invitation.objects.get(email=dave.email)
    assert_in_language("fr", message.subject, INVITATION_SUBJECT, invitation=invitation)


def test_an_invitation_to_a_new_address_is_in_the_inviter_language(
    alice_client, alice, acme, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=alice.pk).update(language="ro")

    message = invite(
        alice_client, acme, "new@example.com", django_capture_on_commit_callbacks
    )

    invitation = Invitation.objects.get(email="new@example.com")
    assert_in_language("ro", message.subject, INVITATION_SUBJECT, invitation=invitation)


def test_a_password_reset_mail_is_in_the_account_language(client, alice):
    User.objects.filter(pk=alice.pk).update(language="ko")

    client.post(reverse("password_reset"), {"email": alice.email})

    (message,) = mail.outbox
    assert_in_language("ko", message.subject, "registration/password_reset_subject.txt")


def test_the_weekly_reminder_is_in_the_owner_language(acme, alice):
    User.objects.filter(pk=alice.pk).update(language="pl")
    MetricFactory(
        business=acme,
        owner=Membership.objects.get(business=acme, user=alice),
        first_week=weeks.last_week(acme.timezone) - WEEK,
    )
    monday = weeks.current_week(acme.timezone)
    now = datetime(
        monday.year, monday.month, monday.day, 9, tzinfo=ZoneInfo(acme.timezone)
    )

    assert reminders.reminders_send(now=now) == 1

    (message,) = mail.outbox
    assert_in_language(
        "pl",
        message.subject,
        "metrics/email/reminder_subject.txt",
        business=acme,
        week=weeks.last_week(acme.timezone),
    )


# ---------------------------------------------------------------------------
# The catalogues
# ---------------------------------------------------------------------------


def test_every_catalogue_is_complete_and_current(tmp_path):
    """The strings of the code extracted afresh into a copy of each catalogue
    (as `makemessages` does): no entry untranslated or fuzzy (a string new
    or changed since the catalogue was last translated)."""
    copy = extract_catalogues(tmp_path)
    problems = []
    for code in OTHER_LANGUAGES:
        with open(copy / code / "LC_MESSAGES" / "django.po", "rb") as po:
            catalogue = read_po(po, locale=code)
        for message in catalogue:
            if not message.id:
                continue
            strings = (
                message.string
                if isinstance(message.string, tuple)
                else (message.string,)
            )
            if message.fuzzy or not all(strings):
                first = message.id[0] if isinstance(message.id, tuple) else message.id
                problems.append(f"{code}: {first[:70]!r}")
    assert not problems, f"{len(problems)} entries to translate:\n" + "\n".join(
        problems[:50]
    )


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_language_names_the_seven_stages_its_own_way(code):
    from hourglass.models import Stage

    with translation.override(code):
        names = [str(label) for _value, label in Stage.choices]
    with translation.override("en"):
        english = [str(label) for _value, label in Stage.choices]
    assert len(set(names)) == 7
    assert names != english


@pytest.mark.django_db
def test_a_client_without_cookies_still_gets_a_page():
    response = Client().get(reverse("login"), headers={"accept-language": "*"})
    assert response.status_code == 200


# ---------------------------------------------------------------------------
# Names in every script: slugs and download names
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, slug",
    [
        ("서울 회계법인", "서울-회계법인"),
        ("Łódź Księgowość", "łódź-księgowość"),
        ("Brașov Contabilitate", "brașov-contabilitate"),
        ("Café Zoé", "café-zoé"),
        ("!!!", "business"),
    ],
)
def test_a_business_slug_keeps_the_letters_of_its_script(alice, name, slug):
    from hourglass import services

    business = services.business_create(name=name, owner=alice)

    assert business.slug == slug


def test_pages_and_downloads_of_a_business_named_in_hangul(alice, client):
    from hourglass import services

    business = services.business_create(name="서울 회계법인", owner=alice)
    client.force_login(alice)

    overview = client.get(reverse("hourglass:overview", args=[business.slug]))
    archive = client.get(reverse("hourglass:export", args=[business.slug]))

    assert overview.status_code == 200
    assert "/b/%EC%84%9C%EC%9A%B8-" in reverse(
        "hourglass:overview", args=[business.slug]
    )
    disposition = archive["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "%EC%84%9C%EC%9A%B8-%ED%9A%8C%EA%B3%84%EB%B2%95%EC%9D%B8-" in disposition


def test_a_map_named_in_polish_downloads_under_its_name(alice_client, acme, alice):
    from systemmaps.tests.factories import make_map

    system_map = make_map(acme, alice, name="Łódź: obsługa klienta")

    response = alice_client.get(
        reverse(
            "systemmaps:map-export",
            kwargs={"slug": acme.slug, "pk": system_map.pk, "fmt": "json"},
        )
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C5%82%C3%B3d%C5%BA-obs%C5%82uga-klienta-v1.json"
    )


def test_an_ascii_download_name_stays_plain(alice_client, acme):
    response = alice_client.get(reverse("hourglass:export", args=[acme.slug]))

    assert response["Content-Disposition"].startswith('attachment; filename="acme-')


# ---------------------------------------------------------------------------
# Where a business is: sign-up and a new business start from the browser
# ---------------------------------------------------------------------------


def selected(page: str, name: str) -> str:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)
    return re.search(r'<option value="([^"]*)"[^>]*selected', select).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept, country, currency, zone",
    [
        # By hand from CLDR: the region of the browser's language, its currency
        # and its one time zone.
        ("ko-KR,ko;q=0.9", "KR", "KRW", "Asia/Seoul"),
        ("pl", "PL", "PLN", "Europe/Warsaw"),
        ("ro-RO", "RO", "RON", "Europe/Bucharest"),
        ("fr-CA,fr;q=0.8", "CA", "CAD", "UTC"),
        ("en-GB", "GB", "GBP", "Europe/London"),
    ],
)
def test_sign_up_suggests_the_country_currency_and_zone_of_the_browser(
    client, accept, country, currency, zone
):
    page = client.get(
        reverse("signup"), headers={"accept-language": accept}
    ).content.decode()

    assert selected(page, "country") == country
    assert selected(page, "currency") == currency
    # A country of several zones (Canada) leaves the zone to the browser's
    # script; the page still names one.
    assert selected(page, "timezone") == zone
    assert 'data-place-new=""' in page
    assert 'id="place-suggestions"' in page


@pytest.mark.django_db
def test_a_business_signed_up_is_where_its_owner_said(client):
    from hourglass.tests.utils import signup_data

    client.post(
        reverse("signup"),
        signup_data(country="KR", currency="KRW", timezone="Asia/Seoul"),
    )

    business = User.objects.get(email="nora@example.com").memberships.get().business
    assert (business.country, business.currency, business.timezone) == (
        "KR",
        "KRW",
        "Asia/Seoul",
    )


def test_the_settings_change_the_country_and_keep_the_saved_zone(alice_client, acme):
    url = reverse("hourglass:settings", args=[acme.slug])
    page = alice_client.get(url).content.decode()
    assert 'data-place-new=""' not in page

    alice_client.post(
        url,
        {
            "name": "Acme",
            "country": "RO",
            "currency": "RON",
            "timezone": "Europe/Paris",
        },
    )

    acme.refresh_from_db()
    assert (acme.country, acme.currency, acme.timezone) == (
        "RO",
        "RON",
        "Europe/Paris",
    )


def test_an_unknown_country_is_refused_naming_the_field(alice_client, acme):
    url = reverse("hourglass:settings", args=[acme.slug])

    response = alice_client.post(
        url,
        {"name": "Acme", "country": "XX", "currency": "EUR", "timezone": "UTC"},
    )

    assert response.context["form"].errors["country"]


# ---------------------------------------------------------------------------
# Figures in markup stay machine figures in every language
# ---------------------------------------------------------------------------

SVG_NUMBERS = re.compile(r'\b(?:x|y|y1|y2|width|rx|viewBox)="([^"]*)"')


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_the_hourglass_drawing_places_its_labels_with_decimal_points(
    alice_client, alice, acme, code
):
    """A language that writes decimals with a comma once turned y="56.5" into
    y="56,5": two y values, so each letter of a stage's name after the first
    went to y=5, out of sight."""
    User.objects.filter(pk=alice.pk).update(language=code)

    page = alice_client.get(reverse("hourglass:overview", args=[acme.slug]))

    drawing = re.search(
        r'<svg class="hourglass".*?</svg>', page.content.decode(), re.S
    ).group(0)
    values = SVG_NUMBERS.findall(drawing)
    assert values
    assert not [value for value in values if "," in value], values


# ---------------------------------------------------------------------------
# The pages a team uses every week, in each language
# ---------------------------------------------------------------------------

# (URL name, a string of the page that is not the navigation's).
WEEKLY_PAGES = [
    ("hourglass:overview", "Marketing system"),
    ("metrics:this-week", "This week's numbers"),
    ("metrics:review", "Open meeting mode"),
    ("hourglass:team", "Roles"),
]


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
@pytest.mark.parametrize("name, text", WEEKLY_PAGES)
def test_the_weekly_pages_speak_the_person_language(
    alice_client, alice, acme, code, name, text
):
    User.objects.filter(pk=alice.pk).update(language=code)

    response = alice_client.get(reverse(name, args=[acme.slug]), follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert html_lang(response) == code
    translated = in_language(code, text)
    assert translated != text
    assert translated in page
    assert text not in page


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_the_owner_role_and_the_person_responsible_are_two_words(
    alice_client, alice, acme, webinar_map, code
):
    """English says "Owner" for both; the other languages do not: the team's
    roles name the role, a step's page the person responsible for it."""
    User.objects.filter(pk=alice.pk).update(language=code)
    with translation.override(code):
        role = translation.gettext("Owner")
        responsible = translation.pgettext("responsible", "Owner")
    assert role != responsible

    from systemmaps.tests.utils import step, step_url

    team = alice_client.get(reverse("hourglass:team", args=[acme.slug]))
    step_page = alice_client.get(step_url(step(webinar_map, "call")))

    assert f"<dt>{role}</dt>" in team.content.decode()
    assert f"<dt>{responsible}</dt>" in step_page.content.decode()
    assert f"<dt>{role}</dt>" not in step_page.content.decode()
