"""The container health check, answered before host validation and the HTTPS redirect.

Docker runs the check inside the container against http://127.0.0.1:8000/healthz, so its Host
is an address ALLOWED_HOSTS rightly refuses and its scheme is plain HTTP. The answer carries no
data from the request (no host, no URL), so answering it for any Host is safe; every other
path goes through the whole middleware stack as usual.
"""

from .views import healthz

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
