"""`manage.py extract_messages`: the app's strings into every catalogue of
locale/ (`makemessages` over the code the app runs, not its tests, benches or
installed packages). New strings come out untranslated and changed ones fuzzy;
hourglass/tests/test_languages.py runs this on a copy and fails on either."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.management.commands import makemessages

# What is not the app's own text to translate.
IGNORED = [
    ".venv",
    "node_modules",
    "staticfiles",
    "var",
    "bench",
    "tests",
    "*/tests/*",
]


class MakeMessages(makemessages.Command):
    """makemessages that also reads the aliases the code imports the
    translation functions under (`gettext_lazy as _lazy`, `gettext_noop as
    _noop`): xgettext knows only the names it is told."""

    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=_lazy",
        "--keyword=_noop",
    ]


class Command(BaseCommand):
    help = "Extract the app's strings into locale/<language>/LC_MESSAGES/django.po."

    def handle(self, *args, **options) -> None:
        call_command(
            MakeMessages(),
            locale=[code for code, _name in settings.LANGUAGES if code != "en"],
            ignore_patterns=IGNORED,
            no_obsolete=True,
            verbosity=options["verbosity"],
        )
