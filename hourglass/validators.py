"""Checks on text people type that every form of it shares.

A name (of a person, a business, a map, a metric, a tactic) shows on one line and
may go into an email header (an invitation's subject names the business), so it
holds no control character. Typed in a form or read from one of our own files, a
name with one is refused (`no_control_characters`, `is_one_line`); a title read
from another tool's file is made one line (`one_line`) rather than refused.
"""

import re

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# C0 and C1 control characters (line breaks and tabs among them) and the
# Unicode line and paragraph separators.
CONTROL_CHARACTERS = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
_CONTROL = re.compile(CONTROL_CHARACTERS)
_BREAKS = re.compile(f"(?:{CONTROL_CHARACTERS}|\\s)+")

ONE_LINE_MESSAGE = _(
    "Use one line of text: line breaks, tabs and other control characters "
    "are not allowed."
)

no_control_characters = RegexValidator(
    CONTROL_CHARACTERS,
    inverse_match=True,
    message=ONE_LINE_MESSAGE,
    code="control_characters",
)


def is_one_line(text: str) -> bool:
    """Whether `text` holds no control character (`no_control_characters`)."""
    return _CONTROL.search(text) is None


def one_line(text: str) -> str:
    """`text` with every run of whitespace and control characters as one space,
    trimmed."""
    return _BREAKS.sub(" ", text).strip()
