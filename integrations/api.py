"""REST API for webhook endpoints: managers only; the secret is returned on create and rotate."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from slaportal.roles import MANAGERS, has_role

from . import services
from .models import EVENT_TYPES, WebhookEndpoint


class ManagersOnly(BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *MANAGERS)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """A receiver of signed events. `event_types` empty means every type."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), required=False, default=list
    )
    active = serializers.BooleanField(
        required=False, write_only=True, help_text="False pauses it; true resumes it."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "active",
            "status",
            "status_reason",
            "consecutive_failures",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "status_reason",
            "consecutive_failures",
            "created_at",
            "updated_at",
        ]


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """The endpoint and its signing secret: only ever returned when it is new."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


def _service(call, **kwargs):
    try:
        return call(**kwargs)
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from error


@extend_schema_view(
    create=extend_schema(responses=WebhookEndpointWithSecretSerializer),
    rotate_secret=extend_schema(request=None, responses=WebhookEndpointWithSecretSerializer),
)
class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """Webhook endpoints that receive the events, signed per Standard Webhooks."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [ManagersOnly]
    queryset = WebhookEndpoint.objects.order_by("id")
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = _service(
            services.endpoint_create,
            url=data["url"],
            description=data.get("description", ""),
            event_types=data.get("event_types", []),
            by=request.user,
        )
        if data.get("active") is False:
            services.endpoint_set_active(endpoint=endpoint, active=False)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=201)

    def update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(endpoint, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _service(
            services.endpoint_update,
            endpoint=endpoint,
            url=data.get("url", endpoint.url),
            description=data.get("description", endpoint.description),
            event_types=data.get("event_types", endpoint.event_types),
            active=data.get("active"),
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance):
        services.endpoint_delete(endpoint=instance)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret; the old one keeps signing too for 24 hours."""
        endpoint = self.get_object()
        services.endpoint_rotate(endpoint=endpoint)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)
