from django.core.management.base import BaseCommand

from leads.services.handoffs import breaches_flag


class Command(BaseCommand):
    help = "Flag handoffs at risk and breached (each exactly once) and notify."

    def handle(self, *args, **options):
        result = breaches_flag()
        self.stdout.write(f"{len(result.at_risk)} at risk, {len(result.breached)} breached.")
