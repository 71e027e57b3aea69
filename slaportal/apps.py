from django.apps import AppConfig


class SlaPortalConfig(AppConfig):
    name = "slaportal"
    verbose_name = "SLA Portal"
