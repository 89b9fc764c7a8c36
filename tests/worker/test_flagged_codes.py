"""A reference code the release does not accept costs its note nothing.

The note is imported with every code as given; the bad one is flagged on the
note with the reason and the nearest code, counted as a flagged code (not a
rejected row) and listed, named by file, row and field, in the rows' CSV.
Every format that carries reference codes is read through the one import.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from worker.models import Note, RejectedRow, UploadBatch
from worker.uploads.selectors import rejected_rows_csv
from worker.uploads.summary import upload_summary

from .conftest import ImportFile

TEXT = "Fall from a ladder with an injury of the bladder; known hypertension."
GOOD_NOTE = {"id": "n0", "text": "Chest pain.", "codes": ["I20.9"]}


@dataclass(frozen=True)
class Upload:
    """A file holding a good note (row ``row - 1``) and then the note ``n1``
    whose codes are I10, one bad code and E11.65."""

    name: str
    content: bytes
    bad: str  # the bad code as the file writes it
    row: int  # the row of note n1, as the messages number rows
    diagnoses: tuple[str, bytes] | None = None


def jsonl_upload(name: str, codes: object, *, gz: bool = False) -> Upload:
    rows = [GOOD_NOTE, {"id": "n1", "text": TEXT, "codes": codes}]
    content = "".join(json.dumps(row) + "\n" for row in rows).encode()
    return Upload(name, gzip.compress(content) if gz else content, "S37.29X", 2)


def csv_upload(name: str, *, gz: bool = False) -> Upload:
    content = f'id,text,codes\nn0,Chest pain.,I20.9\nn1,"{TEXT}",I10;S37.29X;E11.65\n'.encode()
    return Upload(name, gzip.compress(content) if gz else content, "S37.29X", 3)


def mimic_upload(*, gz: bool = False) -> Upload:
    discharge = (
        "note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text\n"
        "n0,10,200,DS,1,2180-05-07,2180-05-08,Chest pain.\n"
        f'n1,11,201,DS,1,2181-01-01,2181-01-02,"{TEXT}"\n'
    ).encode()
    diagnoses = (
        b"subject_id,hadm_id,seq_num,icd_code,icd_version\n"
        b"10,200,1,I209,10\n11,201,1,I10,10\n11,201,2,S3729X,10\n11,201,3,E1165,10\n"
    )
    if gz:
        return Upload(
            "discharge.csv.gz",
            gzip.compress(discharge),
            "S3729X",
            3,
            ("diagnoses_icd.csv.gz", gzip.compress(diagnoses)),
        )
    return Upload("discharge.csv", discharge, "S3729X", 3, ("diagnoses_icd.csv", diagnoses))


UPLOADS: dict[str, Callable[[], Upload]] = {
    "jsonl list": lambda: jsonl_upload("notes.jsonl", ["I10", "S37.29X", "E11.65"]),
    "jsonl string": lambda: jsonl_upload("notes.jsonl", "I10;S37.29X;E11.65"),
    "ndjson": lambda: jsonl_upload("notes.ndjson", ["I10", "S37.29X", "E11.65"]),
    "jsonl.gz": lambda: jsonl_upload("notes.jsonl.gz", ["I10", "S37.29X", "E11.65"], gz=True),
    "csv": lambda: csv_upload("notes.csv"),
    "csv.gz": lambda: csv_upload("notes.csv.gz", gz=True),
    "mimic": lambda: mimic_upload(),
    "mimic.gz": lambda: mimic_upload(gz=True),
}


@pytest.mark.parametrize("mode", list(UploadBatch.Mode))
@pytest.mark.parametrize("kind", list(UPLOADS))
def test_a_bad_code_among_good_ones_is_flagged_and_its_note_imported(
    import_file: ImportFile, kind: str, mode: UploadBatch.Mode
) -> None:
    upload = UPLOADS[kind]()
    batch = import_file(upload.name, upload.content, diagnoses=upload.diagnoses, mode=mode)

    assert batch.status == UploadBatch.Status.DONE, batch.error
    assert (batch.notes_created, batch.rejected, batch.codes_flagged) == (2, 0, 1)
    note = Note.objects.get(external_id="n1")
    assert note.text == TEXT
    assert note.reference_codes == ["I10", upload.bad, "E1165"]
    assert note.valid_reference_codes == ["I10", "E1165"]
    [flag] = note.reference_code_flags
    assert (flag["code"], flag["nearest"]) == (upload.bad, "S3729")
    assert flag["reason"].startswith("unknown reference code in ICD-10-CM April 1, 2026: S37.29X")
    assert "The nearest code that exists is S37.29" in flag["reason"]
    assert Note.objects.get(external_id="n0").reference_code_flags == []
    row = batch.rejected_rows.get()
    assert (row.kind, row.file_name, row.row_number, row.field, row.external_id) == (
        RejectedRow.Kind.FLAGGED,
        upload.name,
        upload.row,
        "codes",
        "n1",
    )
    assert row.reason == flag["reason"]
    summary = upload_summary(batch)
    assert "2 notes created" in summary
    assert "0 rows rejected" in summary
    assert "1 reference code flagged" in summary
    listed = list(csv.reader(io.StringIO("".join(rejected_rows_csv(batch)))))
    assert listed[1] == ["flagged", upload.name, str(upload.row), "codes", "n1", flag["reason"]]


def test_every_kind_of_bad_code_is_flagged_with_its_nearest_code(import_file: ImportFile) -> None:
    codes = ["diabetes", "E08-E13", "E11.6X9", "S00.00A", "S72.001Z", "W19.XXX", "I10", "W19.XXX"]
    line = json.dumps({"id": "k", "text": TEXT, "codes": codes}).encode() + b"\n"
    batch = import_file("notes.jsonl", line)
    assert (batch.notes_created, batch.rejected, batch.codes_flagged) == (1, 0, 6)
    note = Note.objects.get(external_id="k")
    assert note.reference_codes == codes[:7]  # the repeated W19.XXX is kept once
    assert note.valid_reference_codes == ["I10"]
    flags = {flag["code"]: flag for flag in note.reference_code_flags}
    assert {code: flag["nearest"] for code, flag in flags.items()} == {
        "diabetes": None,
        "E08-E13": None,
        "E11.6X9": "E116",
        "S00.00A": "S0000XA",
        "S72.001Z": "S72001",
        "W19.XXX": "W19",
    }
    assert "“diabetes” is not" in flags["diabetes"]["reason"]
    assert "Only diagnosis codes can be reference codes" in flags["E08-E13"]["reason"]
    assert "Did you mean S00.00XA?" in flags["S00.00A"]["reason"]
    assert "Z is not a 7th character of S72" in flags["S72.001Z"]["reason"]
    assert batch.rejected_rows.filter(kind=RejectedRow.Kind.FLAGGED).count() == 6


def test_a_duplicate_note_is_not_imported_so_its_codes_are_not_flagged(
    import_file: ImportFile,
) -> None:
    line = json.dumps({"id": "d", "text": TEXT, "codes": ["W19.XXX"]}).encode() + b"\n"
    assert import_file("first.jsonl", line).codes_flagged == 1
    again = import_file("again.jsonl", line)
    assert (again.notes_created, again.duplicates, again.codes_flagged) == (0, 1, 0)
    assert again.rejected_rows.get().kind == RejectedRow.Kind.DUPLICATE
    assert Note.objects.get(external_id="d").reference_code_flags[0]["code"] == "W19.XXX"


def test_a_file_that_fails_keeps_no_flags(import_file: ImportFile) -> None:
    content = (
        json.dumps({"id": "f", "text": TEXT, "codes": ["W19.XXX"]}).encode()
        + b'\n{"id": "bad", "text": ""}\n'
    )
    batch = import_file("notes.jsonl", content, mode=UploadBatch.Mode.ALL_OR_NOTHING)
    assert batch.status == UploadBatch.Status.FAILED
    assert (batch.notes_created, batch.codes_flagged, batch.rejected) == (0, 0, 1)
    assert batch.rejected_rows.get().kind == RejectedRow.Kind.INVALID
    assert not Note.objects.exists()
