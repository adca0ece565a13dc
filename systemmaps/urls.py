from django.urls import include, path

from . import api, report_views, step_views, views, walk_views

# Included under /b/<slug>/ (see hourglass/urls.py): the maps under maps/, and the
# pages about the steps people own across maps at the business level.
app_name = "systemmaps"

# Under maps/<pk>/steps/<node>/ (the step page and its parts).
step_patterns = [
    path("", step_views.step_detail, name="step-detail"),
    path("details/", step_views.step_details, name="step-details"),
    path("flags/", step_views.step_flag_add, name="step-flag-add"),
    path(
        "flags/<int:flag>/resolve/",
        step_views.step_flag_resolve,
        name="step-flag-resolve",
    ),
    path("sop/", step_views.step_sop, name="step-sop"),
    path("sop/reviewed/", step_views.step_sop_reviewed, name="step-sop-reviewed"),
    path("checklist/", step_views.step_checklist, name="step-checklist"),
    path(
        "checklist/order/",
        step_views.step_checklist_order,
        name="step-checklist-order",
    ),
    path(
        "checklist/<int:item>/",
        step_views.step_checklist_item,
        name="step-checklist-item",
    ),
    path(
        "checklist/<int:item>/delete/",
        step_views.step_checklist_item_delete,
        name="step-checklist-item-delete",
    ),
    path(
        "checklist/<int:item>/move/",
        step_views.step_checklist_item_move,
        name="step-checklist-item-move",
    ),
    path("runs/", step_views.step_run_start, name="step-run-start"),
]

# Checklist runs, at the business level (runs/<run>/).
run_patterns = [
    path("", step_views.run_detail, name="run-detail"),
    path("notes/", step_views.run_update, name="run-update"),
    path("items/<int:item>/", step_views.run_tick, name="run-tick"),
    path("finish/", step_views.run_finish, name="run-finish"),
]

map_patterns = [
    path("", views.map_list, name="map-list"),
    path("new/", views.map_new, name="map-new"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/<slug:key>/use/", views.template_use, name="template-use"),
    path("import/", views.map_import, name="map-import"),
    path("trash/", views.map_trash, name="map-trash"),
    path("<int:pk>/", views.map_detail, name="map-detail"),
    path("<int:pk>/edit/", views.map_edit, name="map-edit"),
    path("<int:pk>/settings/", views.map_settings, name="map-settings"),
    path("<int:pk>/tidy/", views.map_tidy, name="map-tidy"),
    path("<int:pk>/duplicate/", views.map_duplicate, name="map-duplicate"),
    path("<int:pk>/delete/", views.map_delete, name="map-delete"),
    path("<int:pk>/restore/", views.map_restore, name="map-restore"),
    path("<int:pk>/export.<str:fmt>", views.map_export, name="map-export"),
    path("<int:pk>/graph.json", api.graph, name="map-graph"),
    path("<int:pk>/layout.json", api.layout_json, name="map-layout"),
    path("<int:pk>/analysis.json", api.analysis_json, name="map-analysis"),
    path("<int:pk>/revisions/", views.revision_list, name="revision-list"),
    path(
        "<int:pk>/revisions/<int:version>/",
        views.revision_detail,
        name="revision-detail",
    ),
    path(
        "<int:pk>/revisions/<int:version>/restore/",
        views.revision_restore,
        name="revision-restore",
    ),
    # Outline view and step panel
    path("<int:pk>/outline/", views.map_outline, name="map-outline"),
    path(
        "<int:pk>/outline/steps/<str:node>/rename/",
        views.outline_rename,
        name="outline-rename",
    ),
    path(
        "<int:pk>/outline/steps/<str:node>/add-next/",
        views.outline_add_next,
        name="outline-add-next",
    ),
    path(
        "<int:pk>/outline/steps/<str:node>/add-branch/",
        views.outline_add_branch,
        name="outline-add-branch",
    ),
    path(
        "<int:pk>/outline/steps/<str:node>/delete/",
        views.outline_delete,
        name="outline-delete",
    ),
    path("<int:pk>/steps/<str:node>/panel/", views.step_panel, name="step-panel"),
    path(
        "<int:pk>/steps/<str:node>/panel/owner/",
        views.step_panel_owner,
        name="step-panel-owner",
    ),
    # The step page: details, flagged problems, SOP checklist, runs (step_views)
    path("<int:pk>/steps/<str:node>/", include(step_patterns)),
    path("<int:pk>/gaps/", report_views.map_gaps, name="map-gaps"),
    # Walkthrough
    path("<int:pk>/walk/", walk_views.map_walk, name="map-walk"),
    path(
        "<int:pk>/walk/steps/<str:node>/flag/",
        walk_views.walk_flag,
        name="walk-flag",
    ),
]

urlpatterns = [
    path("maps/", include(map_patterns)),
    path("runs/<int:run>/", include(run_patterns)),
    path("me/", report_views.my_steps, name="my-steps"),
    path("gaps/", report_views.business_gaps, name="gaps"),
]
