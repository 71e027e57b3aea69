from django.core.management.base import BaseCommand

from leads.services.nurture import nurture_advance


class Command(BaseCommand):
    help = "Deliver the nurture steps that are due and schedule the next ones."

    def handle(self, *args, **options):
        self.stdout.write(f"{nurture_advance()} nurture steps delivered.")
