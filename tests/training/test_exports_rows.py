"""Each export kind's rows, exactly, on hand-made reviews (real PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from coding_app.accounts.roles import Role
from coding_app.models import User
from tests.training.export_support import (
    REASONING,
    decision_ids,
    note_in,
    review_make,
)
from training.exports.services import export_snapshot_create, export_snapshot_write
from training.models import ExportSnapshot
from training.splits import Split
from worker.backends.llm.prompts import prompt_messages
from worker.models import Note

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("storage")]

EXPECTED_PROMPT = prompt_messages(
    "Known type 2 diabetes mellitus with hyperglycemia.\n"
    "Essential hypertension, on enalapril.\n"
    "Follow-up in three months.",
    "icd10cm-expert-v1",
)
MODEL_ANSWER = f"<think>\n{REASONING}\n</think>\n<diagnosis>\nE11.65\nI10\nE11.9\n</diagnosis>"


def export(kind: str, admin: User, **filters: Any) -> ExportSnapshot:
    snapshot = export_snapshot_create(kind=kind, filters=filters, created_by=admin)
    snapshot = export_snapshot_write(snapshot_id=snapshot.pk)
    assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
    return snapshot


def rows(snapshot: ExportSnapshot, name: str = "train.jsonl") -> list[dict[str, Any]]:
    assert snapshot.path is not None
    text = (snapshot.path / name).read_text()
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def coder(make_user: Callable[..., User]) -> User:
    return make_user(Role.CODER)


@pytest.fixture
def accepted(coder: User) -> Note:
    """A train note whose prediction the coder accepted whole."""
    note = note_in(Split.TRAIN, prefix="acc")
    review_make(note, coder, comment="All documented.")
    return note


@pytest.fixture
def changed(coder: User) -> Note:
    """A train note where the coder replaced E11.65 by its sibling's... no:
    the model chose the sibling E11.69 of the right E11.65, the coder
    rejected E11.9 and added Z79.4."""
    note = note_in(Split.TRAIN, codes=("E1169", "I10", "E119"), prefix="chg")
    review_make(
        note,
        coder,
        {"E1169": ("replace", "E1165"), "E119": ("reject",)},
        added=["Z794"],
        comment="Hyperglycemia is documented; insulin daily.",
    )
    return note


def test_sft_row_of_an_accepted_prediction_keeps_the_model_reasoning(
    admin: User, accepted: Note
) -> None:
    (row,) = rows(export("sft", admin))
    review = accepted.reviews.get()
    assert row == {
        "messages": [*EXPECTED_PROMPT, {"role": "assistant", "content": MODEL_ANSWER}],
        "evidence": [],
        "metadata": {
            "note_id": accepted.pk,
            "review_id": review.pk,
            "model_version_id": review.model_version_id,
            "reasoning_source": "model",
        },
    }


def test_sft_row_of_a_changed_prediction_reasons_with_the_coder_comment_only(
    admin: User, changed: Note
) -> None:
    (row,) = rows(export("sft", admin))
    assert row["messages"][2] == {
        "role": "assistant",
        "content": "<think>\nHyperglycemia is documented; insulin daily.\n</think>\n"
        "<diagnosis>\nE11.65\nI10\nZ79.4\n</diagnosis>",
    }
    assert row["metadata"]["reasoning_source"] == "coder_comment"


def test_sft_row_without_comment_leaves_the_wrong_reasoning_out(admin: User, coder: User) -> None:
    note = note_in(Split.TRAIN, prefix="nocomment")
    review_make(note, coder, {"I10": ("reject",)})
    (row,) = rows(export("sft", admin))
    assert row["messages"][2]["content"] == (
        "<think>\n</think>\n<diagnosis>\nE11.65\nE11.9\n</diagnosis>"
    )
    assert REASONING not in json.dumps(row)
    assert row["metadata"]["reasoning_source"] == "none"


def test_dpo_pairs_only_changed_reviews_and_marks_the_sibling_as_hard_negative(
    admin: User, accepted: Note, changed: Note
) -> None:
    (row,) = rows(export("dpo", admin))
    assert row["prompt"] == EXPECTED_PROMPT
    assert row["chosen"] == [
        {
            "role": "assistant",
            "content": "<think>\nHyperglycemia is documented; insulin daily.\n</think>\n"
            "<diagnosis>\nE11.65\nI10\nZ79.4\n</diagnosis>",
        }
    ]
    assert row["rejected"] == [
        {
            "role": "assistant",
            "content": f"<think>\n{REASONING}\n</think>\n"
            "<diagnosis>\nE11.69\nI10\nE11.9\n</diagnosis>",
        }
    ]
    assert row["metadata"]["note_id"] == changed.pk
    assert row["metadata"]["hard_negative"] is True
    assert row["metadata"]["hard_negatives"] == [
        {"model_code": "E11.69", "coder_code": "E11.65", "kind": "sibling"}
    ]


def test_dpo_marks_a_less_specific_model_code_and_not_an_unrelated_one(
    admin: User, coder: User
) -> None:
    vague = note_in(Split.TRAIN, codes=("E116", "I10"), prefix="vague")
    review_make(vague, coder, {"E116": ("replace", "E1165")})
    wrong = note_in(Split.TRAIN, codes=("J449", "I10"), prefix="wrong")
    review_make(wrong, coder, {"J449": ("replace", "E1165")})
    by_note = {row["metadata"]["note_id"]: row for row in rows(export("dpo", admin))}
    assert by_note[vague.pk]["metadata"]["hard_negatives"] == [
        {"model_code": "E11.6", "coder_code": "E11.65", "kind": "less_specific"}
    ]
    assert by_note[wrong.pk]["metadata"]["hard_negative"] is False
    assert by_note[wrong.pk]["metadata"]["hard_negatives"] == []


def test_kto_labels_the_model_output_by_acceptance_and_adds_the_correction(
    admin: User, accepted: Note, changed: Note
) -> None:
    found = [
        (row["metadata"]["note_id"], row["metadata"]["source"], row["label"], row["completion"])
        for row in rows(export("kto", admin))
    ]
    assert sorted(found, key=lambda item: (item[0], item[1])) == sorted(
        [
            (accepted.pk, "model", True, [{"role": "assistant", "content": MODEL_ANSWER}]),
            (
                changed.pk,
                "model",
                False,
                [
                    {
                        "role": "assistant",
                        "content": f"<think>\n{REASONING}\n</think>\n"
                        "<diagnosis>\nE11.69\nI10\nE11.9\n</diagnosis>",
                    }
                ],
            ),
            (
                changed.pk,
                "coder",
                True,
                [
                    {
                        "role": "assistant",
                        "content": "<think>\nHyperglycemia is documented; insulin daily.\n"
                        "</think>\n<diagnosis>\nE11.65\nI10\nZ79.4\n</diagnosis>",
                    }
                ],
            ),
        ],
        key=lambda item: (item[0], item[1]),
    )


def test_grpo_rows_carry_the_final_codes_dotted_and_skip_empty_sets(
    admin: User, coder: User, changed: Note
) -> None:
    empty = note_in(Split.TRAIN, codes=("I10",), prefix="empty")
    review_make(empty, coder, {"I10": ("reject",)})
    (row,) = rows(export("grpo", admin))
    assert row["prompt"] == EXPECTED_PROMPT
    assert row["gold_codes"] == ["E11.65", "I10", "Z79.4"]
    assert row["metadata"]["note_id"] == changed.pk


def test_manifest_lists_the_decisions_of_exported_rows(
    admin: User, accepted: Note, changed: Note
) -> None:
    snapshot = export("sft", admin)
    assert snapshot.path is not None
    listed = [int(line) for line in (snapshot.path / "manifest.txt").read_text().split()]
    expected = decision_ids(
        *sorted([accepted.reviews.get(), changed.reviews.get()], key=lambda r: r.note_id)
    )
    assert listed == expected
    assert snapshot.decision_count == len(expected) == 7
    assert snapshot.note_count == 2
