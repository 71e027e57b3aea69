from django.urls import path

from . import views

app_name = "captures"

urlpatterns = [
    path("", views.capture_list, name="list"),
    path("new/", views.capture_new, name="new"),
    path("<int:pk>/", views.capture_detail, name="detail"),
    path("<int:pk>/edit/", views.capture_edit, name="edit"),
    path("<int:pk>/toggle/", views.capture_toggle, name="toggle"),
    path("<int:pk>/rotate/", views.capture_rotate, name="rotate"),
]
