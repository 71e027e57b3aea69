from django.urls import path

from . import pause_views, views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("queue/", views.queue, name="queue"),
    path("team/", views.team, name="team"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/hand-off/", views.lead_hand_off, name="hand_off"),
    path("<int:pk>/export/", views.lead_export, name="export"),
    path("<int:pk>/erase/", views.lead_erase_view, name="erase"),
    path("handoffs/<int:pk>/", views.handoff_row, name="row"),
    path("handoffs/<int:pk>/attempt/", views.attempt, name="attempt"),
    path("handoffs/<int:pk>/accept/", views.accept, name="accept"),
    path("handoffs/<int:pk>/reject/", views.reject, name="reject"),
    path("handoffs/<int:pk>/return/", views.return_lead, name="return"),
    path("handoffs/<int:pk>/nurture/", views.nurture, name="nurture"),
    path("handoffs/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("handoffs/<int:pk>/pause/", pause_views.pause, name="pause"),
]
