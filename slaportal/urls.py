from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.decorators.http import require_http_methods
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from leads.what_if_views import mql_what_if
from people.language_views import language_set

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The link in an invitation (people.services.user_invite): the new user sets a password.
    path(
        "accounts/reset/<uidb64>/<token>/",
        # Its token check answers before the view's own method check does.
        require_http_methods(["GET", "POST"])(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The menu's language switch (people.language_views) and the JavaScript strings' catalog.
    path("i18n/setlang/", language_set, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("people/", include("people.urls")),
    path("sla/", include("agreements.urls")),
    path("sla/discussions/", include("discussions.urls")),
    path("leads/what-if/<int:version_pk>/", mql_what_if, name="mql_what_if"),
    path("leads/import/", include("leads.imports_urls")),
    path("leads/", include("leads.urls")),
    # Before any "review/" include: the review's own routes must not shadow this page.
    path("review/visitors/", include("kpis.visitors_views")),
    path("review/", include("kpis.urls")),
    path("captures/", include("captures.urls")),
    path("hooks/forms/", include("captures.hooks_urls")),
    path("unsubscribe/", include("leads.unsubscribe_views")),
    path("api/v1/", include("leads.api.urls")),
    path("api/v1/", include("kpis.api_urls")),
    path("api/v1/", include("integrations.api_urls")),
    path("integrations/", include("integrations.urls")),
    # The schema needs a token or a login (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs are a page for people: a visitor who is not logged in goes to the login page.
    # The split view serves its start-up script as a file of its own (?script), which the
    # Content-Security-Policy allows, where the plain view's inline script would be refused.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
