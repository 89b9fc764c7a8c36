"""The agreement report as an export: the auditor dashboard's statistics
(``review.stats.report``, read through one call) frozen into
``agreement.json`` and ``agreement.csv``.

The statistics pages show the same report live and download it as CSV; it
is an export too because an export snapshot is what an auditor can cite
later: written once and kept as written, recorded with its filter and row
count, audited when created, opened and downloaded, and pinned by the
files' sha256 (the report holds no timestamp but that of the rollups it
read, so the same figures give the same bytes). The CSV goes through
``coding_app.csv_safety``, so no cell (a coder's e-mail, say) can act as a
spreadsheet formula.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from coding_app.csv_safety import csv_lines
from review.stats.report import agreement_report_csv_rows, agreement_report_now
from training.exports.files import HashedFile
from training.exports.filters import ExportFilters
from training.exports.writers import ExportWritten

JSON_FILE = "agreement.json"
CSV_FILE = "agreement.csv"


def agreement_files_write(*, filters: ExportFilters, folder: Path) -> ExportWritten:
    # An export is figures as of now, not as of the last rollup refresh.
    report = agreement_report_now(
        model_version_id=filters.model_version,
        since=filters.date_from,
        # The report's range ends before ``until``; ours includes date_to.
        until=filters.date_to + dt.timedelta(days=1) if filters.date_to else None,
    )
    with HashedFile(folder / JSON_FILE) as json_file:
        text = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True, default=str)
        json_file.write((text + "\n").encode())
    with HashedFile(folder / CSV_FILE) as csv_file:
        for line in csv_lines(agreement_report_csv_rows(report)):
            csv_file.write(line.encode())
        # The header is a line too, not a figure.
        rows = csv_file.rows - 1
    return ExportWritten(
        files={JSON_FILE: json_file.digest(), CSV_FILE: csv_file.digest()},
        row_counts={"rows": rows},
    )
