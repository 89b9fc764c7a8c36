"""The same id twice is reported, not imported; the same text twice is flagged."""

from __future__ import annotations

from worker.models import Note, RejectedRow

from .conftest import ImportFile

NOTES = b'{"id": "1", "text": "Chest pain."}\n{"id": "2", "text": "Cough."}\n'


def test_uploading_a_file_twice_imports_it_once(import_file: ImportFile) -> None:
    first = import_file("notes.jsonl", NOTES)
    again = import_file("notes.jsonl", NOTES)
    assert (again.notes_created, again.duplicates, again.rejected) == (0, 2, 0)
    assert Note.objects.count() == 2
    reported = again.rejected_rows.filter(kind=RejectedRow.Kind.DUPLICATE).first()
    assert reported is not None
    assert f"upload #{first.pk}" in reported.reason


def test_a_repeated_id_within_a_file_keeps_the_first_row(import_file: ImportFile) -> None:
    batch = import_file("notes.jsonl", NOTES + b'{"id": "1", "text": "Other text."}\n')
    assert (batch.notes_created, batch.duplicates) == (2, 1)
    assert Note.objects.get(external_id="1").text == "Chest pain."
    assert "earlier in this file" in batch.rejected_rows.get().reason


def test_the_same_id_in_another_source_is_a_different_note(import_file: ImportFile) -> None:
    import_file("notes.jsonl", NOTES, source="hospital-a")
    batch = import_file("notes.jsonl", NOTES, source="hospital-b")
    assert batch.notes_created == 2


def test_same_text_under_a_new_id_is_imported_and_flagged(import_file: ImportFile) -> None:
    import_file("notes.jsonl", NOTES)
    batch = import_file("more.jsonl", b'{"id": "3", "text": "Cough."}\n')
    assert (batch.notes_created, batch.text_repeats) == (1, 1)
    copy = Note.objects.get(external_id="3")
    assert copy.text_seen_before
    assert copy.text_sha256 == Note.objects.get(external_id="2").text_sha256
    assert not Note.objects.get(external_id="2").text_seen_before
