"""Compiles locale/*/LC_MESSAGES/*.po into the .mo files Django reads, in pure Python (polib),
so a fresh machine needs no GNU gettext to run the product. `make install` runs it; only the
.po files are kept in git. (Extracting strings, `make messages`, does need gettext.)"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the .po translation catalogues into .mo files (no gettext needed)."

    def handle(self, *args, **options):
        for folder in settings.LOCALE_PATHS:
            for po_path in sorted(Path(folder).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                self.stdout.write(f"compiled {mo_path}")
