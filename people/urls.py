from django.urls import path

from . import language_views, views

app_name = "people"

urlpatterns = [
    path("", views.index, name="index"),
    path("me/", language_views.my_settings, name="me"),
    path("workspace/", language_views.workspace_settings, name="workspace"),
    path("invite/", views.invite, name="invite"),
    path("<int:pk>/", views.edit, name="edit"),
    path("absences/", views.absences, name="absences"),
    path("absences/<int:pk>/cancel/", views.absence_delete, name="absence_cancel"),
    path("unassigned/", views.unassigned, name="unassigned"),
    path("unassigned/assign/", views.assign_all, name="assign_all"),
    path("unassigned/<int:pk>/assign/", views.assign, name="assign"),
]
