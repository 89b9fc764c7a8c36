"""Checking rows and writing them as notes, a chunk at a time.

Runs inside the import's transaction. Duplicate ids and repeated texts are
found by asking the database for each chunk, so earlier chunks of the same
file count too and nothing grows with the size of the file.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from coding_app.codes.hierarchy import Hierarchy
from worker.importers import IncomingNote, RowProblem
from worker.importers.formats import Limits
from worker.models import Note, RejectedRow, UploadBatch
from worker.uploads.note_rules import CheckedNote, note_check

CHUNK = 1000


class RowRejected(Exception):
    """A bad row in an all-or-nothing upload: the whole file is refused."""

    def __init__(self, problem: RowProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Tally:
    rows_read: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    flagged: int = 0
    repeats: int = 0
    icd9_skipped: int = 0
    # Rejected rows (and flagged codes) not yet written; flushed a chunk at a time.
    pending: list[RejectedRow] = field(default_factory=list)


def take_source_lock(source: str) -> None:
    """Serialise imports into one source until the transaction ends.

    Two uploads of the same file at once would otherwise both see an id as
    new and one would fail on the unique constraint instead of reporting it.
    """
    key = zlib.crc32(f"worker.notes:{source}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def store_rows(
    *,
    batch: UploadBatch,
    rows: Iterable[object],
    limits: Limits,
    hierarchy: Hierarchy,
    tally: Tally,
) -> None:
    chunk: list[CheckedNote] = []
    for row in rows:
        tally.rows_read += 1
        checked: object = row
        if isinstance(row, IncomingNote):
            tally.icd9_skipped += row.icd9_skipped
            checked = note_check(row, max_text_chars=limits.max_text_chars, hierarchy=hierarchy)
        if isinstance(checked, RowProblem):
            row_reject(batch=batch, problem=checked, tally=tally)
        elif isinstance(checked, CheckedNote):
            chunk.append(checked)
        if len(chunk) >= CHUNK:
            _store_chunk(batch, chunk, tally)
            chunk = []
    _store_chunk(batch, chunk, tally)
    _flush_rejected(tally)


def row_reject(*, batch: UploadBatch, problem: RowProblem, tally: Tally) -> None:
    if batch.mode == UploadBatch.Mode.ALL_OR_NOTHING:
        raise RowRejected(problem)
    tally.rejected += 1
    tally.pending.append(_rejected_row(batch, problem, RejectedRow.Kind.INVALID))
    if len(tally.pending) >= CHUNK:
        _flush_rejected(tally)


def _store_chunk(batch: UploadBatch, chunk: list[CheckedNote], tally: Tally) -> None:
    if not chunk:
        return
    stored = dict(
        Note.objects.filter(
            source=batch.source, external_id__in=[note.external_id for note in chunk]
        ).values_list("external_id", "batch_id")
    )
    hashes = {note.text_sha256 for note in chunk}
    seen = set(
        Note.objects.filter(text_sha256__in=hashes).values_list("text_sha256", flat=True).distinct()
    )
    fresh: list[Note] = []
    for note in chunk:
        if note.external_id in stored:
            tally.duplicates += 1
            reason = _duplicate_reason(batch, stored[note.external_id])
            tally.pending.append(_rejected_row(batch, _problem(note, reason), "duplicate"))
            continue
        stored[note.external_id] = batch.pk
        fresh.append(_note(batch, note, repeated=note.text_sha256 in seen))
        seen.add(note.text_sha256)
        _flag_codes(batch, note, tally)
    Note.objects.bulk_create(fresh, batch_size=CHUNK)
    tally.created += len(fresh)
    tally.repeats += sum(note.text_seen_before for note in fresh)
    if len(tally.pending) >= CHUNK:
        _flush_rejected(tally)


def _flag_codes(batch: UploadBatch, note: CheckedNote, tally: Tally) -> None:
    """List the note's flagged reference codes beside the rejected rows."""
    for flag in note.reference_code_flags:
        problem = RowProblem(
            note.file_name, note.row_number, "codes", flag["reason"], note.external_id
        )
        tally.pending.append(_rejected_row(batch, problem, RejectedRow.Kind.FLAGGED))
    tally.flagged += len(note.reference_code_flags)


def _duplicate_reason(batch: UploadBatch, first_batch_id: int) -> str:
    if first_batch_id == batch.pk:
        return "appears earlier in this file; the later row was not imported"
    return f"is already imported from source {batch.source!r} (upload #{first_batch_id})"


def _note(batch: UploadBatch, note: CheckedNote, *, repeated: bool) -> Note:
    return Note(
        source=batch.source,
        external_id=note.external_id,
        text=note.text,
        text_sha256=note.text_sha256,
        text_seen_before=repeated,
        reference_codes=note.reference_codes,
        reference_code_flags=note.reference_code_flags,
        metadata=note.metadata,
        batch=batch,
    )


def _problem(note: CheckedNote, reason: str) -> RowProblem:
    return RowProblem(note.file_name, note.row_number, "id", reason, note.external_id)


def _rejected_row(batch: UploadBatch, problem: RowProblem, kind: str) -> RejectedRow:
    return RejectedRow(
        batch=batch,
        kind=kind,
        file_name=problem.file_name[:255],
        row_number=problem.row_number,
        field=problem.field,
        external_id=problem.external_id[:255],
        reason=problem.reason,
    )


def _flush_rejected(tally: Tally) -> None:
    RejectedRow.objects.bulk_create(tally.pending, batch_size=CHUNK)
    tally.pending = []
