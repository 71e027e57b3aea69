from django.urls import path

from . import views

app_name = "kpis"

month = "<str:month>/"

urlpatterns = [
    path("", views.review_current, name="current"),
    path(month, views.review, name="review"),
    path(month + "leads/<slug:figure>/", views.figure, name="figure"),
    path(month + "notes/", views.notes_save, name="notes"),
    path(month + "actions/", views.action_item_create, name="action_create"),
    path(month + "actions/<int:pk>/done/", views.action_item_done, name="action_done"),
    path(month + "propose/", views.propose_change, name="propose"),
    path(month + "pack.pdf", views.review_pdf, name="pdf"),
    path(month + "<slug:table>.csv", views.review_csv, name="csv"),
]
