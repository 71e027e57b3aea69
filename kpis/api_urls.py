from django.urls import path

from . import api

app_name = "kpis_api"

urlpatterns = [
    path("kpis/", api.KpiMonthView.as_view(), name="kpis"),
    path("visitors/", api.VisitorCountsView.as_view(), name="visitors"),
]
