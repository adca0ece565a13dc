from django.http import Http404, HttpRequest

from .models import SystemMap


def get_map_for_member(
    request: HttpRequest, pk: int, *, in_trash: bool = False
) -> SystemMap:
    """A map of the request's business (resolved by `business_view`), or 404.

    Deleted maps are invisible except to the trash pages, which ask for them.
    """
    maps = SystemMap.objects.filter(business=request.business).select_related(
        "business", "updated_by", "created_by"
    )
    maps = maps.in_trash() if in_trash else maps.alive()
    try:
        return maps.get(pk=pk)
    except SystemMap.DoesNotExist:
        raise Http404("No such map") from None
