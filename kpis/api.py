"""The monthly figures and the visitor counts over the REST API (/api/v1/kpis/, /visitors/).

Rates are fractions 0..1 throughout, also where the review page shows a KPI or goal in %.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from agreements.models import Metric
from leads.api.parsers import SafeJSONParser
from slaportal.numbers import number
from slaportal.roles import MANAGERS, READERS, Role, has_role

from .metrics import PERCENT_METRICS, Status
from .periods import Month
from .selectors import month_report, review_agreement_parse
from .visitors import (
    MAX_ITEMS_PER_BATCH,
    VisitorCountInputSerializer,
    visitor_counts_for_month,
    visitor_counts_upsert,
    visitor_rows_validate,
)

# Error messages follow the request's Accept-Language; keys and values stay English.
MONTH_REQUIRED = _("Give the month as ?month=YYYY-MM, e.g. 2026-10.")
STATUSES = ["green", "amber", "red", "grey", "mixed"]
STAGES = ["visitor", "lead", "mql", "sql", "opportunity", "customer"]
FRACTION = "fraction"


def one_of(values: list[str], meaning: str = "") -> serializers.CharField:
    """An output string from a fixed set, listed in its description rather than as an enum.

    The leads API already has enums named "stage" and "status" in the schema; another set under
    either name makes drf-spectacular rename both with a hash and warn, unless the settings'
    ENUM_NAME_OVERRIDES names them.
    """
    return serializers.CharField(help_text=f"One of {', '.join(values)}.{meaning}")


class KpiApiPermission(BasePermission):
    """Every role reads; managers and integrations write (superusers hold every role).

    Anonymous requests fail here too, and DRF answers them 401 with the Token challenge.
    """

    message = _("Your role does not allow this.")

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return has_role(request.user, *READERS, Role.INTEGRATION)
        return has_role(request.user, *MANAGERS, Role.INTEGRATION)


class MonthField(serializers.CharField):
    default_error_messages = {"required": MONTH_REQUIRED, "blank": MONTH_REQUIRED}

    def to_internal_value(self, data) -> Month:
        text = super().to_internal_value(data)
        if len(text) > 20:
            # Month.parse quotes its input, which should not echo a whole pasted page.
            text = text[:20] + "…"
        try:
            return Month.parse(text)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error


class AgreementField(serializers.CharField):
    """`?agreement=`: an agreement's id, or empty / "all" for every agreement."""

    def to_internal_value(self, data):
        try:
            return review_agreement_parse(super().to_internal_value(data))
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error


class MonthQuerySerializer(serializers.Serializer):
    month = MonthField()


class KpiQuerySerializer(MonthQuerySerializer):
    agreement = AgreementField(required=False, allow_blank=True, default=None)


MONTH_PARAMETER = OpenApiParameter(
    "month",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    description="The month, YYYY-MM, from 2000-01 to 2100-12. Days are bounded in the SLA's "
    "time zone.",
    examples=[OpenApiExample("October 2026", value="2026-10")],
)
AGREEMENT_PARAMETER = OpenApiParameter(
    "agreement",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="An agreement's id: that agreement's figures (its leads, and the handoffs made "
    "under its versions) judged against its own version's targets. Omitted or 'all': every "
    "agreement together, counts added up and rates recomputed from the combined figures; a "
    "KPI the agreements hold to different targets then has status 'mixed', no target, and "
    "each agreement's own figure and status in `parts`. An unknown id is refused with 400.",
    examples=[
        OpenApiExample("Every agreement", value="all"),
        OpenApiExample("One agreement", value="2"),
    ],
)
KPI_QUERY_ERROR = OpenApiResponse(
    description="The month or the agreement is missing, malformed, impossible or unknown.",
    examples=[
        OpenApiExample(
            "Impossible month",
            value={"month": ["'2026-13' is not a month: the month must be 01 to 12."]},
        ),
        OpenApiExample(
            "Unknown agreement", value={"agreement": ["There is no agreement with id 99."]}
        ),
    ],
)
MONTH_ERROR = OpenApiResponse(
    description="The month is missing, malformed or impossible.",
    examples=[
        OpenApiExample(
            "Impossible month",
            value={"month": ["'2026-13' is not a month: the month must be 01 to 12."]},
        )
    ],
)


def _month(request) -> Month:
    query = MonthQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["month"]


# The month's figures ---------------------------------------------------------------------


class FunnelStepSerializer(serializers.Serializer):
    stage = one_of(STAGES)
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Visitors, or leads entering the stage.")
    conversion_from_previous = serializers.FloatField(
        allow_null=True,
        help_text="count ÷ the previous step's count, 0..1; null for visitors or when the "
        "previous count is 0.",
    )


class SpeedSerializer(serializers.Serializer):
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True, help_text="90th percentile (nearest rank).")


class StageDaysSerializer(serializers.Serializer):
    median = serializers.FloatField(allow_null=True, help_text="Days; null when none left.")
    p90 = serializers.FloatField(allow_null=True, help_text="90th percentile (nearest rank).")


