from django.contrib import admin

from .models import Edge, Node, Revision, SystemMap


class NodeInline(admin.TabularInline):
    model = Node
    extra = 0
    fields = ["client_id", "kind", "label", "stage", "x", "y"]


@admin.register(SystemMap)
class SystemMapAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "business",
        "half",
        "status",
        "version",
        "lint_errors",
        "updated_at",
        "deleted_at",
    ]
    list_filter = ["half", "status"]
    search_fields = ["name", "product", "business__name"]
    list_select_related = ["business"]
    raw_id_fields = ["business", "created_by", "updated_by", "deleted_by"]
    readonly_fields = ["version", "lint_errors", "lint_warnings"]
    inlines = [NodeInline]


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["label", "kind", "map", "stage", "client_id"]
    list_filter = ["kind", "stage"]
    search_fields = ["label", "map__name"]
    list_select_related = ["map"]
    raw_id_fields = ["map"]


@admin.register(Edge)
class EdgeAdmin(admin.ModelAdmin):
    list_display = ["client_id", "map", "source", "target", "label"]
    search_fields = ["label", "map__name"]
    list_select_related = ["map", "source", "target"]
    raw_id_fields = ["map", "source", "target"]


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["map", "version", "created_by", "created_at", "note"]
    search_fields = ["map__name", "note"]
    list_select_related = ["map", "created_by"]
    raw_id_fields = ["map", "created_by"]
    readonly_fields = ["graph"]
