from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from slaportal.outbox import channel_register

        from .services.notifications import IN_APP, notices_deliver
        from .services.nurture import NURTURE, nurture_steps_deliver

        # In-app notices are rows in this app's tables: delivered in the outbox's own
        # transaction, so exactly once.
        channel_register(IN_APP, deliver=notices_deliver, transactional=True)
        # Nurture content leaves the product: at least once, like e-mail.
        channel_register(NURTURE, deliver=nurture_steps_deliver, transactional=False)
