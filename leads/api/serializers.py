"""What the API and the CSV import accept and answer.

The input serializers are shared by both doors, so a CSV row and a JSON item are refused for
the same reasons in the same words.
"""

import re
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agreements.models import Channel
from agreements.selectors import versions_in_force

from ..emails import InvalidEmail, email_normalise
from ..models import ContactAttempt, Handoff, Lead, Stage
from ..services.activities import ActivityInput
from ..services.ingestion import EventInput
from .parsers import MAX_FIELD_DEPTH, json_problem

MAX_EVENTS_PER_BATCH = 1000
MAX_ACTIVITIES_PER_BATCH = 1000
# A CRM's clock may run a little ahead of ours; beyond this the activity has not happened yet.
ACTIVITY_CLOCK_SKEW = timedelta(minutes=5)
# Clocks drift and time zones get mixed up; beyond this an event is a mistake, not skew.
MAX_FUTURE = timedelta(days=1)
# Activity from before the web as we know it is a default value or a typo (year 0001, 1900).
MIN_OCCURRED_AT = datetime(2000, 1, 1, tzinfo=UTC)
POSTGRES_INT_MAX = 2_147_483_647
NAIVE_MESSAGE = "Include a time zone, e.g. 2026-11-26T14:00:00Z"
NOT_AN_OBJECT = 'Must be a JSON object, e.g. {{"plan": "pro"}}, not a {input_type}.'
STAGE_CHOICE_MESSAGE = f"Unknown stage '{{input}}'. Choose one of: {', '.join(Stage.values)}."
TEXT_FIELDS = ("first_name", "last_name", "phone", "title", "company", "industry", "source")


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset: a naive time would silently be read as server time."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            value = value.strip()
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None  # well formed but impossible, e.g. month 13: DRF words that
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError(NAIVE_MESSAGE, code="naive")
        return super().to_internal_value(value)


class QueryDateTimeField(AwareDateTimeField):
    """In a query string an unescaped '+' of '+02:00' arrives as a space; put it back."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            value = re.sub(
                r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$", r"\1+\2", value.strip()
            )
        return super().to_internal_value(value)


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know: a misspelt field would otherwise vanish without a word."""

    unknown_hint = ""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                message = f"Unknown field.{self.unknown_hint}"
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)


class JsonObjectField(serializers.DictField):
    """A free-form JSON object that PostgreSQL can store and the API can render back.

    Refuses NUL characters, lone surrogates and nesting deeper than MAX_FIELD_DEPTH, with
    the error under the top-level key it is in (a CSV import shows it under that column).
    """

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        found = json_problem(value, max_depth=MAX_FIELD_DEPTH)
        if found:
            path, problem = found
            key = path.partition(".")[0]
            if key:
                raise serializers.ValidationError({key: [f"{path} {problem}."]})
            raise serializers.ValidationError(f"{problem[:1].upper()}{problem[1:]}.")
        return value


