from django.core.management.base import BaseCommand
from django.db import transaction

from agreements.demo import (
    DEMO_AGREEMENT_NAME,
    DEMO_PASSWORD,
    DEMO_USERS,
    demo_agreement_load,
    demo_users_load,
)
from agreements.models import Agreement
from kpis.demo import demo_visitors_load
from kpis.rollups import rollup_backfill
from leads.demo import DEMO_DAYS, demo_leads_exist, demo_leads_load

DEMO_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = (
        "Load the demo workspace (Acme's SLA, its people, and leads with 90 days of "
        "activity). Safe to run again: existing demo users, the demo agreement and the demo "
        "leads are left as they are."
    )

    def handle(self, *args, **options):
        already_loaded = Agreement.objects.filter(name=DEMO_AGREEMENT_NAME).exists()
        with transaction.atomic():
            users = demo_users_load()
            agreement = demo_agreement_load(users)
        if already_loaded:
            self.stdout.write(f"The demo agreement “{agreement}” was already loaded; left as is.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded “{agreement}”: version 1 in force and an amendment in draft."
                )
            )
        summary = demo_leads_load(agreement=agreement)
        if summary is None and demo_leads_exist():
            self.stdout.write("The demo leads were already loaded; left as they are.")
        elif summary is None:
            self.stdout.write("No demo leads loaded: another agreement runs the lead pipeline.")
        else:
            stages = ", ".join(f"{count} {stage}" for stage, count in summary.stages.items())
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {summary.leads} leads with {DEMO_DAYS} days of activity "
                    f"({summary.events} events): {stages}; {summary.handoffs} handoffs, "
                    f"{summary.open_handoffs} open today, {summary.breached} breached, "
                    f"{summary.returned} returned."
                )
            )
        demo_visitors_load()
        # The review reads daily rollups; fill them now rather than wait for the first job.
        written = rollup_backfill()
        self.stdout.write(f"Rolled up the KPI figures ({written} daily figures).")
        self.stdout.write("")
        rows = [("username", "password", "role")]
        for person in DEMO_USERS:
            rows.append((person.username, DEMO_PASSWORD, person.description))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for index, row in enumerate(rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(f"Sign in at {DEMO_URL}")
