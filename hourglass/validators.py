"""Checks on text people type that every form of it shares."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# C0 and C1 control characters (line breaks and tabs among them) and the
# Unicode line and paragraph separators: a name shows on one line, and goes
# into email headers (an invitation's subject names the business).
CONTROL_CHARACTERS = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"

no_control_characters = RegexValidator(
    CONTROL_CHARACTERS,
    inverse_match=True,
    message=_(
        "Use one line of text: line breaks, tabs and other control characters "
        "are not allowed."
    ),
    code="control_characters",
)