class NormalisedEmailField(serializers.EmailField):
    """An e-mail whose domain can be IDNA-encoded, i.e. one email_normalise accepts."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            email_normalise(value)
        except InvalidEmail:
            self.fail("invalid")
        return value


def _text(max_length: int, **kwargs) -> serializers.CharField:
    # null is taken as blank: web forms commonly send null for a field left empty.
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, allow_null=True, **kwargs
    )


class LeadInputSerializer(StrictSerializer):
    """A lead to create, or to update when its e-mail is known (ignoring case).

    Fields left out keep their stored value; unknown fields are refused.
    """

    unknown_hint = " Put custom data in attributes."

    email = NormalisedEmailField(max_length=254)
    first_name = _text(100)
    last_name = _text(100)
    phone = _text(40)
    title = _text(200)
    company = _text(200)
    company_size = serializers.IntegerField(
        min_value=0, max_value=POSTGRES_INT_MAX, required=False, allow_null=True
    )
    industry = _text(100)
    country = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Two-letter ISO 3166 code, e.g. BR; stored upper case.",
    )
    source = _text(100)
    attributes = JsonObjectField(
        required=False,
        help_text="Custom attributes, merged into the stored ones.",
        error_messages={"not_a_dict": NOT_AN_OBJECT},
    )

    def validate_country(self, value):
        if not value:
            return ""
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise serializers.ValidationError("Use the two-letter ISO 3166 code, e.g. BR.")
        return value.upper()

    def validate(self, attrs):
        return {
            key: "" if value is None and key in TEXT_FIELDS else value
            for key, value in attrs.items()
        }


def lead_upsert_arguments(data: dict) -> dict:
    """Validated lead input as the keyword arguments of ingestion.lead_upsert."""
    fields = dict(data)
    return {
        "email": fields.pop("email"),
        "attributes": fields.pop("attributes", None),
        "fields": fields,
    }


class EventInputSerializer(StrictSerializer):
    """One activity of a lead, e.g. a page view or a demo request."""

    # The view puts `catalogue` (the allowed types) and `now` in the context.

    unknown_hint = " Put custom data in properties."

    email = NormalisedEmailField(max_length=254, help_text="An unknown e-mail creates the lead.")
    type = serializers.CharField(
        max_length=40, help_text="A type of the catalogue: built-ins plus the SLA's own."
    )
    occurred_at = AwareDateTimeField(help_text="ISO 8601 with a time zone.")
    properties = JsonObjectField(
        required=False, default=dict, error_messages={"not_a_dict": NOT_AN_OBJECT}
    )
    external_id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="Your id of the event: sending it again is a no-op.",
    )

    def validate_type(self, value: str) -> str:
        catalogue = self.context["catalogue"]
        if value not in catalogue:
            known = ", ".join(sorted(catalogue))
            raise serializers.ValidationError(f"Unknown event type '{value}'. Known: {known}.")
        return value

    def validate_occurred_at(self, value):
        now = self.context.get("now") or timezone.now()
        if value < MIN_OCCURRED_AT:
            raise serializers.ValidationError(
                gettext(
                    "Before 2000-01-01: check the date; a default such as 0001-01-01 or "
                    "1900-01-01 is not when the activity happened."
                )
            )
        if value > now + MAX_FUTURE:
            raise serializers.ValidationError(
                "More than a day in the future: check the date and its time zone."
            )
        return value

    def validate_external_id(self, value):
        return value or None

    _KEYS = frozenset(("email", "type", "occurred_at", "properties", "external_id"))

    def fast_validate(self, item) -> dict | None:
        """The validated data of a plainly good item, as run_validation returns it, without
        DRF's machinery (two thirds of the time of a 1,000-event batch); None whenever the
        item is not plainly good: run_validation then decides, and words the errors.

        Plainly good: a JSON object with known keys only; e-mail, type and external_id ASCII
        strings with no surrounding space or NUL, within their lengths; the type in the
        catalogue; an ISO 8601 time with an offset inside the allowed window; properties a
        JSON object that json_problem accepts. tests/leads/test_bad_input.py holds the two
        paths to the same answers.
        """
        if type(item) is not dict or not item.keys() <= self._KEYS:
            return None
        email, event_type, occurred = item.get("email"), item.get("type"), item.get("occurred_at")
        if not (_plain(email, 254) and _plain(event_type, 40) and type(occurred) is str):
            return None
        if event_type not in self.context["catalogue"]:
            return None
        try:
            validate_email(email)
            email_normalise(email)
            parsed = parse_datetime(occurred.strip())
            if parsed is None or parsed.tzinfo is None:
                return None
            zone = self._occurred_zone()
            occurred_at = (
                parsed.astimezone(zone)
                if zone is not None
                else self.fields["occurred_at"].enforce_timezone(parsed)
            )
        except (DjangoValidationError, serializers.ValidationError, ValueError, TypeError):
            return None  # InvalidEmail is a ValueError; OverflowError an ArithmeticError
        except OverflowError:
            return None
        now = self.context.get("now") or timezone.now()
        if occurred_at < MIN_OCCURRED_AT or occurred_at > now + MAX_FUTURE:
            return None
        properties = item.get("properties", _ABSENT)
        if properties is _ABSENT:
            properties = {}
        elif type(properties) is not dict or json_problem(properties, max_depth=MAX_FIELD_DEPTH):
            return None
        else:
            properties = dict(properties)
        external_id = item.get("external_id")
        if external_id is not None:
            if type(external_id) is not str:
                return None
            external_id = external_id.strip()
            if not _plain(external_id, 200, blank=True):
                return None
        return {
            "email": email,
            "type": event_type,
            "occurred_at": occurred_at,
            "properties": properties,
            "external_id": external_id or None,
        }

    def _occurred_zone(self):
        """The zone DRF's enforce_timezone converts an aware time to, looked up once per
        serializer (a batch) rather than per item: the active zone does not change within
        a request."""
        zone = self.__dict__.get("_zone", _ABSENT)
        if zone is _ABSENT:
            field = self.fields["occurred_at"]
            zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
            self._zone = zone  # None with USE_TZ off: then DRF makes the time naive
        return zone


_ABSENT = object()


def _plain(value, max_length: int, *, blank: bool = False) -> bool:
    """An ASCII string that DRF's CharField keeps as it is and its validators accept."""
    return (
        type(value) is str
        and (blank or value != "")
        and len(value) <= max_length
        and value.isascii()
        and "\x00" not in value
        and value == value.strip()
    )


