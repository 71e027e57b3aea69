from django.urls import path

from . import views

app_name = "agreements"

version = "<int:pk>/versions/<int:version_pk>/"

urlpatterns = [
    path("", views.agreement_index, name="index"),
    path("new/", views.agreement_create, name="create"),
    path("<int:pk>/", views.agreement_detail, name="detail"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/diff/", views.diff, name="diff"),
    path("<int:pk>/amend/", views.amendment_start, name="amend"),
    path(version, views.version_detail, name="version"),
    path(version + "submit/", views.version_submit, name="submit"),
    path(version + "reopen/", views.version_reopen, name="reopen"),
    path(version + "accept/", views.contradiction_accept, name="accept_contradiction"),
    path(version + "approve/", views.version_approve, name="approve"),
    path(version + "sla.md", views.version_markdown, name="markdown"),
    path(version + "sla.pdf", views.version_pdf, name="pdf"),
    path(version + "parts/<slug:part_slug>/", views.part_edit, name="part_edit"),
    path(
        version + "parts/<slug:part_slug>/rows/<slug:rowset_key>/new/",
        views.row_new,
        name="row_new",
    ),
    path(version + "funnel-preview/", views.funnel_preview, name="funnel_preview"),
    path(version + "score-preview/", views.score_preview, name="score_preview"),
    path(version + "scope-preview/", views.scope_preview, name="scope_preview"),
    path(version + "holidays/", views.holidays_prefill, name="holidays_prefill"),
]
