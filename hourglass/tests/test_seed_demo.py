"""`manage.py seed_demo [--language CODE] [--replace]`: a believable demo
business, the same after a second run, in any of the app's languages, with every
text it writes translatable."""

from io import StringIO

import pytest
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import translation

from hourglass import demo
from hourglass.models import Business, Membership, Role, Stage, Tactic, User
from hourglass.tests.utils import extract_catalogues
from metrics.models import Metric
from systemmaps.models import ChecklistRun, Node, SystemMap

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# Text fields the demo fills that are not text to translate: keys, addresses,
# people's names and the names of the tools they use (Mailchimp, Zapier, …).
NOT_TRANSLATED = {
    "hourglass.User.password",
    "hourglass.User.email",
    "hourglass.User.name",
    "hourglass.Business.slug",
    "systemmaps.Node.client_id",
    "systemmaps.Node.automation_tool",
    "systemmaps.Edge.client_id",
    "metrics.Metric.step_key",
    "metrics.MetricWeek.step_key",
    "metrics.StepConversion.from_key",
    "metrics.StepConversion.to_key",
}


def _all_rows() -> dict[str, list[tuple]]:
    """Every row of every model of our apps, as plain values."""
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label in {"hourglass", "systemmaps", "metrics"}:
            rows[model._meta.label] = sorted(
                (tuple(sorted(row.items())) for row in model.objects.values()),
                key=repr,
            )
    return rows


def test_seed_demo_creates_a_believable_business(db):
    call_command("seed_demo", verbosity=0)

    business = Business.objects.get(slug=demo.DEMO_SLUG)
    memberships = Membership.objects.filter(business=business)
    assert memberships.count() == 4  # the demo owner and three teammates
    assert memberships.get(user__email=demo.DEMO_EMAIL).role == Role.OWNER
    assert {m.role for m in memberships} == {Role.OWNER, Role.EDITOR, Role.MEMBER}
    stages_with_tactics = set(
        Tactic.objects.filter(business=business).values_list("stage", flat=True)
    )
    assert len(stages_with_tactics) >= 4
    know_buckets = set(
        Tactic.objects.filter(business=business, stage=Stage.KNOW).values_list(
            "pep", flat=True
        )
    )
    assert len(know_buckets) >= 2
    assert User.objects.get(email=demo.DEMO_EMAIL).check_password(demo.DEMO_PASSWORD)


def _texts() -> dict[str, set[str]]:
    """Every non-empty free text the demo wrote (text fields without choices,
    but for NOT_TRANSLATED), by "app.Model.field"."""
    texts = {}
    for model in apps.get_models():
        if model._meta.app_label not in {"hourglass", "systemmaps", "metrics"}:
            continue
        for field in model._meta.concrete_fields:
            label = f"{model._meta.label}.{field.name}"
            if (
                isinstance(field, models.CharField | models.TextField)
                and not field.choices
                and label not in NOT_TRANSLATED
            ):
                values = model.objects.values_list(field.attname, flat=True)
                if found := {value for value in values if value}:
                    texts[label] = found
    return texts


@pytest.mark.parametrize("code", ["ko", "pl"])
def test_demo_login_sees_the_hourglass_in_the_demo_language(client, db, code):
    call_command("seed_demo", "--language", code, verbosity=0)
    response = client.post(
        "/accounts/login/",
        {"username": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD},
        follow=True,
    )
    page = response.content.decode()
    assert f'<html lang="{code}"' in page
    with translation.override(code):
        webinar = translation.gettext("Webinar to client")
    assert webinar != "Webinar to client"
    assert webinar in page  # the hourglass lists the demo's maps, in its language


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo", verbosity=0)
    first = _all_rows()
    call_command("seed_demo", verbosity=0)
    assert _all_rows() == first
    # The comparison covers real rows of every kind the demo makes.
    for label in ("hourglass.Tactic", "systemmaps.ChecklistItem", "systemmaps.RunTick"):
        assert first[label], label


@pytest.mark.parametrize("code", LANGUAGES)
def test_seed_demo_twice_in_a_language_changes_nothing(db, code):
    call_command("seed_demo", "--language", code, verbosity=0)
    first = _all_rows()
    call_command("seed_demo", "--language", code, verbosity=0)
    assert _all_rows() == first
    for label in ("hourglass.Tactic", "systemmaps.RunTick", "metrics.Entry"):
        assert first[label], label
    # The demo's people speak the demo's language.
    people = User.objects.filter(memberships__business__slug=demo.DEMO_SLUG)
    assert sorted(people.values_list("language", flat=True)) == [code] * 4


def test_seed_demo_speaks_english_by_default(db):
    call_command("seed_demo", verbosity=0)
    assert User.objects.get(email=demo.DEMO_EMAIL).language == "en"


