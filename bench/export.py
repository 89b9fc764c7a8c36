"""Export 1,000,000 decisions to SFT JSONL and compare with PostgreSQL's COPY.

Run from the repository root with DATABASE_URL (and REDIS_URL) set:

    python bench/export.py [--decisions N]

The bench creates its own database ``coding_desk_bench_export`` on the same
server, migrates it, loads the code set and generates the data in SQL
(INSERT ... SELECT over generate_series): N / 5 notes of about 1 KB, one
prediction each with 5 suggestions, one submitted review of 5 decisions
(80 % accepted, 10 % rejected, 10 % replaced by a sibling). It then times:

1. the export service (``export_snapshot_write``, what the Celery task
   runs) writing the SFT snapshot: query, rows, JSON, sha256, manifest;
2. PostgreSQL's own ``COPY (<the export's query>) TO STDOUT`` of the same
   rows into a file: the floor that no client can beat.

Peak memory is the process's maximum resident set, read after a tenth-size
export and again after the full one: flat memory shows as two equal peaks.
The database is dropped at the end. The last line printed is one JSON object:
{"rows": ..., "rows_per_s": ..., "peak_rss_mb": ..., "ratio_to_copy": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from throwaway_database import postgres_server_url, sql_script_run, throwaway_database

if TYPE_CHECKING:
    from training.models import ExportSnapshot

BENCH_DATABASE = "coding_desk_bench_export"
DECISIONS_PER_REVIEW = 5

GENERATE = """
CREATE TEMP TABLE pool AS
    SELECT (row_number() OVER (ORDER BY code))::int AS i, code, parent
    FROM coding_app_code
    WHERE release_id = %(release)s AND billable AND id %% 13 = 0;
INSERT INTO worker_note (source, external_id, text, text_sha256, text_seen_before,
                         reference_codes, reference_code_flags, metadata, created_at,
                         batch_id)
    SELECT 'bench', 'b-' || g,
           'Note ' || g || '. ' || repeat('Type 2 diabetes with hyperglycemia, on insulin; '
                                          || 'essential hypertension, stable. ', 12),
           md5(g::text), false, '[]', '[]', '{}', now(), %(batch)s
    FROM generate_series(1, %(notes)s) g;
INSERT INTO worker_prediction (prompt_version, reasoning, raw_output, parse_problem,
                               created_at, model_version_id, note_id)
    SELECT 'icd10cm-expert-v1',
           'The note documents diabetes with hyperglycemia and hypertension.', '', '',
           now(), %(version)s, n.id
    FROM worker_note n WHERE n.batch_id = %(batch)s;
INSERT INTO worker_suggestion (rank, code, valid, problem, score, evidence, rationale,
                               prediction_id)
    SELECT r, pool.code, true, '', 0.5, '[]', '', p.id
    FROM worker_prediction p
    CROSS JOIN generate_series(1, %(per_review)s) r
    JOIN pool ON pool.i = 1 + (p.id * 7 + r * 104729) %% (SELECT count(*) FROM pool);
INSERT INTO review_reviewtask (slot, double_coded, priority, state, created_at, note_id,
                               prediction_id)
    SELECT 1, false, 0, 'done', now(), p.note_id, p.id FROM worker_prediction p;
INSERT INTO review_review (prompt_version, status, version, comment, seconds_on_task,
                           started_at, updated_at, submitted_at, coder_id, model_version_id,
                           note_id, prediction_id, task_id)
    SELECT '', 'submitted', 1, CASE WHEN t.id %% 3 = 0 THEN 'Checked against the plan.'
                                    ELSE '' END,
           60, now(), now(), now() - (t.id %% 180) * interval '1 day',
           %(coder)s, %(version)s, t.note_id, t.prediction_id, t.id
    FROM review_reviewtask t;
INSERT INTO review_decision (action, code, replacement, reason, relation, comment,
                             created_at, updated_at, suggestion_id, review_id)
    SELECT CASE WHEN u < 8 THEN 'accept' WHEN u < 9 THEN 'reject' ELSE 'replace' END,
           s.code,
           CASE WHEN u = 9 THEN coalesce((SELECT min(o.code) FROM pool o
                                          WHERE o.parent = pool.parent AND o.code <> s.code),
                                         'I10')
                ELSE '' END,
           CASE WHEN u = 8 THEN 'not_documented' ELSE '' END,
           CASE WHEN u = 9 THEN 'sibling' ELSE '' END,
           '', now(), now(), s.id, r.id
    FROM review_review r
    JOIN worker_suggestion s ON s.prediction_id = r.prediction_id
    JOIN pool ON pool.code = s.code
    CROSS JOIN LATERAL (SELECT (s.id * 2654435761) %% 10 AS u) q;
