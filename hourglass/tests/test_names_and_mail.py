"""Names stay on one line (a line break in a business's name once made
inviting a 500 and stopped the weekly reminders at that business), and an
email that cannot be sent never breaks the request or the run that sends it."""

import logging
import re
import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from hourglass.models import Business, Invitation, Membership, User
from hourglass.tests.factories import BusinessFactory
from hourglass.tests.utils import signup_data
from metrics import reminders, weeks
from metrics.tests.factories import MetricFactory
from metrics.weeks import WEEK

EVIL = "Evil\nBcc: everyone@example.com"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "business_name"])
@pytest.mark.parametrize("text", [EVIL, "Tab\there", "Line\u2028separator", "\x00"])
def test_signup_refuses_control_characters_in_a_name(client, field, text):
    businesses = Business.objects.count()
    response = client.post(reverse("signup"), signup_data(**{field: text}))
    assert response.status_code in (200, 422)
    form = response.context["form"]
    assert "control characters" in " ".join(form.errors[field])
    assert not User.objects.filter(email="nora@example.com").exists()
    # (Counted: PostgreSQL takes no NUL even in a query's parameter.)
    assert Business.objects.count() == businesses


def test_renaming_a_business_refuses_a_line_break(alice_client, acme):
    url = reverse("hourglass:settings", kwargs={"slug": acme.slug})
    data = {"name": EVIL, "currency": "EUR", "timezone": "Europe/Paris"}
    response = alice_client.post(url, data)
    assert "control characters" in response.content.decode()
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_a_name_saved_with_a_line_break_still_gets_its_invitation_out(
    alice_client, acme, django_capture_on_commit_callbacks
):
    """A name saved before names were checked: the subject is one line."""
    Business.objects.filter(pk=acme.pk).update(name=EVIL)
    invite = reverse("hourglass:invite", kwargs={"slug": acme.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            invite, {"email": "dave@example.com", "role": "member"}
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert "\n" not in message.subject
    assert "Evil Bcc: everyone@example.com" in message.subject
    assert message.to == ["dave@example.com"]
    assert message.bcc == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_an_invitation_whose_email_cannot_be_sent_is_kept_with_its_link(
    alice_client, acme, caplog
):
    """A real SMTP backend pointed at a port nobody listens on: the request
    answers normally, says the email did not go, and the team page shows the
    invitation's link to pass on. (Real transactions: the email goes when the
    invitation is committed, before the page answers.)"""
    invite = reverse("hourglass:invite", kwargs={"slug": acme.slug})
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=_closed_port(),
            EMAIL_TIMEOUT=2,
        ),
        caplog.at_level(logging.ERROR, logger="hourglass.mail"),
    ):
        response = alice_client.post(
            invite, {"email": "dave@example.com", "role": "member"}, follow=True
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "its email could not be sent" in html
    # The invitation is kept, and its row on the team page has the link to share.
    Invitation.objects.get(business=acme, email="dave@example.com")
    row = re.search(
        r'<li class="row" data-testid="invitation">.*?</li>', html, re.S
    ).group(0)
    assert "dave@example.com" in row
    assert re.search(
        r'Link to share</span><input type="text" readonly value="http', row
    )
    assert [r.name for r in caplog.records] == ["hourglass.mail"]


def test_one_reminder_that_cannot_be_sent_never_stops_the_others(
    acme, alice, other_co, charlie, caplog
):
    """Two businesses due on Monday morning: one owner's address (saved before
    addresses were checked) makes the email fail; the other still gets theirs,
    and both weeks are marked reminded (nobody gets one twice)."""
    User.objects.filter(pk=charlie.pk).update(email="charlie\n@example.com")
    for business, user in ((acme, alice), (other_co, charlie)):
        owner = Membership.objects.get(business=business, user=user)
        MetricFactory(
            business=business,
            owner=owner,
            first_week=weeks.last_week(business.timezone) - WEEK,
        )
    other_co.timezone = acme.timezone
    other_co.save()
    monday = weeks.current_week(acme.timezone)
    now = datetime(
        monday.year, monday.month, monday.day, 9, tzinfo=ZoneInfo(acme.timezone)
    )

    with caplog.at_level(logging.ERROR, logger="hourglass.mail"):
        assert reminders.reminders_send(now=now) == 1

    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert len([r for r in caplog.records if r.name == "hourglass.mail"]) == 1
    assert reminders.reminders_send(now=now) == 0
    assert len(mail.outbox) == 1


def test_the_admin_refuses_a_line_break_in_a_name_too(acme):
    """The model field carries the same check (the admin and full_clean)."""

    business = BusinessFactory.build(name=EVIL, slug="evil")
    with pytest.raises(ValidationError) as refused:
        business.full_clean()
    assert "name" in refused.value.message_dict
    user = User(email="x@example.com", name="A\rB")
    with pytest.raises(ValidationError):
        user.full_clean(exclude=["password"])
