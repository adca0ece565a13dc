from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemmapsConfig(AppConfig):
    name = "systemmaps"
    verbose_name = _("System maps")
