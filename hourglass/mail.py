"""Sending the app's emails: a subject is one line whatever the names in it
(a name saved before names were checked can hold a line break, which would
make Django refuse the header), and a mail that cannot be sent is logged and
reported to the caller, never raised into a request or a job."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from .validators import one_line

logger = logging.getLogger(__name__)


def send_in(
    language: str, *, subject_template: str, body_template: str, context: dict, to: str
) -> bool:
    """Render an email's subject and body in `language` (`hourglass.languages`:
    the recipient's) and send it, as `send`."""
    with translation.override(language):
        subject = render_to_string(subject_template, context)
        body = render_to_string(body_template, context)
    return send(subject=subject, body=body, to=to)


def send(*, subject: str, body: str, to: str) -> bool:
    """Send one email; False (logged) when it could not be sent."""
    try:
        send_mail(
            subject=one_line(subject),
            message=body,
            from_email=None,
            recipient_list=[to],
        )
    except Exception:
        logger.exception("Could not send the email %r to %r.", one_line(subject), to)
        return False
    return True