class VelocitySerializer(serializers.Serializer):
    """Days spent in each stage by the leads that left it during the month."""

    lead = StageDaysSerializer(help_text="Created → MQL.")
    mql = StageDaysSerializer(help_text="MQL → SQL.")
    sql = StageDaysSerializer(help_text="SQL → opportunity.")
    opportunity = StageDaysSerializer(help_text="Opportunity → won.")


def _percent_as_fraction(value):
    # round() drops the float noise of undoing a percent, e.g. 0.6000000000000001.
    return None if value is None else round(value / 100, 12)


class StatusSerializer(serializers.Serializer):
    """A figure judged against its target."""

    name = serializers.CharField()
    metric = serializers.ChoiceField(choices=Metric.choices)
    owner = serializers.CharField(help_text="Marketing, Sales or Shared.")
    target = serializers.FloatField()
    actual = serializers.FloatField(allow_null=True, help_text="null without data.")
    unit = serializers.CharField(
        help_text=f"'{FRACTION}' for rates (0..1), 'h' for business hours, otherwise the "
        "goal's own unit or '' for counts."
    )
    status = one_of(
        STATUSES,
        " grey: no data to judge; mixed: all agreements together, which hold this KPI to "
        "different targets (see parts).",
    )
    detail = serializers.CharField(help_text="Pace and forecast, or why there is no figure.")

    # Fields written in % on the page, turned into fractions here.
    scaled = ("target", "actual")

    def to_representation(self, instance: Status):
        data = super().to_representation(instance)
        if instance.metric in PERCENT_METRICS and (instance.unit in ("%", "")):
            for name in self.scaled:
                data[name] = _percent_as_fraction(data[name])
            data["unit"] = FRACTION
        return data


class GoalSerializer(StatusSerializer):
    """A shared goal's progress over its own period so far, as of the request."""

    agreement = serializers.CharField(
        help_text="The goal's agreement when all of several agreements are shown, else ''."
    )

    actual = serializers.FloatField(
        allow_null=True, help_text="Progress so far; null for rates, which are KPIs."
    )


class KpiPartSerializer(StatusSerializer):
    """One agreement's own figure and status for a KPI shown for all agreements."""

    agreement = serializers.CharField(help_text="The agreement's name.")
    previous = serializers.FloatField(allow_null=True, help_text="The month before.")
    change = serializers.FloatField(allow_null=True, help_text="actual − previous.")

    scaled = ("target", "actual", "previous", "change")


class KpiSerializer(StatusSerializer):
    """A KPI of the SLA in force, for the month."""

    target = serializers.FloatField(
        allow_null=True,
        help_text="null when all agreements are shown and they hold this KPI to different "
        "targets (status 'mixed').",
    )
    previous = serializers.FloatField(allow_null=True, help_text="The month before.")
    change = serializers.FloatField(allow_null=True, help_text="actual − previous.")
    parts = KpiPartSerializer(
        many=True,
        help_text="For all agreements with several: each agreement's own figure, target and "
        "status for this KPI; empty for one agreement.",
    )

    scaled = ("target", "actual", "previous", "change")


class MonthReportSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    agreement = serializers.IntegerField(
        source="agreement_id",
        allow_null=True,
        help_text="The agreement whose figures these are; null for all agreements together.",
    )
    time_zone = serializers.CharField(help_text="The SLA's time zone, which bounds the days.")
    as_of = serializers.DateTimeField(
        source="judged_at",
        help_text="The instant the figures stand at: the month's last instant once it has "
        "ended, else the time of the request.",
    )
    partial = serializers.BooleanField(
        help_text="True for the running month: its figures are so far and will change."
    )
    funnel = FunnelStepSerializer(many=True)
    sla_compliance = serializers.FloatField(
        allow_null=True,
        help_text="Share of response windows closed this month that were met, 0..1.",
    )
    speed_to_lead_minutes = SpeedSerializer(
        help_text="Business minutes from handoff to first touch, for first touches this month."
    )
    attempts_per_lead = serializers.FloatField(
        allow_null=True, help_text="Contact attempts per handoff of the month."
    )
    attempt_spacing_hours = serializers.FloatField(
        allow_null=True, help_text="Median hours between a handoff's attempts."
    )
    cadence_met_share = serializers.FloatField(
        allow_null=True, help_text="Share of the month's handoffs that kept the cadence, 0..1."
    )
    mql_acceptance_rate = serializers.FloatField(
        allow_null=True, help_text="accepted ÷ (accepted + rejected), 0..1."
    )
    mqls_planned = serializers.FloatField(
        allow_null=True, help_text="MQLs a month by the reverse-funnel plan."
    )
    velocity_days = VelocitySerializer()
    rejections_by_reason = serializers.DictField(child=serializers.IntegerField())
    returns_by_reason = serializers.DictField(child=serializers.IntegerField())
    goals = GoalSerializer(many=True)
    kpis = KpiSerializer(many=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["month"] = str(instance.month)
        return data


class KpiMonthView(GenericAPIView):
    permission_classes = [KpiApiPermission]
    serializer_class = MonthReportSerializer

    @extend_schema(
        summary="A month's funnel, compliance, speed to lead, goals and KPIs",
        description=(
            "The monthly review's figures. Rates are fractions 0..1 and null when their "
            "denominator is 0 (an empty month has zero counts and null rates). A closed month "
            "is measured as of its last instant and the running month as of now (partial), "
            "the same figures the review page, its PDF and CSVs show. Goals show their "
            "progress over their own period to that instant; KPIs are judged against the SLA "
            "version in force then. With ?agreement=ID, one agreement's figures against its "
            "own targets; without it, all agreements together."
        ),
        parameters=[MONTH_PARAMETER, AGREEMENT_PARAMETER],
        responses={200: MonthReportSerializer, 400: KPI_QUERY_ERROR},
    )
    def get(self, request):
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        agreement = query.validated_data.get("agreement") or None
        report = month_report(month=query.validated_data["month"], agreement=agreement)
        # The figures are a contract: their labels stay English whatever the reader's language
        # (only error messages follow Accept-Language).
        with translation.override(settings.LANGUAGE_CODE):
            data = MonthReportSerializer(report).data
        return Response(data)


# Visitor counts --------------------------------------------------------------------------


class VisitorCountSerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    source = serializers.CharField()
    visitors = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class VisitorMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    total = serializers.IntegerField(help_text="The month's visitors: the funnel's first step.")
    counts = VisitorCountSerializer(many=True, help_text="By day, then source.")


class StoredSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="Counts stored, new or replacing a stored one.")


