from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import (
    ArchiveImport,
    Business,
    Invitation,
    Membership,
    StagePlan,
    Tactic,
    User,
    normalize_email,
)


class _EmailMixin:
    """Emails are stored in lower case and unique whatever their case, as at sign-up."""

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        others = User.objects.filter(email=email).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("Another account uses this email address."))
        return email


class UserAdminCreationForm(_EmailMixin, UserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name"]


class UserAdminChangeForm(_EmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["name"]}),
        (
            _("Permissions"),
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "password1", "password2"],
            },
        ),
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "business", "role", "created_at", "last_used_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__name", "business__name"]
    list_select_related = ["user", "business"]
    raw_id_fields = ["user", "business"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "business",
        "role",
        "invited_by",
        "created_at",
        "accepted_at",
    ]
    list_filter = ["role"]
    search_fields = ["email", "business__name"]
    list_select_related = ["business", "invited_by"]
    raw_id_fields = ["business", "invited_by", "accepted_by"]


@admin.register(StagePlan)
class StagePlanAdmin(admin.ModelAdmin):
    list_display = ["business", "stage", "goal", "updated_at"]
    list_filter = ["stage"]
    search_fields = ["business__name", "goal"]
    list_select_related = ["business"]


@admin.register(Tactic)
class TacticAdmin(admin.ModelAdmin):
    list_display = ["name", "business", "stage", "pep"]
    list_filter = ["stage", "pep"]
    search_fields = ["name", "business__name"]
    list_select_related = ["business"]


@admin.register(ArchiveImport)
class ArchiveImportAdmin(admin.ModelAdmin):
    """Background imports of business archives, to see why one failed."""

    list_display = ["file_name", "started_by", "status", "maps_done", "created_at"]
    list_filter = ["status"]
    search_fields = ["file_name", "name", "started_by__email"]
    readonly_fields = ["business", "started_by", "created_at", "started_at"]
