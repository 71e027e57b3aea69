from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import EVENT_TYPES, AlertKind, ChatChannel


class EndpointForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        # The event types are the webhook contract's names, shown as code, never translated.
        choices=[(event, format_html("<code>{}</code>", event)) for event in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event type."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ChatChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Chat"), choices=ChatChannel.Kind.choices)
    url = forms.URLField(label=_("Incoming webhook URL"), max_length=500, assume_scheme="https")
    team_wide = forms.BooleanField(
        label=_("The whole team's channel (otherwise only mine)"), required=False
    )


class PreferencesForm(forms.Form):
    """One checkbox per (kind, channel): `<kind>__<channel>`."""

    CHANNELS = (("in_app", _("In the app")), ("email", _("E-mail")), ("chat", _("Chat")))

    def __init__(self, *args, preferences: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in AlertKind.choices:
            for channel, channel_label in self.CHANNELS:
                self.fields[f"{kind}__{channel}"] = forms.BooleanField(
                    label=f"{label}: {channel_label}",
                    required=False,
                    initial=getattr(preferences[kind], channel),
                )

    def choices(self) -> dict[str, dict[str, bool]]:
        result: dict[str, dict[str, bool]] = {}
        for name, value in self.cleaned_data.items():
            kind, channel = name.split("__")
            result.setdefault(kind, {})[channel] = value
        return result
