from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HourglassConfig(AppConfig):
    name = "hourglass"
    verbose_name = _("Hourglass")
