import logging
import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.utils import OperationalError

from benchmarks.run import SCALES, Bench


def database_ensure() -> None:
    """Create the bench database when it does not exist yet (a fresh clone's first run)."""
    try:
        connection.ensure_connection()
        return
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
    import psycopg
    from psycopg import sql

    settings = connection.settings_dict
    with psycopg.connect(
        dbname="postgres",
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    ) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))


class Command(BaseCommand):
    help = (
        "Time the hot paths of issue 9 on a seeded workspace (PostgreSQL): each against its "
        "SQL floor and its target. Writes var/bench-<scale>.json and .md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--runs", type=int, default=3, help="Runs of each job (min, median).")
        parser.add_argument(
            "--only", nargs="*", help="Only the operations whose name contains one of these."
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The bench runs on PostgreSQL: set DATABASE_URL.")
        # django-axes logs every in-process login the query counts make.
        logging.getLogger("axes").setLevel(logging.WARNING)
        database_ensure()
        call_command("migrate", interactive=False, verbosity=0)
        bench = Bench(
            scale=options["scale"],
            runs=options["runs"],
            out=self.stdout.write,
            only=set(options["only"]) if options["only"] else None,
        )
        bench.run()
        json_path, md_path = bench.write()
        self.stdout.write("")
        self.stdout.write(md_path.read_text())
        self.stdout.write(f"Written {os.path.relpath(json_path)} and {os.path.relpath(md_path)}.")
