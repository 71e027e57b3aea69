from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agreements.demo import (
    DEMO_CONTENT,
    DEMO_PASSWORD,
    DEMO_USERS,
    demo_agreement_load,
    demo_users_load,
)
from agreements.models import Agreement
from kpis.demo import demo_visitors_load
from kpis.rollups import rollup_backfill
from leads.demo import DEMO_DAYS, demo_leads_exist, demo_leads_load
from slaportal.workspace import workspace_update

DEMO_URL = "http://127.0.0.1:8000/"
# The workspace each demo sets: its default language and the currency of its money.
WORKSPACE = {"en": ("en", "USD"), "pt-br": ("pt-br", "BRL")}
LANGUAGE_NAMES = {"en": "English", "pt-br": "Brazilian Portuguese"}


class Command(BaseCommand):
    help = (
        "Load the demo workspace (Acme's SLA, its people, and leads with 90 days of "
        "activity), in English or, with --language pt-br, in Brazilian Portuguese (Altamira's "
        "SLA, goals in R$). Safe to run again: existing demo users, the demo agreement and the "
        "demo leads are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--language",
            default="en",
            help="The demo's language: en (the default) or pt-br.",
        )

    def handle(self, *args, **options):
        language = _language_code(options["language"])
        content = DEMO_CONTENT[language]
        other = _other_language_loaded(language)
        if other is not None:
            # Two demos would be two default SLAs fighting over the same leads.
            self.stdout.write(
                self.style.WARNING(
                    f"The demo is already loaded in {LANGUAGE_NAMES[other]}; left as is. "
                    f"To load it in {LANGUAGE_NAMES[language]}, start from an empty database "
                    f"(manage.py flush) and run load_demo --language {language}."
                )
            )
            return
        already_loaded = Agreement.objects.filter(name=content.agreement_name).exists()
        with transaction.atomic():
            users = demo_users_load(content)
            agreement = demo_agreement_load(users, content)
            if not already_loaded:
                default_language, currency = WORKSPACE[language]
                workspace_update(default_language=default_language, currency=currency)
        if already_loaded:
            self.stdout.write(f"The demo agreement “{agreement}” was already loaded; left as is.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded “{agreement}”: version 1 in force and an amendment in draft."
                )
            )
        summary = demo_leads_load(agreement=agreement, language=language)
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
        demo_visitors_load(language=language)
        # The review reads daily rollups; fill them now rather than wait for the first job.
        written = rollup_backfill()
        self.stdout.write(f"Rolled up the KPI figures ({written} daily figures).")
        self.stdout.write("")
        rows = [("username", "password", "role")]
        for person in DEMO_USERS:
            description = content.user_descriptions.get(person.username, person.description)
            rows.append((person.username, DEMO_PASSWORD, description))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for index, row in enumerate(rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(f"Sign in at {DEMO_URL}")


def _language_code(given: str) -> str:
    """The demo language asked for, as settings.LANGUAGES spells it (pt_BR, pt-BR: pt-br)."""
    code = given.strip().lower().replace("_", "-")
    if code not in DEMO_CONTENT:
        choices = ", ".join(DEMO_CONTENT)
        raise CommandError(f"No demo in the language “{given}”: choose one of {choices}.")
    return code


def _other_language_loaded(language: str) -> str | None:
    """The language of a demo already loaded in another language, if any."""
    for code, content in DEMO_CONTENT.items():
        if code != language and Agreement.objects.filter(name=content.agreement_name).exists():
            return code
    return None
