"""The OpenAPI schema's webhooks section: every event type and its payload."""

from drf_spectacular.utils import OpenApiWebhook, extend_schema, inline_serializer
from rest_framework import serializers

from leads.api.serializers import HandoffSerializer, LeadSerializer

from .models import EVENT_TYPES, TEST_EVENT

DESCRIPTIONS = {
    "lead.created": "A lead was created (API, import, form or event ingestion).",
    "lead.mql": "A lead became a marketing qualified lead.",
    "lead.stage_changed": "A lead moved to another lifecycle stage.",
    "handoff.created": "A lead was handed to a sales rep, with its SLA deadlines.",
    "handoff.at_risk": "A handoff's first touch is close to its deadline.",
    "handoff.breached": "A handoff's first touch missed its deadline.",
    "handoff.met": "The rep touched the lead within the SLA.",
    "handoff.accepted": "The rep accepted the lead.",
    "handoff.rejected": "The rep rejected the lead.",
    "handoff.returned": "Sales returned the lead to marketing.",
    "handoff.reassigned": "A manager gave the lead to another rep.",
    "nurture.enrolled": "The lead was enrolled in a nurture track.",
    "sla.version_published": "A new version of the SLA was published.",
    TEST_EVENT: "Sent by “Send a test event”.",
}

HEADERS = (
    "Signed per Standard Webhooks: headers `webhook-id` (the event's `id`, the same on every "
    "retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 "
    "HMAC-SHA256 of id.timestamp.body>`, space-separated when two secrets sign during a "
    "rotation). Answer 2xx to acknowledge; 410 disables the endpoint; anything else is retried."
)


def _data(event_type: str):
    family = event_type.split(".", 1)[0]
    name = event_type.replace(".", "_").title().replace("_", "")
    if family == "handoff":
        fields = {"handoff": HandoffSerializer(), "lead": LeadSerializer()}
    elif family in ("lead", "nurture"):
        fields = {"lead": LeadSerializer()}
        if family == "nurture":
            fields["track"] = serializers.CharField()
    elif family == "sla":
        fields = {
            "version": inline_serializer(
                name="PublishedVersion",
                fields={
                    "id": serializers.IntegerField(),
                    "agreement": serializers.IntegerField(),
                    "number": serializers.IntegerField(),
                    "published_at": serializers.DateTimeField(),
                },
            )
        }
    else:
        fields = {"endpoint": serializers.IntegerField(), "message": serializers.CharField()}
    return inline_serializer(
        name=f"{name}Event",
        fields={
            "id": serializers.CharField(help_text="Stable id, `msg_…`; the webhook-id header."),
            "type": serializers.ChoiceField(choices=[event_type]),
            "timestamp": serializers.DateTimeField(),
            "data": inline_serializer(name=f"{name}Data", fields=fields),
        },
    )


def _webhook(event_type: str) -> OpenApiWebhook:
    return OpenApiWebhook(
        name=event_type,
        decorator=extend_schema(
            summary=DESCRIPTIONS[event_type],
            description=HEADERS,
            request=_data(event_type),
            responses={200: None, 410: None},
        ),
    )


WEBHOOKS = [_webhook(event_type) for event_type in (*EVENT_TYPES, TEST_EVENT)]
# SPECTACULAR_SETTINGS["WEBHOOKS"] names each by import path: integrations.schema.lead_created…
for _hook in WEBHOOKS:
    globals()[_hook.name.replace(".", "_")] = _hook
