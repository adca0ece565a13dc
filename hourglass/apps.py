from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HourglassConfig(AppConfig):
    name = "hourglass"
    verbose_name = _("Hourglass")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import mark_seen

        # A new session starts its idle clock at login, so its first request
        # does not have to save the session again.
        user_logged_in.connect(
            lambda sender, request, user, **kwargs: mark_seen(request),
            dispatch_uid="hourglass.mark_seen",
            weak=False,
        )
