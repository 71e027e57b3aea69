from django.core.management.base import BaseCommand

from leads.services.handoffs import cadence_apply


class Command(BaseCommand):
    help = "Return to marketing the handoffs the cadence gave up on, into their nurture tracks."

    def handle(self, *args, **options):
        self.stdout.write(f"{len(cadence_apply())} leads returned to marketing.")
