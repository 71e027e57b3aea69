from django.contrib.auth import get_user_model

from slaportal.roles import MANAGERS

from .models import AlertKind, NotificationPreference, WebhookEndpoint


def managers():
    return get_user_model().objects.filter(groups__name__in=MANAGERS, is_active=True).distinct()


def endpoints_list():
    return WebhookEndpoint.objects.order_by("id")


def endpoint_log(endpoint: WebhookEndpoint, limit: int = 50):
    return endpoint.deliveries.order_by("-attempted_at", "-id")[:limit]


def preferences_of(user) -> dict[str, NotificationPreference]:
    """Every kind with the user's choice, or the default (every channel) where they made none."""
    saved = {pref.kind: pref for pref in NotificationPreference.objects.filter(user=user)}
    return {
        kind: saved.get(kind) or NotificationPreference(user=user, kind=kind)
        for kind in AlertKind.values
    }
