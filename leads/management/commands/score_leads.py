from django.core.management.base import BaseCommand

from leads.services.pipeline import pipeline_run


class Command(BaseCommand):
    help = "Score leads with new activity (or --all), promote MQLs and fire handoff triggers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Re-score every lead (decay, new rules)."
        )

    def handle(self, *args, **options):
        result = pipeline_run(all_leads=options["all"])
        self.stdout.write(
            f"Scored {result.scored} leads (a full rescore counts only changed scores); "
            f"{result.promoted} became MQLs; "
            f"{result.handed_off} handed to sales."
        )
