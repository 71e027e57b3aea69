from datetime import date

from django.core.management.base import BaseCommand, CommandError

from kpis.rollups import rollup_backfill


class Command(BaseCommand):
    help = "Recompute the daily KPI rollups from the first lead (or --since YYYY-MM-DD) to today."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="First day to roll up, YYYY-MM-DD.")

    def handle(self, *args, **options):
        since = None
        if options["since"]:
            try:
                since = date.fromisoformat(options["since"])
            except ValueError as error:
                raise CommandError("--since takes a date as YYYY-MM-DD.") from error
        rows = rollup_backfill(since=since)
        self.stdout.write(f"Wrote {rows} daily figures.")
