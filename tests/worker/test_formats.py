"""Each format a user uploads becomes notes with their ids, texts and codes."""

from __future__ import annotations

import gzip
import io
import json
import zipfile

from worker.models import Note, UploadBatch

from .conftest import ImportFile


def jsonl(*rows: dict[str, object]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def test_jsonl_notes_keep_their_codes_and_metadata(import_file: ImportFile) -> None:
    content = jsonl(
        {"id": "a1", "text": "Chest pain.", "codes": ["I20.9", "e11.65"], "split": "train"},
        {"id": 7, "text": "Fever."},
    )
    batch = import_file("notes.jsonl", content)
    assert batch.status == UploadBatch.Status.DONE
    assert (batch.rows_read, batch.notes_created, batch.rejected) == (2, 2, 0)
    first = Note.objects.get(source="test-source", external_id="a1")
    assert first.reference_codes == ["I209", "E1165"]
    assert first.metadata == {"split": "train"}
    assert Note.objects.get(external_id="7").text == "Fever."


def test_gzipped_jsonl_is_read_like_plain(import_file: ImportFile) -> None:
    batch = import_file("notes.jsonl.gz", gzip.compress(jsonl({"id": "g", "text": "Cough."})))
    assert batch.notes_created == 1


def test_csv_with_codes_column(import_file: ImportFile) -> None:
    content = b'id,text,codes,ward\nc1,"Line one,\nline two",I10;E11.9,cardio\nc2,Rash.,,\n'
    batch = import_file("notes.csv", content)
    assert (batch.notes_created, batch.rejected) == (2, 0)
    note = Note.objects.get(external_id="c1")
    assert note.text == "Line one,\nline two"
    assert note.reference_codes == ["I10", "E119"]
    assert note.metadata == {"ward": "cardio"}


def test_a_txt_file_is_one_note_named_by_the_file(import_file: ImportFile) -> None:
    batch = import_file("patient-42.txt", "Dyspnée à l'effort.\n".encode())
    assert batch.notes_created == 1
    assert Note.objects.get(external_id="patient-42").text == "Dyspnée à l'effort.\n"


def test_a_zip_holds_one_note_per_txt_and_refuses_other_files(import_file: ImportFile) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes/n1.txt", "First note.")
        archive.writestr("notes/n2.txt", "Second note.")
        archive.writestr("notes/scan.pdf", b"%PDF-1.4")
        archive.writestr("__MACOSX/notes/._n1.txt", b"\x00\x05")
    batch = import_file("notes.zip", buffer.getvalue())
    assert (batch.rows_read, batch.notes_created, batch.rejected) == (3, 2, 1)
    assert sorted(Note.objects.values_list("external_id", flat=True)) == ["n1", "n2"]
    refused = batch.rejected_rows.get()
    assert (refused.file_name, refused.field) == ("notes.zip/notes/scan.pdf", "file")


def test_mimic_discharge_takes_icd10_diagnoses_and_counts_icd9(import_file: ImportFile) -> None:
    discharge = (
        b"note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text\n"
        b'10-DS-1,10,200,DS,1,2180-05-07,2180-05-08,"Discharge summary one."\n'
        b'11-DS-1,11,201,DS,1,2181-01-01,2181-01-02,"Discharge summary two."\n'
    )
    diagnoses = (
        b"subject_id,hadm_id,seq_num,icd_code,icd_version\n"
        b"10,200,1,I2510,10\n10,200,2,E1165,10\n10,200,3,4019,9\n11,201,1,25000,9\n"
    )
    batch = import_file(
        "discharge.csv.gz",
        gzip.compress(discharge),
        diagnoses=("diagnoses_icd.csv.gz", gzip.compress(diagnoses)),
    )
    assert (batch.notes_created, batch.icd9_skipped) == (2, 2)
    first = Note.objects.get(external_id="10-DS-1")
    assert first.reference_codes == ["I2510", "E1165"]
    assert first.metadata["hadm_id"] == "200"
    assert Note.objects.get(external_id="11-DS-1").reference_codes == []