class BatchErrorSerializer(serializers.Serializer):
    """Why a batch was refused; nothing of it was stored."""

    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Keyed by the 0-based index of each bad item, then by field, e.g. "
        '{"2": {"visitors": ["Visitors cannot be negative."]}}. A problem with the batch as a '
        'whole is under "batch". Nothing of the batch is stored.',
    )


class VisitorCountsView(GenericAPIView):
    permission_classes = [KpiApiPermission]
    serializer_class = VisitorCountInputSerializer

    def get_parsers(self):
        return [SafeJSONParser()]

    @extend_schema(
        summary="A month's visitor counts",
        parameters=[MONTH_PARAMETER],
        responses={200: VisitorMonthSerializer, 400: MONTH_ERROR},
    )
    def get(self, request):
        month = _month(request)
        counts = list(visitor_counts_for_month(month))
        data = {
            "month": str(month),
            "total": sum(count.visitors for count in counts),
            "counts": counts,
        }
        return Response(VisitorMonthSerializer(data).data)

    @extend_schema(
        summary="Store visitor counts per day and source, all or nothing",
        description=(
            f"A JSON list of 1 to {MAX_ITEMS_PER_BATCH:,} counts. A day and source already "
            "stored is replaced, so resending a batch is safe. If any item is invalid the "
            "answer is 400 with the errors of each bad item by index and field, and nothing "
            "of the batch is stored. The monthly review reads the counts at once."
        ),
        request=VisitorCountInputSerializer(many=True),
        responses={
            201: StoredSerializer,
            400: OpenApiResponse(BatchErrorSerializer, description="Nothing stored."),
        },
        examples=[
            OpenApiExample(
                "A day of the website",
                request_only=True,
                # drf-spectacular wraps the item in the list itself.
                value={"date": "2026-10-05", "source": "website", "visitors": 1000},
            ),
            OpenApiExample(
                "Refused batch",
                response_only=True,
                status_codes=["400"],
                value={
                    "errors": {
                        "1": {
                            "date": ["'2026-13-01' is not a date: use YYYY-MM-DD, e.g. 2026-10-05."]
                        }
                    }
                },
            ),
        ],
    )
    def post(self, request):
        items = request.data
        if not isinstance(items, list):
            return _batch_refused(
                gettext(
                    'Send a JSON list of counts, e.g. [{"date": "2026-10-05", "source": '
                    '"website", "visitors": 1000}].'
                )
            )
        if not items:
            return _batch_refused(
                gettext("The list is empty: send 1 to %(max)s counts.")
                % {"max": number(MAX_ITEMS_PER_BATCH)}
            )
        if len(items) > MAX_ITEMS_PER_BATCH:
            return _batch_refused(
                gettext("Send at most %(max)s counts per request; this batch has %(count)s.")
                % {"max": number(MAX_ITEMS_PER_BATCH), "count": number(len(items))}
            )
        rows, errors = visitor_rows_validate(items)
        if errors:
            return Response(
                {"errors": {str(index): detail for index, detail in errors.items()}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        stored = visitor_counts_upsert(rows=rows)
        return Response({"stored": stored}, status=status.HTTP_201_CREATED)


def _batch_refused(message: str) -> Response:
    return Response({"errors": {"batch": [message]}}, status=status.HTTP_400_BAD_REQUEST)
