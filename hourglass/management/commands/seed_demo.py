from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import translation

from hourglass import demo
from hourglass.models import User
from metrics import demo as metrics_demo
from systemmaps import demo as maps_demo


class Command(BaseCommand):
    help = (
        "Create the demo business and its people in one of the app's languages "
        "(safe to run again: changes nothing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default="en",
            help="The language of the demo's texts and of its people (default: en).",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=(
                "If the demo is already there in another language, delete it and "
                "seed it again in --language (its people's accounts stay)."
            ),
        )

    # The output is for whoever runs the command on a console, in English like
    # Django's own management commands.
    @transaction.atomic
    def handle(self, *args, **options) -> None:
        language = options["language"]
        existing = demo.existing_language()
        if existing is not None and existing != language:
            if not options["replace"]:
                self.stdout.write(
                    self.style.WARNING(
                        f"The demo business is already there in '{existing}': "
                        f"nothing changed. Run seed_demo --language {language} "
                        "--replace to delete it and seed it in "
                        f"'{language}', or seed_demo --language {existing} to "
                        "complete it."
                    )
                )
                return
            demo.remove()
            self.stdout.write(f"Deleted the demo business seeded in '{existing}'.")
        with translation.override(language):
            business = demo.seed(language=language)
            maps_demo.seed(business, User.objects.get(email=demo.DEMO_EMAIL))
            metrics_demo.seed(business)
        what = (
            "was already there; anything missing was added"
            if existing == language
            else "has been created"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo business '{business.name}' ({language}) {what}: "
                f"/b/{business.slug}/ — "
                f"log in as {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}"
            )
        )
