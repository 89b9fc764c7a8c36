"""The coder's evidence leaves the desk with the SFT rows (CodiEsp-X style)
and reaches the model's labels, for the final codes of each note's latest
submitted review."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.models import Decision, EvidenceSpan, Review
from tests.review.conftest import NOTE_TEXT
from tests.training.export_support import note_in, review_make
from training.exports.services import export_snapshot_create, export_snapshot_write
from training.labels import coder_evidence
from training.models import ExportSnapshot
from training.splits import Split

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("storage")]


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def coder(make_user: Callable[..., User]) -> User:
    return make_user(Role.CODER)


def marked(review: Review, code: str, words: str, coder: User) -> dict[str, Any]:
    """Mark ``words`` of the note as evidence for the decision on ``code``;
    the span as the export writes it."""
    decision = review.decisions.get(code=code)
    start = NOTE_TEXT.index(words)
    EvidenceSpan.objects.create(
        decision=decision, start=start, end=start + len(words), text=words, created_by=coder
    )
    final = decision.final_code or code
    dotted = final if len(final) <= 3 else f"{final[:3]}.{final[3:]}"
    return {"code": dotted, "start": start, "end": start + len(words), "text": words}


def sft_rows(admin: User) -> dict[int, dict[str, Any]]:
    snapshot = export_snapshot_create(kind="sft", filters={}, created_by=admin)
    snapshot = export_snapshot_write(snapshot_id=snapshot.pk)
    assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
    assert snapshot.path is not None
    lines = (snapshot.path / "train.jsonl").read_text().splitlines()
    return {row["metadata"]["note_id"]: row for row in map(json.loads, lines)}


def test_sft_rows_carry_the_evidence_of_the_final_codes(admin: User, coder: User) -> None:
    note = note_in(Split.TRAIN, prefix="ev")
    review = review_make(
        note, coder, {"E119": ("replace", "E11649"), "I10": ("reject",)}, added=["I2510"]
    )
    # Marked out of order; the export lists them in the order of the codes.
    added = marked(review, "I2510", "on enalapril", coder)
    diabetes = marked(review, "E1165", "type 2 diabetes mellitus", coder)
    hyperglycemia = marked(review, "E1165", "with hyperglycemia", coder)
    replaced = marked(review, "E119", "diabetes", coder)
    marked(review, "I10", "Essential hypertension", coder)  # rejected: not evidence
    plain = note_in(Split.TRAIN, prefix="plain")
    review_make(plain, coder)

    exported = sft_rows(admin)
    assert exported[note.pk]["evidence"] == [diabetes, hyperglycemia, replaced, added]
    assert replaced["code"] == "E11.649"
    assert exported[plain.pk]["evidence"] == []
    for span in exported[note.pk]["evidence"]:
        assert NOTE_TEXT[span["start"] : span["end"]] == span["text"]


def test_coder_evidence_reads_each_note_s_latest_submitted_review(
    coder: User, make_user: Callable[..., User]
) -> None:
    note = note_in(Split.TRAIN, prefix="lab")
    earlier = timezone.now() - dt.timedelta(days=1)
    first = review_make(note, coder, submitted_at=earlier)
    marked(first, "I10", "Essential hypertension", coder)
    second_coder = make_user(Role.CODER)
    latest = review_make(note, second_coder, {"E119": ("reject",)}, added=["I2510"], slot=2)
    marked(latest, "E1165", "with hyperglycemia", second_coder)
    marked(latest, "E1165", "type 2 diabetes", second_coder)
    marked(latest, "E119", "diabetes mellitus", second_coder)  # rejected
    marked(latest, "I2510", "enalapril", second_coder)
    quiet = note_in(Split.TRAIN, prefix="quiet")
    review_make(quiet, coder)
    draft_only = note_in(Split.TRAIN, prefix="draft")
    draft = review_make(draft_only, coder, submitted=False)
    marked(draft, "I10", "Essential hypertension", coder)

    found = coder_evidence([note.pk, quiet.pk, draft_only.pk])
    assert found == {
        note.pk: {"E1165": ["type 2 diabetes", "with hyperglycemia"], "I2510": ["enalapril"]},
        quiet.pk: {},
    }
    assert coder_evidence([quiet.pk]) == {quiet.pk: {}}
    assert Decision.objects.filter(review=first, evidence_spans__isnull=False).count() == 1
