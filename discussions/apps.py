from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscussionsConfig(AppConfig):
    name = "discussions"
    verbose_name = _("Discussions on the SLA draft")

    def ready(self):
        from agreements.services import submit_check_register

        from .services import blocking_threads_messages

        # A draft is not submitted while a blocking thread is open.
        submit_check_register(blocking_threads_messages)
