from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"

    def ready(self):
        from slaportal.outbox import attachment_register

        from .ritual import PACK, review_pack_render

        attachment_register(PACK, render=review_pack_render)
