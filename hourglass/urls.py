from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .forms import LoginForm

# Pages of one business; every one of them resolves the business from the
# logged-in user's membership (hourglass.access.business_view) or answers 404.
business_patterns = (
    [
        path("", views.overview, name="overview"),
        path("stages/<str:stage>/", views.stage_plan, name="stage-plan"),
        path("stages/<str:stage>/edit/", views.stage_edit, name="stage-edit"),
        path("tactics/new/", views.tactic_create, name="tactic-create"),
        path("tactics/<int:pk>/edit/", views.tactic_edit, name="tactic-edit"),
        path("tactics/<int:pk>/delete/", views.tactic_delete, name="tactic-delete"),
        path("team/", views.team, name="team"),
        path("team/invite/", views.invite, name="invite"),
        path(
            "team/invitations/<int:pk>/resend/",
            views.invitation_resend,
            name="invitation-resend",
        ),
        path(
            "team/invitations/<int:pk>/revoke/",
            views.invitation_revoke,
            name="invitation-revoke",
        ),
        path("team/members/<int:pk>/role/", views.member_role, name="member-role"),
        path(
            "team/members/<int:pk>/profile/",
            views.member_profile,
            name="member-profile",
        ),
        path("team/marketing-owner/", views.marketing_owner, name="marketing-owner"),
        path(
            "team/members/<int:pk>/remove/", views.member_remove, name="member-remove"
        ),
        path("leave/", views.leave, name="leave"),
        path("settings/", views.business_settings, name="settings"),
        path("delete/", views.business_delete, name="delete"),
        path("export/", views.business_export, name="export"),
    ],
    "hourglass",
)

account_patterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
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
        "password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include(account_patterns)),
    path("businesses/new/", views.business_create, name="business-create"),
    path("businesses/import/", views.business_import, name="business-import"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("b/<slug:slug>/", include(business_patterns)),
    path("b/<slug:slug>/", include("systemmaps.urls")),
    path("b/<slug:slug>/", include("metrics.urls")),
    path("admin/", admin.site.urls),
]
