from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapturesConfig(AppConfig):
    name = "captures"
    verbose_name = _("Form captures")
