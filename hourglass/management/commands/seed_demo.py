from django.core.management.base import BaseCommand

from hourglass import demo


class Command(BaseCommand):
    help = (
        "Create the demo business and its people (safe to run again: changes nothing)."
    )

    def handle(self, *args, **options) -> None:
        business = demo.seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo business '{business.name}' is ready at /b/{business.slug}/ — "
                f"log in as {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}"
            )
        )
