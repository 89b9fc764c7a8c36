"""The files of each export kind, written into a folder.

Training kinds (sft, dpo, kto, grpo) write ``train.jsonl`` and
``validation.jsonl`` (the note's split, ``training.splits``; held-out notes
are never written) and ``manifest.txt``, the ids of the decisions behind the
rows, one a line, in row order. The agreement kind writes the statistics as
``agreement.json`` and ``agreement.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coding_app.models import CodeRelease
from training.exports.files import FileDigest, HashedFile
from training.exports.filters import ExportFilters
from training.exports.rows import ROW_BUILDERS
from training.exports.source import review_records
from training.splits import Split, note_split

TRAIN_FILE = "train.jsonl"
VALIDATION_FILE = "validation.jsonl"
MANIFEST_FILE = "manifest.txt"


class ExportEmpty(ValueError):
    """Nothing matched the filters: no file is worth keeping."""


@dataclass
class ExportWritten:
    files: dict[str, FileDigest]
    row_counts: dict[str, int]
    decision_count: int = 0
    note_count: int = 0


def export_files_write(
    *, kind: str, filters: ExportFilters, release: CodeRelease | None, folder: Path
) -> ExportWritten:
    if kind == "agreement":
        from training.exports.agreement import agreement_files_write

        return agreement_files_write(filters=filters, folder=folder)
    return training_files_write(kind=kind, filters=filters, release=release, folder=folder)


def training_files_write(
    *, kind: str, filters: ExportFilters, release: CodeRelease | None, folder: Path
) -> ExportWritten:
    build = ROW_BUILDERS[kind]
    decisions = notes = held_out = 0
    with (
        HashedFile(folder / TRAIN_FILE) as train,
        HashedFile(folder / VALIDATION_FILE) as validation,
        HashedFile(folder / MANIFEST_FILE) as manifest,
    ):
        for record in review_records(filters, release.pk if release else None):
            split = note_split(record.note_id)
            if split is Split.HOLDOUT:
                held_out += 1
                continue
            sink = train if split is Split.TRAIN else validation
            rows = sink.rows
            for row in build(record):
                sink.write_json_line(row)
            if sink.rows == rows:
                continue
            notes += 1
            decisions += len(record.decision_ids)
            manifest.write("".join(f"{pk}\n" for pk in record.decision_ids).encode(), 0)
    if train.rows + validation.rows == 0:
        raise ExportEmpty(
            f"nothing to export: no submitted review outside the held-out notes "
            f"gives a {kind} row with these filters ({held_out} held-out notes left out)"
        )
    return ExportWritten(
        files={
            TRAIN_FILE: train.digest(),
            VALIDATION_FILE: validation.digest(),
            MANIFEST_FILE: FileDigest(decisions, manifest.bytes, manifest.digest().sha256),
        },
        row_counts={"train": train.rows, "validation": validation.rows},
        decision_count=decisions,
        note_count=notes,
    )