def event_input(data: dict) -> EventInput:
    return EventInput(**data)


class ActivityInputSerializer(StrictSerializer):
    """A call, e-mail, meeting or message a CRM or dialer already recorded."""

    # The view puts `now` in the context.

    external_id = serializers.CharField(
        max_length=200, help_text="Your id of the activity: sending it again stores nothing."
    )
    email = NormalisedEmailField(
        max_length=254, required=False, help_text="The lead's e-mail (or give lead_id)."
    )
    lead_id = serializers.IntegerField(
        min_value=1, max_value=POSTGRES_INT_MAX, required=False, help_text="Or the lead's id."
    )
    rep = serializers.CharField(
        max_length=254, help_text="Username or e-mail of the rep who made the contact."
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        error_messages={
            "invalid_choice": f"Unknown channel '{{input}}'. Choose one of: "
            f"{', '.join(Channel.values)}."
        },
    )
    direction = serializers.ChoiceField(
        choices=ContactAttempt.Direction.choices,
        default=ContactAttempt.Direction.OUTBOUND,
        error_messages={"invalid_choice": "Use inbound or outbound."},
    )
    disposition = serializers.CharField(
        max_length=40, help_text="A disposition code of the SLA the lead's handoff runs under."
    )
    occurred_at = AwareDateTimeField(help_text="ISO 8601 with a time zone; not in the future.")
    note = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, allow_null=True, default=""
    )
    integration = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="Which system reported it, e.g. HubSpot; the lead's timeline says so. "
        "Default: the name of the API user.",
    )

    def validate_occurred_at(self, value):
        now = self.context.get("now") or timezone.now()
        if value < MIN_OCCURRED_AT:
            raise serializers.ValidationError(
                gettext("Before 2000-01-01: check the date; it is not when the contact happened.")
            )
        if value > now + ACTIVITY_CLOCK_SKEW:
            raise serializers.ValidationError(
                gettext("In the future: check the date and its time zone.")
            )
        return value

    def validate(self, attrs):
        if ("email" in attrs) == ("lead_id" in attrs):
            raise serializers.ValidationError(
                {"email": [gettext("Give the lead's email or its lead_id (one of the two).")]}
            )
        attrs["note"] = attrs.get("note") or ""
        return attrs


def activity_input(data: dict) -> ActivityInput:
    return ActivityInput(**data)


def validate_each(serializer_class, items: list, *, context: dict | None = None):
    """Validate every item; returns (validated data or None per item, errors by index).

    Unlike DRF's ListSerializer it keeps the data of the good items, which the CSV preview
    shows beside the errors, and one serializer checks them all (building one per item would
    copy its fields every time).
    """
    checker = serializer_class(context=context or {})
    fast = getattr(checker, "fast_validate", None)
    cleaned, errors = [], {}
    for index, item in enumerate(items):
        if fast is not None and (data := fast(item)) is not None:
            cleaned.append(data)
            continue
        try:
            cleaned.append(checker.run_validation(item))
        except serializers.ValidationError as error:
            errors[index] = error.detail
            cleaned.append(None)
    return cleaned, errors


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", read_only=True, **kwargs)


class LeadSerializer(serializers.ModelSerializer):
    """A lead, its lifecycle stage and its scores under the SLA in force."""

    # The context may carry `stage_labels`, read once per request.

    owner = UsernameField(
        allow_null=True, help_text="Username of the rep who owns the lead, or null."
    )
    stage_label = serializers.SerializerMethodField(
        help_text="The stage's name in the SLA in force."
    )
    agreement_name = serializers.SerializerMethodField(
        help_text="Name of the agreement whose scope governs the lead; null when none does."
    )
    agreement_version = serializers.SerializerMethodField(
        help_text="Number of that agreement's version in force, whose rules apply to the lead "
        "next; null when it has none."
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "company",
            "stage",
            "stage_label",
            "fit_score",
            "interest_score",
            "score",
            "owner",
            "agreement",
            "agreement_name",
            "agreement_version",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "agreement": {"help_text": "Id of the agreement whose scope governs the lead."}
        }

    def get_stage_label(self, lead) -> str:
        labels = self.context.get("stage_labels") or {}
        return labels.get(lead.stage) or Stage(lead.stage).label

    def _in_force(self, lead):
        # The context carries {agreement id: version in force}, read once per request.
        versions = self.context.get("versions_in_force")
        if versions is None:
            versions = self.context["versions_in_force"] = versions_in_force()
        return versions.get(lead.agreement_id)

    def get_agreement_name(self, lead) -> str | None:
        if lead.agreement_id is None:
            return None
        version = self._in_force(lead)
        return version.agreement.name if version else lead.agreement.name

    def get_agreement_version(self, lead) -> int | None:
        version = self._in_force(lead)
        return version.number if version else None


