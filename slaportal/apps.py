from django.apps import AppConfig


class SlaPortalConfig(AppConfig):
    name = "slaportal"
    verbose_name = "SLA Portal"

    def ready(self):
        from .lookups import lookups_register
        from .outbox import channel_register, emails_deliver
        from .timestamps import c_loader_register

        lookups_register()
        c_loader_register()
        # The language chosen on the profile follows the person into their session; the
        # cached version in force is dropped when a version is saved, in every process.
        from . import clock, language  # noqa: F401

        channel_register("email", deliver=emails_deliver, transactional=False)
