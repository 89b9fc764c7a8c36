"""What makes a row a note the desk accepts; one rule per kind of badness."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from coding_app.codes.hierarchy import Hierarchy
from worker.importers import IncomingNote, RowProblem
from worker.models.notes import MAX_EXTERNAL_ID, ReferenceCodeFlag
from worker.uploads.reference_codes import reference_code_check


@dataclass(frozen=True)
class CheckedNote:
    """A row that passed every rule, in the form it is stored."""

    file_name: str
    row_number: int
    external_id: str
    text: str
    text_sha256: str
    reference_codes: list[str]
    metadata: dict[str, object]
    # The reference codes the release does not accept: the note is stored
    # all the same (its text is good data), with these codes flagged.
    reference_code_flags: list[ReferenceCodeFlag] = field(default_factory=list)


def note_check(
    note: IncomingNote, *, max_text_chars: int, hierarchy: Hierarchy
) -> CheckedNote | RowProblem:
    """The note ready to store, or the first problem with it."""
    problem = _problem(note, max_text_chars)
    if problem is not None:
        field_name, reason = problem
        return RowProblem(
            note.file_name, note.row_number, field_name, reason, note.external_id or ""
        )
    assert note.external_id is not None  # checked above
    assert note.text is not None
    codes: dict[str, None] = {}
    flags: dict[str, ReferenceCodeFlag] = {}
    for code in note.codes:
        checked = reference_code_check(code, hierarchy)
        codes[checked.stored] = None
        if checked.flag is not None:
            flags.setdefault(checked.stored, checked.flag)
    return CheckedNote(
        note.file_name,
        note.row_number,
        note.external_id,
        note.text,
        hashlib.sha256(note.text.encode()).hexdigest(),
        list(codes),
        note.metadata,
        list(flags.values()),
    )


def _problem(note: IncomingNote, max_text_chars: int) -> tuple[str, str] | None:
    if note.external_id is None:
        return "id", "is missing; every note needs an id unique within its source"
    if len(note.external_id) > MAX_EXTERNAL_ID:
        return "id", f"is {len(note.external_id)} characters long; the limit is {MAX_EXTERNAL_ID}"
    if note.text is None or not note.text.strip():
        return "text", "is empty"
    if len(note.text) > max_text_chars:
        return "text", (
            f"is {len(note.text):,} characters long; the size limit is {max_text_chars:,}"
        )
    if "\x00" in note.text:
        return "text", "contains a NUL character, which is never part of a clinical note"
    return None
