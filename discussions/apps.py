from django.apps import AppConfig


class DiscussionsConfig(AppConfig):
    name = "discussions"
    verbose_name = "Discussions on the SLA draft"

    def ready(self):
        from agreements.services import submit_check_register

        from .services import blocking_threads_messages

        # A draft is not submitted while a blocking thread is open.
        submit_check_register(blocking_threads_messages)
