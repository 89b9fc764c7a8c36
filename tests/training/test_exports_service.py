"""Export snapshots: splits, held-out notes, digests, filters and failures."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from coding_app.accounts.roles import Role
from coding_app.models import User
from tests.training.export_support import (
    note_in,
    review_make,
)
from training.exports.filters import ExportFilterError
from training.exports.services import (
    ExportKindError,
    export_snapshot_create,
    export_snapshot_write,
    exports_root,
)
from training.models import ExportSnapshot
from training.splits import Split, note_split

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("storage")]


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def coder(make_user: Callable[..., User]) -> User:
    return make_user(Role.CODER)


def export(kind: str, admin: User, **filters: Any) -> ExportSnapshot:
    snapshot = export_snapshot_create(kind=kind, filters=filters, created_by=admin)
    return export_snapshot_write(snapshot_id=snapshot.pk)


def exported_notes(snapshot: ExportSnapshot) -> dict[str, set[int]]:
    assert snapshot.path is not None
    sides = {}
    for side in ("train", "validation"):
        lines = (snapshot.path / f"{side}.jsonl").read_text().splitlines()
        sides[side] = {json.loads(line)["metadata"]["note_id"] for line in lines}
    return sides


def test_held_out_notes_are_never_exported(admin: User, coder: User) -> None:
    notes = {split: note_in(split, prefix=f"s-{split}") for split in Split}
    for note in notes.values():
        review_make(note, coder)
    for kind in ("sft", "dpo", "kto", "grpo"):
        if kind == "dpo":  # pairs only where the coder changed something
            for note in notes.values():
                review_make(note, coder, {"I10": ("reject",)}, slot=2)
        snapshot = export(kind, admin)
        assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
        sides = exported_notes(snapshot)
        assert sides == {
            "train": {notes[Split.TRAIN].pk},
            "validation": {notes[Split.VALIDATION].pk},
        }, kind
        assert snapshot.path is not None
        manifest = (snapshot.path / "manifest.txt").read_text().split()
        held_out = notes[Split.HOLDOUT].reviews.values_list("decisions__pk", flat=True)
        assert not {str(pk) for pk in held_out} & set(manifest)


def test_a_note_stays_on_its_side_across_exports_with_other_filters(
    admin: User, make_user: Callable[..., User]
) -> None:
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    notes = [note_in(split, prefix=f"d{i}{split}-") for i in range(3) for split in Split]
    for i, note in enumerate(notes):
        review_make(note, first if i % 2 else second)
    everything = exported_notes(export("sft", admin))
    only_first = exported_notes(export("sft", admin, coders=[first.pk]))
    assert only_first["train"] < everything["train"] or only_first["train"] == set()
    for side in ("train", "validation"):
        assert only_first[side] <= everything[side]
        assert {note_split(pk).value for pk in everything[side]} == {side}
    assert not everything["train"] & only_first["validation"]
    assert not everything["validation"] & only_first["train"]
    assert len(everything["train"]) == 3
    assert len(everything["validation"]) == 3


def test_sha256_of_each_file_and_of_the_checksums_match_the_disk(admin: User, coder: User) -> None:
    for split in (Split.TRAIN, Split.VALIDATION):
        review_make(note_in(split, prefix=f"h-{split}"), coder)
    snapshot = export("sft", admin)
    assert snapshot.path is not None
    sums = (snapshot.path / "SHA256SUMS").read_bytes()
    assert snapshot.sha256 == hashlib.sha256(sums).hexdigest()
    listed = {}
    for line in sums.decode().splitlines():
        digest, name = line.split("  ")
        listed[name] = digest
    assert set(listed) == set(snapshot.files) == {"train.jsonl", "validation.jsonl", "manifest.txt"}
    for name, facts in snapshot.files.items():
        data = (snapshot.path / name).read_bytes()
        assert facts["sha256"] == listed[name] == hashlib.sha256(data).hexdigest()
        assert facts["bytes"] == len(data)
    assert snapshot.row_counts == {"train": 1, "validation": 1}
    assert snapshot.files["train.jsonl"]["rows"] == 1
    assert snapshot.code_release is not None
    assert snapshot.code_release.is_active
    assert snapshot.directory.startswith(f"exports/{snapshot.pk}-sft-")


def test_a_filter_broken_since_creation_fails_with_its_reason_and_no_file(
    admin: User, coder: User
) -> None:
    review_make(note_in(Split.TRAIN, prefix="broken"), coder)
    snapshot = ExportSnapshot.objects.create(
        kind="sft", filters={"model_version": 987654}, created_by=admin
    )
    snapshot = export_snapshot_write(snapshot_id=snapshot.pk)
    assert snapshot.status == ExportSnapshot.Status.FAILED
    assert snapshot.error == "filters.model_version: no model version has id 987654"
    assert (snapshot.sha256, snapshot.directory, snapshot.path) == ("", "", None)
    assert list(exports_root().iterdir()) == []
    assert snapshot.finished_at is not None


def test_an_export_that_matches_nothing_fails_and_leaves_no_file(admin: User) -> None:
    snapshot = export("sft", admin)
    assert snapshot.status == ExportSnapshot.Status.FAILED
    assert snapshot.error.startswith("nothing to export: no submitted review")
    assert list(exports_root().iterdir()) == []


def test_writing_twice_leaves_the_finished_snapshot_alone(admin: User, coder: User) -> None:
    review_make(note_in(Split.TRAIN, prefix="twice"), coder)
    done = export("sft", admin)
    again = export_snapshot_write(snapshot_id=done.pk)
    assert (again.status, again.sha256, again.finished_at) == (
        done.status,
        done.sha256,
        done.finished_at,
    )


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "filters.colour: unknown filter"),
        ({"date_from": "last week"}, "filters.date_from: 'last week' is not a date (YYYY-MM-DD)"),
        (
            {"date_from": "2026-03-02", "date_to": "2026-03-01"},
            "filters.date_to: 2026-03-01 is before date_from 2026-03-02",
        ),
        ({"model_version": "v2"}, "filters.model_version: 'v2' is not an id"),
        ({"model_version": 987654}, "filters.model_version: no model version has id 987654"),
        ({"coders": [987654]}, "filters.coders: no user has id 987654"),
        ({"chapters": ["E11"]}, "filters.chapters: 'E11' is not a chapter number (1 to 22)"),
        ({"chapters": ["40"]}, "filters.chapters: 40 is not a chapter of release"),
        ({"agreement_only": "yes"}, "filters.agreement_only: must be true or false, not 'yes'"),
    ],
)
def test_a_bad_filter_is_refused_by_name_before_anything_is_stored(
    admin: User, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(ExportFilterError) as refused:
        export_snapshot_create(kind="sft", filters=filters, created_by=admin)
    assert str(refused.value).startswith(message)
    assert not ExportSnapshot.objects.exists()


def test_an_unknown_kind_and_a_filter_the_agreement_report_cannot_apply_are_refused(
    admin: User, coder: User
) -> None:
    with pytest.raises(ExportKindError, match="kind: 'csv' is not an export kind"):
        export_snapshot_create(kind="csv", filters={}, created_by=admin)
    with pytest.raises(ExportFilterError, match=r"filters\.coders: the agreement report takes"):
        export_snapshot_create(kind="agreement", filters={"coders": [coder.pk]}, created_by=admin)
    assert not ExportSnapshot.objects.exists()


def test_only_an_admin_creates_an_export(make_user: Callable[..., User]) -> None:
    for role in (Role.CODER, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            export_snapshot_create(kind="sft", filters={}, created_by=make_user(role))
    assert not ExportSnapshot.objects.exists()


def test_filters_choose_reviews_by_date_coder_and_chapter(
    admin: User, make_user: Callable[..., User]
) -> None:
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    march = timezone.make_aware(dt.datetime(2026, 3, 15, 23, 30))
    diabetes = note_in(Split.TRAIN, codes=("E1165",), prefix="f-dm")
    review_make(diabetes, first, submitted_at=march)
    heart = note_in(Split.TRAIN, codes=("I10",), prefix="f-ht")
    review_make(heart, second, submitted_at=march + dt.timedelta(days=30))
    draft = note_in(Split.TRAIN, codes=("I10",), prefix="f-draft")
    review_make(draft, first, submitted=False)

    def notes(**filters: Any) -> set[int]:
        return exported_notes(export("sft", admin, **filters))["train"]

    assert notes() == {diabetes.pk, heart.pk}
    assert notes(date_from="2026-03-15", date_to="2026-03-15") == {diabetes.pk}
    assert notes(date_from="2026-03-16") == {heart.pk}
    assert notes(coders=[second.pk]) == {heart.pk}
    assert notes(chapters=["4"]) == {diabetes.pk}
    assert notes(chapters=["9", "4"]) == {diabetes.pk, heart.pk}


def test_double_coded_notes_export_the_latest_review_and_agreement_keeps_agreed_ones(
    admin: User, make_user: Callable[..., User]
) -> None:
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    early = timezone.now() - dt.timedelta(hours=2)
    agreed = note_in(Split.TRAIN, prefix="agreed")
    review_make(agreed, first, submitted_at=early)
    review_make(agreed, second, slot=2)
    disputed = note_in(Split.TRAIN, prefix="disputed")
    review_make(disputed, first, submitted_at=early)
    latest = review_make(disputed, second, {"I10": ("reject",)}, slot=2)
    single = note_in(Split.TRAIN, prefix="single")
    review_make(single, first)

    def rows(**filters: Any) -> dict[int, dict[str, Any]]:
        snapshot = export("sft", admin, **filters)
        assert snapshot.path is not None
        lines = (snapshot.path / "train.jsonl").read_text().splitlines()
        return {row["metadata"]["note_id"]: row for row in map(json.loads, lines)}

    everything = rows()
    assert set(everything) == {agreed.pk, disputed.pk, single.pk}
    assert everything[disputed.pk]["metadata"]["review_id"] == latest.pk
    assert set(rows(double_coded_only=True)) == {agreed.pk, disputed.pk}
    assert set(rows(agreement_only=True)) == {agreed.pk}


def test_filters_are_stored_as_parsed(admin: User, coder: User) -> None:
    snapshot = export_snapshot_create(
        kind="grpo",
        filters={"chapters": ["04"], "coders": [str(coder.pk)], "agreement_only": True},
        created_by=admin,
    )
    assert snapshot.filters == {
        "date_from": None,
        "date_to": None,
        "model_version": None,
        "coders": [coder.pk],
        "chapters": ["4"],
        "double_coded_only": True,
        "agreement_only": True,
    }
    assert snapshot.status == ExportSnapshot.Status.QUEUED