ANALYZE;
"""


@dataclass
class ExportRun:
    """What one run measured: the exports, COPY, and the peaks of memory."""

    decisions: int
    baseline_mb: float  # the peak before any export
    small_seconds: float
    small: ExportSnapshot  # a tenth of the data
    small_peak_mb: float
    seconds: float
    snapshot: ExportSnapshot  # all of it
    peak_mb: float
    copy_seconds: float
    copy_bytes: int


def generate(decisions: int) -> int:
    """Generate about ``decisions`` decisions in SQL; return how many there are."""
    from coding_app.accounts.roles import Role
    from coding_app.accounts.services import user_create
    from coding_app.codes.store import active_release
    from review.models import Decision
    from worker.models import ModelVersion, UploadBatch

    release = active_release()
    assert release is not None
    batch = UploadBatch.objects.create(source="bench", file_name="bench", status="done")
    version = ModelVersion.objects.create(name="bench-llm", backend="openai", base_model="bench")
    coder = user_create(email="coder@bench.example", password="!bench-pass-1", roles=[Role.CODER])
    params = {
        "release": release.pk,
        "batch": batch.pk,
        "version": version.pk,
        "coder": coder.pk,
        "notes": decisions // DECISIONS_PER_REVIEW,
        "per_review": DECISIONS_PER_REVIEW,
    }
    sql_script_run(GENERATE, params)
    return Decision.objects.count()


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_time(admin_id: int, filters: dict[str, object]) -> tuple[float, ExportSnapshot]:
    from training.exports.services import export_snapshot_write
    from training.models import ExportSnapshot

    snapshot = ExportSnapshot.objects.create(kind="sft", filters=filters, created_by_id=admin_id)
    began = time.perf_counter()
    snapshot = export_snapshot_write(snapshot_id=snapshot.pk)
    seconds = time.perf_counter() - began
    assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
    return seconds, snapshot


def copy_time(path: Path) -> tuple[float, int]:
    """COPY of the export's own query (same rows, same columns) to a file."""
    from django.db import connection, transaction

    from coding_app.codes.store import active_release
    from training.exports.filters import ExportFilters
    from training.exports.source import review_records_sql

    release = active_release()
    sql, params = review_records_sql(ExportFilters(), release.pk if release else None)
    assert not params
    began = time.perf_counter()
    size = 0
    with transaction.atomic(), connection.cursor() as cursor, path.open("wb") as out:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY ({sql}) TO STDOUT") as copy:
            for block in copy:
                out.write(block)
                size += len(block)
    return time.perf_counter() - began, size


def main() -> None:
    options = _options()
    server_url = postgres_server_url()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as storage:
        os.environ["STORAGE_DIR"] = storage
        with throwaway_database(server_url, BENCH_DATABASE, keep=options.keep):
            import django

            django.setup()
            run = _run(options.decisions, Path(storage))
        _print_table(run)
    print(json.dumps(_figures(run)))


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args()


def _run(decisions: int, storage: Path) -> ExportRun:
    """Make the data, then time the exports and COPY."""
    from django.core.management import call_command

    from coding_app.accounts.roles import Role
    from coding_app.accounts.services import user_create

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_codes", verbosity=0)
    made = generate(decisions)
    print(f"setup and data: {time.perf_counter() - began:.1f} s, {made:,} decisions")
    admin = user_create(email="admin@bench.example", password="!bench-pass-1", roles=[Role.ADMIN])
    baseline = peak_rss_mb()
    # A tenth of the data first (by date), then all: equal peaks = flat memory.
    small_seconds, small = export_time(admin.pk, {"date_from": _days_ago(18)})
    small_peak = peak_rss_mb()
    seconds, snapshot = export_time(admin.pk, {})
    peak = peak_rss_mb()
    copy_seconds, copy_bytes = copy_time(storage / "copy.tsv")
    return ExportRun(
        decisions=made,
        baseline_mb=baseline,
        small_seconds=small_seconds,
        small=small,
        small_peak_mb=small_peak,
        seconds=seconds,
        snapshot=snapshot,
        peak_mb=peak,
        copy_seconds=copy_seconds,
        copy_bytes=copy_bytes,
    )


def _rows(snapshot: ExportSnapshot) -> int:
    return sum(snapshot.row_counts.values())


def _print_table(run: ExportRun) -> None:
    rows, small_rows, seconds = _rows(run.snapshot), _rows(run.small), run.seconds
    size = sum(facts["bytes"] for facts in run.snapshot.files.values())
    table = [
        ("decisions in the database", f"{run.decisions:,}"),
        ("rows exported (train + validation)", f"{rows:,}"),
        ("decisions in the manifest", f"{run.snapshot.decision_count:,}"),
        ("export seconds", f"{seconds:.2f}"),
        ("export rows per second", f"{rows / seconds:,.0f}"),
        ("export MB written", f"{size / 1e6:,.1f}"),
        ("COPY seconds (same query)", f"{run.copy_seconds:.2f}"),
        ("COPY MB written", f"{run.copy_bytes / 1e6:,.1f}"),
        ("ratio export / COPY", f"{seconds / run.copy_seconds:.2f}"),
        ("peak RSS before exports MB", f"{run.baseline_mb:,.0f}"),
        (
            f"peak RSS after {small_rows:,} rows MB ({run.small_seconds:.1f} s)",
            f"{run.small_peak_mb:,.0f}",
        ),
        (f"peak RSS after {rows:,} rows MB", f"{run.peak_mb:,.0f}"),
    ]
    for label, value in table:
        print(f"{label:<44}{value:>14}")


def _figures(run: ExportRun) -> dict[str, float]:
    rows = _rows(run.snapshot)
    return {
        "rows": rows,
        "rows_per_s": round(rows / run.seconds),
        "peak_rss_mb": round(run.peak_mb, 1),
        "ratio_to_copy": round(run.seconds / run.copy_seconds, 2),
    }


def _days_ago(days: int) -> str:
    import datetime as dt

    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


if __name__ == "__main__":
    main()
