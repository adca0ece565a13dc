from celery import shared_task
from django.conf import settings

from . import archive, services


@shared_task(name="hourglass.tasks.invitations_purge_expired")
def invitations_purge_expired() -> int:
    return services.invitations_purge_expired()


@shared_task(
    name="hourglass.tasks.archive_import_run",
    soft_time_limit=settings.ARCHIVE_IMPORT_SOFT_TIME_LIMIT,
    time_limit=settings.ARCHIVE_IMPORT_TIME_LIMIT,
)
def archive_import_run(job_id: str) -> str | None:
    job = archive.archive_import_run(job_id=job_id)
    return job.status if job else None


@shared_task(name="hourglass.tasks.archive_imports_purge")
def archive_imports_purge() -> int:
    return archive.archive_imports_purge()