class RulePointsSerializer(serializers.Serializer):
    """Points one rule of the SLA gave the lead."""

    rule = serializers.CharField()
    kind = serializers.ChoiceField(choices=["fit", "interest"])
    points = serializers.IntegerField()
    occurrences = serializers.IntegerField()


class HandoffSerializer(serializers.ModelSerializer):
    """The lead's hand-off to a rep, with its SLA deadlines."""

    rep = UsernameField(help_text="Username of the rep.")

    class Meta:
        model = Handoff
        fields = [
            "id",
            "rep",
            "trigger",
            "handed_off_at",
            "due_at",
            "accept_due_at",
            "first_touch_at",
            "status",
        ]
        read_only_fields = fields


class LeadDetailSerializer(LeadSerializer):
    """A lead with every field, which rule gave which points, and its open handoff."""

    # The context carries `breakdown` (a ScoreResult, or None when no SLA is in force) and
    # `handoff` (the open one, or None).

    score_breakdown = serializers.SerializerMethodField(
        help_text="Which rule of the SLA in force gave which points."
    )
    handoff = serializers.SerializerMethodField(help_text="The open handoff, or null.")

    class Meta(LeadSerializer.Meta):
        fields = [
            *LeadSerializer.Meta.fields,
            "status",
            "phone",
            "title",
            "company_size",
            "industry",
            "country",
            "source",
            "attributes",
            "created_at",
            "score_breakdown",
            "handoff",
        ]
        read_only_fields = fields

    @extend_schema_field(RulePointsSerializer(many=True))
    def get_score_breakdown(self, lead):
        result = self.context.get("breakdown")
        return RulePointsSerializer(result.breakdown if result else [], many=True).data

    @extend_schema_field(HandoffSerializer(allow_null=True))
    def get_handoff(self, lead):
        handoff = self.context.get("handoff")
        return HandoffSerializer(handoff).data if handoff else None


class LeadFilterSerializer(serializers.Serializer):
    """Filters of the lead list."""

    stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text="Lifecycle stage slug.",
        error_messages={"invalid_choice": STAGE_CHOICE_MESSAGE},
    )
    owner = serializers.CharField(required=False, help_text="Username of the owning rep.")
    updated_since = QueryDateTimeField(
        required=False,
        help_text=(
            "Only leads whose record (fields, stage, status, owner) changed at or after this "
            "ISO 8601 time; new activity alone does not count."
        ),
    )


class LeadStageInputSerializer(StrictSerializer):
    """A CRM reporting that an accepted lead became an opportunity or was won."""

    stage = serializers.ChoiceField(choices=[Stage.OPPORTUNITY, Stage.CUSTOMER])
    reason = _text(300)
    deal_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class IngestResultSerializer(serializers.Serializer):
    """What a stored batch did."""

    created = serializers.IntegerField(help_text="Events stored.")
    duplicates = serializers.IntegerField(help_text="Events skipped: their external_id is known.")
    leads_created = serializers.IntegerField(help_text="Leads created for unknown e-mails.")
    duplicate_indexes = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="0-based positions of the events skipped as duplicates; nothing of them "
        "was stored, not even a lead for a new e-mail.",
    )


class EventBatchErrorSerializer(serializers.Serializer):
    """Why a batch was refused; nothing of it was stored."""

    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Keyed by the 0-based index of each bad item, then by field, e.g. "
        '{"3": {"type": ["Unknown event type \'foo\'. Known: ..."]}}. A problem with the '
        'batch as a whole is under "batch", e.g. {"batch": ["Send at most 1,000 events."]}. '
        "Nothing of the batch is stored.",
    )


class ActivityResultSerializer(serializers.Serializer):
    """The attempt an activity became."""

    external_id = serializers.CharField()
    attempt_id = serializers.IntegerField()
    lead_id = serializers.IntegerField()
    handoff_id = serializers.IntegerField()
    duplicate = serializers.BooleanField(
        help_text="Its external_id was received before: nothing was stored this time."
    )


class ActivityBatchResultSerializer(serializers.Serializer):
    """What a stored batch of activities did, one result per item in order."""

    created = serializers.IntegerField(help_text="Attempts stored.")
    duplicates = serializers.IntegerField(help_text="Items whose external_id was known.")
    results = ActivityResultSerializer(many=True)
