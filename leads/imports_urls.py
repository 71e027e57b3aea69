from django.urls import path

from . import imports_views as views

app_name = "leads_import"

urlpatterns = [
    path("", views.import_start, name="start"),
    path("confirm/", views.import_confirm, name="confirm"),
    path("template/<slug:kind>.csv", views.import_template_download, name="template"),
    path("<uuid:pk>/", views.import_detail, name="detail"),
]
