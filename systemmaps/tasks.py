import logging

from celery import shared_task
from django.conf import settings

from . import rendering, services

logger = logging.getLogger(__name__)


@shared_task(name="systemmaps.tasks.maps_purge_deleted")
def maps_purge_deleted() -> int:
    return services.maps_purge_deleted()


# Graphviz stops itself after MAP_DRAWING_TIMEOUT; the task's own limit is the
# backstop for anything else that hangs.
@shared_task(
    name="systemmaps.tasks.map_draw",
    ignore_result=True,
    time_limit=int(settings.MAP_DRAWING_TIMEOUT) + 60,
)
def map_draw(
    map_id: int,
    version: int,
    fmt: str,
    with_details: bool,
    language: str = settings.LANGUAGE_CODE,
    paper: str = "",
) -> str:
    return rendering.draw(
        map_id=map_id,
        version=version,
        fmt=fmt,
        with_details=with_details,
        language=language,
        paper=paper,
    )


def map_draw_enqueue(
    map_id: int,
    version: int,
    fmt: str,
    with_details: bool,
    language: str = settings.LANGUAGE_CODE,
    paper: str = "",
) -> bool:
    """Queue a drawing. False (logged) when the broker cannot be reached: the
    page that asked keeps waiting and asks again."""
    app = map_draw.app
    try:
        with app.producer_or_acquire() as producer:
            # No retries: a dead broker must not hold up the page.
            producer.connection.ensure_connection(max_retries=0, timeout=2)
            map_draw.apply_async(
                args=[map_id, version, fmt, with_details, language, paper],
                producer=producer,
                retry=False,
            )
    except Exception:
        logger.warning(
            "Could not queue the drawing of map %s version %s (%s).",
            map_id,
            version,
            fmt,
            exc_info=True,
        )
        return False
    return True
