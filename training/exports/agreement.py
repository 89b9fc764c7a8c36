"""The agreement report as an export: the auditor dashboard's statistics
(``review.stats.report``) frozen into ``agreement.json`` and
``agreement.csv``. The CSV goes through ``coding_app.csv_safety``, so no
cell (a coder's e-mail, say) can act as a spreadsheet formula."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from coding_app.csv_safety import csv_lines
from training.exports.files import HashedFile
from training.exports.filters import ExportFilters
from training.exports.writers import ExportWritten

JSON_FILE = "agreement.json"
CSV_FILE = "agreement.csv"


def agreement_files_write(*, filters: ExportFilters, folder: Path) -> ExportWritten:
    from review.stats.report import agreement_report, agreement_report_csv_rows
    from review.stats.rollup import stats_refresh

    # The report reads the weekly rollups; an export is figures as of now.
    stats_refresh()
    report = agreement_report(
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
