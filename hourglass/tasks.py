from celery import shared_task

from . import services


@shared_task(name="hourglass.tasks.invitations_purge_expired")
def invitations_purge_expired() -> int:
    return services.invitations_purge_expired()
