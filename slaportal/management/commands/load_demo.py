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

DEMO_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = (
        "Load the demo workspace (Acme's SLA and its people). Safe to run again: existing "
        "demo users and the demo agreement are left as they are."
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
