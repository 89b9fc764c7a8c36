"""Every kind of bad row is refused by name: file, row and field, and why."""

from __future__ import annotations

import gzip
import json

import pytest

from worker.models import Note, RejectedRow, UploadBatch

from .conftest import ImportFile

GOOD = b'{"id": "ok", "text": "A good note."}\n'


def only_rejection(batch: UploadBatch) -> RejectedRow:
    assert batch.status == UploadBatch.Status.DONE
    assert (batch.notes_created, batch.rejected) == (1, 1)
    return batch.rejected_rows.get(kind=RejectedRow.Kind.INVALID)


@pytest.mark.parametrize(
    ("bad_line", "field", "words"),
    [
        (b'{"id": "x", "text": "caf\xe9"}\n', "line", "not UTF-8"),
        (b'{"id": "x", "text": "   "}\n', "text", "is empty"),
        (b'{"text": "No id here."}\n', "id", "is missing"),
        (b'{"id": "x", "text": "Note.", "codes": {"E11": 1}}\n', "codes", "not a list"),
        (b'{"id": "x", "text": "Note."\n', "line", "not valid JSON"),
        (b'["x", "Note."]\n', "line", "not a JSON object"),
        (b'{"id": "x", "text": 42}\n', "text", "not a string"),
        (b'{"id": "x", "text": "Nul \\u0000 byte"}\n', "text", "NUL"),
    ],
)
def test_bad_jsonl_row_is_rejected_and_named(
    import_file: ImportFile, bad_line: bytes, field: str, words: str
) -> None:
    row = only_rejection(import_file("notes.jsonl", GOOD + bad_line))
    assert (row.file_name, row.row_number, row.field) == ("notes.jsonl", 2, field)
    assert words in row.reason


def test_text_over_the_size_limit_is_rejected(import_file: ImportFile, settings) -> None:
    settings.NOTE_MAX_CHARS = 50
    long_line = json.dumps({"id": "long", "text": "x" * 51}).encode() + b"\n"
    row = only_rejection(import_file("notes.jsonl", GOOD + long_line))
    assert (row.row_number, row.field, row.external_id) == (2, "text", "long")
    assert "size limit is 50" in row.reason


def test_a_line_far_over_the_limit_is_skipped_without_reading_it_whole(
    import_file: ImportFile, settings
) -> None:
    settings.NOTE_MAX_CHARS = 20
    huge = b'{"id": "huge", "text": "' + b"y" * 500_000 + b'"}\n'
    batch = import_file("notes.jsonl", huge + GOOD)
    row = batch.rejected_rows.get()
    assert (row.row_number, row.field) == (1, "text")
    assert batch.notes_created == 1


def test_bad_csv_rows_are_named_by_spreadsheet_row(import_file: ImportFile) -> None:
    content = (
        b"id,text,codes\n"
        b"a,Good.,I10\n"
        b"b,Caf\xe9 au lait spots.,\n"
        b"c,Too,many,columns\n"
        b",No id.,\n"
        b"e,Fine.,NOTACODE\n"
    )
    batch = import_file("notes.csv", content)
    rows = {row.row_number: row for row in batch.rejected_rows.all()}
    # Row 6's text is good; only its code is not one, so it is flagged.
    assert (batch.notes_created, batch.rejected, batch.codes_flagged) == (2, 3, 1)
    assert sorted(rows) == [3, 4, 5, 6]
    assert "not UTF-8" in rows[3].reason
    assert "columns" in rows[4].reason
    assert rows[5].field == "id"
    assert (rows[6].kind, rows[6].field, rows[6].external_id) == ("flagged", "codes", "e")


def test_a_txt_file_that_is_not_utf8_is_rejected(import_file: ImportFile) -> None:
    batch = import_file("n1.txt", b"Fi\xe8vre.")
    row = batch.rejected_rows.get()
    assert (row.file_name, row.field, row.external_id) == ("n1.txt", "text", "n1")
    assert batch.notes_created == 0


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("notes.pdf", b"%PDF-1.4", "not a file type"),
        ("notes.csv", b"identifier,body\n1,x\n", "no column 'id'"),
        ("notes.csv", b"", "no readable header"),
        ("notes.zip", b"this is not a zip", "not a readable zip"),
        ("notes.jsonl.gz", gzip.compress(GOOD * 2000, mtime=0)[:-200], "cannot be read to the end"),
    ],
)
def test_an_unreadable_file_fails_whole_and_stores_nothing(
    import_file: ImportFile, name: str, content: bytes, words: str
) -> None:
    batch = import_file(name, content)
    assert batch.status == UploadBatch.Status.FAILED
    assert name in batch.error
    assert words in batch.error
    assert not Note.objects.exists()
    assert batch.notes_created == 0


def test_all_or_nothing_refuses_the_file_at_its_first_bad_row(import_file: ImportFile) -> None:
    import_file("earlier.jsonl", b'{"id": "kept", "text": "Already here."}\n')
    good = b"".join(b'{"id": "n%d", "text": "Note %d."}\n' % (i, i) for i in range(2500))
    batch = import_file(
        "notes.jsonl",
        good + b'{"id": "bad", "text": ""}\n' + GOOD,
        mode=UploadBatch.Mode.ALL_OR_NOTHING,
    )
    assert batch.status == UploadBatch.Status.FAILED
    assert batch.error == "notes.jsonl, row 2501, text: is empty"
    assert batch.notes_created == 0
    assert list(Note.objects.values_list("external_id", flat=True)) == ["kept"]
    assert batch.rejected_rows.get().row_number == 2501


def test_bad_mimic_diagnosis_rows_are_named_in_their_own_file(import_file: ImportFile) -> None:
    discharge = b"note_id,subject_id,hadm_id,text\n1-DS,1,100,Summary.\n"
    diagnoses = b"subject_id,hadm_id,seq_num,icd_code,icd_version\n1,100,1,I10,ten\n"
    batch = import_file("discharge.csv", discharge, diagnoses=("diagnoses_icd.csv", diagnoses))
    row = batch.rejected_rows.get()
    assert (row.file_name, row.row_number, row.field) == ("diagnoses_icd.csv", 2, "icd_version")
    assert batch.notes_created == 1


def test_reference_codes_are_stored_as_keys_of_the_release(import_file: ImportFile) -> None:
    """Written forms are normalised; a non-billable category from the source is kept."""
    line = b'{"id": "r", "text": "Note.", "codes": ["e11.65", "E11", "S00.00XA", "E1165"]}\n'
    batch = import_file("notes.jsonl", line)
    assert (batch.notes_created, batch.rejected) == (1, 0)
    assert Note.objects.get(external_id="r").reference_codes == ["E1165", "E11", "S0000XA"]
