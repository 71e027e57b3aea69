from django.urls import path

from . import views

app_name = "discussions"

urlpatterns = [
    path("versions/<int:version_pk>/threads/", views.thread_create, name="thread_create"),
    path("threads/<int:thread_pk>/comments/", views.comment_create, name="comment_create"),
    path("threads/<int:thread_pk>/status/", views.thread_status, name="thread_status"),
    path(
        "versions/<int:version_pk>/suggestions/", views.suggestion_create, name="suggestion_create"
    ),
    path("suggestions/<int:pk>/decide/", views.suggestion_decide, name="suggestion_decide"),
    path("versions/<int:version_pk>/invites/", views.invite, name="invite"),
    path("versions/<int:version_pk>/presence/", views.presence, name="presence"),
    path("versions/<int:version_pk>/decisions/", views.decisions, name="decisions"),
    path("versions/<int:version_pk>/decisions.pdf", views.decisions_pdf, name="decisions_pdf"),
]
