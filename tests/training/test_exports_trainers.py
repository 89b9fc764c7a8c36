"""The formats proved by their consumer: each training export is loaded with
``datasets`` and trains trl's matching trainer on the tiny model for a step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from datasets import load_dataset

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.models import EvidenceSpan
from tests.review.conftest import NOTE_TEXT
from tests.training.export_support import (
    note_in,
    review_make,
)
from training.exports.services import export_snapshot_create, export_snapshot_write
from training.models import ExportSnapshot
from training.runs.trainers import Method, TrainerSetupError, trainer_build
from training.splits import Split

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("storage")]

COLUMNS = {
    "sft": ["messages", "evidence", "metadata"],
    "dpo": ["prompt", "chosen", "rejected", "metadata"],
    "kto": ["prompt", "completion", "label", "metadata"],
    "grpo": ["prompt", "gold_codes", "metadata"],
}


@pytest.fixture
def reviewed(make_user: Callable[..., User]) -> User:
    """Two train notes and a validation note, changed and unchanged; the admin."""
    coder = make_user(Role.CODER)
    sibling = note_in(Split.TRAIN, codes=("E1169", "I10"), prefix="t-sib")
    replaced = review_make(
        sibling, coder, {"E1169": ("replace", "E1165")}, comment="Hyperglycemia."
    )
    # The coder's evidence rides along in the SFT rows (a list of spans).
    EvidenceSpan.objects.create(
        decision=replaced.decisions.get(code="E1169"),
        start=NOTE_TEXT.index("hyperglycemia"),
        end=NOTE_TEXT.index("hyperglycemia") + len("hyperglycemia"),
        text="hyperglycemia",
        created_by=coder,
    )
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


def test_a_trainer_on_a_saved_adapter_goes_on_training_that_adapter(
    reviewed: User, tiny_llm_dir: Path, tiny_adapter_dir: Path, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    snapshot = export_snapshot_write(
        snapshot_id=export_snapshot_create(kind="grpo", filters={}, created_by=reviewed).pk
    )
    assert snapshot.path is not None
    trainer = trainer_build(
        "grpo", tiny_llm_dir, snapshot.path, tmp_path / "out", adapter_path=tiny_adapter_dir
    )

    saved = load_file(str(tiny_adapter_dir / "adapter_model.safetensors"))
    assert trainer.model is not None
    trainable = {
        name: weight for name, weight in trainer.model.named_parameters() if weight.requires_grad
    }
    # The saved weights, trainable (the base model's frozen): not a new,
    # zero-initialised adapter on the bare model.
    assert len(trainable) == len(saved) > 0
    for name, weight in saved.items():
        (match,) = [w for n, w in trainable.items() if n.replace(".default", "").endswith(name)]
        assert torch.equal(match.detach(), weight)


def test_a_trainer_refuses_an_adapter_folder_without_an_adapter(
    reviewed: User, tiny_llm_dir: Path, tiny_adapter_dir: Path, tmp_path: Path
) -> None:
    from peft import LoraConfig

    snapshot = export_snapshot_write(
        snapshot_id=export_snapshot_create(kind="sft", filters={}, created_by=reviewed).pk
    )
    assert snapshot.path is not None
    with pytest.raises(TrainerSetupError, match="is not a LoRA adapter"):
        trainer_build("sft", tiny_llm_dir, snapshot.path, tmp_path, adapter_path=tmp_path)
    with pytest.raises(TrainerSetupError, match="not both"):
        trainer_build(
            "sft",
            tiny_llm_dir,
            snapshot.path,
            tmp_path,
            adapter_path=tiny_adapter_dir,
            peft_config=LoraConfig(r=2, target_modules="all-linear", task_type="CAUSAL_LM"),
        )
