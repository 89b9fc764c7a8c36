"""The management command goes through the same import and says what it did."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from worker.models import Note


def test_the_command_imports_and_summarises(db: None, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(b"id,text,codes\n1,Chest pain.,I20.9\n2,,\n")
    out = io.StringIO()
    call_command("import_notes", str(path), "--source", "cli", stdout=out, stderr=io.StringIO())
    assert "1 note created" in out.getvalue()
    assert "1 row rejected" in out.getvalue()
    assert Note.objects.get(source="cli").reference_codes == ["I209"]
    assert path.exists()  # the user's own file is never deleted


def test_the_command_names_each_flagged_code_and_counts_it(db: None, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(b"id,text,codes\n1,Fell from a ladder.,W19.XXX;I10\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_notes", str(path), "--source", "cli", stdout=out, stderr=err)
    assert "1 note created" in out.getvalue()
    assert "0 rows rejected; 1 reference code flagged" in out.getvalue()
    assert err.getvalue().startswith(
        "Code flagged: notes.csv row 2, codes: unknown reference code in ICD-10-CM"
    )
    assert "The nearest code that exists is W19" in err.getvalue()
    assert Note.objects.get(source="cli").reference_codes == ["W19.XXX", "I10"]


def test_all_or_nothing_failure_is_an_error_naming_the_row(db: None, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(b"id,text\n1,Chest pain.\n2,\n")
    with pytest.raises(CommandError, match=r"notes.csv, row 3, text: is empty"):
        call_command(
            "import_notes", str(path), "--source", "cli", "--all-or-nothing", stderr=io.StringIO()
        )
    assert not Note.objects.exists()
