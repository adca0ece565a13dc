from django.urls import include, path

from .views import (
    api,
    drawings,
    editor,
    maps,
    outline,
    reports,
    revisions,
    runs,
    steps,
    walk,
)

# Included under /b/<slug>/ (see hourglass/urls.py): the maps under maps/, and the
# pages about the steps people own across maps at the business level.
app_name = "systemmaps"

# Under maps/<pk>/steps/<node>/ (the step page and its parts).
step_patterns = [
    path("", steps.step_detail, name="step-detail"),
    path("details/", steps.step_details, name="step-details"),
    path("flags/", steps.step_flag_add, name="step-flag-add"),
    path(
        "flags/<int:flag>/resolve/",
        steps.step_flag_resolve,
        name="step-flag-resolve",
    ),
    path("sop/", steps.step_sop, name="step-sop"),
    path("sop/reviewed/", steps.step_sop_reviewed, name="step-sop-reviewed"),
    path("checklist/", steps.step_checklist, name="step-checklist"),
    path(
        "checklist/order/",
        steps.step_checklist_order,
        name="step-checklist-order",
    ),
    path(
        "checklist/<int:item>/",
        steps.step_checklist_item,
        name="step-checklist-item",
    ),
    path(
        "checklist/<int:item>/delete/",
        steps.step_checklist_item_delete,
        name="step-checklist-item-delete",
    ),
    path(
        "checklist/<int:item>/move/",
        steps.step_checklist_item_move,
        name="step-checklist-item-move",
    ),
    path("runs/", runs.step_run_start, name="step-run-start"),
]

# Checklist runs, at the business level (runs/<run>/).
run_patterns = [
    path("", runs.run_detail, name="run-detail"),
    path("notes/", runs.run_update, name="run-update"),
    path("items/<int:item>/", runs.run_tick, name="run-tick"),
    path("finish/", runs.run_finish, name="run-finish"),
]

map_patterns = [
    path("", maps.map_list, name="map-list"),
    path("new/", maps.map_new, name="map-new"),
    path("templates/", maps.template_list, name="template-list"),
    path("templates/<slug:key>/use/", maps.template_use, name="template-use"),
    path("import/", maps.map_import, name="map-import"),
    path("import/<int:pk>/", maps.map_import_draft, name="map-import-draft"),
    path("trash/", maps.map_trash, name="map-trash"),
    path("<int:pk>/", maps.map_detail, name="map-detail"),
    path("<int:pk>/edit/", editor.map_edit, name="map-edit"),
    path("<int:pk>/settings/", maps.map_settings, name="map-settings"),
    path("<int:pk>/tidy/", maps.map_tidy, name="map-tidy"),
    path("<int:pk>/duplicate/", maps.map_duplicate, name="map-duplicate"),
    path("<int:pk>/delete/", maps.map_delete, name="map-delete"),
    path("<int:pk>/restore/", maps.map_restore, name="map-restore"),
    path("<int:pk>/export.<str:fmt>", maps.map_export, name="map-export"),
    path("<int:pk>/drawing/", drawings.map_drawing, name="map-drawing"),
    path("<int:pk>/graph.json", api.graph, name="map-graph"),
    path("<int:pk>/layout.json", api.layout_json, name="map-layout"),
    path("<int:pk>/analysis.json", api.analysis_json, name="map-analysis"),
    path("<int:pk>/revisions/", revisions.revision_list, name="revision-list"),
    path(
        "<int:pk>/revisions/<int:version>/",
        revisions.revision_detail,
        name="revision-detail",
    ),
    path(
        "<int:pk>/revisions/<int:version>/drawing/",
        drawings.revision_drawing,
        name="revision-drawing",
    ),
    path(
        "<int:pk>/revisions/<int:version>/restore/",
        revisions.revision_restore,
        name="revision-restore",
    ),
    # Outline view and step panel
    path("<int:pk>/outline/", outline.map_outline, name="map-outline"),
    path(
        "<int:pk>/outline/steps/<str:node>/rename/",
        outline.outline_rename,
        name="outline-rename",
    ),
    path(
        "<int:pk>/outline/steps/<str:node>/details/",
        outline.outline_details,
        name="outline-details",
    ),
    path(
        "<int:pk>/outline/steps/<str:node>/add-next/",
        outline.outline_add_next,
        name="outline-add-next",
    ),
    path(
        "<int:pk>/outline/steps/<str:node>/add-branch/",
        outline.outline_add_branch,
        name="outline-add-branch",
    ),
    path(
        "<int:pk>/outline/steps/<str:node>/delete/",
        outline.outline_delete,
        name="outline-delete",
    ),
    path("<int:pk>/steps/<str:node>/panel/", editor.step_panel, name="step-panel"),
    path(
        "<int:pk>/steps/<str:node>/panel/owner/",
        editor.step_panel_owner,
        name="step-panel-owner",
    ),
    # The step page: details, flagged problems, SOP checklist, runs
    path("<int:pk>/steps/<str:node>/", include(step_patterns)),
    path("<int:pk>/gaps/", reports.map_gaps, name="map-gaps"),
    # Walkthrough
    path("<int:pk>/walk/", walk.map_walk, name="map-walk"),
    path(
        "<int:pk>/walk/steps/<str:node>/flag/",
        walk.walk_flag,
        name="walk-flag",
    ),
]

urlpatterns = [
    path("maps/", include(map_patterns)),
    path("runs/<int:run>/", include(run_patterns)),
    path("me/", reports.my_steps, name="my-steps"),
    path("gaps/", reports.business_gaps, name="gaps"),
]
