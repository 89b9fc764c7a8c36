"""The agreement report export: the statistics as JSON and as CSV that no
spreadsheet runs as formulas."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest

from coding_app.accounts.roles import Role
from coding_app.csv_safety import PLAIN_NUMBER
from coding_app.models import User
from tests.training.export_support import (
    note_in,
    review_make,
)
from training.exports.services import export_snapshot_create, export_snapshot_write
from training.models import ExportSnapshot
from training.splits import Split

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("storage")]

FORMULA_EMAIL = "=cmd|calc@example.org"


def test_the_agreement_csv_neutralises_formulas_and_matches_its_json(
    make_user: Callable[..., User],
) -> None:
    coder = make_user(Role.CODER, email=FORMULA_EMAIL)
    other = make_user(Role.CODER, email="-second@example.org")
    note = note_in(Split.HOLDOUT, prefix="agree")  # statistics read every note
    review_make(note, coder)
    review_make(note, other, {"I10": ("reject",)}, slot=2)
    snapshot = export_snapshot_create(
        kind="agreement", filters={}, created_by=make_user(Role.ADMIN)
    )
    snapshot = export_snapshot_write(snapshot_id=snapshot.pk)
    assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
    assert snapshot.path is not None
    assert set(snapshot.files) == {"agreement.csv", "agreement.json"}

    text = (snapshot.path / "agreement.csv").read_text()
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert f"'{FORMULA_EMAIL}" in cells
    assert "'-second@example.org" in cells
    dangerous = [
        cell
        for cell in cells
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not PLAIN_NUMBER.fullmatch(cell)
    ]
    assert dangerous == []
    assert snapshot.row_counts["rows"] == len(text.splitlines()) - 1 > 0

    report = json.loads((snapshot.path / "agreement.json").read_text())
    emails = {profile["email"] for profile in report["coders"]}
    assert emails == {FORMULA_EMAIL, "-second@example.org"}  # JSON keeps the data as is
