from celery import shared_task

from . import services


@shared_task(name="systemmaps.tasks.maps_purge_deleted")
def maps_purge_deleted() -> int:
    return services.maps_purge_deleted()