def test_demo_in_french_finds_its_maps_by_their_french_names(db):
    """The maps come from templates that are already translated: the steps,
    owners, checklists and metrics find them by their French names."""
    call_command("seed_demo", "--language", "en", verbosity=0)
    english = {
        "maps": sorted(SystemMap.objects.values_list("name", flat=True)),
        "steps of metrics": Metric.objects.filter(step__isnull=False).count(),
        "owned steps": Node.objects.filter(owner__isnull=False).count(),
        "runs": ChecklistRun.objects.count(),
    }
    Business.objects.all().delete()
    call_command("seed_demo", "--language", "fr", verbosity=0)
    with translation.override("fr"):
        webinar = translation.gettext("Webinar to client")
    assert webinar != "Webinar to client"
    french_maps = sorted(SystemMap.objects.values_list("name", flat=True))
    assert webinar in french_maps
    assert french_maps != english["maps"]
    assert english["steps of metrics"] == 7
    assert Metric.objects.filter(step__isnull=False).count() == 7
    assert Node.objects.filter(owner__isnull=False).count() == english["owned steps"]
    assert ChecklistRun.objects.count() == english["runs"] > 0


def test_every_text_of_the_demo_is_in_the_catalogues(db, tmp_path):
    """Seeded in English, every text the demo wrote is a msgid that
    makemessages extracts (so each one reaches the translators and gettext)."""
    copy = extract_catalogues(tmp_path)
    with open(copy / "fr" / "LC_MESSAGES" / "django.po", "rb") as po:
        msgids = {
            message.id[0] if isinstance(message.id, tuple) else message.id
            for message in read_po(po, locale="fr")
        }
    call_command("seed_demo", verbosity=0)
    texts = _texts()
    # The texts of every app's demo are there to check.
    for label in (
        "hourglass.Business.name",
        "hourglass.Tactic.note",
        "systemmaps.ChecklistRun.subject",
        "metrics.Metric.description",
        "metrics.Todo.text",
    ):
        assert texts.get(label), label
    missing = sorted(
        f"{label}: {text!r}"
        for label, values in texts.items()
        for text in values
        if text not in msgids
    )
    assert not missing, "not extracted for translation:\n" + "\n".join(missing)


def test_seeding_another_language_leaves_the_demo_alone(db):
    call_command("seed_demo", "--language", "fr", verbosity=0)
    first = _all_rows()
    out = StringIO()
    call_command("seed_demo", "--language", "ko", stdout=out)
    assert _all_rows() == first
    assert "already there in 'fr': nothing changed" in out.getvalue()
    assert "--replace" in out.getvalue()


def test_replace_seeds_the_demo_again_in_another_language(db):
    call_command("seed_demo", "--language", "fr", verbosity=0)
    owner = User.objects.get(email=demo.DEMO_EMAIL)
    out = StringIO()
    call_command("seed_demo", "--language", "ko", "--replace", stdout=out)
    assert "Deleted the demo business seeded in 'fr'" in out.getvalue()
    business = Business.objects.get()
    assert business.slug == demo.DEMO_SLUG
    with translation.override("ko"):
        webinar = translation.gettext("Webinar to client")
    assert SystemMap.objects.filter(business=business, name=webinar).exists()
    assert SystemMap.objects.count() == 3  # the French maps went with the business
    # The same accounts, now speaking Korean.
    assert User.objects.get(email=demo.DEMO_EMAIL).pk == owner.pk
    assert set(User.objects.values_list("language", flat=True)) == {"ko"}


def test_a_demo_from_before_the_choice_counts_as_english(db):
    call_command("seed_demo", verbosity=0)
    User.objects.update(language="")
    out = StringIO()
    call_command("seed_demo", "--language", "en", stdout=out)
    assert "already there" in out.getvalue()
    assert User.objects.get(email=demo.DEMO_EMAIL).language == "en"
    call_command("seed_demo", "--language", "pl", stdout=out)
    assert "already there in 'en': nothing changed" in out.getvalue()


def test_an_unknown_language_is_refused(db):
    with pytest.raises(CommandError, match=r"--language: invalid choice: 'xx'"):
        call_command("seed_demo", "--language", "xx")
    assert not Business.objects.exists()


def test_demo_login_owns_steps_with_checklists_costs_and_runs(db):
    call_command("seed_demo", verbosity=0)
    business = Business.objects.get(slug=demo.DEMO_SLUG)
    dana = Membership.objects.get(business=business, user__email=demo.DEMO_EMAIL)
    mine = list(Node.objects.filter(owner=dana).select_related("owner").order_by("pk"))
    assert len(mine) >= 5
    assert len({node.map_id for node in mine}) >= 2  # My steps spans maps
    assert all(node.annual_cost for node in mine)
    critical = [node for node in mine if node.critical]
    assert any(node.checklist_items.count() >= 3 for node in critical)
    runs = ChecklistRun.objects.filter(node__owner=dana)
    assert runs.filter(finished_at__isnull=True).exists()  # an open run to go on with
    assert runs.filter(finished_at__isnull=False, ticked_count__gt=0).exists()
    assert business.marketing_owner.user.email == "sam@example.com"
    assert all(m.hourly_rate for m in Membership.objects.filter(business=business))
    # Something for the gap report to find on first run.
    assert Node.objects.filter(
        map__business=business, kind="task", owner__isnull=True
    ).exists()


def test_demo_login_reaches_the_hourglass(client, db):
    call_command("seed_demo", verbosity=0)
    response = client.post(
        "/accounts/login/",
        {"username": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/b/{demo.DEMO_SLUG}/"
    assert b"Brightside Bookkeeping" in response.content
