from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Metrics")

    def ready(self) -> None:
        from systemmaps.signals import map_changed

        from .services import map_changed_receiver

        map_changed.connect(map_changed_receiver, dispatch_uid="metrics.map_changed")
