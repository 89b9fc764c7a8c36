from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding_app.codes.loading import code_release_load
from coding_app.codes.release import ReleaseError, ReleaseFiles, read_release


class Command(BaseCommand):
    help = (
        "Load an ICD-10-CM release into the Code table and make it the active one. "
        "Without arguments, loads the April 1, 2026 release shipped in simple-icd-10-cm. "
        "Safe to run again: a second run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "tabular", nargs="?", type=Path, help="a tabular list XML file (icd10cm-tabular-*.xml)"
        )
        parser.add_argument(
            "--code-list",
            type=Path,
            help="the release's code list (one code per line); required with a tabular file",
        )
        parser.add_argument("--name", help="the release name (default: from the file name)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        files = self._files(options["tabular"], options["code_list"])
        try:
            release = read_release(files, options["name"])
            report = code_release_load(release=release)
        except ReleaseError as error:
            raise CommandError(f"{error} Nothing was changed.") from None
        seconds = time.monotonic() - started
        if not report.changed_anything:
            self.stdout.write(
                f"{report.release}: {report.total:,} codes, already loaded; nothing changed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.release}: {report.total:,} codes ({report.added:,} added, "
                f"{report.changed:,} changed, {report.removed:,} removed)"
                f"{', now the active release' if report.activated else ''} in {seconds:.1f} s."
            )
        )

    def _files(self, tabular: str | None, code_list: str | None) -> ReleaseFiles | None:
        if tabular is None and code_list is None:
            return None
        if tabular is None or code_list is None:
            raise CommandError("Give both a tabular list file and --code-list, or neither.")
        # Path() again: call_command passes keyword options through untyped.
        return ReleaseFiles(Path(tabular), Path(code_list))
