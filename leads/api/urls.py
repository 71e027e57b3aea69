from django.urls import path

from . import views

app_name = "leads_api"

urlpatterns = [
    path("leads/", views.LeadListView.as_view(), name="lead-list"),
    path("leads/<int:pk>/", views.LeadDetailView.as_view(), name="lead-detail"),
    path("leads/<int:pk>/stage/", views.LeadStageView.as_view(), name="lead-stage"),
    path("events/", views.EventBatchView.as_view(), name="event-batch"),
    path("activities/", views.ActivityBatchView.as_view(), name="activity-batch"),
]
