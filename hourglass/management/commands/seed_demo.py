from django.core.management.base import BaseCommand
from django.db import transaction

from hourglass import demo
from hourglass.models import User
from metrics import demo as metrics_demo
from systemmaps import demo as maps_demo


class Command(BaseCommand):
    help = (
        "Create the demo business and its people (safe to run again: changes nothing)."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        business = demo.seed()
        maps_demo.seed(business, User.objects.get(email=demo.DEMO_EMAIL))
        metrics_demo.seed(business)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo business '{business.name}' is ready at /b/{business.slug}/ — "
                f"log in as {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}"
            )
        )
