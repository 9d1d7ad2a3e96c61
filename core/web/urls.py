from allauth.account import views as account_views
from django.urls import include, path

from core.web import (
    accounts,
    actions,
    apikeys,
    audit,
    auth,
    dashboard,
    members,
    secrets,
    workspace_settings,
)

urlpatterns = [
    path("", auth.home, name="home"),
    # allauth's views at the short addresses people know; the rest under /accounts/.
    path("login/", account_views.login, name="login"),
    path("signup/", accounts.sign_up, name="signup"),
    path("logout/", account_views.logout, name="logout"),
    path("accounts/", include("allauth.urls")),
    path("workspaces/new/", auth.workspace_new, name="workspace_new"),
    path("w/<slug:ws>/", dashboard.dashboard, name="dashboard"),
    path("w/<slug:ws>/members/", members.member_list, name="member_list"),
    path("w/<slug:ws>/members/add", members.member_add, name="member_add"),
    path("w/<slug:ws>/members/<int:member_id>/role", members.member_role, name="member_role"),
    path("w/<slug:ws>/members/<int:member_id>/remove", members.member_remove, name="member_remove"),
    path("w/<slug:ws>/api-keys/", apikeys.api_key_list, name="api_key_list"),
    path("w/<slug:ws>/api-keys/new", apikeys.api_key_create, name="api_key_create"),
    path("w/<slug:ws>/api-keys/<int:key_id>/revoke", apikeys.api_key_revoke, name="api_key_revoke"),
    path("w/<slug:ws>/audit/", audit.audit_list, name="audit_list"),
    path("w/<slug:ws>/secrets/", secrets.secret_list, name="secrets"),
    path("w/<slug:ws>/secrets/new", secrets.secret_add, name="secret_add"),
    path("w/<slug:ws>/secrets/<str:name>/replace", secrets.secret_replace, name="secret_replace"),
    path("w/<slug:ws>/secrets/<str:name>/delete", secrets.secret_delete, name="secret_delete"),
    path("w/<slug:ws>/settings/", workspace_settings.workspace_settings, name="workspace_settings"),
    path(
        "w/<slug:ws>/settings/retention",
        workspace_settings.retention_save,
        name="retention_save",
    ),
    path("w/<slug:ws>/actions/", actions.action_list, name="action_list"),
    path("w/<slug:ws>/actions/new/<str:kind>", actions.action_new, name="action_new"),
    path("w/<slug:ws>/actions/<str:name>/", actions.action_detail, name="action_detail"),
    path("w/<slug:ws>/actions/<str:name>/run", actions.action_run, name="action_run"),
    path(
        "w/<slug:ws>/actions/<str:name>/versions/new",
        actions.action_version_new,
        name="action_version_new",
    ),
]
