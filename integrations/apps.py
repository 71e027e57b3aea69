from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from slaportal.events import events_writer_register, notices_router_register
        from slaportal.outbox import channel_register

        from .chat import CHAT, chat_alerts_deliver
        from .delivery import WEBHOOK, webhook_attempt_failed, webhooks_deliver
        from .events import events_emit_many
        from .preferences import notices_route

        # The other apps emit through slaportal.events and never import this app.
        events_writer_register(events_emit_many)
        notices_router_register(notices_route)

        # Both leave the product: at least once per attempt, the same webhook-id every time
        # so receivers drop a copy.
        channel_register(
            WEBHOOK,
            deliver=webhooks_deliver,
            transactional=False,
            on_failure=webhook_attempt_failed,
        )
        channel_register(CHAT, deliver=chat_alerts_deliver, transactional=False)
