from django import forms
from django.utils.translation import gettext as _

from .models import FormCapture


class FormCaptureForm(forms.ModelForm):
    class Meta:
        model = FormCapture
        fields = [
            "name",
            "event_type",
            "email_field",
            "first_name_field",
            "last_name_field",
            "company_field",
            "company_size_field",
            "country_field",
            "source_field",
            "default_source",
            "honeypot_field",
            "rate_per_minute",
        ]

    def clean_rate_per_minute(self):
        value = self.cleaned_data["rate_per_minute"]
        if not 1 <= value <= 10_000:
            raise forms.ValidationError(_("Choose between 1 and 10,000 posts a minute."))
        return value
