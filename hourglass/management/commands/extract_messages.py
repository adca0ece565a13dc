"""`manage.py extract_messages`: the app's strings into every catalogue of
locale/ (`makemessages` over the code the app runs, not its tests, benches or
installed packages). New strings come out untranslated and changed ones fuzzy;
hourglass/tests/test_languages.py runs this on a copy and fails on either."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

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


class Command(BaseCommand):
    help = "Extract the app's strings into locale/<language>/LC_MESSAGES/django.po."

    def handle(self, *args, **options) -> None:
        call_command(
            "makemessages",
            locale=[code for code, _name in settings.LANGUAGES if code != "en"],
            ignore_patterns=IGNORED,
            no_obsolete=True,
            verbosity=options["verbosity"],
        )
