from django.urls import path

from .api import WebhookEndpointViewSet

app_name = "integrations_api"

# Plain routes rather than a router's regexes: tests/test_security.py walks them.
endpoints = WebhookEndpointViewSet.as_view({"get": "list", "post": "create"})
endpoint = WebhookEndpointViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
rotate = WebhookEndpointViewSet.as_view({"post": "rotate_secret"})

urlpatterns = [
    path("webhook-endpoints/", endpoints, name="webhook-endpoints"),
    path("webhook-endpoints/<int:pk>/", endpoint, name="webhook-endpoint"),
    path("webhook-endpoints/<int:pk>/rotate-secret/", rotate, name="webhook-endpoint-rotate"),
]
