from django.core.management.base import BaseCommand, CommandError

from benchmarks.seed import seed_reset, seed_scale


class Command(BaseCommand):
    help = (
        "Seed a workspace at scale on top of load_demo: N leads over twelve months with M "
        "events, stage history, handoffs, attempts and visitor counts (set-based on "
        "PostgreSQL). --reset first deletes the leads a previous seed made."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, required=True)
        parser.add_argument("--events", type=int, required=True)
        parser.add_argument("--reset", action="store_true", help="Delete the seeded leads first.")
        parser.add_argument(
            "--method",
            choices=["auto", "sql", "python"],
            default="auto",
            help="sql: PostgreSQL, set-based; python: any database, small sizes.",
        )

    def handle(self, *args, **options):
        if options["reset"]:
            self.stdout.write(f"Deleted {seed_reset()} seeded leads.")
        try:
            summary = seed_scale(
                leads=options["leads"], events=options["events"], method=options["method"]
            )
        except (RuntimeError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.leads} leads, {summary.events} events, {summary.handoffs} "
                f"handoffs, {summary.stage_changes} stage changes and {summary.attempts} "
                f"attempts in {summary.seconds} s ({summary.method})."
            )
        )
