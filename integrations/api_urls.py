from rest_framework.routers import SimpleRouter

from .api import WebhookEndpointViewSet

app_name = "integrations_api"

router = SimpleRouter()
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
urlpatterns = router.urls
