from django.urls import include, path

from . import api, views

# Included under /b/<slug>/ (see hourglass/urls.py): the maps under maps/, and the
# pages about the steps people own across maps at the business level.
app_name = "systemmaps"

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
]

urlpatterns = [
    path("maps/", include(map_patterns)),
]
