"""The formats proved by their consumer: each training export is loaded with
``datasets`` and trains trl's matching trainer on the tiny model for a step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from datasets import load_dataset

from coding_app.accounts.roles import Role
from coding_app.models import User
from tests.training.export_support import (
    note_in,
    review_make,
)
from training.exports.services import export_snapshot_create, export_snapshot_write
from training.models import ExportSnapshot
from training.runs.trainers import Method, trainer_build
from training.splits import Split

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("storage")]

COLUMNS = {
    "sft": ["messages", "metadata"],
    "dpo": ["prompt", "chosen", "rejected", "metadata"],
    "kto": ["prompt", "completion", "label", "metadata"],
    "grpo": ["prompt", "gold_codes", "metadata"],
}


@pytest.fixture
def reviewed(make_user: Callable[..., User]) -> User:
    """Two train notes and a validation note, changed and unchanged; the admin."""
    coder = make_user(Role.CODER)
    sibling = note_in(Split.TRAIN, codes=("E1169", "I10"), prefix="t-sib")
    review_make(sibling, coder, {"E1169": ("replace", "E1165")}, comment="Hyperglycemia.")
    added = note_in(Split.TRAIN, codes=("E1165",), prefix="t-add")
    review_make(added, coder, added=["I10"])
    review_make(note_in(Split.TRAIN, prefix="t-acc"), coder)
    review_make(
        note_in(Split.VALIDATION, codes=("I10", "E119"), prefix="t-val"),
        coder,
        {"E119": ("reject",)},
    )
    return make_user(Role.ADMIN)


@pytest.mark.parametrize("method", ["sft", "dpo", "kto", "grpo"])
def test_each_training_export_trains_its_trl_trainer_for_one_step(
    method: Method, reviewed: User, tiny_llm_dir: Path, tmp_path: Path
) -> None:
    snapshot = export_snapshot_create(kind=method, filters={}, created_by=reviewed)
    snapshot = export_snapshot_write(snapshot_id=snapshot.pk)
    assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
    assert snapshot.path is not None
    data = load_dataset(
        "json",
        data_files={
            "train": str(snapshot.path / "train.jsonl"),
            "validation": str(snapshot.path / "validation.jsonl"),
        },
        cache_dir=str(tmp_path / "datasets"),
    )
    assert data["train"].column_names == COLUMNS[method]
    assert data["train"].num_rows == snapshot.row_counts["train"] > 0
    assert data["validation"].num_rows == snapshot.row_counts["validation"]

    trainer = trainer_build(
        method,
        tiny_llm_dir,
        snapshot.path,
        tmp_path / "out",
        max_steps=1,
        per_device_train_batch_size=2,
        use_cpu=True,
        report_to=[],
        logging_steps=1,
    )
    result = trainer.train()
    assert result.global_step == 1
    assert result.training_loss == result.training_loss  # a number, not NaN
    if method == "grpo":
        # The product's reward read the gold codes of the export.
        logged = trainer.state.log_history[0]
        assert "rewards/reward/mean" in logged
    assert not list((tmp_path / "out").glob("checkpoint-*"))
