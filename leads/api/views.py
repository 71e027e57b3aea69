"""Thin views: validate with a serializer, call one service or selector, render."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from agreements.models import Stage as SlaStage
from agreements.selectors import event_types_in_force, workspace_version_query

from ..selectors import lead_score_breakdown, leads_visible_to, open_handoff
from ..services.activities import ActivitiesRefused, activities_log
from ..services.ingestion import events_ingest, lead_upsert
from ..services.lifecycle import lead_stage_advance
from . import serializers as s
from .parsers import SafeJSONParser
from .permissions import LeadsApiPermission


class LeadPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def stage_labels(now=None) -> dict[str, str]:
    """The lifecycle labels of the SLA version in force, in one query.

    The workspace's (default) agreement's version as a subquery: the list endpoint's query
    count is pinned. A lead's own agreement and version are in its agreement fields.
    """
    in_force = workspace_version_query(at=now).values("pk")[:1]
    rows = SlaStage.objects.filter(
        version=Subquery(in_force), kind=SlaStage.Kind.LIFECYCLE
    ).values_list("slug", "label")
    return dict(rows)


class LeadListView(GenericAPIView):
    permission_classes = [LeadsApiPermission]
    pagination_class = LeadPagination
    serializer_class = s.LeadSerializer

    def get_parsers(self):
        # Integrations send JSON; refusing forms keeps `attributes` one shape.
        return [SafeJSONParser()]

    def get_queryset(self):
        return leads_visible_to(self.request.user).select_related("owner")

    @extend_schema(
        summary="List leads",
        parameters=[s.LeadFilterSerializer],
        responses={200: s.LeadSerializer(many=True)},
    )
    def get(self, request):
        filters = s.LeadFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        leads = self.get_queryset()
        if stage := filters.validated_data.get("stage"):
            leads = leads.filter(stage=stage)
        if owner := filters.validated_data.get("owner"):
            leads = leads.filter(owner__username=owner)
        if since := filters.validated_data.get("updated_since"):
            leads = leads.filter(updated_at__gte=since)
        page = self.paginate_queryset(leads)
        context = {**self.get_serializer_context(), "stage_labels": stage_labels()}
        return self.get_paginated_response(s.LeadSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="Create or update a lead by e-mail",
        request=s.LeadInputSerializer,
        responses={
            200: OpenApiResponse(s.LeadSerializer, description="An existing lead was updated."),
            201: OpenApiResponse(s.LeadSerializer, description="A new lead was created."),
            400: OpenApiResponse(description="Errors by field; nothing stored."),
        },
    )
    def post(self, request):
        payload = s.LeadInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lead, created = lead_upsert(**s.lead_upsert_arguments(payload.validated_data))
        context = {**self.get_serializer_context(), "stage_labels": stage_labels()}
        return Response(
            s.LeadSerializer(lead, context=context).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class LeadDetailView(GenericAPIView):
    permission_classes = [LeadsApiPermission]
    serializer_class = s.LeadDetailSerializer

    def get_queryset(self):
        return leads_visible_to(self.request.user).select_related("owner")

    @extend_schema(summary="A lead with its score breakdown and open handoff")
    def get(self, request, pk: int):
        lead = get_object_or_404(self.get_queryset(), pk=pk)
        handoff = open_handoff(lead)
        context = {
            **self.get_serializer_context(),
            "stage_labels": stage_labels(),
            "breakdown": lead_score_breakdown(lead),
            "handoff": handoff,
        }
        return Response(s.LeadDetailSerializer(lead, context=context).data)


class LeadStageView(GenericAPIView):
    permission_classes = [LeadsApiPermission]
    serializer_class = s.LeadStageInputSerializer

    def get_parsers(self):
        return [SafeJSONParser()]

    @extend_schema(
        summary="Move an accepted lead to opportunity or customer (won)",
        description="For the CRM: stages after SQL live there. A won deal may carry its value, "
        "which the monthly review adds up as new revenue.",
        responses={200: s.LeadSerializer},
    )
    def post(self, request, pk: int):
        lead = get_object_or_404(leads_visible_to(request.user), pk=pk)
        payload = s.LeadStageInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            lead = lead_stage_advance(
                lead=lead, by=request.user, job="api", **payload.validated_data
            )
        except DjangoValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        context = {**self.get_serializer_context(), "stage_labels": stage_labels()}
        return Response(s.LeadSerializer(lead, context=context).data)


class EventBatchView(GenericAPIView):
    permission_classes = [LeadsApiPermission]
    serializer_class = s.EventInputSerializer

    def get_parsers(self):
        return [SafeJSONParser()]

    @extend_schema(
        summary="Store a batch of events, all or nothing",
        description=(
            "A JSON list of 1 to 1,000 events. An unknown e-mail creates the lead; an event "
            "whose external_id was already received is skipped and counted as a duplicate. "
            "If any item is invalid the answer is 400 with the errors of each bad item by "
            "index and field, and nothing of the batch is stored."
        ),
        request=s.EventInputSerializer(many=True),
        responses={
            201: s.IngestResultSerializer,
            400: OpenApiResponse(s.EventBatchErrorSerializer, description="Nothing stored."),
        },
        examples=[
            OpenApiExample(
                "A demo request",
                request_only=True,
                # drf-spectacular wraps the item in the list itself.
                value={
                    "email": "ana@example.com",
                    "type": "demo_request",
                    "occurred_at": "2026-11-26T14:00:00Z",
                    "properties": {"page": "/pricing"},
                    "external_id": "form-8841",
                },
            ),
            OpenApiExample(
                "Refused batch",
                response_only=True,
                status_codes=["400"],
                value={"errors": {"3": {"type": ["Unknown event type 'foo'. Known: ..."]}}},
            ),
        ],
    )
    def post(self, request):
        items = request.data
        refused = _batch_shape_refused(items, "events", s.MAX_EVENTS_PER_BATCH)
        if refused:
            return refused
        now = timezone.now()
        context = {"catalogue": event_types_in_force(at=now), "now": now}
        cleaned, errors = s.validate_each(s.EventInputSerializer, items, context=context)
        if errors:
            return Response(
                {"errors": {str(index): detail for index, detail in errors.items()}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        result = events_ingest(events=[s.event_input(item) for item in cleaned], now=now)
        return Response(s.IngestResultSerializer(result).data, status=status.HTTP_201_CREATED)


class ActivityBatchView(GenericAPIView):
    permission_classes = [LeadsApiPermission]
    serializer_class = s.ActivityInputSerializer

    def get_parsers(self):
        return [SafeJSONParser()]

    @extend_schema(
        summary="Log a batch of calls, e-mails, meetings and messages, all or nothing",
        description=(
            "A JSON list of 1 to 1,000 activities a CRM or dialer recorded. Each becomes a "
            "contact attempt on the lead's open handoff and counts for first touch, the "
            "cadence and compliance exactly as an attempt logged in the app, at its "
            "occurred_at. The rep must hold the lead or be a sales manager; the disposition "
            "must be a code of the SLA version the handoff runs under. An activity whose "
            "external_id was received before answers the same attempt, marked duplicate, and "
            "stores nothing. If any item is invalid the answer is 400 with the errors of each "
            "bad item by index and field, and nothing of the batch is stored."
        ),
        request=s.ActivityInputSerializer(many=True),
        responses={
            201: s.ActivityBatchResultSerializer,
            400: OpenApiResponse(s.EventBatchErrorSerializer, description="Nothing stored."),
        },
        examples=[
            OpenApiExample(
                "A call from the dialer",
                request_only=True,
                value={
                    "external_id": "call-55120",
                    "email": "ana@example.com",
                    "rep": "bruno",
                    "channel": "phone",
                    "direction": "outbound",
                    "disposition": "connected",
                    "occurred_at": "2026-11-26T14:05:00Z",
                    "note": "Booked a demo for Thursday.",
                    "integration": "HubSpot",
                },
            ),
            OpenApiExample(
                "Refused batch",
                response_only=True,
                status_codes=["400"],
                value={
                    "errors": {"2": {"rep": ["No active user has the username or e-mail 'zed'."]}}
                },
            ),
        ],
    )
    def post(self, request):
        items = request.data
        refused = _batch_shape_refused(items, "activities", s.MAX_ACTIVITIES_PER_BATCH)
        if refused:
            return refused
        now = timezone.now()
        cleaned, errors = s.validate_each(s.ActivityInputSerializer, items, context={"now": now})
        if errors:
            return _item_errors(errors)
        activities = [s.activity_input(item) for item in cleaned]
        source_name = request.user.get_full_name() or request.user.get_username()
        try:
            results = activities_log(activities=activities, source_name=source_name, now=now)
        except ActivitiesRefused as refused:
            return _item_errors(refused.errors)
        except IntegrityError:
            # The same external ids committed by a concurrent request: now they are known.
            try:
                results = activities_log(activities=activities, source_name=source_name, now=now)
            except ActivitiesRefused as refused:
                return _item_errors(refused.errors)
        duplicates = sum(result.duplicate for result in results)
        body = {"created": len(results) - duplicates, "duplicates": duplicates, "results": results}
        return Response(s.ActivityBatchResultSerializer(body).data, status=status.HTTP_201_CREATED)


def _batch_shape_refused(items, noun: str, limit: int) -> Response | None:
    """A batch must be a JSON list of 1 to `limit` items; the refusal says which way it is not."""
    if not isinstance(items, list):
        return _batch_refused(f"Send a JSON list of {noun}.")
    if not items:
        return _batch_refused(f"The list is empty: send 1 to {limit:,} {noun}.")
    if len(items) > limit:
        return _batch_refused(
            f"Send at most {limit:,} {noun} per request; this batch has {len(items):,}."
        )
    return None


def _item_errors(errors: dict) -> Response:
    return Response(
        {"errors": {str(index): detail for index, detail in errors.items()}},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _batch_refused(message: str) -> Response:
    return Response({"errors": {"batch": [message]}}, status=status.HTTP_400_BAD_REQUEST)
