from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from leads.what_if_views import mql_what_if

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("sla/", include("agreements.urls")),
    path("leads/what-if/<int:version_pk>/", mql_what_if, name="mql_what_if"),
    path("leads/import/", include("leads.imports_urls")),
    path("leads/", include("leads.urls")),
    # Before any "review/" include: the review's own routes must not shadow this page.
    path("review/visitors/", include("kpis.visitors_views")),
    path("review/", include("kpis.urls")),
    path("api/v1/", include("leads.api.urls")),
    path("api/v1/", include("kpis.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
