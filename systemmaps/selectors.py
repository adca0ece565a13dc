"""Reads of system maps for other apps' pages (the hourglass overview)."""

from hourglass.models import STAGE_ORDER, Business

from .models import SystemMap


def maps_by_stage(business: Business) -> dict[str, list[SystemMap]]:
    """The business's maps under each stage they span, in one query."""
    by_stage: dict[str, list[SystemMap]] = {stage: [] for stage in STAGE_ORDER}
    maps = (
        SystemMap.objects.filter(business=business)
        .alive()
        .select_related("business")
        .only("name", "stages", "status", "lint_errors", "lint_warnings", "business")
    )
    for system_map in maps:
        for stage in system_map.stages:
            if stage in by_stage:
                by_stage[stage].append(system_map)
    return by_stage
