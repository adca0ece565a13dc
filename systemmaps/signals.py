"""What the system maps app tells the apps above it, without importing them.

`map_changed` is sent inside the transaction of every write that changes what a
map is — a saved graph, a move to the trash or back — with `business_id` and
`map_id`: the weekly review (metrics) recomputes the open week, which judges
maps as they are now (weeks that closed keep the map as it was). A saved graph
also names the steps it left out, `deleted_steps` (their pks), and the deleted
steps it brought back, `returned_steps` ({client id: pk}): what the apps above
link to a step is unlinked from a deleted one and linked again on its return.
"""

from django.dispatch import Signal

map_changed = Signal()
