from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from .forms import LoginForm
from .views import accounts, business, overview, team


class BusinessSlug:
    """A business's slug: letters of any script, digits, "-" and "_" (Django's
    `slug` converter takes ASCII only; `서울-회계법인` is a slug here)."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(BusinessSlug, "business")

# Pages of one business; every one of them resolves the business from the
# logged-in user's membership (hourglass.access.business_view) or answers 404.
business_patterns = (
    [
        path("", overview.overview, name="overview"),
        path("stages/<str:stage>/", overview.stage_plan, name="stage-plan"),
        path("stages/<str:stage>/edit/", overview.stage_edit, name="stage-edit"),
        path("tactics/new/", overview.tactic_create, name="tactic-create"),
        path("tactics/<int:pk>/edit/", overview.tactic_edit, name="tactic-edit"),
        path("tactics/<int:pk>/delete/", overview.tactic_delete, name="tactic-delete"),
        path("team/", team.team, name="team"),
        path("team/invite/", team.invite, name="invite"),
        path(
            "team/invitations/<int:pk>/resend/",
            team.invitation_resend,
            name="invitation-resend",
        ),
        path(
            "team/invitations/<int:pk>/revoke/",
            team.invitation_revoke,
            name="invitation-revoke",
        ),
        path("team/members/<int:pk>/role/", team.member_role, name="member-role"),
        path(
            "team/members/<int:pk>/profile/",
            team.member_profile,
            name="member-profile",
        ),
        path("team/marketing-owner/", team.marketing_owner, name="marketing-owner"),
        path("team/members/<int:pk>/remove/", team.member_remove, name="member-remove"),
        path("leave/", team.leave, name="leave"),
        path("settings/", business.business_settings, name="settings"),
        path("delete/", business.business_delete, name="delete"),
        path("export/", business.business_export, name="export"),
    ],
    "hourglass",
)

account_patterns = [
    path("signup/", accounts.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", accounts.profile, name="profile"),
    path("language/", accounts.language, name="language"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", accounts.home, name="home"),
    path("accounts/", include(account_patterns)),
    path("businesses/new/", business.business_create, name="business-create"),
    path("businesses/import/", business.business_import, name="business-import"),
    path(
        "businesses/import/<uuid:job_id>/",
        business.business_import_job,
        name="business-import-job",
    ),
    path(
        "invitations/<str:token>/", accounts.invitation_accept, name="invitation-accept"
    ),
    path("b/<business:slug>/", include(business_patterns)),
    path("b/<business:slug>/", include("systemmaps.urls")),
    path("b/<business:slug>/", include("metrics.urls")),
    path("admin/", admin.site.urls),
]
